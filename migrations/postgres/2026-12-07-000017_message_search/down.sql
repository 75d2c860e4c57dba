DROP INDEX messages_content_fts;
