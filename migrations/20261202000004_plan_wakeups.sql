-- Reminder planning follows every change wherever it was made (another `confbot run`, a
-- `confbot import` from the command line): each change that can alter the plan notifies
-- channel `confbot_plan` with the conference id, at commit. Running planners LISTEN on it;
-- a periodic sweep catches anything missed while a listener reconnected.
--
-- Change notices ("Moved: ...", "Cancelled: ...") are planned once per import: an import's
-- notices_planned_at is set in the same transaction that puts its notices in the outbox.
-- Imports recorded before this migration are marked as planned: their news is old.

ALTER TABLE imports ADD COLUMN notices_planned_at timestamptz;
UPDATE imports SET notices_planned_at = imported_at;
CREATE INDEX imports_notices_pending ON imports (conference_id, id)
    WHERE notices_planned_at IS NULL;

CREATE FUNCTION confbot_notify_plan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Identical payloads within one transaction are delivered once.
    PERFORM pg_notify('confbot_plan',
        (CASE WHEN TG_OP = 'DELETE' THEN OLD.conference_id ELSE NEW.conference_id END)::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER imports_notify_plan AFTER INSERT ON imports
    FOR EACH ROW EXECUTE FUNCTION confbot_notify_plan();
CREATE TRIGGER subscriptions_notify_plan AFTER INSERT OR DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION confbot_notify_plan();
CREATE TRIGGER user_settings_notify_plan AFTER INSERT OR UPDATE OR DELETE ON user_settings
    FOR EACH ROW EXECUTE FUNCTION confbot_notify_plan();
CREATE TRIGGER reminder_channels_notify_plan AFTER INSERT OR UPDATE OR DELETE ON reminder_channels
    FOR EACH ROW EXECUTE FUNCTION confbot_notify_plan();
