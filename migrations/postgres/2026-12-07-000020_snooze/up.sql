-- Until when staff snoozed a conversation (out of the inbox until then, or until its
-- customer writes); NULL when it is not snoozed.
ALTER TABLE conversations ADD COLUMN snoozed_until TIMESTAMP;
