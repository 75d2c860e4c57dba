-- The chat line (or announcement) pinned above the live chat, as JSON; NULL: none.
ALTER TABLE live_streams ADD COLUMN pinned_message TEXT;
