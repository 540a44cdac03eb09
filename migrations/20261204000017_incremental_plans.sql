-- Planning follows each change at the cost of what it touches (issue 13, item 4).
--
-- A subscription or lead-time change names its user (`<conference>:user:<user>`), so a
-- planner replans that user's DMs instead of the conference. confbot's own commands plan
-- the user in the transaction of the change and say so with
-- `SET LOCAL confbot.planned_user = '<conference>:<user>'`: that change notifies nothing
-- but `<conference>:queued` when it queued posts (delivery loops look at the outbox).
-- (user_id is the bit-cast u64 of store::id_to_db, so it may be negative here.)
--
-- The channel plan and a server's default lead time change every reminder of the
-- conference: `<conference>:all`. Imports and announcements keep the bare conference id
-- (the planner replans the talks the import's diff names).

CREATE FUNCTION confbot_notify_plan_user() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    conference bigint;
    member bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        conference := OLD.conference_id;
        member := OLD.user_id;
    ELSE
        conference := NEW.conference_id;
        member := NEW.user_id;
    END IF;
    IF current_setting('confbot.planned_user', true) IS DISTINCT FROM
           conference::text || ':' || member::text THEN
        PERFORM pg_notify('confbot_plan',
            conference::text || ':user:' || member::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION confbot_notify_plan_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('confbot_plan',
        (CASE WHEN TG_OP = 'DELETE' THEN OLD.conference_id ELSE NEW.conference_id END)::text
        || ':all');
    RETURN NULL;
END
$$;

-- The default lead a conference's reminders use is the most recently updated server's
-- (store::guilds::default_lead), so any change of a server that sets one may change it.
CREATE FUNCTION confbot_notify_guild_plan() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    slugs text[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        slugs := ARRAY[NEW.conference_slug];
    ELSIF TG_OP = 'DELETE' THEN
        slugs := ARRAY[OLD.conference_slug];
    ELSE
        slugs := ARRAY[NEW.conference_slug, OLD.conference_slug];
    END IF;
    PERFORM pg_notify('confbot_plan', c.id::text || ':all')
    FROM conferences c WHERE c.slug = ANY(slugs);
    RETURN NULL;
END
$$;

DROP TRIGGER subscriptions_notify_plan ON subscriptions;
CREATE TRIGGER subscriptions_notify_plan AFTER INSERT OR DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION confbot_notify_plan_user();
DROP TRIGGER user_settings_notify_plan ON user_settings;
CREATE TRIGGER user_settings_notify_plan AFTER INSERT OR UPDATE OR DELETE ON user_settings
    FOR EACH ROW EXECUTE FUNCTION confbot_notify_plan_user();
DROP TRIGGER reminder_channels_notify_plan ON reminder_channels;
CREATE TRIGGER reminder_channels_notify_plan AFTER INSERT OR UPDATE OR DELETE
    ON reminder_channels FOR EACH ROW EXECUTE FUNCTION confbot_notify_plan_all();

CREATE TRIGGER guild_settings_notify_plan AFTER INSERT ON guild_settings
    FOR EACH ROW WHEN (NEW.default_lead_minutes IS NOT NULL)
    EXECUTE FUNCTION confbot_notify_guild_plan();
CREATE TRIGGER guild_settings_notify_plan_update AFTER UPDATE ON guild_settings
    FOR EACH ROW WHEN (OLD.default_lead_minutes IS NOT NULL
                       OR NEW.default_lead_minutes IS NOT NULL)
    EXECUTE FUNCTION confbot_notify_guild_plan();
CREATE TRIGGER guild_settings_notify_plan_delete AFTER DELETE ON guild_settings
    FOR EACH ROW WHEN (OLD.default_lead_minutes IS NOT NULL)
    EXECUTE FUNCTION confbot_notify_guild_plan();

-- The pending rows of some talks: the replan of the talks an import changed.
CREATE INDEX outbox_pending_talk ON outbox (talk_id) WHERE status = 'pending';
