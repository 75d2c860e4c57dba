-- The live chat's standing rules (they outlast one stream) and the log of what
-- moderators did.
CREATE TABLE stream_moderators (
    user_id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TIMESTAMP NOT NULL
);

-- A viewer who may watch but not write: until a time (a timeout) or, with until
-- NULL, until lifted. user_id is the user id, else the guest id, else the session id.
CREATE TABLE stream_bans (
    user_id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    reason TEXT NOT NULL,
    until TIMESTAMP,
    banned_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE stream_blocked_terms (
    term TEXT PRIMARY KEY NOT NULL,
    added_by TEXT NOT NULL,
    added_at TIMESTAMP NOT NULL
);

CREATE TABLE stream_moderation_log (
    id TEXT PRIMARY KEY NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    detail TEXT NOT NULL,
    by_id TEXT NOT NULL,
    by_name TEXT NOT NULL,
    stream_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX stream_moderation_log_by_time ON stream_moderation_log (created_at);
