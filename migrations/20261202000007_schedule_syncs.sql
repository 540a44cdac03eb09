-- The live sync of each conference's schedule source (the URL a server set with /setup
-- source): when it was last tried and how that went. One row per conference and URL; a
-- sync is claimed by moving last_attempt_at, so two processes never fetch it at once.
-- A failure is reported to the organisers once (failure_reported_at), until a success
-- clears it.

CREATE TABLE schedule_syncs (
    conference_id       bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    source_url          text NOT NULL,
    last_attempt_at     timestamptz NOT NULL,
    last_success_at     timestamptz,
    -- What the last successful sync did ("unchanged", "3 moved, 1 cancelled, 2 added").
    last_result         text,
    -- The current failure, while failing.
    last_error          text,
    failing_since       timestamptz,
    failure_reported_at timestamptz,
    PRIMARY KEY (conference_id, source_url)
);
