//! What each node shares of its own connections: the staff online there, its stream
//! viewers and WebRTC peers. Each node keeps its state in `PREFIX:state:NODE`
//! (expiring with the node, `NODE_TTL`), publishes it when it changes, and reads the
//! others' every beat. A node that dies takes its staff, viewers and peers with it
//! when its key expires.

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

/// A WebRTC peer registered on a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamPeer {
    pub id: String,
    pub admin: bool,
}

/// One node's share.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeState {
    /// Grows with every change, so an older copy (read from the key while a newer
    /// one was being published) never replaces a newer one.
    pub version: u64,
    pub staff: Vec<StaffMember>,
    pub viewers: usize,
    pub peers: Vec<StreamPeer>,
}

impl NodeState {
    /// A version above every earlier one, this process's or an earlier process's
    /// under the same node id (they started earlier, so their clock was behind).
    pub(super) fn next_version(&self) -> u64 {
        let now = chrono::Utc::now().timestamp_micros().max(0) as u64;
        now.max(self.version + 1)
    }
}

fn state_key(settings: &ClusterSettings, node: &str) -> String {
    settings.key(&format!("state:{node}"))
}

/// Store ours (for the nodes that read it at their beat).
pub(super) fn store(settings: &ClusterSettings, ours: &NodeState, pipe: &mut redis::Pipeline) {
    let json = serde_json::to_string(ours).unwrap_or_default();
    pipe.cmd("SET")
        .arg(state_key(settings, &settings.node_id))
        .arg(json)
        .arg("PX")
        .arg(NODE_TTL.as_millis() as u64)
        .ignore();
}

/// Store ours; the other live nodes' states, by node id.
pub(super) async fn exchange(
    redis: &mut ConnectionManager,
    settings: &ClusterSettings,
    ours: &NodeState,
    nodes: &[NodeInfo],
) -> redis::RedisResult<BTreeMap<String, NodeState>> {
    let mut pipe = redis::pipe();
    store(settings, ours, &mut pipe);
    pipe.exec_async(redis).await?;
    let others: Vec<&str> = nodes
        .iter()
        .map(|n| n.id.as_str())
        .filter(|id| *id != settings.node_id)
        .collect();
    let mut theirs = BTreeMap::new();
    if others.is_empty() {
        return Ok(theirs);
    }
    let keys: Vec<String> = others.iter().map(|id| state_key(settings, id)).collect();
    let states: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query_async(redis).await?;
    for (node, state) in others.into_iter().zip(states) {
        let Some(json) = state else { continue };
        match serde_json::from_str::<NodeState>(&json) {
            Ok(state) => {
                theirs.insert(node.to_owned(), state);
            }
            Err(e) => log::warn!("node {node}'s state is unreadable: {e}"),
        }
    }
    Ok(theirs)
}

/// Merge what was read at a beat with what arrived since: the newer of each node's
/// copies; nodes not read (their key expired) are gone.
pub(super) fn merge(
    known: &BTreeMap<String, NodeState>,
    read: BTreeMap<String, NodeState>,
) -> BTreeMap<String, NodeState> {
    read.into_iter()
        .map(|(node, state)| match known.get(&node) {
            Some(k) if k.version > state.version => (node, k.clone()),
            _ => (node, state),
        })
        .collect()
}
