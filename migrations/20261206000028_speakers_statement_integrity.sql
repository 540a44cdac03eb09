-- Issue 13, item 6: the conference reference of `speakers`, checked once per statement instead
-- of once per row, as migration 27 did for talks and their links. A conference's first people
-- are written by one `COPY` (54,000 of them in a 100,000-talk import), and the key's lookup and
-- row lock per person were about two fifths of that statement (0.37-0.43 s to 0.22-0.23 s,
-- BENCHMARKS.md, "A first import's digests taken as its rows are copied, people's conference
-- checked per statement").
--
-- What the key promised still holds, in the same ways as migration 27's triggers:
--   * every new person's conference exists when the statement ends (SQLSTATE 23503), and is
--     locked FOR KEY SHARE, so a concurrent delete of the conference waits;
--   * a changed conference on UPDATE is checked per row, only when it changes;
--   * deleting a conference deletes its people (the key's ON DELETE CASCADE), and with them
--     their links (`speakers_links_deleted`), refused outside READ COMMITTED as migration 27
--     explains.

ALTER TABLE speakers DROP CONSTRAINT speakers_conference_id_fkey;

CREATE FUNCTION speakers_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    conference_ids bigint[];
    bad record;
BEGIN
    SELECT array_agg(DISTINCT conference_id) INTO conference_ids FROM new_people;
    IF lock_referenced('conferences', conference_ids) THEN
        RETURN NULL;
    END IF;
    SELECT n.id, n.conference_id
      INTO bad
      FROM new_people n
      LEFT JOIN conferences c ON c.id = n.conference_id
     WHERE c.id IS NULL
     LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'speakers refer to a conference that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RAISE EXCEPTION 'speaker % refers to a conference (%) that does not exist', bad.id,
        bad.conference_id USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE TRIGGER speakers_references_inserted AFTER INSERT ON speakers
    REFERENCING NEW TABLE AS new_people
    FOR EACH STATEMENT EXECUTE FUNCTION speakers_check_references();

CREATE FUNCTION speakers_check_references_of_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT lock_referenced('conferences', ARRAY[NEW.conference_id]) THEN
        RAISE EXCEPTION 'speaker % refers to a conference (%) that does not exist', NEW.id,
            NEW.conference_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER speakers_references_updated
    AFTER UPDATE OF conference_id ON speakers
    FOR EACH ROW
    WHEN (OLD.conference_id IS DISTINCT FROM NEW.conference_id)
    EXECUTE FUNCTION speakers_check_references_of_row();

CREATE TRIGGER conferences_speakers_deleted AFTER DELETE ON conferences
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION delete_dependents('speakers', 'conference_id');
