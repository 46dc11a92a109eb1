-- 0005: non-AIS detections (satellite SAR/optical, radar contacts, patrol sightings) as
-- received; the first of each (member, id) is kept. ts: when the vessel was seen (Unix
-- seconds, UTC).
CREATE TABLE detections (
    member  TEXT NOT NULL,
    id      TEXT NOT NULL,
    ts      REAL NOT NULL,
    lat     REAL NOT NULL,
    lon     REAL NOT NULL,
    source  TEXT NOT NULL,
    PRIMARY KEY (member, id)
) STRICT;
CREATE INDEX detections_ts ON detections (ts);
