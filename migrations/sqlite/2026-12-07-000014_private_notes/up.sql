-- Staff's private notes live in the conversation's seq like messages; only staff
-- ever read a row with private set.
ALTER TABLE messages ADD COLUMN private BOOLEAN NOT NULL DEFAULT 0;
