//! Switchboard: a self-hosted real-time support-chat and live-stream-chat server.
//! See DESIGN.md in the project's shared folder and README.md for the architecture.

pub mod actors;
pub mod api;
pub mod auth;
pub mod client_addr;
pub mod config;
pub mod db;
pub mod dialects;
pub mod domain;
pub mod drain;
pub mod error;
pub mod file_store;
pub mod logging;
pub mod metrics;
pub mod rate_limit;
pub mod startup;
pub mod state;
pub mod transport;
pub mod uploads;
pub mod webhook_target;
