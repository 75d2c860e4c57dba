DROP TABLE health_probe;
ALTER TABLE conversations DROP COLUMN anon_key;
