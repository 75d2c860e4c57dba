ALTER TABLE conversations DROP COLUMN first_response_at;
