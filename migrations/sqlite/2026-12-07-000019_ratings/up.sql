-- The customer's rating of a resolved conversation (1-5) and comment.
ALTER TABLE conversations ADD COLUMN rating INTEGER;
ALTER TABLE conversations ADD COLUMN rating_comment TEXT;
ALTER TABLE conversations ADD COLUMN rated_at TIMESTAMP;
