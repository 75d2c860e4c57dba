DROP TABLE stream_chat;
DROP TABLE live_streams;
