//! WebRTC signalling (seed 002): peers register, offers, answers and ICE candidates
//! are relayed only from one's own peer to an existing one (on any node), the
//! broadcaster is announced to customers, and a connection's peers go with it.

use actix::prelude::*;

use super::messages::*;
use super::*;

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
    type Result = Result<(), AppError>;

    fn handle(&mut self, msg: SignalCommand, _: &mut Context<Self>) -> Self::Result {
        match msg.cmd {
            SignalCmd::Register { peer_id, user_type } => {
                text::session_id(&peer_id).map_err(|_| {
                    AppError::validation("peerId must be 1 to 128 printable characters")
                })?;
                let admin = match user_type.as_str() {
                    "admin" if msg.staff => true,
                    "admin" => return Err(AppError::insufficient_permissions()),
                    "customer" => false,
                    _ => return Err(AppError::validation("userType must be admin or customer")),
                };
                let elsewhere = self.remote.peers.contains_key(&peer_id);
                if elsewhere || self.peers.get(&peer_id).is_some_and(|p| p.conn != msg.conn) {
                    return Err(AppError::new(
                        ErrorKind::Conflict,
                        "peerId already registered",
                    ));
                }
                self.peers.insert(
                    peer_id.clone(),
                    Peer {
                        conn: msg.conn,
                        admin,
                    },
                );
                self.share_local();
                let user_type = if admin { "admin" } else { "customer" };
                self.signal(
                    msg.conn,
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
                    self.signal(msg.conn, Signal::BroadcasterAvailable { broadcaster: b });
                }
                Ok(())
            }
            SignalCmd::Relay {
                kind,
                from,
                to,
                payload,
            } => {
                self.own_peer(msg.conn, &from)?;
                if self.find_peer(&to).is_none() {
                    return Err(AppError::not_found("Peer not found").with_detail(to));
                }
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
                if !self.own_peer(msg.conn, &peer_id)?.admin {
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
                    self.signal(msg.conn, Signal::NewCustomer { customer_id });
                }
                Ok(())
            }
            SignalCmd::BroadcastStop { peer_id } => {
                self.own_peer(msg.conn, &peer_id)?;
                if self.broadcaster.as_deref() != Some(peer_id.as_str()) {
                    return Err(AppError::new(ErrorKind::Conflict, "Not broadcasting"));
                }
                self.commit(StreamSync::BroadcastStopped { peer_id });
                Ok(())
            }
        }
    }
}
