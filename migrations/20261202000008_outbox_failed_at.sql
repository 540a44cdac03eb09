-- When a post was given up, for the organisers' "delivery failures in the last hour"
-- (/status overview). Bookkeeping only: nothing is decided by it.
ALTER TABLE outbox ADD COLUMN failed_at timestamptz;
CREATE INDEX outbox_recent_failures ON outbox (conference_id, failed_at) WHERE status = 'failed';
