-- A Q&A thread for every talk (issue 14, item 1).
--
-- A channel post's message id is kept once sent: a talk's thread is started on its
-- channel reminder's message (a thread started from a message has the message's id).
ALTER TABLE outbox ADD COLUMN message_id bigint;

-- Opening a talk's thread (posting its card in it) and archiving it go through the outbox
-- like reminders, keyed by the reminder they belong to (channel, talk, schedule version).
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('reminder', 'moved', 'cancelled', 'announcement', 'schedule_update',
                    'board', 'thread', 'thread_close'));

-- A server's thread settings (/setup threads): on or off, for some rooms and some tracks
-- (empty: all), how long after a talk's end its thread stays open, and whether it is then
-- locked as well as archived.
ALTER TABLE guild_settings ADD COLUMN threads boolean NOT NULL DEFAULT false;
ALTER TABLE guild_settings ADD COLUMN thread_rooms text[] NOT NULL DEFAULT '{}';
ALTER TABLE guild_settings ADD COLUMN thread_tracks text[] NOT NULL DEFAULT '{}';
ALTER TABLE guild_settings ADD COLUMN thread_grace_minutes integer NOT NULL DEFAULT 15
    CHECK (thread_grace_minutes BETWEEN 0 AND 1440);
ALTER TABLE guild_settings ADD COLUMN thread_lock boolean NOT NULL DEFAULT false;

-- A change of the thread settings is planned at once (as a board's: the conference's
-- changes pass plans both).
CREATE TRIGGER guild_settings_notify_threads AFTER UPDATE ON guild_settings
    FOR EACH ROW WHEN (OLD.threads IS DISTINCT FROM NEW.threads
                       OR OLD.thread_rooms IS DISTINCT FROM NEW.thread_rooms
                       OR OLD.thread_tracks IS DISTINCT FROM NEW.thread_tracks
                       OR OLD.thread_grace_minutes IS DISTINCT FROM NEW.thread_grace_minutes
                       OR OLD.thread_lock IS DISTINCT FROM NEW.thread_lock)
    EXECUTE FUNCTION confbot_notify_board_plan();
CREATE TRIGGER guild_settings_notify_new_threads AFTER INSERT ON guild_settings
    FOR EACH ROW WHEN (NEW.threads)
    EXECUTE FUNCTION confbot_notify_new_board_plan();

-- "Is this talk's thread open": asked when a subscriber's DM reminder is sent, to link it.
CREATE INDEX outbox_open_threads ON outbox (talk_id) WHERE kind = 'thread' AND status = 'sent';
