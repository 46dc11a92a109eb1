-- 0002: the write journal. Each committed batch is first appended here (one row, its rows
-- encoded with Python's marshal format 4) in the same transaction as its receipts; the
-- derived tables (track, vessels, statics, counters) are written from memory in larger
-- groups, and the journal rows they cover are deleted in that same transaction. On open,
-- rows still in the journal are replayed into the derived tables.
CREATE TABLE journal (
    id    INTEGER PRIMARY KEY,
    entry BLOB NOT NULL
) STRICT;
