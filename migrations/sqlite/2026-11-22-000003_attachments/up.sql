-- Files stored under DATA_DIR/attachments by sha256; uploaded first, then linked to a message.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    message_id TEXT REFERENCES messages (id) ON DELETE SET NULL,
    conversation_id TEXT REFERENCES conversations (id) ON DELETE CASCADE,
    uploader_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_message_id ON attachments (message_id);
