ALTER TABLE conversations DROP COLUMN rated_at;
ALTER TABLE conversations DROP COLUMN rating_comment;
ALTER TABLE conversations DROP COLUMN rating;
