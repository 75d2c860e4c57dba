-- Live-shopping streams (seed 002) and their final figures.
CREATE TABLE live_streams (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    stream_url TEXT NOT NULL,
    quality TEXT NOT NULL,
    started_by TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    peak_viewers BIGINT NOT NULL DEFAULT 0,
    likes BIGINT NOT NULL DEFAULT 0
);

-- What viewers wrote during a stream.
CREATE TABLE stream_chat (
    id TEXT PRIMARY KEY NOT NULL,
    stream_id TEXT NOT NULL REFERENCES live_streams (id) ON DELETE CASCADE,
    sender_id TEXT NOT NULL,
    username TEXT NOT NULL,
    message TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX stream_chat_stream ON stream_chat (stream_id, created_at);
