//! WebRTC signalling (seed 002): peers register, offers, answers and ICE candidates
//! are relayed only from one's own peer to an existing one (on any node), the
//! broadcaster is announced to customers, and a connection's peers go with it.

use actix::prelude::*;

use super::messages::*;
use super::*;
use crate::actors::cluster::ReservePeer;

impl LiveStream {
    pub(super) fn signal(&self, conn: ConnId, signal: Signal) {
        self.send_to(conn, Event::Signal(signal));
    }

    /// Customers (non-staff viewers) hear about the broadcaster.
    pub(super) fn tell_customers(&self, signal: Signal) {
        let out = Arc::new(Outbound::new(Event::Signal(signal)));
        for (&c, _) in self.viewers.iter().filter(|(_, v)| !v.staff) {
            self.send_shared(c, &out);
        }
    }

    /// The peer, if `conn` registered it.
    pub(super) fn own_peer(&self, conn: ConnId, peer_id: &str) -> Result<&Peer, AppError> {
        self.peers
            .get(peer_id)
            .filter(|p| p.conn == conn)
            .ok_or_else(|| AppError::forbidden("Not your peer").with_detail(peer_id.to_owned()))
    }
}

impl Handler<SignalCommand> for LiveStream {
    type Result = ResponseActFuture<Self, Result<(), AppError>>;

    fn handle(&mut self, msg: SignalCommand, _: &mut Context<Self>) -> Self::Result {
        match msg.cmd {
            SignalCmd::Register { peer_id, user_type } => {
                self.register(msg.conn, msg.staff, peer_id, user_type)
            }
            cmd => Box::pin(fut::ready(self.signal_command(msg.conn, cmd))),
        }
    }
}

fn peer_taken() -> AppError {
    AppError::new(ErrorKind::Conflict, "peerId already registered")
}

impl LiveStream {
    /// Whether `conn` may register `peer_id` as `user_type`: whether it is an admin's.
    fn may_register(
        &self,
        conn: ConnId,
        staff: bool,
        peer_id: &str,
        user_type: &str,
    ) -> Result<bool, AppError> {
        text::session_id(peer_id)
            .map_err(|_| AppError::validation("peerId must be 1 to 128 printable characters"))?;
        let admin = match user_type {
            "admin" if staff => true,
            "admin" => return Err(AppError::insufficient_permissions()),
            "customer" => false,
            _ => return Err(AppError::validation("userType must be admin or customer")),
        };
        let elsewhere = self.remote.peers.contains_key(peer_id);
        if elsewhere || self.peers.get(peer_id).is_some_and(|p| p.conn != conn) {
            return Err(peer_taken());
        }
        Ok(admin)
    }

    /// A peer registers. In cluster mode its id is reserved in Redis first, so two
    /// connections on two nodes cannot both take it (with Redis away, this node's
    /// knowledge decides).
    fn register(
        &mut self,
        conn: ConnId,
        staff: bool,
        peer_id: String,
        user_type: String,
    ) -> ResponseActFuture<Self, Result<(), AppError>> {
        if let Err(e) = self.may_register(conn, staff, &peer_id, &user_type) {
            return Box::pin(fut::ready(Err(e)));
        }
        let reserve = self.cluster.as_ref().map(|c| {
            c.send(ReservePeer {
                peer_id: peer_id.clone(),
            })
        });
        let reserved = async move {
            match reserve {
                None => Ok(true),
                Some(reserve) => match reserve.await {
                    Ok(Ok(held)) => Ok(held),
                    Ok(Err(e)) => {
                        log::warn!("a peer id was not reserved in Redis ({e}); checked here only");
                        Ok(true)
                    }
                    Err(_) => Err(AppError::internal()),
                },
            }
        };
        Box::pin(reserved.into_actor(self).map(move |held, act, _| {
            if !held? {
                return Err(peer_taken());
            }
            // Checked again: much may have happened while Redis answered.
            let admin = act.may_register(conn, staff, &peer_id, &user_type)?;
            if act.viewers.contains_key(&conn) {
                act.seat_peer(conn, peer_id, admin);
            }
            Ok(())
        }))
    }

    fn seat_peer(&mut self, conn: ConnId, peer_id: String, admin: bool) {
        self.peers.insert(peer_id.clone(), Peer { conn, admin });
        self.share_local();
        let user_type = if admin { "admin" } else { "customer" };
        self.signal(
            conn,
            Signal::Registered {
                peer_id: peer_id.clone(),
                user_type: user_type.into(),
            },
        );
        // A customer arriving while a broadcast runs is introduced to the broadcaster.
        if let (false, Some(b)) = (admin, self.broadcaster.clone()) {
            self.signal_peer(
                &b,
                Signal::NewCustomer {
                    customer_id: peer_id,
                },
            );
            self.signal(conn, Signal::BroadcasterAvailable { broadcaster: b });
        }
    }

    /// Relays and broadcasts.
    fn signal_command(&mut self, conn: ConnId, cmd: SignalCmd) -> Result<(), AppError> {
        match cmd {
            // Registration waits for Redis: `register`.
            SignalCmd::Register { .. } => Err(AppError::internal()),
            SignalCmd::Relay {
                kind,
                from,
                to,
                payload,
            } => {
                self.own_peer(conn, &from)?;
                if self.find_peer(&to).is_none() {
                    return Err(AppError::not_found("Peer not found").with_detail(to));
                }
                self.metrics.signal(kind.as_str());
                self.signal_peer(
                    &to.clone(),
                    Signal::Relay {
                        kind,
                        from,
                        to,
                        payload,
                    },
                );
                Ok(())
            }
            SignalCmd::BroadcastStart { peer_id } => {
                if !self.own_peer(conn, &peer_id)?.admin {
                    return Err(AppError::insufficient_permissions());
                }
                self.commit(StreamSync::BroadcastStarted { peer_id });
                // And the broadcaster meets the customers already there, on every node.
                let here = self.peers.iter().map(|(id, p)| (id, p.admin));
                let there = self.remote.peers.iter().map(|(id, p)| (id, p.admin));
                let customers: Vec<String> = here
                    .chain(there)
                    .filter(|(_, admin)| !admin)
                    .map(|(id, _)| id.clone())
                    .collect();
                for customer_id in customers {
                    self.signal(conn, Signal::NewCustomer { customer_id });
                }
                Ok(())
            }
            SignalCmd::BroadcastStop { peer_id } => {
                self.own_peer(conn, &peer_id)?;
                if self.broadcaster.as_deref() != Some(peer_id.as_str()) {
                    return Err(AppError::new(ErrorKind::Conflict, "Not broadcasting"));
                }
                self.commit(StreamSync::BroadcastStopped { peer_id });
                Ok(())
            }
        }
    }
}
