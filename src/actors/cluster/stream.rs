//! The one live stream over every node. Each node's LiveStream keeps a replica of the
//! stream's state and applies the changes the others publish (`StreamSync`); viewer
//! counts and WebRTC peers travel in the node states; the right to start a stream is
//! a Redis key (`PREFIX:stream:live`, the live stream's id) that the nodes showing it
//! keep alive, so two nodes cannot start two streams and a stream whose every node
//! died does not block the next one.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Cluster, NodeState, StreamPeer, NODE_TTL};
use crate::domain::stream::{ChatLine, PinnedMessage, PinnedProduct, Stream};
use crate::domain::Signal;

/// A change to the live stream, made on one node and applied by every other.
#[derive(Debug, Clone, Serialize, Deserialize, Message)]
#[rtype(result = "()")]
#[serde(rename_all = "camelCase")]
pub enum StreamSync {
    Started(Stream),
    Stopped {
        stream_id: String,
    },
    Pinned(Arc<Vec<PinnedProduct>>),
    /// A chat line and who wrote it (for mutes and slow mode).
    Chat {
        line: ChatLine,
        sender: String,
    },
    ChatDeleted {
        message_id: String,
    },
    /// A change to the standing rules (moderators, bans, blocked terms).
    Rules(crate::domain::moderation::RuleChange),
    /// Slow mode, the longest line and the rate, as staff set them.
    ChatSettings(crate::domain::stream::ChatSettings),
    /// The liker's like as it is now (not a toggle), so that the same person liking
    /// on two nodes at once counts once.
    Like {
        liker: String,
        liked: bool,
    },
    /// The pinned message now (`None`: unpinned).
    PinnedMessage(Option<PinnedMessage>),
    /// The reactions tapped on one node over its last interval.
    Reactions {
        counts: crate::domain::stream::ReactionCounts,
    },
    BroadcastStarted {
        peer_id: String,
    },
    BroadcastStopped {
        peer_id: String,
    },
    /// A signal for the peer `to`, registered on some other node.
    Signal {
        to: String,
        signal: Signal,
    },
    /// A node without the stream's state (just started, or back after Redis was
    /// away) asks for it.
    Wanted,
    Snapshot(Box<StreamSnapshot>),
}

/// Everything a node needs to show the live stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamSnapshot {
    pub stream: Stream,
    pub liked_by: Vec<String>,
    pub pinned: Arc<Vec<PinnedProduct>>,
    pub history: Vec<ChatLine>,
    /// (message id, author) of the recent lines.
    pub authors: Vec<(String, String)>,
    pub slow_mode_seconds: u64,
    /// The line length and rate (absent from older nodes: the settings' defaults).
    #[serde(default)]
    pub chat_limits: Option<(u32, u32)>,
    pub broadcaster: Option<String>,
    /// (Absent from nodes of an older version: none.)
    #[serde(default)]
    pub pinned_message: Option<PinnedMessage>,
}

/// LiveStream's change for the other nodes.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PublishStream(pub StreamSync);

/// Where the other nodes' stream changes and shares go.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StreamFromNodes {
    pub events: Recipient<StreamSync>,
    pub remote: Recipient<RemoteStream>,
    pub resync: Recipient<Resync>,
}

/// Pub/sub (re)started: changes published before may have been missed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Resync;

/// This node's viewers and peers changed, or the stream it shows (LiveStream tells).
#[derive(Message)]
#[rtype(result = "()")]
pub struct LocalStream {
    pub viewers: usize,
    pub peers: Vec<StreamPeer>,
    pub live: Option<String>,
}

/// The viewers and peers of the other nodes (sent when they change).
#[derive(Message, Debug, Default, Clone, PartialEq)]
#[rtype(result = "()")]
pub struct RemoteStream {
    pub viewers: usize,
    pub peers: BTreeMap<String, StreamPeer>,
}

impl RemoteStream {
    pub(super) fn of(states: &BTreeMap<String, NodeState>) -> RemoteStream {
        RemoteStream {
            viewers: states
                .values()
                .fold(0usize, |sum, s| sum.saturating_add(s.viewers)),
            peers: states
                .values()
                .flat_map(|s| &s.peers)
                .map(|p| (p.id.clone(), p.clone()))
                .collect(),
        }
    }
}

/// Take the right to show stream `stream_id` (to start it, or to hold it again after
/// Redis lost the key): false if another one is live.
#[derive(Message)]
#[rtype(result = "Result<bool, String>")]
pub struct ClaimStream {
    pub stream_id: String,
}

/// The stream stopped: the next may start.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReleaseStream {
    pub stream_id: String,
}

/// Extend the key if it is `id`: 1; it is gone (Redis lost it, or the stream was
/// stopped and released): 2; another stream's: 0.
const KEEP: &str = "local v = redis.call('GET', KEYS[1]) \
    if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end \
    if v == false then return 2 end \
    return 0";
/// Reserve a WebRTC peer id for this node (peer ids are unique over the cluster):
/// false if another node's peer has it.
#[derive(Message)]
#[rtype(result = "Result<bool, String>")]
pub struct ReservePeer {
    pub peer_id: String,
}

/// Take the key for `id` if it is free (or already `id`'s): 1, else 0.
pub(super) const CLAIM: &str = "local v = redis.call('GET', KEYS[1]) \
    if v == false or v == ARGV[1] then \
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end \
    return 0";
/// Delete the key if it is ours.
const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
      return redis.call('DEL', KEYS[1]) end \
    return 0";

fn peer_key(settings: &super::ClusterSettings, peer_id: &str) -> String {
    settings.key(&format!("peer:{peer_id}"))
}

/// Hold (or refresh) this node's reservation of a peer id.
fn hold_peer(settings: &super::ClusterSettings, peer_id: &str, pipe: &mut redis::Pipeline) {
    pipe.cmd("EVAL")
        .arg(CLAIM)
        .arg(1)
        .arg(peer_key(settings, peer_id))
        .arg(&settings.node_id)
        .arg(NODE_TTL.as_millis() as u64);
}

/// Refresh the reservations of this node's peers (at each beat).
pub(super) fn hold_peers(
    settings: &super::ClusterSettings,
    peers: &[StreamPeer],
    pipe: &mut redis::Pipeline,
) {
    for p in peers {
        hold_peer(settings, &p.id, pipe);
        pipe.ignore();
    }
}

/// Let go of peer ids this node no longer has.
pub(super) fn free_peers(
    settings: &super::ClusterSettings,
    peers: &[&StreamPeer],
    pipe: &mut redis::Pipeline,
) {
    for p in peers {
        pipe.cmd("EVAL")
            .arg(RELEASE)
            .arg(1)
            .arg(peer_key(settings, &p.id))
            .arg(&settings.node_id)
            .ignore();
    }
}

impl Handler<ReservePeer> for Cluster {
    type Result = ResponseFuture<Result<bool, String>>;

    fn handle(&mut self, msg: ReservePeer, _: &mut Context<Self>) -> Self::Result {
        let mut redis = self.redis.clone();
        let mut pipe = redis::pipe();
        hold_peer(&self.settings, &msg.peer_id, &mut pipe);
        Box::pin(async move {
            let (held,): (i64,) = pipe
                .query_async(&mut redis)
                .await
                .map_err(|e| e.to_string())?;
            Ok(held == 1)
        })
    }
}

/// Keep the stream key for `id` alive (see `KEEP` for the answer).
pub(super) fn keep(settings: &super::ClusterSettings, id: &str, pipe: &mut redis::Pipeline) {
    pipe.cmd("EVAL")
        .arg(KEEP)
        .arg(1)
        .arg(settings.key("stream:live"))
        .arg(id)
        .arg(NODE_TTL.as_millis() as u64);
}

impl Handler<ClaimStream> for Cluster {
    type Result = ResponseFuture<Result<bool, String>>;

    fn handle(&mut self, msg: ClaimStream, _: &mut Context<Self>) -> Self::Result {
        let mut redis = self.redis.clone();
        let key = self.settings.key("stream:live");
        Box::pin(async move {
            let taken: i64 = redis::cmd("EVAL")
                .arg(CLAIM)
                .arg(1)
                .arg(key)
                .arg(&msg.stream_id)
                .arg(NODE_TTL.as_millis() as u64)
                .query_async(&mut redis)
                .await
                .map_err(|e| e.to_string())?;
            Ok(taken == 1)
        })
    }
}

impl Handler<ReleaseStream> for Cluster {
    type Result = ();

    fn handle(&mut self, msg: ReleaseStream, ctx: &mut Context<Self>) {
        self.live_stream = None;
        let mut redis = self.redis.clone();
        let key = self.settings.key("stream:live");
        let release = async move {
            redis::cmd("EVAL")
                .arg(RELEASE)
                .arg(1)
                .arg(key)
                .arg(msg.stream_id)
                .exec_async(&mut redis)
                .await
        };
        ctx.spawn(release.into_actor(self).map(|result, _, _| {
            if let Err(e) = result {
                log::warn!("the live stream's key was not released (it expires): {e}");
            }
        }));
    }
}
