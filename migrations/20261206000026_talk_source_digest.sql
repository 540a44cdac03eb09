-- Issue 13, item 6: a forced re-diff reads only the talks whose timetable entry changed. Each
-- row written from a timetable keeps the SHA-256 of what that entry stated
-- (domain::diff::settled); a re-import whose entry has the same digest is the row unchanged.
-- NULL when anything else wrote the row last (a cancellation, a listing's enrichment) and for
-- rows written before this column existed: those are compared in full, as before.
ALTER TABLE talks ADD COLUMN source_digest bytea;
