-- Exactly once beyond Discord's nonce memory. `claimed_at`: when the current claim was
-- taken (renewals keep it). `maybe_sent_since`: the earliest instant an earlier attempt may
-- have created the message without the outbox learning of it (a request that timed out, a
-- worker that died holding the claim). A row with it set is resent blindly only while
-- Discord still remembers its nonce; after that, confbot first looks for the message.
ALTER TABLE outbox ADD COLUMN claimed_at timestamptz;
ALTER TABLE outbox ADD COLUMN maybe_sent_since timestamptz;
