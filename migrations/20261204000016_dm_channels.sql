-- Each user's direct-message channel with the bot, opened once (`POST /users/@me/channels`)
-- ahead of their reminders and reused by every process, so a DM costs one request. Not per
-- conference: Discord gives a user and the bot one DM channel. `closed_at`: Discord refused
-- a DM (50007, the user does not accept DMs from the bot); no further DM is tried until the
-- user interacts with the bot again; a channel Discord would not open (the user is gone)
-- is a closed row without a channel. A row goes with the user's last subscription.
CREATE TABLE dm_channels (
    user_id    bigint PRIMARY KEY,
    channel_id bigint,
    closed_at  timestamptz,
    opened_at  timestamptz NOT NULL,
    CHECK (channel_id IS NOT NULL OR closed_at IS NOT NULL)
);
-- "DM rows due soon whose user has no channel yet": the opener's look ahead.
CREATE INDEX outbox_pending_dm_due ON outbox (due_at, target_id)
    WHERE status = 'pending' AND target_kind = 'dm';
