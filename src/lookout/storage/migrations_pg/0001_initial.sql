-- 0001: the PostGIS store's schema (the same tables and columns as the SQLite store's
-- migrations 0001-0005, so both stores answer alike). Times are Unix seconds (UTC) as double
-- precision, positions lat/lon in WGS84 degrees; each table with a position also has it as a
-- geography(Point, 4326) column generated from lat/lon (lat/lon stay the exact values).
--
-- Indexes on positions: a GiST index on position::geometry answers bounding boxes in lat/lon
-- (ST_MakeEnvelope / &&): a box of the API is a lat/lon rectangle, which a geography polygon
-- is not (its edges are great circles). A GiST index on the geography itself serves geodesic
-- queries in metres (ST_DWithin) on detections.
CREATE EXTENSION IF NOT EXISTS postgis;

-- Every stored position of every vessel; id is the write order (ties at one observed_ts).
CREATE TABLE track (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mmsi        bigint           NOT NULL,
    segment     bigint           NOT NULL,
    observed_ts double precision NOT NULL,
    lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    speed_kn    double precision,
    course_deg  double precision,
    heading_deg integer,
    member      text             NOT NULL,
    source      text             NOT NULL,
    receivers   text[]           NOT NULL,
    received_ts double precision,
    position    geography(Point, 4326) NOT NULL
                GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED
);
CREATE INDEX track_mmsi_time ON track (mmsi, observed_ts, id);
CREATE INDEX track_time ON track (observed_ts);

-- The latest fused state of each vessel, as the pipeline last sent it.
CREATE TABLE vessels (
    mmsi        bigint PRIMARY KEY,
    segment     bigint           NOT NULL,
    observed_ts double precision NOT NULL,
    lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    speed_kn    double precision,
    course_deg  double precision,
    heading_deg integer,
    status      integer,
    flag        text,
    name        text,
    callsign    text,
    imo         bigint,
    ship_type   integer,
    destination text,
    length_m    integer,
    members     text[]  NOT NULL,
    sources     text[]  NOT NULL,
    positions   bigint  NOT NULL,
    simulated   boolean NOT NULL,
    position    geography(Point, 4326) NOT NULL
                GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED
);
CREATE INDEX vessels_box ON vessels USING gist ((position::geometry));

-- Identity history (types 5, 19, 24, 21), oldest first by observed_ts then write order.
CREATE TABLE statics (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mmsi           bigint           NOT NULL,
    msg_type       integer          NOT NULL,
    observed_ts    double precision NOT NULL,
    member         text             NOT NULL,
    source         text             NOT NULL,
    name           text,
    callsign       text,
    imo            bigint,
    ship_type      integer,
    to_bow_m       integer,
    to_stern_m     integer,
    to_port_m      integer,
    to_starboard_m integer,
    destination    text,
    draught_m      double precision
);
CREATE INDEX statics_mmsi_time ON statics (mmsi, observed_ts, id);
CREATE INDEX statics_time ON statics (observed_ts);

-- Ingest counters per (member, source) and rejected lines per reason, added to by every batch.
CREATE TABLE ingest_counts (
    member           text   NOT NULL,
    source           text   NOT NULL,
    lines            bigint NOT NULL,
    accepted         bigint NOT NULL,
    observations     bigint NOT NULL,
    duplicates       bigint NOT NULL,
    last_received_ts double precision,
    PRIMARY KEY (member, source)
);
CREATE TABLE ingest_rejects (
    member text   NOT NULL,
    source text   NOT NULL,
    reason text   NOT NULL,
    count  bigint NOT NULL,
    PRIMARY KEY (member, source, reason)
);

-- Receipts of acknowledged sender batches by idempotency key (receipt: JSON text);
-- created_ts: wall-clock time of the commit, so old keys can be pruned.
CREATE TABLE receipts (
    key        text PRIMARY KEY,
    receipt    text             NOT NULL,
    created_ts double precision NOT NULL
);
CREATE INDEX receipts_created ON receipts (created_ts);

-- Detector events: every published version (seq: publication order), and the latest one of
-- each id. payload: the event as JSON text, exactly as published.
CREATE TABLE event_versions (
    seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id      text             NOT NULL,
    kind    text             NOT NULL,
    status  text             NOT NULL,
    ts      double precision NOT NULL,
    payload text             NOT NULL
);
CREATE INDEX event_versions_id ON event_versions (id, seq);

CREATE TABLE events (
    id       text PRIMARY KEY,
    kind     text             NOT NULL,
    status   text             NOT NULL,
    ts       double precision NOT NULL,
    mmsi     bigint,
    start_ts double precision,
    end_ts   double precision,
    lat      double precision,
    lon      double precision,
    zone     text,
    versions integer NOT NULL,
    payload  text    NOT NULL,
    position geography(Point, 4326)
             GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED
);
CREATE INDEX events_ts ON events (ts);
CREATE INDEX events_kind_ts ON events (kind, ts);
CREATE INDEX events_box ON events USING gist ((position::geometry));

-- Every vessel an event concerns (mmsis), to find a vessel's events.
CREATE TABLE event_vessels (
    mmsi bigint NOT NULL,
    id   text   NOT NULL,
    PRIMARY KEY (mmsi, id)
);

-- Non-AIS detections (satellite, radar, patrol) as received; the first of each (member, id).
CREATE TABLE detections (
    member   text             NOT NULL,
    id       text             NOT NULL,
    ts       double precision NOT NULL,
    lat      double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon      double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    source   text             NOT NULL,
    feed     text             NOT NULL DEFAULT '',  -- the source that delivered it (MEMBER/NAME)
    position geography(Point, 4326) NOT NULL
             GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED,
    PRIMARY KEY (member, id)
);
CREATE INDEX detections_ts ON detections (ts);
CREATE INDEX detections_position ON detections USING gist (position);
