-- Full-text search over message text: the 'simple' configuration (no stemming, any
-- language), as the search query builds its tsquery.
CREATE INDEX messages_content_fts ON messages USING GIN (to_tsvector('simple', content));
