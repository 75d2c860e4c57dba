//! Graceful restarts: every open connection is known here, so that on SIGTERM each can
//! be told to reconnect (a WebSocket closes with 1012 "service restart"; a Socket.IO
//! session closes its transport, after which socket.io-client reconnects by itself).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use actix::{Message, Recipient};

/// The server restarts: end the connection so that its client reconnects.
#[derive(Message, Clone, Copy)]
#[rtype(result = "()")]
pub struct Restart;

#[derive(Default)]
pub struct Drain {
    conns: Mutex<HashMap<u64, Recipient<Restart>>>,
    draining: AtomicBool,
}

impl Drain {
    /// A connection opened; `false` when the server is restarting already (the
    /// connection is to be ended at once).
    pub fn join(&self, id: u64, to: Recipient<Restart>) -> bool {
        if self.draining() {
            return false;
        }
        if let Ok(mut conns) = self.conns.lock() {
            conns.insert(id, to);
        }
        true
    }

    pub fn leave(&self, id: u64) {
        if let Ok(mut conns) = self.conns.lock() {
            conns.remove(&id);
        }
    }

    /// Tell every connection to go; how many were told.
    pub fn begin(&self) -> usize {
        self.draining.store(true, Ordering::SeqCst);
        let conns: Vec<Recipient<Restart>> = match self.conns.lock() {
            Ok(conns) => conns.values().cloned().collect(),
            Err(_) => Vec::new(),
        };
        for conn in &conns {
            // Past the mailbox bound: a stuck connection is told too.
            conn.do_send(Restart);
        }
        conns.len()
    }

    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Connections still open.
    pub fn open(&self) -> usize {
        self.conns.lock().map_or(0, |c| c.len())
    }
}
