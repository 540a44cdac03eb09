-- Talk search runs in memory (src/domain/search: trigram autocomplete and a full-text index
-- built once per programme snapshot), so nothing queries these. Measured on 10,000 talks they
-- cost 1.5 s of a 2.3 s first import (the generated tsvector column alone 1.05 s); see
-- BENCHMARKS.md. Dropped, not edited out of the first migration, which has already landed.

DROP INDEX IF EXISTS talks_search;
ALTER TABLE talks DROP COLUMN IF EXISTS search;
DROP INDEX IF EXISTS talks_title_trgm;
DROP INDEX IF EXISTS speakers_name_trgm;

-- What the source said, byte for byte: an import whose source is identical to the
-- conference's latest import cannot change anything and is recognised without parsing.
ALTER TABLE imports ADD COLUMN fingerprint text;
