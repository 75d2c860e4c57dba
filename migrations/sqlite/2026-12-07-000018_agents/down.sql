DROP INDEX conversations_status_created;
DROP TABLE agents;
