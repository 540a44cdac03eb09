-- Issue 13, item 6: the references of the two tables an import fills in bulk, checked once per
-- statement instead of once per row.
--
-- A foreign key runs one lookup (and one row lock) per inserted row and key. talks has three
-- and talk_speakers two: of a 100,000-talk import, they took about 1.5 s of `COPY talks` and
-- 2.2 s of `COPY talk_speakers` (BENCHMARKS.md, "References checked per statement"). The
-- triggers below keep everything those five keys promised, with one set-based query per
-- statement:
--   * every reference exists when the statement ends (SQLSTATE 23503, as a key reports it);
--   * the referenced rows are locked FOR KEY SHARE, as a key's check locks them, so a
--     concurrent delete waits for the inserting transaction and then sees its rows;
--   * deleting a conference deletes its talks, and deleting a talk or a speaker deletes their
--     links (the keys' ON DELETE CASCADE);
--   * a room or track that a talk of a live conference names cannot be deleted (NO ACTION);
--   * referenced ids never change, and the referenced tables cannot be truncated under the
--     talks.
-- Changed references on UPDATE are checked per row, but only for rows whose references change
-- (the WHEN clause runs without calling the function), as a key skips unchanged ones.

ALTER TABLE talks
    DROP CONSTRAINT talks_conference_id_fkey,
    DROP CONSTRAINT talks_track_id_fkey,
    DROP CONSTRAINT talks_room_id_fkey;
ALTER TABLE talk_speakers
    DROP CONSTRAINT talk_speakers_talk_id_fkey,
    DROP CONSTRAINT talk_speakers_speaker_id_fkey;

-- Deleting a conference's talks needs to find them by conference; the key's cascade did too.
-- talks_starts_at leads with conference_id and serves it.

CREATE FUNCTION talks_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    -- Lock, then count: a row that a concurrent transaction deleted is gone once the lock is
    -- ours, so every reference exists exactly when as many rows are locked as are named. The
    -- join that finds the culprit runs only when one is missing.
    IF (SELECT count(*) FROM (SELECT 1 FROM conferences
                               WHERE id IN (SELECT conference_id FROM new_talks)
                                 FOR KEY SHARE) AS locked)
           = (SELECT count(DISTINCT conference_id) FROM new_talks)
       AND (SELECT count(*) FROM (SELECT 1 FROM rooms
                                   WHERE id IN (SELECT room_id FROM new_talks)
                                     FOR KEY SHARE) AS locked)
           = (SELECT count(DISTINCT room_id) FROM new_talks)
       AND (SELECT count(*) FROM (SELECT 1 FROM tracks
                                   WHERE id IN (SELECT track_id FROM new_talks)
                                     FOR KEY SHARE) AS locked)
           = (SELECT count(DISTINCT track_id) FROM new_talks)
    THEN
        RETURN NULL;
    END IF;
    SELECT n.id, n.conference_id, n.room_id, n.track_id,
           c.id IS NULL AS no_conference,
           n.room_id IS NOT NULL AND r.id IS NULL AS no_room
      INTO bad
      FROM new_talks n
      LEFT JOIN conferences c ON c.id = n.conference_id
      LEFT JOIN rooms r ON r.id = n.room_id
      LEFT JOIN tracks t ON t.id = n.track_id
     WHERE c.id IS NULL
        OR (n.room_id IS NOT NULL AND r.id IS NULL)
        OR (n.track_id IS NOT NULL AND t.id IS NULL)
     LIMIT 1;
    RAISE EXCEPTION 'talk % refers to a % that does not exist', bad.id,
        CASE WHEN bad.no_conference THEN format('conference (%s)', bad.conference_id)
             WHEN bad.no_room THEN format('room (%s)', bad.room_id)
             ELSE format('track (%s)', bad.track_id) END
        USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE TRIGGER talks_references_inserted AFTER INSERT ON talks
    REFERENCING NEW TABLE AS new_talks
    FOR EACH STATEMENT EXECUTE FUNCTION talks_check_references();

CREATE FUNCTION talks_check_references_of_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM conferences WHERE id = NEW.conference_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'talk % refers to a conference (%) that does not exist', NEW.id,
            NEW.conference_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF NEW.room_id IS NOT NULL THEN
        PERFORM 1 FROM rooms WHERE id = NEW.room_id FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'talk % refers to a room (%) that does not exist', NEW.id,
                NEW.room_id USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    IF NEW.track_id IS NOT NULL THEN
        PERFORM 1 FROM tracks WHERE id = NEW.track_id FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'talk % refers to a track (%) that does not exist', NEW.id,
                NEW.track_id USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER talks_references_updated
    AFTER UPDATE OF conference_id, room_id, track_id ON talks
    FOR EACH ROW
    WHEN (OLD.conference_id IS DISTINCT FROM NEW.conference_id
          OR OLD.room_id IS DISTINCT FROM NEW.room_id
          OR OLD.track_id IS DISTINCT FROM NEW.track_id)
    EXECUTE FUNCTION talks_check_references_of_row();

CREATE FUNCTION talk_speakers_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    -- As for talks: lock, count, and look for the culprit only when one is missing.
    IF (SELECT count(*) FROM (SELECT 1 FROM talks
                               WHERE id IN (SELECT talk_id FROM new_links)
                                 FOR KEY SHARE) AS locked)
           = (SELECT count(DISTINCT talk_id) FROM new_links)
       AND (SELECT count(*) FROM (SELECT 1 FROM speakers
                                   WHERE id IN (SELECT speaker_id FROM new_links)
                                     FOR KEY SHARE) AS locked)
           = (SELECT count(DISTINCT speaker_id) FROM new_links)
    THEN
        RETURN NULL;
    END IF;
    SELECT n.talk_id, n.speaker_id, t.id IS NULL AS no_talk
      INTO bad
      FROM new_links n
      LEFT JOIN talks t ON t.id = n.talk_id
      LEFT JOIN speakers s ON s.id = n.speaker_id
     WHERE t.id IS NULL OR s.id IS NULL
     LIMIT 1;
    RAISE EXCEPTION 'the link of talk % to speaker % refers to a % that does not exist',
        bad.talk_id, bad.speaker_id, CASE WHEN bad.no_talk THEN 'talk' ELSE 'speaker' END
        USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE TRIGGER talk_speakers_references_inserted AFTER INSERT ON talk_speakers
    REFERENCING NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION talk_speakers_check_references();

CREATE FUNCTION talk_speakers_check_references_of_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM talks WHERE id = NEW.talk_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the link of talk % to speaker % refers to a talk that does not exist',
            NEW.talk_id, NEW.speaker_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    PERFORM 1 FROM speakers WHERE id = NEW.speaker_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the link of talk % to speaker % refers to a speaker that does not exist',
            NEW.talk_id, NEW.speaker_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER talk_speakers_references_updated
    AFTER UPDATE OF talk_id, speaker_id ON talk_speakers
    FOR EACH ROW
    WHEN (OLD.talk_id IS DISTINCT FROM NEW.talk_id OR OLD.speaker_id IS DISTINCT FROM NEW.speaker_id)
    EXECUTE FUNCTION talk_speakers_check_references_of_row();

-- ON DELETE CASCADE, once per statement.

CREATE FUNCTION conferences_delete_talks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM talks WHERE conference_id IN (SELECT id FROM old_conferences);
    RETURN NULL;
END $$;

CREATE TRIGGER conferences_talks_deleted AFTER DELETE ON conferences
    REFERENCING OLD TABLE AS old_conferences
    FOR EACH STATEMENT EXECUTE FUNCTION conferences_delete_talks();

CREATE FUNCTION talks_delete_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM talk_speakers WHERE talk_id IN (SELECT id FROM old_talks);
    RETURN NULL;
END $$;

CREATE TRIGGER talks_links_deleted AFTER DELETE ON talks
    REFERENCING OLD TABLE AS old_talks
    FOR EACH STATEMENT EXECUTE FUNCTION talks_delete_links();

CREATE FUNCTION speakers_delete_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM talk_speakers WHERE speaker_id IN (SELECT id FROM old_speakers);
    RETURN NULL;
END $$;

CREATE TRIGGER speakers_links_deleted AFTER DELETE ON speakers
    REFERENCING OLD TABLE AS old_speakers
    FOR EACH STATEMENT EXECUTE FUNCTION speakers_delete_links();

-- NO ACTION for rooms and tracks. A conference's deletion deletes its rooms and tracks before
-- its talks (row-level cascades fire before statement-level triggers), so talks whose
-- conference is already gone are on their way out and do not count.

CREATE FUNCTION rooms_tracks_check_unused() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    talk bigint;
    used bigint;
BEGIN
    IF TG_TABLE_NAME = 'rooms' THEN
        SELECT t.id, t.room_id INTO talk, used FROM talks t JOIN old_rows o ON o.id = t.room_id
         WHERE EXISTS (SELECT 1 FROM conferences c WHERE c.id = t.conference_id) LIMIT 1;
    ELSE
        SELECT t.id, t.track_id INTO talk, used FROM talks t JOIN old_rows o ON o.id = t.track_id
         WHERE EXISTS (SELECT 1 FROM conferences c WHERE c.id = t.conference_id) LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION '% % is still named by talk %', rtrim(TG_TABLE_NAME, 's'), used, talk
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER rooms_unused AFTER DELETE ON rooms
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rooms_tracks_check_unused();
CREATE TRIGGER tracks_unused AFTER DELETE ON tracks
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rooms_tracks_check_unused();

-- Referenced ids never change (a key would refuse it while the row is referenced).

CREATE FUNCTION refuse_id_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the id of a row of % cannot change (% to %)', TG_TABLE_NAME, OLD.id, NEW.id
        USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE TRIGGER conferences_id_fixed BEFORE UPDATE OF id ON conferences FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_id_change();
CREATE TRIGGER rooms_id_fixed BEFORE UPDATE OF id ON rooms FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_id_change();
CREATE TRIGGER tracks_id_fixed BEFORE UPDATE OF id ON tracks FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_id_change();
CREATE TRIGGER speakers_id_fixed BEFORE UPDATE OF id ON speakers FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_id_change();
CREATE TRIGGER talks_id_fixed BEFORE UPDATE OF id ON talks FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_id_change();

-- TRUNCATE fires no delete trigger: refuse it on what talks and their links refer to.

CREATE FUNCTION refuse_truncate_under_talks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'cannot truncate %: talks or their links refer to it; delete its rows instead',
        TG_TABLE_NAME
        USING ERRCODE = 'feature_not_supported';
END $$;

CREATE TRIGGER rooms_no_truncate BEFORE TRUNCATE ON rooms
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_under_talks();
CREATE TRIGGER tracks_no_truncate BEFORE TRUNCATE ON tracks
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_under_talks();
CREATE TRIGGER speakers_no_truncate BEFORE TRUNCATE ON speakers
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_under_talks();
CREATE TRIGGER talks_no_truncate BEFORE TRUNCATE ON talks
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_under_talks();
