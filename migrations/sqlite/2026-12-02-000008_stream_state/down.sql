ALTER TABLE live_streams DROP COLUMN liked_by;
ALTER TABLE live_streams DROP COLUMN pinned;
