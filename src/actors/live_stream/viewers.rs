//! Who watches: every registered connection; each new one gets the stream's state,
//! its pins and the recent chat; viewer counts go out coalesced.

use actix::prelude::*;

use super::messages::*;
use super::*;

impl Handler<Watch> for LiveStream {
    type Result = ();
    fn handle(&mut self, msg: Watch, _: &mut Context<Self>) {
        let new = self
            .viewers
            .insert(
                msg.conn,
                Viewer {
                    recipient: msg.recipient,
                    staff: msg.staff,
                    who: msg.who.clone(),
                    lane: msg.lane,
                },
            )
            .is_none();
        self.dirty |= new;
        self.metrics.stream_viewers.set(self.viewers.len() as i64);
        if new {
            for event in self.state_events() {
                self.send_to(msg.conn, event);
            }
            // Told once, on each new connection: a moderator, or banned.
            for event in msg.who.iter().flat_map(|who| self.standing_of(who)) {
                self.send_to(msg.conn, event);
            }
        }
    }
}

impl Handler<Unwatch> for LiveStream {
    type Result = ();
    fn handle(&mut self, msg: Unwatch, _: &mut Context<Self>) {
        self.dirty |= self.viewers.remove(&msg.conn).is_some();
        self.metrics.stream_viewers.set(self.viewers.len() as i64);
        // A peer's registrations go away with its connection.
        let mine: Vec<String> = self
            .peers
            .iter()
            .filter(|(_, p)| p.conn == msg.conn)
            .map(|(id, _)| id.clone())
            .collect();
        if mine.is_empty() {
            return;
        }
        for id in mine {
            self.peers.remove(&id);
            if self.broadcaster.as_deref() == Some(id.as_str()) {
                self.commit(StreamSync::BroadcastStopped { peer_id: id });
            }
        }
        self.share_local();
    }
}
