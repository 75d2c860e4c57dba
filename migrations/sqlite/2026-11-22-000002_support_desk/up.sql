-- Guests (seed 003): ids the server issued; a guest owns the conversations it starts.
CREATE TABLE guests (
    id TEXT PRIMARY KEY NOT NULL,
    created_at TIMESTAMP NOT NULL
);

ALTER TABLE conversations ADD COLUMN guest_id TEXT REFERENCES guests (id);
CREATE INDEX conversations_guest_id ON conversations (guest_id);
CREATE INDEX conversations_status_updated ON conversations (status, updated_at);

-- Read state: each participant has read its conversation up to a seq.
CREATE TABLE read_cursors (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL,
    last_read_seq BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, participant_id)
);
