//! Every change to the stream's state is a `StreamSync`, applied here whether it was
//! made on this node (`commit`) or on another one (cluster mode). A node that lacks
//! the state asks for a snapshot; a node whose stream was stopped while Redis was away
//! learns it from the database.

use std::time::Instant;

use actix::prelude::*;

use crate::actors::cluster::{RemoteStream, Resync, StreamSnapshot};
use crate::db::reads;

use super::*;

impl LiveStream {
    /// Apply a change and tell this node's viewers.
    pub(super) fn apply(&mut self, sync: StreamSync) {
        match sync {
            StreamSync::Started(stream) => {
                self.live = Some(Live {
                    row: stream,
                    liked_by: Vec::new(),
                    liked: HashSet::new(),
                    peak_viewers: self.viewer_count(),
                    pinned: Arc::new(Vec::new()),
                    pinned_message: None,
                });
                self.history.clear();
                self.moderation = Moderation::new(self.chat_defaults);
                self.metrics.stream_live.set(1);
                self.forget_reactions();
                self.taps.set_live(true);
                if let Some(view) = self.view() {
                    self.broadcast(Event::StreamStarted {
                        stream: Box::new(view),
                    });
                }
                self.share_local();
            }
            StreamSync::Stopped { stream_id } => {
                if self.live.as_ref().is_some_and(|l| l.row.id == stream_id) {
                    self.live = None;
                    self.metrics.stream_live.set(0);
                    self.taps.set_live(false);
                    self.forget_reactions();
                    self.broadcast(Event::StreamStopped { stream_id });
                    self.share_local();
                }
            }
            StreamSync::Pinned(products) => {
                if let Some(live) = self.live.as_mut() {
                    live.pinned = products.clone();
                    self.broadcast(Event::PinnedProducts { products });
                }
            }
            StreamSync::Chat { line, sender } => {
                if self.history.len() == HISTORY {
                    self.history.pop_front();
                }
                let m = &mut self.moderation;
                if m.authors.len() == HISTORY {
                    m.authors.pop_front();
                }
                m.authors.push_back((line.id.clone(), sender.clone()));
                if line.is_admin && m.staff_writers.len() < MAX_STAFF_WRITERS {
                    m.staff_writers.insert(sender.clone());
                }
                let now = Instant::now();
                let recent = m.recent.entry(sender).or_default();
                // The rate looks back a minute, slow mode at the last line: older ones go.
                while recent.len() > 1
                    && recent
                        .front()
                        .is_some_and(|t| now.duration_since(*t) >= RATE_WINDOW)
                {
                    recent.pop_front();
                }
                if recent.len() >= MAX_PER_MINUTE {
                    recent.pop_front();
                }
                recent.push_back(now);
                self.history.push_back(line.clone());
                self.broadcast(Event::StreamChat { line });
            }
            StreamSync::ChatDeleted { message_id } => {
                self.history.retain(|l| l.id != message_id);
                // A line taken down does not stay pinned.
                if let Some(live) = self.live.as_mut() {
                    if live
                        .pinned_message
                        .as_ref()
                        .is_some_and(|p| p.id == message_id)
                    {
                        live.pinned_message = None;
                        self.broadcast(Event::PinnedMessage { message: None });
                    }
                }
                self.broadcast(Event::StreamChatDeleted { message_id });
            }
            StreamSync::Rules(change) if change.well_formed() => self.rules_changed(change),
            StreamSync::Rules(change) => log::warn!("a malformed rule change ignored: {change:?}"),
            StreamSync::ChatSettings(settings) => {
                // Bounded as settings made here are (another node's word is checked).
                if let Ok(settings) = settings.checked() {
                    self.moderation.settings = settings;
                    self.broadcast(Event::ChatSettings(settings));
                }
            }
            StreamSync::Like { liker, liked } => {
                if let Some(live) = self.live.as_mut() {
                    if liked && live.liked.insert(liker.clone()) {
                        live.liked_by.push(liker);
                    } else if !liked && live.liked.remove(&liker) {
                        live.liked_by.retain(|l| l != &liker);
                    }
                    self.dirty = true;
                }
            }
            StreamSync::PinnedMessage(message) => {
                if let Some(live) = self.live.as_mut() {
                    live.pinned_message = message.clone();
                    self.broadcast(Event::PinnedMessage { message });
                }
            }
            // Another node's taps: held here with this node's (which never come
            // through here; they are published at the flush).
            StreamSync::Reactions { counts } => add_counts(&mut self.reactions_held, &counts),
            StreamSync::BroadcastStarted { peer_id } => {
                self.broadcaster = Some(peer_id.clone());
                self.tell_customers(Signal::BroadcasterAvailable {
                    broadcaster: peer_id,
                });
            }
            StreamSync::BroadcastStopped { peer_id } => {
                if self.broadcaster.as_deref() == Some(peer_id.as_str()) {
                    self.broadcaster = None;
                    self.tell_customers(Signal::BroadcastStopped {
                        broadcaster: peer_id,
                    });
                }
            }
            StreamSync::Signal { to, signal } => {
                if let Some(conn) = self.peers.get(&to).map(|p| p.conn) {
                    self.signal(conn, signal);
                }
            }
            StreamSync::Wanted => {
                if let (Some(cluster), Some(snapshot)) = (&self.cluster, self.snapshot()) {
                    cluster.do_send(PublishStream(StreamSync::Snapshot(Box::new(snapshot))));
                }
            }
            // Restored only once the database says it still runs (the handler).
            StreamSync::Snapshot(_) => {}
        }
    }

    fn snapshot(&self) -> Option<StreamSnapshot> {
        let live = self.live.as_ref()?;
        let m = &self.moderation;
        Some(StreamSnapshot {
            stream: crate::domain::stream::Stream {
                peak_viewers: live.peak_viewers as i64,
                ..live.row.clone()
            },
            liked_by: live.liked_by.clone(),
            pinned: live.pinned.clone(),
            history: self.history.iter().cloned().collect(),
            authors: m.authors.iter().cloned().collect(),
            slow_mode_seconds: m.settings.slow_mode_seconds,
            chat_limits: Some((m.settings.max_chars, m.settings.per_minute)),
            broadcaster: self.broadcaster.clone(),
            pinned_message: live.pinned_message.clone(),
        })
    }

    /// Take another node's state of a stream this node does not show yet, and show it
    /// to the viewers already here.
    pub(super) fn restore(&mut self, s: StreamSnapshot) {
        if self.changing {
            return;
        }
        if self.live.as_ref().is_some_and(|l| l.row.id == s.stream.id) {
            return self.catch_up(s);
        }
        self.metrics.stream_live.set(1);
        self.taps.set_live(true);
        let peak = (s.stream.peak_viewers.max(0) as usize).max(self.viewer_count());
        self.live = Some(Live {
            row: s.stream,
            liked: s.liked_by.iter().cloned().collect(),
            liked_by: s.liked_by,
            peak_viewers: peak,
            pinned: s.pinned,
            pinned_message: s.pinned_message,
        });
        self.history = s.history.into();
        self.moderation = Moderation {
            authors: s.authors.into(),
            staff_writers: HashSet::new(),
            settings: {
                let (max_chars, per_minute) = s
                    .chat_limits
                    .unwrap_or((self.chat_defaults.max_chars, self.chat_defaults.per_minute));
                ChatSettings {
                    slow_mode_seconds: s.slow_mode_seconds,
                    max_chars,
                    per_minute,
                }
                .checked()
                .unwrap_or(self.chat_defaults)
            },
            recent: HashMap::new(),
        };
        for event in self.state_events() {
            self.broadcast(event);
        }
        if let Some(broadcaster) = s.broadcaster {
            self.apply(StreamSync::BroadcastStarted {
                peer_id: broadcaster,
            });
        }
        self.share_local();
    }

    /// A peer on this node or another one, by id: whether it is an admin's.
    /// A stream resumed from the database (up to a checkpoint old) meets a node that
    /// kept it running: that node's likers and pins are the newer.
    fn catch_up(&mut self, s: StreamSnapshot) {
        if !std::mem::take(&mut self.resumed_from_db) {
            return;
        }
        let Some(live) = self.live.as_mut() else {
            return;
        };
        live.liked = s.liked_by.iter().cloned().collect();
        live.liked_by = s.liked_by;
        live.peak_viewers = live.peak_viewers.max(s.stream.peak_viewers.max(0) as usize);
        let pins = (live.pinned != s.pinned).then(|| s.pinned.clone());
        let message = (live.pinned_message != s.pinned_message).then(|| s.pinned_message.clone());
        live.pinned = s.pinned;
        live.pinned_message = s.pinned_message;
        if let Some(products) = pins {
            self.broadcast(Event::PinnedProducts { products });
        }
        if let Some(message) = message {
            self.broadcast(Event::PinnedMessage { message });
        }
        self.dirty = true;
    }

    pub(super) fn find_peer(&self, peer_id: &str) -> Option<bool> {
        match self.peers.get(peer_id) {
            Some(p) => Some(p.admin),
            None => self.remote.peers.get(peer_id).map(|p| p.admin),
        }
    }

    /// Send a signal to a peer wherever it is registered.
    pub(super) fn signal_peer(&self, peer_id: &str, signal: Signal) {
        match (self.peers.get(peer_id), &self.cluster) {
            (Some(p), _) => self.signal(p.conn, signal),
            (None, Some(cluster)) => cluster.do_send(PublishStream(StreamSync::Signal {
                to: peer_id.to_owned(),
                signal,
            })),
            (None, None) => {}
        }
    }
}

impl Handler<StreamSync> for LiveStream {
    type Result = ();

    fn handle(&mut self, sync: StreamSync, ctx: &mut Context<Self>) {
        match sync {
            // Another node's state may be older than a stop this node has seen.
            StreamSync::Snapshot(snapshot) => {
                let id = snapshot.stream.id.clone();
                self.if_running(ctx, id, move |act, _| act.restore(*snapshot));
            }
            sync => self.apply(sync),
        }
    }
}

impl Handler<RemoteStream> for LiveStream {
    type Result = ();

    fn handle(&mut self, remote: RemoteStream, _: &mut Context<Self>) {
        self.dirty |= remote.viewers != self.remote.viewers;
        let before = std::mem::replace(&mut self.remote, remote);
        // A broadcaster whose node went away stops broadcasting, here as on every node.
        if let Some(b) = self.broadcaster.clone() {
            if before.peers.contains_key(&b) && self.find_peer(&b).is_none() {
                self.apply(StreamSync::BroadcastStopped { peer_id: b });
            }
        }
    }
}

impl Handler<Resync> for LiveStream {
    type Result = ();

    /// Changes may have been missed, or the stream's key lost: a node without the
    /// stream asks for it; a node with one checks that it was not stopped meanwhile
    /// (and if not, holds its key again).
    fn handle(&mut self, _: Resync, ctx: &mut Context<Self>) {
        self.reload_rules(ctx);
        let Some(id) = self.live.as_ref().map(|l| l.row.id.clone()) else {
            if let Some(cluster) = &self.cluster {
                cluster.do_send(PublishStream(StreamSync::Wanted));
            }
            return;
        };
        let claim = self.claim(&id);
        self.if_running(ctx, id, |act, ctx| {
            ctx.spawn(claim.into_actor(act).map(|claimed, _, _| {
                if let Err(e) = claimed {
                    log::warn!("the live stream's key could not be taken again: {e}");
                }
            }));
        });
    }
}

impl LiveStream {
    /// The standing rules as stored: changes from other nodes may have been missed.
    fn reload_rules(&mut self, ctx: &mut Context<Self>) {
        let db = self.db.clone();
        let load = async move { db.query(reads::channel_rules).await };
        ctx.spawn(load.into_actor(self).map(|loaded, act, _| match loaded {
            Ok(rules) => act.rules = rules,
            Err(e) => log::warn!("the chat's rules were not reloaded: {e}"),
        }));
    }

    /// Run `then` if the database says stream `id` has not ended; if it has, this
    /// node stops showing it.
    pub(super) fn if_running(
        &mut self,
        ctx: &mut Context<Self>,
        id: String,
        then: impl FnOnce(&mut Self, &mut Context<Self>) + 'static,
    ) {
        let db = self.db.clone();
        let check = async move {
            let query = id.clone();
            (id, db.query(move |c| reads::stream_ended(c, &query)).await)
        };
        ctx.spawn(
            check
                .into_actor(self)
                .map(|(id, ended), act, ctx| match ended {
                    Ok(false) => then(act, ctx),
                    Ok(true) => act.apply(StreamSync::Stopped { stream_id: id }),
                    Err(e) => log::warn!("could not check whether stream {id} still runs: {e}"),
                }),
        );
    }
}
