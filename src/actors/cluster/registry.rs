//! The node registry: a key per node (`PREFIX:node:ID`, its `NodeInfo`, expiring after
//! `NODE_TTL` unless refreshed) and a set of the ids ever seen (`PREFIX:nodes`), from
//! which ids whose key expired are removed by whoever notices.

use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

use super::{ClusterSettings, NODE_TTL};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    pub id: String,
    /// Where it listens.
    pub addr: String,
    pub version: String,
    /// Unix milliseconds.
    pub started_at: i64,
}

impl NodeInfo {
    pub(super) fn me(settings: &ClusterSettings) -> NodeInfo {
        NodeInfo {
            id: settings.node_id.clone(),
            addr: settings.addr.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: chrono::Utc::now().timestamp_millis(),
        }
    }
}

/// How long the set of node ids outlives the last node that refreshed it.
const SET_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

fn node_key(settings: &ClusterSettings, id: &str) -> String {
    settings.key(&format!("node:{id}"))
}

/// Refresh our key; the nodes alive now (ourselves included), by id.
pub(super) async fn refresh(
    redis: &mut ConnectionManager,
    settings: &ClusterSettings,
    me: &NodeInfo,
) -> redis::RedisResult<Vec<NodeInfo>> {
    let nodes_key = settings.key("nodes");
    let me_json = serde_json::to_string(me).unwrap_or_default();
    let (ids,): (Vec<String>,) = redis::pipe()
        .cmd("SET")
        .arg(node_key(settings, &me.id))
        .arg(me_json)
        .arg("PX")
        .arg(NODE_TTL.as_millis() as u64)
        .ignore()
        .cmd("SADD")
        .arg(&nodes_key)
        .arg(&me.id)
        .ignore()
        // The set outlives its nodes a while, not forever (a cluster taken down).
        .cmd("PEXPIRE")
        .arg(&nodes_key)
        .arg(SET_TTL.as_millis() as u64)
        .ignore()
        .cmd("SMEMBERS")
        .arg(&nodes_key)
        .query_async(redis)
        .await?;
    let keys: Vec<String> = ids.iter().map(|id| node_key(settings, id)).collect();
    let infos: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(redis).await?;
    let mut alive = Vec::new();
    let mut gone = Vec::new();
    for (id, info) in ids.into_iter().zip(infos) {
        match info.and_then(|json| serde_json::from_str::<NodeInfo>(&json).ok()) {
            Some(node) => alive.push(node),
            None => gone.push(id),
        }
    }
    if !gone.is_empty() {
        log::info!("cluster nodes gone: {}", gone.join(", "));
        redis::cmd("SREM")
            .arg(&nodes_key)
            .arg(&gone)
            .exec_async(redis)
            .await?;
    }
    alive.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(alive)
}
