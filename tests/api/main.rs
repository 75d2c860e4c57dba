//! Integration tests: the real server on port 0, real sockets, awc as the client.
//! Set `TEST_DATABASE_URL=postgres://…` to run the same suite against PostgreSQL.

mod helpers;
mod node;
mod openapi;

mod agents;
mod anonymous;
mod attachments;
mod auth;
mod auth_codes;
mod auto_resolve;
mod bad_input;
mod browser;
mod canned;
mod cluster;
mod desk_ws;
mod drain;
mod handover;
mod health;
mod labels;
mod limits;
mod live;
mod live_moderation;
mod logs;
mod metrics;
mod native_ws;
mod notes;
mod outage;
mod ownership;
mod pages;
mod persistence;
mod proxies;
mod ratings;
mod rest_chat;
mod search;
mod server_api;
mod sessions_rest;
mod snooze;
mod socketio;
mod socketio_layer;
mod storage;
mod support_rest;
mod tls;
mod transcripts;
mod webhooks;
