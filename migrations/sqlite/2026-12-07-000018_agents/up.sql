-- What agents say of themselves (availability) and what admins set (capacity: NULL
-- for the server's default); an agent never set has neither row nor settings.
CREATE TABLE agents (
    user_id TEXT PRIMARY KEY NOT NULL,
    availability TEXT NOT NULL,
    capacity BIGINT,
    updated_at TIMESTAMP NOT NULL
);

-- The queue: waiting conversations, oldest first.
CREATE INDEX conversations_status_created ON conversations (status, created_at);
