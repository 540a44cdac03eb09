-- People's data (/forget, retention; see domain::privacy).
--
-- How long a finished conference's personal data is kept after its last talk, per server
-- (NULL: domain::privacy::DEFAULT_RETENTION_DAYS). Of several servers following one
-- conference, the shortest retention wins.
ALTER TABLE guild_settings ADD COLUMN retention_days integer
    CHECK (retention_days BETWEEN 1 AND 365);

-- "Everything about this user, everywhere" (/forget in a direct message): the existing
-- indexes lead with the conference.
CREATE INDEX subscriptions_any_conference_user ON subscriptions (user_id);
CREATE INDEX user_settings_user ON user_settings (user_id);
CREATE INDEX audit_log_user ON audit_log (user_id);
