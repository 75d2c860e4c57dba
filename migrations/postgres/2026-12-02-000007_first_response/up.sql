-- When a conversation got its first staff reply to a customer (the first-response
-- time's end, `switchboard_first_response_seconds`). NULL: not yet.
ALTER TABLE conversations ADD COLUMN first_response_at TIMESTAMP;
