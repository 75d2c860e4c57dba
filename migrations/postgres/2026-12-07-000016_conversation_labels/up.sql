-- Staff's labels on a conversation, stored ',a,b,' (each between commas) so that a
-- filter by one is a LIKE on either backend; '' for none.
ALTER TABLE conversations ADD COLUMN labels TEXT NOT NULL DEFAULT '';
