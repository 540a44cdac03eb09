-- Schedule updates in public (issue 14, item 4): a server may name a channel where each
-- applied import's changes that matter to attendees are posted once.
--
-- The posts go through the outbox like every other post. Their subject is the import
-- (one row per channel and message part, the part's index as schedule_version), so each
-- import is posted exactly once per channel whatever restarts and planners do.

ALTER TABLE guild_settings ADD COLUMN updates_channel bigint;

ALTER TABLE outbox ADD COLUMN import_id bigint REFERENCES imports (id) ON DELETE CASCADE;
ALTER TABLE outbox DROP CONSTRAINT outbox_one_subject;
ALTER TABLE outbox ADD CONSTRAINT outbox_one_subject
    CHECK (num_nonnulls(talk_id, announcement_id, import_id) = 1);
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('reminder', 'moved', 'cancelled', 'announcement', 'schedule_update'));
CREATE UNIQUE INDEX outbox_import_key
    ON outbox (target_kind, target_id, import_id, kind, schedule_version)
    WHERE import_id IS NOT NULL;
-- Deleting a conference deletes its imports, and each import's delete looks up its posts.
CREATE INDEX outbox_import ON outbox (import_id) WHERE import_id IS NOT NULL;
