-- 0003: when Lookout received each stored position (wall clock, seconds since the epoch, UTC),
-- beside observed_ts (when the vessel was there). NULL for points stored before 0.1.0 kept it.
ALTER TABLE track ADD COLUMN received_ts REAL;
