-- Imports at the database's speed (issue 13, item 6).
--
-- talks_title_key served no query: listings are matched to talks in memory
-- (domain::diff), and every import paid for keeping it (about 25 ms per 10,000 new talks).
DROP INDEX IF EXISTS talks_title_key;

-- An import's diff is written once and read back whole (store::imports), never queried
-- inside: `json` keeps the text as sent instead of building jsonb's binary form, and lz4
-- compresses it several times faster than the default pglz. A 10,000-talk first import's
-- diff (about 3 MB) cost 70 ms as jsonb with pglz, 11 ms as json with lz4.
ALTER TABLE imports ALTER COLUMN diff TYPE json USING diff::json;
DO $$
BEGIN
    ALTER TABLE imports ALTER COLUMN diff SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    -- A server built without lz4 keeps pglz: slower, still correct.
    NULL;
END $$;
