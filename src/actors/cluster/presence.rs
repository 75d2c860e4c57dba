//! Who of the staff is online on which node: each node keeps its own list in
//! `PREFIX:staff:NODE` (expiring with the node, `NODE_TTL`) and reads the others'
//! every beat. A node that dies takes its staff with it when its key expires.

use std::collections::BTreeMap;

use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

use super::{ClusterSettings, NodeInfo, NODE_TTL};

/// A staff member with a connection open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: String,
    pub name: String,
    /// `agent` or `admin`.
    pub role: String,
}

fn staff_key(settings: &ClusterSettings, node: &str) -> String {
    settings.key(&format!("staff:{node}"))
}

/// Store ours; the staff online on the other live nodes, by id.
pub(super) async fn exchange(
    redis: &mut ConnectionManager,
    settings: &ClusterSettings,
    ours: &[StaffMember],
    nodes: &[NodeInfo],
) -> redis::RedisResult<BTreeMap<String, StaffMember>> {
    let ours = serde_json::to_string(ours).unwrap_or_else(|_| "[]".into());
    redis::cmd("SET")
        .arg(staff_key(settings, &settings.node_id))
        .arg(ours)
        .arg("PX")
        .arg(NODE_TTL.as_millis() as u64)
        .exec_async(redis)
        .await?;
    let keys: Vec<String> = nodes
        .iter()
        .filter(|n| n.id != settings.node_id)
        .map(|n| staff_key(settings, &n.id))
        .collect();
    let mut theirs = BTreeMap::new();
    if keys.is_empty() {
        return Ok(theirs);
    }
    let lists: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(redis).await?;
    for list in lists.into_iter().flatten() {
        match serde_json::from_str::<Vec<StaffMember>>(&list) {
            Ok(members) => theirs.extend(members.into_iter().map(|m| (m.id.clone(), m))),
            Err(e) => log::warn!("another node's staff list is unreadable: {e}"),
        }
    }
    Ok(theirs)
}
