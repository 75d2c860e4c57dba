-- An anonymous session (seed 000) belongs to the browser that first used it: the
-- hash of that browser's key (its HttpOnly cookie). NULL: not bound yet.
ALTER TABLE conversations ADD COLUMN anon_key TEXT;
