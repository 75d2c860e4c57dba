-- Shared reply snippets staff insert by their shortcut ("/refund").
CREATE TABLE canned_responses (
    id TEXT PRIMARY KEY NOT NULL,
    shortcut TEXT NOT NULL UNIQUE,
    content TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
