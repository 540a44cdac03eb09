-- Issue 13, item 2: which users' DM channels a process is opening ahead right now. Two
-- processes looking ahead at the same moment were given the same soonest users and both
-- opened their channels: 162-184 opens for 120 subscribers in a test, each a request that
-- Discord's global limit counts. A process now takes a user here before opening
-- (`store::dm_channels::take_to_open`) and lets go when the open is settled; a hold that
-- outlives `until` (its process died mid-open) may be taken again, and goes with a forget or
-- the user's last subscription (`store::privacy`).
--
-- UNLOGGED: a database crash that empties it costs at worst an open repeated by two
-- processes, which Discord answers with the same channel. Nothing else reads it, and a row
-- lives for the length of one request unless its process dies.
CREATE UNLOGGED TABLE dm_channel_opening (
    user_id bigint PRIMARY KEY,
    until   timestamptz NOT NULL
);
