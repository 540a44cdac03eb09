-- A server's own settings (/setup) and the audit log of organiser actions.
--
-- Discord ids are bit-cast u64 in bigint columns, as in 20261125000002_reminders.sql.
-- A guild_settings row exists once an organiser changed something: until then a server
-- runs on the configuration ([[guilds]], defaults.conference), which also seeds the row's
-- first values. NULL means "not set" (time_zone NULL: the conference's zone;
-- default_lead_minutes NULL: defaults.lead_minutes).

CREATE TABLE guild_settings (
    guild_id              bigint PRIMARY KEY,
    -- A slug rather than a conference id: the configuration may name a conference that
    -- is not imported yet. /setup conference only accepts stored ones.
    conference_slug       text,
    time_zone             text,
    source_url            text CHECK (source_url ~ '^https?://'),
    refresh_minutes       integer CHECK (refresh_minutes BETWEEN 5 AND 1440),
    announcement_channel  bigint,
    organiser_log_channel bigint,
    organiser_role        bigint,
    default_lead_minutes  integer CHECK (default_lead_minutes BETWEEN 0 AND 120),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    -- The organiser who made the last change (bit-cast u64).
    updated_by            bigint NOT NULL
);
-- "Which servers follow this conference" (store::guilds::organiser_log_channel).
CREATE INDEX guild_settings_conference ON guild_settings (conference_slug);

-- Every organiser action and every refused attempt at one, per server. before/after hold
-- the fields the action touched (NULL for a refusal). Rows are only ever appended.
CREATE TABLE audit_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    guild_id bigint NOT NULL,
    user_id  bigint NOT NULL,
    action   text NOT NULL,
    before   jsonb,
    after    jsonb,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_guild_recent ON audit_log (guild_id, id DESC);
-- "Was this refusal recorded a moment ago" (store::guilds::append_refusal).
CREATE INDEX audit_log_user_recent ON audit_log (guild_id, user_id, at);

-- reminder_channels holds one room -> channel map per conference, but several servers may
-- follow one conference: the first server to set the map with /channel manages it, and
-- /channel from any other server is refused, so one server cannot redirect (or read back)
-- another's reminder channels.
CREATE TABLE channel_plan_owners (
    conference_id bigint PRIMARY KEY REFERENCES conferences (id) ON DELETE CASCADE,
    guild_id      bigint NOT NULL,
    claimed_at    timestamptz NOT NULL DEFAULT now()
);
