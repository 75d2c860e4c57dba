DROP TABLE stream_moderation_log;
DROP TABLE stream_blocked_terms;
DROP TABLE stream_bans;
DROP TABLE stream_moderators;
