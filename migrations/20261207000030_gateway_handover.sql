-- Issue 13, item 5: a rolling deploy that loses no interaction. A stopping holder of the
-- gateway lease used to close its shards before the standby connected: whatever Discord sent
-- in between, or to the closing connection, was never answered. Now the holder asks its
-- standby to connect first (`gateway_handover`), and while both are connected Discord sends
-- every interaction to both: each process claims an interaction here before answering it
-- (`interaction_claim`), so exactly one answers.
--
-- UNLOGGED, both: a row lives for the length of a handover or of an interaction's token
-- (15 minutes), and a database crash that empties them loses a handover under way (the
-- holder closes without one, as before) or lets an interaction be claimed again by a second
-- process, which only a handover at that very moment would try.

-- One row per shard range ("first-last/total") that a standby waits for.
CREATE UNLOGGED TABLE gateway_handover (
    shards       text PRIMARY KEY,
    -- The last time a standby for exactly this range tried the lease (every second), and
    -- its lease session (backend pid): a holder that was a standby itself moments ago must
    -- not take its own mark for a standby.
    standby_seen timestamptz NOT NULL,
    standby_pid  integer NOT NULL,
    -- The holder is stopping and asks a standby to connect before it closes.
    asked_at     timestamptz,
    -- The lease session (backend pid) of the standby that answered.
    taker        integer,
    -- The taker's shards are all connected: the holder may close.
    ready_at     timestamptz
);

CREATE UNLOGGED TABLE interaction_claim (
    interaction_id bigint PRIMARY KEY,
    claimed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interaction_claim_claimed_at ON interaction_claim (claimed_at);
