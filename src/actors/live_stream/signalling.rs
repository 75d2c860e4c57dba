//! WebRTC signalling (seed 002): peers register, offers, answers and ICE candidates
//! are relayed only from one's own peer to an existing one, the broadcaster is
//! announced to customers, and a connection's peers go with it.

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

    pub(super) fn stop_broadcast(&mut self, broadcaster: String) {
        self.broadcaster = None;
        self.tell_customers(Signal::BroadcastStopped { broadcaster });
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
                if self.peers.get(&peer_id).is_some_and(|p| p.conn != msg.conn) {
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
                    if let Some(bc) = self.peers.get(&b).map(|p| p.conn) {
                        self.signal(
                            bc,
                            Signal::NewCustomer {
                                customer_id: peer_id,
                            },
                        );
                    }
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
                let target =
                    self.peers.get(&to).map(|p| p.conn).ok_or_else(|| {
                        AppError::not_found("Peer not found").with_detail(to.clone())
                    })?;
                self.signal(
                    target,
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
                self.broadcaster = Some(peer_id.clone());
                self.tell_customers(Signal::BroadcasterAvailable {
                    broadcaster: peer_id.clone(),
                });
                // And the broadcaster meets the customers already there.
                let customers: Vec<String> = self
                    .peers
                    .iter()
                    .filter(|(_, p)| !p.admin)
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
                self.stop_broadcast(peer_id);
                Ok(())
            }
        }
    }
}
