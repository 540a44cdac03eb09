-- Reminders: who subscribed to what, personal lead times, where channel reminders go, and
-- the outbox of posts to make. The outbox row is the truth about what is due and what was
-- sent; timers only wake the delivery loop.
--
-- Discord ids (guild, user, channel) are unsigned 64-bit numbers; they are stored in bigint
-- columns as the same 64 bits (store/ converts with a lossless bit-cast), so an id above
-- 2^63 - 1 reads back as a negative bigint here. Compare them only for equality.

CREATE TABLE subscriptions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    -- Where the subscription was made; NULL when made in a direct message with the bot.
    guild_id      bigint,
    user_id       bigint NOT NULL,
    talk_id       bigint REFERENCES talks (id) ON DELETE CASCADE,
    room_id       bigint REFERENCES rooms (id) ON DELETE CASCADE,
    track_id      bigint REFERENCES tracks (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(talk_id, room_id, track_id) = 1)
);
-- One row per user and target, whatever the guild: subscribing twice is an
-- `ON CONFLICT DO NOTHING`. Partial indexes rather than NULLS NOT DISTINCT so any
-- PostgreSQL from 13 on works; each also serves "who subscribed to this talk/room/track".
CREATE UNIQUE INDEX subscriptions_talk ON subscriptions (conference_id, talk_id, user_id)
    WHERE talk_id IS NOT NULL;
CREATE UNIQUE INDEX subscriptions_room ON subscriptions (conference_id, room_id, user_id)
    WHERE room_id IS NOT NULL;
CREATE UNIQUE INDEX subscriptions_track ON subscriptions (conference_id, track_id, user_id)
    WHERE track_id IS NOT NULL;
CREATE INDEX subscriptions_user ON subscriptions (conference_id, user_id);

-- A user's personal reminder lead time per conference (absent: the configured default).
CREATE TABLE user_settings (
    conference_id bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    user_id       bigint NOT NULL,
    lead_minutes  integer NOT NULL CHECK (lead_minutes BETWEEN 0 AND 120),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conference_id, user_id)
);

-- Where a conference's channel reminders go: one row per room with its own channel, and at
-- most one row with room_id NULL, the default channel for every other room. Every row of a
-- conference carries the same lead time (written together by store::subscriptions).
CREATE TABLE reminder_channels (
    conference_id bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    room_id       bigint REFERENCES rooms (id) ON DELETE CASCADE,
    channel_id    bigint NOT NULL,
    -- Shown instead of the id by `confbot simulate` and in logs; optional.
    channel_name  text,
    lead_minutes  integer NOT NULL CHECK (lead_minutes BETWEEN 0 AND 120)
);
CREATE UNIQUE INDEX reminder_channels_room ON reminder_channels (conference_id, room_id)
    WHERE room_id IS NOT NULL;
CREATE UNIQUE INDEX reminder_channels_default ON reminder_channels (conference_id)
    WHERE room_id IS NULL;

-- Posts to make. One row per (target, talk, kind, schedule version): enqueueing the same plan
-- again adds nothing, and a moved talk's new version gets new rows while its old pending
-- reminders are dropped. Delivery claims rows with FOR UPDATE SKIP LOCKED and a lease
-- (claimed_by, claimed_until), so two processes never send the same row, and a crashed
-- worker's rows become claimable again when its lease runs out.
CREATE TABLE outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id    bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    target_kind      text NOT NULL CHECK (target_kind IN ('channel', 'dm')),
    -- A channel id or a user id, by target_kind (bit-cast u64, see above).
    target_id        bigint NOT NULL,
    talk_id          bigint NOT NULL REFERENCES talks (id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('reminder', 'moved', 'cancelled')),
    schedule_version integer NOT NULL,
    due_at           timestamptz NOT NULL,
    -- After this instant the post is pointless (the talk started); NULL never expires.
    expires_at       timestamptz,
    -- domain::reminders::PostBody as JSON; the text is rendered at send time.
    body             jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sent', 'dropped', 'failed')),
    -- Failed delivery attempts so far.
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    claimed_by       text,
    claimed_until    timestamptz,
    -- Sent with Discord's enforce_nonce: a retry of this row (same nonce) within Discord's
    -- window returns the first message instead of posting twice. Random, fixed at insert.
    nonce            text NOT NULL DEFAULT left(replace(gen_random_uuid()::text, '-', ''), 25)
                     CHECK (length(nonce) BETWEEN 1 AND 25),
    sent_at          timestamptz,
    -- Why the row was dropped or failed, or the last error before a retry.
    last_error       text,
    -- Set when the plan stopped calling for a pending reminder (talk moved, cancelled,
    -- subscription ended); such a row comes back if the plan calls for its key again.
    retired_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (target_kind, target_id, talk_id, kind, schedule_version),
    CHECK ((claimed_by IS NULL) = (claimed_until IS NULL)),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
-- "What is due next": the delivery loop's only hot query.
CREATE INDEX outbox_pending_due ON outbox (due_at) WHERE status = 'pending';
-- Claimed pending rows (few): lease expiry and graceful release.
CREATE INDEX outbox_pending_claims ON outbox (claimed_until)
    WHERE status = 'pending' AND claimed_until IS NOT NULL;
CREATE INDEX outbox_conference ON outbox (conference_id, status);
