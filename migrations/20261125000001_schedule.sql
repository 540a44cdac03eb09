-- The schedule: conferences, their rooms, tracks, speakers and talks, and the history of
-- imports with the diff each one made. Instants are timestamptz (UTC); the conference's IANA
-- zone is kept beside them and is the only way local days are derived.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE conferences (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug                 text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name                 text NOT NULL,
    time_zone            text NOT NULL,
    source_url           text,
    -- HTTP validators of the last fetch of source_url, so an unchanged schedule costs one
    -- conditional request.
    source_etag          text,
    source_last_modified text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Programme days as the source defines them (a day may run past local midnight).
CREATE TABLE programme_days (
    conference_id bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    day           date NOT NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    PRIMARY KEY (conference_id, day),
    CHECK (ends_at > starts_at)
);

CREATE TABLE rooms (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    name          text NOT NULL,
    UNIQUE (conference_id, name)
);

CREATE TABLE tracks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    name          text NOT NULL,
    UNIQUE (conference_id, name)
);

CREATE TABLE speakers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    -- Folded name (see domain::text::name_key): one person per conference and spelling.
    name_key      text NOT NULL,
    name          text NOT NULL,
    source_id     text,
    biography     text,
    UNIQUE (conference_id, name_key)
);
CREATE INDEX speakers_name_trgm ON speakers USING gin (name gin_trgm_ops);

CREATE TABLE talks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id    bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    -- The source's stable id (UID, guid, code); NULL for catalogue entries from listings.
    source_id        text,
    -- Folded title (domain::text::title_key): how listings are merged into talks.
    title_key        text NOT NULL,
    title            text NOT NULL,
    subtitle         text,
    abstract         text,
    description      text,
    track_id         bigint REFERENCES tracks (id),
    level            text,
    talk_type        text,
    language         text,
    room_id          bigint REFERENCES rooms (id),
    starts_at        timestamptz,
    ends_at          timestamptz,
    all_day          boolean NOT NULL DEFAULT false,
    status           text NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed', 'cancelled')),
    kind             text NOT NULL DEFAULT 'talk' CHECK (kind IN ('talk', 'other')),
    url              text,
    -- Bumped when start, end, room or status change; reminders are keyed by it.
    schedule_version integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    search           tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(subtitle, '')), 'B') ||
        setweight(to_tsvector('english', coalesce(abstract, '')), 'C') ||
        setweight(to_tsvector('english', coalesce(description, '')), 'D')
    ) STORED,
    CHECK ((starts_at IS NULL) = (ends_at IS NULL)),
    CHECK (ends_at IS NULL OR ends_at >= starts_at)
);
CREATE UNIQUE INDEX talks_source_id ON talks (conference_id, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX talks_title_key ON talks (conference_id, title_key);
CREATE INDEX talks_starts_at ON talks (conference_id, starts_at);
CREATE INDEX talks_search ON talks USING gin (search);
CREATE INDEX talks_title_trgm ON talks USING gin (title gin_trgm_ops);

CREATE TABLE talk_speakers (
    talk_id    bigint NOT NULL REFERENCES talks (id) ON DELETE CASCADE,
    speaker_id bigint NOT NULL REFERENCES speakers (id) ON DELETE CASCADE,
    position   integer NOT NULL,
    PRIMARY KEY (talk_id, speaker_id)
);
CREATE INDEX talk_speakers_speaker ON talk_speakers (speaker_id);

-- One row per import (dry runs excluded): what came in and what it changed.
CREATE TABLE imports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conference_id bigint NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
    source        text NOT NULL,
    format        text NOT NULL,
    imported_at   timestamptz NOT NULL DEFAULT now(),
    added         integer NOT NULL,
    changed       integer NOT NULL,
    cancelled     integer NOT NULL,
    unchanged     integer NOT NULL,
    -- The full diff (domain::diff::ImportDiff as JSON); a later step notifies subscribers.
    diff          jsonb NOT NULL
);
CREATE INDEX imports_conference ON imports (conference_id, imported_at DESC);
