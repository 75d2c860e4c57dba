-- Onboarding codes (seed 003): six digits, kept only as a peppered hash, single use.
CREATE TABLE auth_codes (
    id TEXT PRIMARY KEY NOT NULL,
    code_hash TEXT NOT NULL,
    conversation_id TEXT REFERENCES conversations (id) ON DELETE CASCADE,
    user_id TEXT,
    guest_id TEXT,
    device_info TEXT,
    created_by TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX auth_codes_code_hash ON auth_codes (code_hash);
CREATE INDEX auth_codes_user_id ON auth_codes (user_id);
CREATE INDEX auth_codes_guest_id ON auth_codes (guest_id);
