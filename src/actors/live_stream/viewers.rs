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
                },
            )
            .is_none();
        self.dirty |= new;
        if let (true, Some(view)) = (new, self.view()) {
            let pinned = self
                .live
                .as_ref()
                .map(|l| l.pinned.clone())
                .unwrap_or_default();
            self.send_to(
                msg.conn,
                Event::StreamStarted {
                    stream: Box::new(view),
                },
            );
            self.send_to(msg.conn, Event::PinnedProducts { products: pinned });
            self.send_to(
                msg.conn,
                Event::ChatHistory {
                    lines: self.history.iter().cloned().collect(),
                },
            );
        }
    }
}

impl Handler<Unwatch> for LiveStream {
    type Result = ();
    fn handle(&mut self, msg: Unwatch, _: &mut Context<Self>) {
        self.dirty |= self.viewers.remove(&msg.conn).is_some();
        // A peer's registrations go away with its connection.
        let mine: Vec<String> = self
            .peers
            .iter()
            .filter(|(_, p)| p.conn == msg.conn)
            .map(|(id, _)| id.clone())
            .collect();
        for id in mine {
            self.peers.remove(&id);
            if self.broadcaster.as_deref() == Some(id.as_str()) {
                self.stop_broadcast(id);
            }
        }
    }
}
