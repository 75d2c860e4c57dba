ALTER TABLE conversations DROP COLUMN anon_key;
