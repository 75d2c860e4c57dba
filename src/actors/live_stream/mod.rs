//! The LiveStream actor (seed 002): the one live stream, its viewers, likes, pinned
//! products and chat. Viewer counts and likes go out coalesced, a few times a second,
//! not once per join. It owns in-memory state; storage goes through DbWriter. In
//! cluster mode its state is a replica of the one stream every node shows (`replica`).

mod chat;
mod lifecycle;
pub mod messages;
mod moderation;
mod replica;
mod signalling;
mod taps;
mod viewers;

pub use messages::*;
pub use taps::Taps;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use crate::actors::chat_server::{ConnId, Deliver};
use crate::actors::cluster::{
    Cluster, LocalStream, PublishStream, RemoteStream, StreamPeer, StreamSync,
};
use crate::actors::db_sync::{Db, Requests, WriteDone, Writes};
use crate::actors::delivery::{deliver, ChatLane, Delivered, Evictions};
use crate::domain::message::{iso_timestamp, now_millis};
use crate::domain::moderation::ChannelRules;
use crate::domain::stream::Stream;
use crate::domain::stream::{
    ChatLine, ChatSettings, PinnedMessage, PinnedProduct, ReactionCounts, StreamView,
};
use crate::domain::writes;
use crate::domain::{text, Audience, Caller, Event, Outbound, Signal};
use crate::error::{AppError, ErrorKind};

/// Recent chat sent to each new viewer.
pub const HISTORY: usize = 50;
/// How often viewer counts and likes are broadcast, at most.
const UPDATE_EVERY: Duration = Duration::from_millis(250);
/// A running stream's figures, likers and pins are stored this often (when they
/// changed), and at once when pins change or the server stops: a restart resumes it.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);
/// Cluster mode: how long a starting node waits for another node's state of the
/// stream before it resumes the one stored.
const RESUME_GRACE: Duration = Duration::from_secs(3);
const MAX_CHAT_CHARS: usize = 500;
const MAX_USERNAME_CHARS: usize = 40;
const MAX_PINNED: usize = 20;
/// The longest timeout (a mute is one): a week.
const MAX_TIMEOUT_SECS: u64 = 7 * 86_400;
/// How far back the per-viewer rate looks, and the most lines it can count.
const RATE_WINDOW: Duration = Duration::from_secs(60);
const MAX_PER_MINUTE: usize = 600;
/// Staff seen writing, remembered per stream (a bound against a flood of staff ids).
const MAX_STAFF_WRITERS: usize = 10_000;

struct Viewer {
    recipient: Recipient<Deliver>,
    staff: bool,
    who: Option<String>,
    lane: Arc<ChatLane>,
}

impl Viewer {
    /// How the viewer stands to an event: in the stream's room, the sender or not.
    fn audience(&self, sender: bool) -> Audience {
        Audience {
            sender,
            in_room: true,
            staff: self.staff,
        }
    }
}

struct Live {
    row: Stream,
    /// Likers in the order they liked (user ids, else session ids), once each.
    liked_by: Vec<String>,
    liked: HashSet<String>,
    peak_viewers: usize,
    pinned: Arc<Vec<PinnedProduct>>,
    pinned_message: Option<PinnedMessage>,
}

pub struct LiveStream {
    db: Db,
    /// Cluster mode: where changes for the other nodes go.
    cluster: Option<Addr<Cluster>>,
    /// Cluster mode: the viewers and peers on the other nodes.
    remote: RemoteStream,
    viewers: HashMap<ConnId, Viewer>,
    live: Option<Live>,
    /// A start or stop is being committed.
    changing: bool,
    history: VecDeque<ChatLine>,
    /// Viewer count or likes changed since the last `stream_update`.
    dirty: bool,
    requests: Requests<LiveStream>,
    /// WebRTC peers by id, and the broadcasting (admin) peer if any.
    peers: HashMap<String, Peer>,
    broadcaster: Option<String>,
    moderation: Moderation,
    /// Moderators, bans and blocked terms: the channel's, kept across streams.
    rules: ChannelRules,
    /// What each stream's chat rules start as (`STREAM_CHAT_*`).
    chat_defaults: ChatSettings,
    /// Reactions tapped here since the last flush (counted by the connections), and
    /// those held to show (this node's and, in cluster mode, those the other nodes
    /// sent): they ride with the next chat line, in its write, and go alone only when
    /// a whole interval passed without one (`reactions_waited`).
    taps: Arc<Taps>,
    reactions_held: ReactionCounts,
    reactions_waited: bool,
    evictions: Arc<Evictions>,
    metrics: Arc<crate::metrics::Metrics>,
    /// What the last checkpoint stored: (stream, likes, peak, pins).
    saved: Option<(String, usize, usize, Arc<Vec<PinnedProduct>>)>,
    /// The stream that was live when the server last stopped, to go on with.
    resumed: Option<crate::domain::stream::StoredStream>,
    /// The stream shown was resumed from the database and no node has told us of it
    /// since (a running node's state is newer: `catch_up`).
    resumed_from_db: bool,
}

/// Chat moderation state, reset with each stream.
struct Moderation {
    /// Who wrote each recent message (kept with the history), for timeouts by message.
    authors: VecDeque<(String, String)>,
    settings: ChatSettings,
    /// Writers whose lines were staff's (they are never moderated).
    staff_writers: HashSet<String>,
    /// Each writer's lines of the last minute (on any node), oldest first: slow mode
    /// looks at the last, the rate counts them.
    recent: HashMap<String, VecDeque<std::time::Instant>>,
}

impl Moderation {
    fn new(settings: ChatSettings) -> Self {
        Moderation {
            authors: VecDeque::new(),
            staff_writers: HashSet::new(),
            settings,
            recent: HashMap::new(),
        }
    }
}

struct Peer {
    conn: ConnId,
    admin: bool,
}

impl LiveStream {
    /// The live stream, if it is the one asked for (`None`: whichever is live).
    fn live_as(&self, stream_id: Option<&str>) -> Result<&Live, AppError> {
        let live = self.live.as_ref().ok_or_else(no_stream)?;
        match stream_id {
            Some(id) if id != live.row.id => {
                Err(AppError::not_found("Stream not found or not live"))
            }
            _ => Ok(live),
        }
    }
}

fn add_counts(to: &mut ReactionCounts, from: &ReactionCounts) {
    for (t, f) in to.iter_mut().zip(from) {
        *t = t.saturating_add(*f);
    }
}

fn no_stream() -> AppError {
    AppError::new(ErrorKind::Conflict, "No active stream")
}

fn staff_only(caller: &Caller) -> Result<(), AppError> {
    match caller {
        Caller::Staff(_) => Ok(()),
        Caller::Anonymous(_) => Err(AppError::new(
            ErrorKind::TokenRequired,
            "No token, authorization denied",
        )),
        _ => Err(AppError::insufficient_permissions()),
    }
}

impl LiveStream {
    pub fn new(
        db: Db,
        evictions: Arc<Evictions>,
        cluster: Option<Addr<Cluster>>,
        metrics: Arc<crate::metrics::Metrics>,
        resumed: Option<crate::domain::stream::StoredStream>,
        chat_defaults: ChatSettings,
        rules: ChannelRules,
    ) -> Self {
        LiveStream {
            rules,
            chat_defaults,
            metrics,
            saved: None,
            resumed,
            resumed_from_db: false,
            db,
            cluster,
            remote: RemoteStream::default(),
            viewers: HashMap::new(),
            live: None,
            changing: false,
            history: VecDeque::new(),
            dirty: false,
            requests: Requests::default(),
            peers: HashMap::new(),
            broadcaster: None,
            moderation: Moderation::new(chat_defaults),
            taps: Default::default(),
            reactions_held: ReactionCounts::default(),
            reactions_waited: false,
            evictions,
        }
    }

    /// Where the connections count their viewers' taps.
    pub fn taps(&self) -> Arc<Taps> {
        self.taps.clone()
    }

    /// Viewers here and, in cluster mode, on every other node.
    fn viewer_count(&self) -> usize {
        self.viewers.len().saturating_add(self.remote.viewers)
    }

    /// Make a change to the stream: here, and in cluster mode on every other node.
    fn commit(&mut self, sync: StreamSync) {
        if let Some(cluster) = &self.cluster {
            cluster.do_send(PublishStream(sync.clone()));
        }
        self.apply(sync);
    }

    /// Cluster mode: the other nodes learn this node's viewers and peers.
    fn share_local(&self) {
        if let Some(cluster) = &self.cluster {
            let mut peers: Vec<StreamPeer> = self
                .peers
                .iter()
                .map(|(id, p)| StreamPeer {
                    id: id.clone(),
                    admin: p.admin,
                })
                .collect();
            peers.sort_by(|a, b| a.id.cmp(&b.id));
            cluster.do_send(LocalStream {
                viewers: self.viewers.len(),
                peers,
                live: self.live.as_ref().map(|l| l.row.id.clone()),
            });
        }
    }

    /// What a viewer arriving now is sent: the stream, its pins and the recent chat.
    fn state_events(&self) -> Vec<Event> {
        let Some((view, live)) = self.view().zip(self.live.as_ref()) else {
            return Vec::new();
        };
        let mut events = vec![
            Event::StreamStarted {
                stream: Box::new(view),
            },
            Event::PinnedProducts {
                products: live.pinned.clone(),
            },
            Event::ChatHistory {
                lines: self.history.iter().cloned().collect(),
            },
        ];
        // Rules other than the defaults, so that a late viewer knows them.
        if self.moderation.settings != self.chat_defaults {
            events.push(Event::ChatSettings(self.moderation.settings));
        }
        if let Some(message) = &live.pinned_message {
            events.push(Event::PinnedMessage {
                message: Some(message.clone()),
            });
        }
        events
    }

    fn view(&self) -> Option<StreamView> {
        let live = self.live.as_ref()?;
        Some(StreamView {
            stream_id: live.row.id.clone(),
            title: live.row.title.clone(),
            description: live.row.description.clone(),
            start_time: iso_timestamp(live.row.started_at),
            viewer_count: self.viewer_count(),
            likes: live.liked_by.len(),
            liked_by: live.liked_by.clone(),
            stream_url: live.row.stream_url.clone(),
            quality: live.row.quality.clone(),
        })
    }

    /// One shared event for every viewer. A viewer whose bounded queue is full is a slow
    /// consumer: it is told to go (it can reconnect and get the state again) and dropped,
    /// so it never holds up the others. Chat lines and reactions go to each viewer's
    /// lane instead, which its writer empties straight to the socket and which skips
    /// the oldest for a viewer who reads slowly.
    fn broadcast(&mut self, event: Event) {
        match event {
            Event::StreamChat { .. } => {
                // Reactions held ride with the line: one write a viewer for both.
                let mut outs = Vec::with_capacity(2);
                if let Some(counts) = self.take_held_reactions() {
                    outs.push(Arc::new(Outbound::new(Event::StreamReactions { counts })));
                }
                outs.push(Arc::new(Outbound::new(event)));
                self.to_lanes(&outs);
            }
            Event::StreamReactions { .. } => self.to_lanes(&[Arc::new(Outbound::new(event))]),
            _ => self.deliver_to_all(event),
        }
    }

    fn to_lanes(&self, outs: &[Arc<Outbound>]) {
        for v in self.viewers.values() {
            let audience = v.audience(false);
            let skipped = v.lane.push(outs.iter().map(|out| (out.clone(), audience)));
            self.metrics.stream_chat_skipped.inc_by(skipped);
        }
    }

    fn deliver_to_all(&mut self, event: Event) {
        let out = Arc::new(Outbound::new(event));
        let mut gone = Vec::new();
        for (&id, v) in &self.viewers {
            let msg = Deliver {
                to: id,
                out: out.clone(),
                audience: v.audience(false),
            };
            match deliver(&v.recipient, msg, &self.evictions, "the live stream") {
                Delivered::Sent => {}
                Delivered::Evicted | Delivered::Gone => gone.push(id),
            }
        }
        for id in gone {
            self.viewers.remove(&id);
            self.dirty = true;
        }
    }

    /// One event for the connections here that `to` picks, encoded once for all.
    fn send_where(&self, to: impl Fn(&Viewer) -> bool, event: Event) {
        let out = Arc::new(Outbound::new(event));
        for (&conn, v) in &self.viewers {
            if to(v) {
                self.send_shared(conn, &out);
            }
        }
    }

    /// Every viewer's connection here that writes as `who` (staff are not moderated).
    fn send_to_writer(&self, who: &str, event: Event) {
        self.send_where(|v| !v.staff && v.who.as_deref() == Some(who), event);
    }

    fn send_to(&self, conn: ConnId, event: Event) {
        self.send_shared(conn, &Arc::new(Outbound::new(event)));
    }

    /// One event for some viewers: encoded once for all of them.
    fn send_shared(&self, conn: ConnId, out: &Arc<Outbound>) {
        if let Some(v) = self.viewers.get(&conn) {
            let audience = v.audience(true);
            let _ = v.recipient.try_send(Deliver {
                to: conn,
                out: out.clone(),
                audience,
            });
        }
    }

    /// Writers who have been quiet longer than the rate and slow mode look back, and
    /// timeouts that are over, are forgotten: a long stream's crowd does not pile up.
    fn forget_quiet_writers(&mut self) {
        let now = std::time::Instant::now();
        let m = &mut self.moderation;
        let keep = RATE_WINDOW.max(Duration::from_secs(m.settings.slow_mode_seconds));
        m.recent
            .retain(|_, r| r.back().is_some_and(|t| now.duration_since(*t) < keep));
        self.rules.forget_ended(&iso_timestamp(now_millis()));
    }

    /// A pinned message whose time has passed goes: every node sees the same clock, so
    /// each unpins it for its own viewers (the database forgets it at the next pin or
    /// unpin, and a resumed stream drops it here).
    fn expire_pinned_message(&mut self) {
        let now = now_millis();
        let Some(live) = self.live.as_mut() else {
            return;
        };
        if live.pinned_message.as_ref().is_some_and(|m| m.expired(now)) {
            live.pinned_message = None;
            self.broadcast(Event::PinnedMessage { message: None });
        }
    }

    /// Taps of a stream that ended are not shown in the next.
    fn forget_reactions(&mut self) {
        self.taps.take();
        self.take_held_reactions();
    }

    /// The counts held to show, if any reaction was tapped; none are held after.
    fn take_held_reactions(&mut self) -> Option<ReactionCounts> {
        self.reactions_waited = false;
        let counts = std::mem::take(&mut self.reactions_held);
        counts.iter().any(|n| *n > 0).then_some(counts)
    }

    /// At most one `reactions` frame per interval for everyone, however many taps: this
    /// node's go to the other nodes (which show them with their own) and into the
    /// counts held here with theirs. Held counts ride with the next chat line; when a
    /// whole interval passes without one, they go alone (so a tap shows within two
    /// intervals, and while chat flows it costs no write of its own).
    fn flush_reactions(&mut self) {
        let local = self.taps.take();
        let tapped: u64 = local.iter().sum();
        if tapped > 0 {
            self.metrics.stream_reactions.inc_by(tapped);
            if let Some(cluster) = &self.cluster {
                cluster.do_send(PublishStream(StreamSync::Reactions { counts: local }));
            }
            add_counts(&mut self.reactions_held, &local);
        }
        let held = self.reactions_held.iter().any(|n| *n > 0);
        if self.live.is_none() || !held {
            // Nothing to show, or no stream to show it in.
            self.take_held_reactions();
        } else if std::mem::replace(&mut self.reactions_waited, true) {
            if let Some(counts) = self.take_held_reactions() {
                self.broadcast(Event::StreamReactions { counts });
            }
        }
    }

    fn flush_update(&mut self) {
        if !std::mem::take(&mut self.dirty) {
            return;
        }
        self.share_local();
        let viewer_count = self.viewer_count();
        let Some(live) = self.live.as_mut() else {
            return;
        };
        live.peak_viewers = live.peak_viewers.max(viewer_count);
        let event = Event::StreamUpdate {
            viewer_count,
            likes: live.liked_by.len(),
            liked_by: Arc::new(live.liked_by.clone()),
        };
        self.broadcast(event);
    }
}

impl Writes for LiveStream {
    fn requests(&mut self) -> &mut Requests<Self> {
        &mut self.requests
    }

    fn writer(&self) -> Addr<crate::actors::db_sync::DbWriter> {
        self.db.writer.clone()
    }
}

impl Actor for LiveStream {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
        ctx.run_interval(UPDATE_EVERY, |act, _| {
            act.flush_update();
            act.flush_reactions();
            act.expire_pinned_message();
        });
        ctx.run_interval(CHECKPOINT_EVERY, |act, ctx| {
            act.checkpoint(ctx);
            act.forget_quiet_writers();
        });
        // In cluster mode a running node's state is newer than the database's: it is
        // asked for first, and the stored one is taken only if none answers.
        match self.cluster {
            None => self.resume(),
            Some(_) => {
                ctx.run_later(RESUME_GRACE, |act, ctx| {
                    // Another node may have stopped it meanwhile.
                    if let Some(id) = act.resumed.as_ref().map(|s| s.stream.id.clone()) {
                        act.if_running(ctx, id, |act, _| act.resume());
                    }
                });
            }
        }
    }
}

impl Handler<WriteDone> for LiveStream {
    type Result = ();
    fn handle(&mut self, msg: WriteDone, ctx: &mut Context<Self>) {
        self.written(msg, ctx);
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl LiveStream {
    /// Store the running stream's state if it changed since the last checkpoint.
    fn checkpoint(&mut self, ctx: &mut Context<Self>) {
        let Some(live) = &self.live else {
            self.saved = None;
            return;
        };
        let now = (
            live.row.id.clone(),
            live.liked_by.len(),
            live.peak_viewers.max(self.viewer_count()),
            live.pinned.clone(),
        );
        let same = self.saved.as_ref().is_some_and(|s| {
            (&s.0, s.1, s.2) == (&now.0, now.1, now.2) && Arc::ptr_eq(&s.3, &now.3)
        });
        if same {
            return;
        }
        let write = writes::CheckpointStream {
            id: now.0.clone(),
            peak_viewers: now.2 as i64,
            liked_by: live.liked_by.clone(),
            pinned: live.pinned.as_ref().clone(),
        };
        self.saved = Some(now);
        self.write(ctx, write, |act, _, stored| {
            if let Err(e) = stored {
                log::warn!("the live stream's state was not stored: {e}");
                act.saved = None;
            }
        });
    }

    /// At start: a stream that was live when the server stopped goes on, with its
    /// figures, likers, pins and recent chat (unless another node has told us of it).
    fn resume(&mut self) {
        let Some(s) = self.resumed.take() else {
            return;
        };
        if self.live.is_some() || self.changing {
            return;
        }
        log::info!("live stream {} resumed", s.stream.id);
        self.resumed_from_db = true;
        let (history, authors) = s
            .chat
            .into_iter()
            .map(|(line, author)| {
                let id = line.id.clone();
                (line, (id, author))
            })
            .unzip();
        self.restore(crate::actors::cluster::StreamSnapshot {
            stream: s.stream,
            liked_by: s.liked_by,
            pinned: Arc::new(s.pinned),
            pinned_message: s.pinned_message,
            history,
            authors,
            slow_mode_seconds: 0,
            chat_limits: None,
            broadcaster: None,
        });
    }
}

/// Store the running stream's state now (the server is stopping).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Checkpoint;

impl Handler<Checkpoint> for LiveStream {
    type Result = ();
    fn handle(&mut self, _: Checkpoint, ctx: &mut Context<Self>) {
        self.checkpoint(ctx);
    }
}
