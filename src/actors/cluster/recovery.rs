//! Socket.IO connection state recovery over every node: what a socket needs to be
//! recovered (identity, namespace, rooms and the last deliveries, as JSON) is kept in
//! `PREFIX:sio:PID` with the recovery window as TTL, while the socket lives (so a node
//! that dies leaves it behind) and once it is lost. Whichever node the client comes
//! back to takes it (`GETDEL`: once) and replays the messages from the database.
//! `PREFIX:sio:PID:node` names the node whose socket it is: a node that has not yet
//! noticed its socket's connection died cannot overwrite the state of the socket that
//! another node recovered meanwhile (that node took it over).

use std::time::Duration;

use actix::prelude::*;

use super::Cluster;

/// Keep a socket's recovery state for `window`, unless another node's socket has it
/// now; `take_over` (a socket just recovered here) makes it this node's.
#[derive(Message)]
#[rtype(result = "()")]
pub struct KeepRecovery {
    pub pid: String,
    pub state: String,
    pub window: Duration,
    pub take_over: bool,
}

/// KEYS: state, owner; ARGV: node, state, TTL, take over ("1").
const KEEP: &str = "local owner = redis.call('GET', KEYS[2]) \
    if ARGV[4] == '1' or owner == false or owner == ARGV[1] then \
      redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) \
      redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3]) return 1 end \
    return 0";

/// The socket ended for good (the client left): nothing to recover.
#[derive(Message)]
#[rtype(result = "()")]
pub struct DropRecovery {
    pub pid: String,
}

/// Take the recovery state kept under a private id, if any (and if Redis answers).
#[derive(Message)]
#[rtype(result = "Option<String>")]
pub struct TakeRecovery {
    pub pid: String,
}

impl Cluster {
    fn recovery_key(&self, pid: &str) -> String {
        self.settings.key(&format!("sio:{pid}"))
    }
}

impl Handler<KeepRecovery> for Cluster {
    type Result = ();

    fn handle(&mut self, msg: KeepRecovery, ctx: &mut Context<Self>) {
        let key = self.recovery_key(&msg.pid);
        let mut pipe = redis::pipe();
        pipe.cmd("EVAL")
            .arg(KEEP)
            .arg(2)
            .arg(&key)
            .arg(format!("{key}:node"))
            .arg(&self.settings.node_id)
            .arg(msg.state)
            .arg(msg.window.as_millis().max(1) as u64)
            .arg(if msg.take_over { "1" } else { "0" })
            .ignore();
        self.run(ctx, pipe, "a socket's recovery state was not stored");
    }
}

impl Handler<DropRecovery> for Cluster {
    type Result = ();

    fn handle(&mut self, msg: DropRecovery, ctx: &mut Context<Self>) {
        let key = self.recovery_key(&msg.pid);
        let mut pipe = redis::pipe();
        pipe.cmd("DEL")
            .arg(&key)
            .arg(format!("{key}:node"))
            .ignore();
        self.run(
            ctx,
            pipe,
            "a socket's recovery state was not dropped (it expires)",
        );
    }
}

impl Handler<TakeRecovery> for Cluster {
    type Result = ResponseFuture<Option<String>>;

    fn handle(&mut self, msg: TakeRecovery, _: &mut Context<Self>) -> Self::Result {
        let mut redis = self.redis.clone();
        let key = self.recovery_key(&msg.pid);
        Box::pin(async move {
            let taken: redis::RedisResult<Option<String>> =
                redis::cmd("GETDEL").arg(key).query_async(&mut redis).await;
            taken.unwrap_or_else(|e| {
                log::warn!("a socket's recovery state could not be read: {e}");
                None
            })
        })
    }
}
