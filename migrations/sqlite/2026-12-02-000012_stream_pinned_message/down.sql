ALTER TABLE live_streams DROP COLUMN pinned_message;
