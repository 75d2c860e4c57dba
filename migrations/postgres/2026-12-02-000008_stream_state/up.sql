-- A live stream's state, kept while it runs so that a restart mid-stream resumes it:
-- its pinned products and who liked it, as JSON arrays.
ALTER TABLE live_streams ADD COLUMN pinned TEXT NOT NULL DEFAULT '[]';
ALTER TABLE live_streams ADD COLUMN liked_by TEXT NOT NULL DEFAULT '[]';
