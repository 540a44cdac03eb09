-- The delivery workers alive right now (each `confbot run` process), so that they share
-- Discord's global rate limit instead of each pacing itself at the whole of it: a worker
-- heartbeats while it delivers and paces at rate / (workers seen in the last seconds).
CREATE TABLE delivery_workers (
    worker  text PRIMARY KEY,
    seen_at timestamptz NOT NULL
);
