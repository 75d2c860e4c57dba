-- A conversation is one customer's support thread (seed 000's sessionId).
CREATE TABLE conversations (
    id TEXT PRIMARY KEY NOT NULL,
    customer_user_id TEXT,              -- signed-in owner; NULL for an anonymous session
    customer_name TEXT NOT NULL,
    subject TEXT,
    category TEXT,
    priority TEXT NOT NULL DEFAULT 'normal',
    conversation_type TEXT NOT NULL DEFAULT 'general',
    status TEXT NOT NULL DEFAULT 'waiting',
    assigned_agent_id TEXT,
    last_seq BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX conversations_customer_user_id ON conversations (customer_user_id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    sender_id TEXT NOT NULL,
    sender_kind TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    content TEXT NOT NULL,
    message_type TEXT NOT NULL DEFAULT 'text',
    client_id TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (conversation_id, seq),
    UNIQUE (conversation_id, sender_id, client_id)
);
