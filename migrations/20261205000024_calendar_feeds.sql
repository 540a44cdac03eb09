-- Live personal calendar feeds (issue 15, item 2): each person has one private feed per
-- conference, at /cal/<token>.ics, serving their current subscriptions.
--
-- token: shown again on every /mytalks, so it is kept; a database reader would already see
-- the subscriptions it reveals. token_hash (SHA-256 of the token) is what requests are
-- looked up by, so the index comparison says nothing about tokens near a guess.
-- guild_id: the server the link was made in (NULL: a direct message), for /forget in one
-- server. digest and changed_at: the hash of the feed last served and when it first had
-- that content (the feed's Last-Modified and DTSTAMP).
CREATE TABLE calendar_feeds (
    conference_id bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    user_id       bigint NOT NULL,
    guild_id      bigint,
    token         text NOT NULL,
    token_hash    bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL,
    digest        bytea,
    changed_at    timestamptz,
    PRIMARY KEY (conference_id, user_id)
);
-- /forget everywhere finds a person's feeds by user.
CREATE INDEX calendar_feeds_user ON calendar_feeds (user_id);
