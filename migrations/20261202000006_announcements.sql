-- Organiser announcements, delivered through the reminder outbox: one outbox row per
-- occurrence (announcement_id, occurrence index as schedule_version), so an announcement is
-- posted exactly once per occurrence and survives restarts like a reminder.

CREATE TABLE announcements (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    -- Where it was made (bit-cast u64 like every Discord id) and by whom.
    guild_id      bigint NOT NULL,
    created_by    bigint NOT NULL,
    channel_id    bigint NOT NULL,
    -- Filled from the modal; empty only while a draft waits for it.
    text          text NOT NULL DEFAULT '' CHECK (length(text) <= 2000),
    -- The first (or only) occurrence.
    first_at      timestamptz NOT NULL,
    -- A cron expression evaluated in time_zone; NULL: once.
    repeat        text,
    time_zone     text NOT NULL,
    ping_kind     text NOT NULL DEFAULT 'none' CHECK (ping_kind IN ('none', 'role', 'everyone')),
    ping_role     bigint,
    -- draft: waiting for its text or the organiser's Confirm; scheduled: planned;
    -- cancelled: never posted again.
    status        text NOT NULL DEFAULT 'draft'
                  CHECK (status IN ('draft', 'scheduled', 'cancelled')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((ping_kind = 'role') = (ping_role IS NOT NULL))
);
CREATE INDEX announcements_active ON announcements (conference_id) WHERE status = 'scheduled';

ALTER TABLE outbox ALTER COLUMN talk_id DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN announcement_id bigint REFERENCES announcements (id) ON DELETE CASCADE;
ALTER TABLE outbox ADD CONSTRAINT outbox_one_subject CHECK (num_nonnulls(talk_id, announcement_id) = 1);
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('reminder', 'moved', 'cancelled', 'announcement'));
-- The talk key (the table's UNIQUE constraint) ignores rows without a talk (NULLs are
-- distinct), so announcements get their own.
CREATE UNIQUE INDEX outbox_announcement_key
    ON outbox (target_kind, target_id, announcement_id, kind, schedule_version)
    WHERE announcement_id IS NOT NULL;

CREATE TRIGGER announcements_notify_plan AFTER INSERT OR UPDATE OR DELETE ON announcements
    FOR EACH ROW EXECUTE FUNCTION confbot_notify_plan();
