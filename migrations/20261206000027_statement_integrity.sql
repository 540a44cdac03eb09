-- Issue 13, item 6: the references of the two tables an import fills in bulk, checked once per
-- statement instead of once per row.
--
-- A foreign key runs one lookup (and one row lock) per inserted row and key. talks has three
-- and talk_speakers two: of a 100,000-talk import they took about half of `COPY talks` and
-- two thirds of `COPY talk_speakers` (BENCHMARKS.md, "References checked once per
-- statement"). The triggers below keep what those five keys promised, with one pass over the
-- new rows per statement:
--   * every reference exists when the statement ends (SQLSTATE 23503, as a key reports it);
--   * the referenced rows are locked FOR KEY SHARE, as a key's check locks them, so a
--     concurrent delete waits for the inserting transaction;
--   * deleting a conference deletes its talks, and deleting a talk or a speaker deletes their
--     links (the keys' ON DELETE CASCADE);
--   * a room or track that a talk names cannot be deleted (NO ACTION).
-- Changed references on UPDATE are checked per row, only for the rows and keys that change
-- (the WHEN clause runs without calling the function), as a key skips unchanged ones.
--
-- Where they are stricter than the keys:
--   * A key's delete-side action saw rows committed after a REPEATABLE READ transaction's
--     snapshot; a trigger's query cannot, and could leave talks or links behind. Deleting a
--     conference, talk, speaker, room or track is therefore refused outside READ COMMITTED
--     (SQLSTATE 0A000). The bot deletes none of them; an operator's psql session runs in READ
--     COMMITTED unless told otherwise.
--   * Ids of the referenced tables never change, and they cannot be truncated (TRUNCATE fires
--     no delete trigger); delete their rows instead.

ALTER TABLE talks
    DROP CONSTRAINT talks_conference_id_fkey,
    DROP CONSTRAINT talks_track_id_fkey,
    DROP CONSTRAINT talks_room_id_fkey;
ALTER TABLE talk_speakers
    DROP CONSTRAINT talk_speakers_talk_id_fkey,
    DROP CONSTRAINT talk_speakers_speaker_id_fkey;

-- Locks the rows of `table_name` with the given ids FOR KEY SHARE and says whether all exist.
-- Lock, then count: a row that a concurrent transaction deleted is gone once the lock is ours.
-- `= ANY` of an array gives index lookups whatever the array's size, and EXECUTE plans the
-- query for each call's table and array instead of caching one plan for the first call's.
CREATE FUNCTION lock_referenced(table_name regclass, ids bigint[]) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    locked bigint;
BEGIN
    IF coalesce(cardinality(ids), 0) = 0 THEN
        RETURN true;
    END IF;
    EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %s WHERE id = ANY($1) FOR KEY SHARE) AS l',
                   table_name)
        INTO locked USING ids;
    RETURN locked = cardinality(ids);
END $$;

CREATE FUNCTION talks_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    conference_ids bigint[];
    room_ids bigint[];
    track_ids bigint[];
    bad record;
BEGIN
    -- One pass over the new rows, which are whole talks.
    SELECT array_agg(DISTINCT conference_id),
           array_agg(DISTINCT room_id) FILTER (WHERE room_id IS NOT NULL),
           array_agg(DISTINCT track_id) FILTER (WHERE track_id IS NOT NULL)
      INTO conference_ids, room_ids, track_ids
      FROM new_talks;
    IF lock_referenced('conferences', conference_ids)
       AND lock_referenced('rooms', room_ids)
       AND lock_referenced('tracks', track_ids) THEN
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
    IF NOT FOUND THEN
        RAISE EXCEPTION 'talks refer to a conference, room or track that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
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
    IF NEW.conference_id IS DISTINCT FROM OLD.conference_id
       AND NOT lock_referenced('conferences', ARRAY[NEW.conference_id]) THEN
        RAISE EXCEPTION 'talk % refers to a conference (%) that does not exist', NEW.id,
            NEW.conference_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF NEW.room_id IS DISTINCT FROM OLD.room_id
       AND NOT lock_referenced('rooms', ARRAY[NEW.room_id]) THEN
        RAISE EXCEPTION 'talk % refers to a room (%) that does not exist', NEW.id,
            NEW.room_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF NEW.track_id IS DISTINCT FROM OLD.track_id
       AND NOT lock_referenced('tracks', ARRAY[NEW.track_id]) THEN
        RAISE EXCEPTION 'talk % refers to a track (%) that does not exist', NEW.id,
            NEW.track_id USING ERRCODE = 'foreign_key_violation';
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
    talk_ids bigint[];
    speaker_ids bigint[];
    bad record;
BEGIN
    SELECT array_agg(DISTINCT talk_id), array_agg(DISTINCT speaker_id)
      INTO talk_ids, speaker_ids
      FROM new_links;
    IF lock_referenced('talks', talk_ids) AND lock_referenced('speakers', speaker_ids) THEN
        RETURN NULL;
    END IF;
    SELECT n.talk_id, n.speaker_id, t.id IS NULL AS no_talk
      INTO bad
      FROM new_links n
      LEFT JOIN talks t ON t.id = n.talk_id
      LEFT JOIN speakers s ON s.id = n.speaker_id
     WHERE t.id IS NULL OR s.id IS NULL
     LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'speaker links refer to a talk or speaker that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RAISE EXCEPTION 'the link of talk % to speaker % refers to a % that does not exist',
        bad.talk_id, bad.speaker_id, CASE WHEN bad.no_talk THEN 'talk' ELSE 'speaker' END
        USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE TRIGGER talk_speakers_references_inserted AFTER INSERT ON talk_speakers
    REFERENCING NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION talk_speakers_check_references();

CREATE FUNCTION talk_speakers_check_references_of_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.talk_id IS DISTINCT FROM OLD.talk_id
       AND NOT lock_referenced('talks', ARRAY[NEW.talk_id]) THEN
        RAISE EXCEPTION 'the link of talk % to speaker % refers to a talk that does not exist',
            NEW.talk_id, NEW.speaker_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF NEW.speaker_id IS DISTINCT FROM OLD.speaker_id
       AND NOT lock_referenced('speakers', ARRAY[NEW.speaker_id]) THEN
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

-- The delete side. Each runs once per statement, and only under READ COMMITTED, where every
-- query takes a new snapshot and so sees rows committed while the delete waited on their
-- locks (see above).

CREATE FUNCTION refuse_outside_read_committed() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'rows that talks or their links refer to are deleted only under READ COMMITTED, not %',
            upper(current_setting('transaction_isolation'))
            USING ERRCODE = 'feature_not_supported';
    END IF;
END $$;

-- ON DELETE CASCADE: deletes the rows of TG_ARGV[0] whose column TG_ARGV[1] names a deleted
-- row. Both arguments are constants of the triggers below, never input.
CREATE FUNCTION delete_dependents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refuse_outside_read_committed();
    EXECUTE format('DELETE FROM %I WHERE %I IN (SELECT id FROM old_rows)', TG_ARGV[0], TG_ARGV[1]);
    RETURN NULL;
END $$;

CREATE TRIGGER conferences_talks_deleted AFTER DELETE ON conferences
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION delete_dependents('talks', 'conference_id');
CREATE TRIGGER talks_links_deleted AFTER DELETE ON talks
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION delete_dependents('talk_speakers', 'talk_id');
CREATE TRIGGER speakers_links_deleted AFTER DELETE ON speakers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION delete_dependents('talk_speakers', 'speaker_id');

-- NO ACTION for rooms and tracks. When a conference is deleted, the keys' cascades to its rooms
-- and tracks run without firing their triggers at once (PostgreSQL queues them behind the
-- conference's own), so its talks are gone by the time these look.

CREATE FUNCTION rooms_tracks_check_unused() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    talk bigint;
    used bigint;
BEGIN
    PERFORM refuse_outside_read_committed();
    IF TG_TABLE_NAME = 'rooms' THEN
        SELECT t.id, t.room_id INTO talk, used
          FROM talks t JOIN old_rows o ON o.id = t.room_id LIMIT 1;
    ELSE
        SELECT t.id, t.track_id INTO talk, used
          FROM talks t JOIN old_rows o ON o.id = t.track_id LIMIT 1;
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

-- Referenced ids never change. AFTER, not BEFORE: a BEFORE ROW UPDATE trigger makes every
-- update of the table lock its old row first, whichever columns it sets.

CREATE FUNCTION refuse_id_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the id of a row of % cannot change (% to %)', TG_TABLE_NAME, OLD.id, NEW.id
        USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE TRIGGER conferences_id_fixed AFTER UPDATE OF id ON conferences FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_id_change();
CREATE TRIGGER rooms_id_fixed AFTER UPDATE OF id ON rooms FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_id_change();
CREATE TRIGGER tracks_id_fixed AFTER UPDATE OF id ON tracks FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_id_change();
CREATE TRIGGER speakers_id_fixed AFTER UPDATE OF id ON speakers FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_id_change();
CREATE TRIGGER talks_id_fixed AFTER UPDATE OF id ON talks FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_id_change();

-- TRUNCATE fires no delete trigger: refuse it on everything talks and their links refer to.

CREATE FUNCTION refuse_truncate_under_talks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'cannot truncate %: talks or their links refer to it; delete its rows instead',
        TG_TABLE_NAME
        USING ERRCODE = 'feature_not_supported';
END $$;

CREATE TRIGGER conferences_no_truncate BEFORE TRUNCATE ON conferences
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_under_talks();
CREATE TRIGGER rooms_no_truncate BEFORE TRUNCATE ON rooms
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_under_talks();
CREATE TRIGGER tracks_no_truncate BEFORE TRUNCATE ON tracks
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_under_talks();
CREATE TRIGGER speakers_no_truncate BEFORE TRUNCATE ON speakers
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_under_talks();
CREATE TRIGGER talks_no_truncate BEFORE TRUNCATE ON talks
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_under_talks();
