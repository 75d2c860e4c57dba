//! The log: env_logger with a filter (`RUST_LOG`), as text for people or, with
//! `--log-format json`, one JSON object per line for log shippers: `time`, `level`,
//! `target`, `message`, and the record's key-values (a request's or connection's id,
//! status, duration…) as fields of their own. Access lines (target
//! `switchboard::access`) never carry tokens, query strings or message text.

use std::io::Write;

use log::kv::{Key, Value, VisitSource};
use serde_json::{Map, Value as Json};

/// Where access lines go: one per HTTP request, one per WebSocket or Socket.IO
/// session when it ends.
pub const ACCESS: &str = "switchboard::access";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Install the logger. `filter` is env_logger's syntax (`info`, `switchboard=debug`).
pub fn init(filter: &str, format: LogFormat) {
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(filter);
    if format == LogFormat::Json {
        builder.format(|buf, record| {
            let line = json_line(record);
            writeln!(buf, "{line}")
        });
    }
    builder.init();
}

/// One record as a JSON object.
pub fn json_line(record: &log::Record) -> Json {
    let mut fields = Map::new();
    fields.insert(
        "time".into(),
        Json::String(
            chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string(),
        ),
    );
    fields.insert("level".into(), Json::String(record.level().to_string()));
    fields.insert("target".into(), Json::String(record.target().to_owned()));
    fields.insert("message".into(), Json::String(record.args().to_string()));
    let mut kv = Fields(Map::new());
    let _ = record.key_values().visit(&mut kv);
    for (k, v) in kv.0 {
        // The four above are the record's own: a key-value does not replace them.
        fields.entry(k).or_insert(v);
    }
    Json::Object(fields)
}

struct Fields(Map<String, Json>);

impl<'kvs> VisitSource<'kvs> for Fields {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let json = if let Some(n) = value.to_u64() {
            Json::from(n)
        } else if let Some(n) = value.to_i64() {
            Json::from(n)
        } else if let Some(f) = value.to_f64() {
            Json::from(f)
        } else if let Some(b) = value.to_bool() {
            Json::Bool(b)
        } else {
            Json::String(value.to_string())
        };
        self.0.insert(key.as_str().to_owned(), json);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_becomes_one_object_with_its_key_values() {
        let kvs: &[(&str, Value)] = &[
            ("conn", Value::from(42u64)),
            ("reason", Value::from("client_closed")),
            ("message", Value::from("not the message")),
        ];
        let line = json_line(
            &log::Record::builder()
                .level(log::Level::Info)
                .target(ACCESS)
                .args(format_args!("websocket session ended"))
                .key_values(&kvs)
                .build(),
        );
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["target"], ACCESS);
        assert_eq!(line["message"], "websocket session ended");
        assert_eq!(line["conn"], 42);
        assert_eq!(line["reason"], "client_closed");
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
    }
}
