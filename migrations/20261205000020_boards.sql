-- A live "now / next" board (issue 14, item 3): a server may name a channel where confbot
-- keeps one message per room (or one for every room) showing what is on and what is next.
--
-- board_layout: 'rooms' (a message per room) or 'single' (one message for all rooms).
ALTER TABLE guild_settings ADD COLUMN board_channel bigint;
ALTER TABLE guild_settings ADD COLUMN board_layout text NOT NULL DEFAULT 'rooms'
    CHECK (board_layout IN ('rooms', 'single'));

-- One message of a board: the channel, the room it shows ('' for every room) and, once
-- posted, the message confbot edits. The planner adds and removes panels as boards and
-- rooms come and go; a restart finds the same message here.
CREATE TABLE board_panels (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    channel_id    bigint NOT NULL,
    room          text NOT NULL,
    message_id    bigint,
    -- The post the message shows now (its schedule_version) and its text: the planner
    -- compares the text it plans for the current period with it, so a change that comes
    -- back to an earlier text is shown again.
    shown_version integer,
    shown_content text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conference_id, channel_id, room)
);

-- A board's edits go through the outbox: one row per panel and content from a talk
-- boundary on (schedule_version: a digest of the boundary and the text), so each state is
-- shown once, and a schedule change that alters what a period shows makes a new row.
ALTER TABLE outbox ADD COLUMN panel_id bigint REFERENCES board_panels (id) ON DELETE CASCADE;
ALTER TABLE outbox DROP CONSTRAINT outbox_one_subject;
ALTER TABLE outbox ADD CONSTRAINT outbox_one_subject
    CHECK (num_nonnulls(talk_id, announcement_id, import_id, panel_id) = 1);
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('reminder', 'moved', 'cancelled', 'announcement', 'schedule_update',
                    'board'));
CREATE UNIQUE INDEX outbox_panel_key
    ON outbox (target_kind, target_id, panel_id, kind, schedule_version)
    WHERE panel_id IS NOT NULL;
CREATE INDEX outbox_panel ON outbox (panel_id) WHERE panel_id IS NOT NULL;

-- A board set, changed or turned off is planned at once (the bare conference id: the
-- planner's changes pass, which keeps boards), not at the next minute's sweep.
CREATE FUNCTION confbot_notify_board_plan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('confbot_plan', c.id::text)
    FROM conferences c WHERE c.slug = ANY(ARRAY[NEW.conference_slug, OLD.conference_slug]);
    RETURN NULL;
END
$$;
CREATE FUNCTION confbot_notify_new_board_plan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('confbot_plan', c.id::text)
    FROM conferences c WHERE c.slug = NEW.conference_slug;
    RETURN NULL;
END
$$;
CREATE TRIGGER guild_settings_notify_board AFTER UPDATE ON guild_settings
    FOR EACH ROW WHEN (OLD.board_channel IS DISTINCT FROM NEW.board_channel
                       OR OLD.board_layout IS DISTINCT FROM NEW.board_layout
                       OR (NEW.board_channel IS NOT NULL
                           AND OLD.conference_slug IS DISTINCT FROM NEW.conference_slug))
    EXECUTE FUNCTION confbot_notify_board_plan();
CREATE TRIGGER guild_settings_notify_new_board AFTER INSERT ON guild_settings
    FOR EACH ROW WHEN (NEW.board_channel IS NOT NULL)
    EXECUTE FUNCTION confbot_notify_new_board_plan();
