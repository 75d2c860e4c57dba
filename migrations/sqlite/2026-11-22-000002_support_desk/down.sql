DROP TABLE read_cursors;
DROP INDEX conversations_status_updated;
DROP INDEX conversations_guest_id;
ALTER TABLE conversations DROP COLUMN guest_id;
DROP TABLE guests;
