-- 0006: which source delivered each detection (MEMBER/NAME), so the sharing policy labels it
-- by that source's release. Detections stored before have none ('').
ALTER TABLE detections ADD COLUMN feed TEXT NOT NULL DEFAULT '';
