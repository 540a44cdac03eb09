-- Discord Events (issue 14, item 5): a server may have confbot keep a Guild Scheduled Event
-- (external, the room as its location) in step with each selected talk.
--
-- /setup events: on or off, and which talks (rooms, tracks, submission types; empty: all).
ALTER TABLE guild_settings ADD COLUMN events boolean NOT NULL DEFAULT false;
ALTER TABLE guild_settings ADD COLUMN event_rooms text[] NOT NULL DEFAULT '{}';
ALTER TABLE guild_settings ADD COLUMN event_tracks text[] NOT NULL DEFAULT '{}';
ALTER TABLE guild_settings ADD COLUMN event_types text[] NOT NULL DEFAULT '{}';

-- A talk's event in a server: Discord's id once created, and what it shows (the digest of
-- its fields, and its times: Discord starts an external event at its start and ends it at
-- its end by itself, so the times say whether it is scheduled, active or over). A
-- cancelled event stays recorded (a talk put back gets a new one).
--
-- revision: bumped at every change recorded; a post applies only to the revision it was
-- planned from. in_flight_until: a worker is making a request for this event (until then,
-- at most its claim's lease), so no other row of the talk sends meanwhile; the row is not
-- locked across the request. create_tried_at: a create was sent and its answer not
-- recorded (Discord keeps no nonce for events): the next create looks for it first.
CREATE TABLE guild_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    guild_id      bigint NOT NULL,
    talk_id       bigint NOT NULL REFERENCES talks (id) ON DELETE CASCADE,
    event_id      bigint,
    shown_version integer,
    shown_start   timestamptz,
    shown_end     timestamptz,
    cancelled     boolean NOT NULL DEFAULT false,
    revision      integer NOT NULL DEFAULT 0,
    in_flight_until timestamptz,
    create_tried_at timestamptz,
    UNIQUE (guild_id, talk_id)
);
CREATE INDEX guild_events_conference ON guild_events (conference_id, guild_id);

-- An event's changes go through the outbox, to the server (target_kind 'guild'): one row
-- per change, keyed by the talk and a digest of what the event is to show.
ALTER TABLE outbox DROP CONSTRAINT outbox_target_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_target_kind_check
    CHECK (target_kind IN ('channel', 'dm', 'guild'));
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('reminder', 'moved', 'cancelled', 'announcement', 'schedule_update',
                    'board', 'thread', 'thread_close', 'question', 'event'));

-- A change of the event settings is planned at once (the conference's changes pass).
CREATE TRIGGER guild_settings_notify_events AFTER UPDATE ON guild_settings
    FOR EACH ROW WHEN (OLD.events IS DISTINCT FROM NEW.events
                       OR OLD.event_rooms IS DISTINCT FROM NEW.event_rooms
                       OR OLD.event_tracks IS DISTINCT FROM NEW.event_tracks
                       OR OLD.event_types IS DISTINCT FROM NEW.event_types)
    EXECUTE FUNCTION confbot_notify_board_plan();
CREATE TRIGGER guild_settings_notify_new_events AFTER INSERT ON guild_settings
    FOR EACH ROW WHEN (NEW.events)
    EXECUTE FUNCTION confbot_notify_new_board_plan();
