-- 0004: detector events and their versions (provisional -> confirmed -> retracted).
-- Nothing is deleted: every version a detector published is a row of event_versions, in
-- the order it was published (seq); events holds the latest version of each event id.
-- payload: the event as JSON (measured values, thresholds, observations, members).
CREATE TABLE event_versions (
    seq      INTEGER PRIMARY KEY,
    id       TEXT NOT NULL,
    kind     TEXT NOT NULL,
    status   TEXT NOT NULL,
    ts       REAL NOT NULL,
    payload  TEXT NOT NULL
) STRICT;
CREATE INDEX event_versions_id ON event_versions (id, seq);

CREATE TABLE events (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    status    TEXT NOT NULL,
    ts        REAL NOT NULL,
    mmsi      INTEGER,
    start_ts  REAL,
    end_ts    REAL,
    lat       REAL,
    lon       REAL,
    zone      TEXT,
    versions  INTEGER NOT NULL,
    payload   TEXT NOT NULL
) STRICT;
CREATE INDEX events_ts ON events (ts);
CREATE INDEX events_kind_ts ON events (kind, ts);

-- Every vessel an event concerns (mmsis), to find a vessel's events.
CREATE TABLE event_vessels (
    mmsi INTEGER NOT NULL,
    id   TEXT NOT NULL,
    PRIMARY KEY (mmsi, id)
) STRICT, WITHOUT ROWID;
