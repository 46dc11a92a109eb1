-- 0001: the embedded store's first schema.
-- Column names equal the field names of the value types in lookout.model, so the store
-- builds its statements from the dataclass fields. STRICT tables reject a value of the
-- wrong type instead of storing it silently.

-- Every stored position of every vessel. receivers: JSON array of receiver names.
CREATE TABLE track (
    mmsi        INTEGER NOT NULL,
    segment     INTEGER NOT NULL,
    observed_ts REAL    NOT NULL,
    lat         REAL    NOT NULL,
    lon         REAL    NOT NULL,
    speed_kn    REAL,
    course_deg  REAL,
    heading_deg INTEGER,
    member      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    receivers   TEXT    NOT NULL
) STRICT;
-- Track queries (one vessel, a time range) and retention (everything before a time).
CREATE INDEX track_mmsi_time ON track (mmsi, observed_ts);
CREATE INDEX track_time ON track (observed_ts);

-- The latest fused state of each vessel, as the pipeline last sent it.
-- members, sources: JSON arrays. simulated: 0 or 1.
CREATE TABLE vessels (
    mmsi        INTEGER PRIMARY KEY,
    segment     INTEGER NOT NULL,
    observed_ts REAL    NOT NULL,
    lat         REAL    NOT NULL,
    lon         REAL    NOT NULL,
    speed_kn    REAL,
    course_deg  REAL,
    heading_deg INTEGER,
    status      INTEGER,
    flag        TEXT,
    name        TEXT,
    callsign    TEXT,
    imo         INTEGER,
    ship_type   INTEGER,
    destination TEXT,
    length_m    INTEGER,
    members     TEXT    NOT NULL,
    sources     TEXT    NOT NULL,
    positions   INTEGER NOT NULL,
    simulated   INTEGER NOT NULL
) STRICT;

-- R*Tree over the vessels' latest positions for bounding-box queries. Each vessel's box is
-- the 0.1 degree grid cell (about 11 km) its position lies in, so the tree changes only when
-- a vessel crosses into another cell, not on every report (updating an R*Tree entry costs
-- several times a B-tree row). Queries take the candidates from the tree and test the exact
-- lat/lon in vessels (the tree also rounds its 32-bit floats outwards).
CREATE VIRTUAL TABLE vessel_position USING rtree (mmsi, min_lon, max_lon, min_lat, max_lat);

-- Each vessel's grid cell as an R*Tree box: the one place the cell is computed.
CREATE VIEW vessel_cell AS
SELECT mmsi,
       lon_cell / 10.0 - 180.0 AS min_lon, (lon_cell + 1) / 10.0 - 180.0 AS max_lon,
       lat_cell / 10.0 - 90.0 AS min_lat, (lat_cell + 1) / 10.0 - 90.0 AS max_lat
FROM (SELECT mmsi,
             CAST((lon + 180.0) * 10.0 AS INTEGER) AS lon_cell,
             CAST((lat + 90.0) * 10.0 AS INTEGER) AS lat_cell
      FROM vessels);

CREATE TRIGGER vessels_insert AFTER INSERT ON vessels
BEGIN
    INSERT INTO vessel_position SELECT * FROM vessel_cell WHERE mmsi = new.mmsi;
END;

-- Only when the vessel changes cell (same cell arithmetic as vessel_cell).
CREATE TRIGGER vessels_move AFTER UPDATE OF lat, lon ON vessels
WHEN CAST((old.lon + 180.0) * 10.0 AS INTEGER) != CAST((new.lon + 180.0) * 10.0 AS INTEGER)
  OR CAST((old.lat + 90.0) * 10.0 AS INTEGER) != CAST((new.lat + 90.0) * 10.0 AS INTEGER)
BEGIN
    DELETE FROM vessel_position WHERE mmsi = new.mmsi;
    INSERT INTO vessel_position SELECT * FROM vessel_cell WHERE mmsi = new.mmsi;
END;

CREATE TRIGGER vessels_delete AFTER DELETE ON vessels
BEGIN
    DELETE FROM vessel_position WHERE mmsi = old.mmsi;
END;

-- Identity history (types 5, 19, 24, 21), oldest first by observed_ts then insertion.
CREATE TABLE statics (
    id             INTEGER PRIMARY KEY,
    mmsi           INTEGER NOT NULL,
    msg_type       INTEGER NOT NULL,
    observed_ts    REAL    NOT NULL,
    member         TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    name           TEXT,
    callsign       TEXT,
    imo            INTEGER,
    ship_type      INTEGER,
    to_bow_m       INTEGER,
    to_stern_m     INTEGER,
    to_port_m      INTEGER,
    to_starboard_m INTEGER,
    destination    TEXT,
    draught_m      REAL
) STRICT;
CREATE INDEX statics_mmsi_time ON statics (mmsi, observed_ts);
CREATE INDEX statics_time ON statics (observed_ts);

-- Ingest counters per (member, source), added to by every batch.
CREATE TABLE ingest_counts (
    member           TEXT    NOT NULL,
    source           TEXT    NOT NULL,
    lines            INTEGER NOT NULL,
    accepted         INTEGER NOT NULL,
    observations     INTEGER NOT NULL,
    duplicates       INTEGER NOT NULL,
    last_received_ts REAL,
    PRIMARY KEY (member, source)
) STRICT, WITHOUT ROWID;

-- Rejected lines per (member, source, reason).
CREATE TABLE ingest_rejects (
    member TEXT    NOT NULL,
    source TEXT    NOT NULL,
    reason TEXT    NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (member, source, reason)
) STRICT, WITHOUT ROWID;

-- Receipts of acknowledged sender batches by idempotency key. receipt: JSON object.
-- created_ts: wall-clock time of the commit, so old keys can be pruned.
CREATE TABLE receipts (
    key        TEXT PRIMARY KEY,
    receipt    TEXT NOT NULL,
    created_ts REAL NOT NULL
) STRICT;
CREATE INDEX receipts_created ON receipts (created_ts);
