-- An anonymous session (seed 000) belongs to the browser that first used it: the
-- hash of that browser's key (its HttpOnly cookie). NULL: not bound yet.
ALTER TABLE conversations ADD COLUMN anon_key TEXT;

-- The health probe writes here (one row, updated in place) to know writes commit.
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY NOT NULL,
    checks BIGINT NOT NULL
);
INSERT INTO health_probe (id, checks) VALUES (1, 0);
