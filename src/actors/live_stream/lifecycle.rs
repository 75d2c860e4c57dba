//! The stream's life: staff start one (one at a time) and stop it (its figures
//! stored), pin products; anyone may ask what is live.

use actix::prelude::*;

use crate::actors::cluster::{ClaimStream, ReleaseStream};
use crate::domain::stream::Stream;

use super::messages::*;
use super::*;

impl Handler<StartStream> for LiveStream {
    type Result = ResponseActFuture<Self, Result<StreamView, AppError>>;

    fn handle(&mut self, msg: StartStream, _: &mut Context<Self>) -> Self::Result {
        let checked = (|| {
            staff_only(&msg.caller)?;
            if self.live.is_some() || self.changing {
                return Err(AppError::new(
                    ErrorKind::Conflict,
                    "A stream is already live",
                ));
            }
            let field = |name, v: &str, max| text::optional_field(name, Some(v), max);
            let title = field("title", &msg.title, 200)?
                .ok_or_else(|| AppError::validation("title is required"))?;
            Ok(Stream {
                id: uuid::Uuid::new_v4().to_string(),
                title,
                description: field("description", &msg.description, 2000)?.unwrap_or_default(),
                stream_url: field("streamUrl", &msg.stream_url, 2000)?.unwrap_or_default(),
                quality: field("quality", &msg.quality, 20)?.unwrap_or_else(|| "720p".to_owned()),
                started_by: msg.caller.user_id().unwrap_or_default().to_owned(),
                started_at: now_millis(),
                ended_at: None,
                peak_viewers: 0,
                likes: 0,
            })
        })();
        let stream = match checked {
            Ok(stream) => stream,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        self.changing = true;
        let claim = self.claim(&stream.id);
        let stream_id = stream.id.clone();
        let started = claim.into_actor(self).then(|claimed, act, ctx| {
            let store = match claimed {
                Ok(()) => act.request(ctx, writes::StartStream { stream }, |act, _, stream| {
                    act.commit(StreamSync::Started(stream));
                    act.view().ok_or_else(AppError::internal)
                }),
                Err(e) => Box::pin(fut::ready(Err(e))),
            };
            store.into_actor(act)
        });
        Box::pin(started.map(move |res, act, _| {
            act.changing = false;
            let res = res.and_then(|view| view);
            if res.is_err() {
                act.release(stream_id);
            }
            res
        }))
    }
}

impl LiveStream {
    /// Cluster mode: take the cluster's one live stream for `id` (a stream started on
    /// another node is a conflict, as one started here is).
    pub(super) fn claim(&self, id: &str) -> ResponseFuture<Result<(), AppError>> {
        let Some(cluster) = self.cluster.clone() else {
            return Box::pin(fut::ready(Ok(())));
        };
        let claim = cluster.send(ClaimStream {
            stream_id: id.to_owned(),
        });
        Box::pin(async move {
            match claim.await {
                Ok(Ok(true)) => Ok(()),
                Ok(Ok(false)) => Err(AppError::new(
                    ErrorKind::Conflict,
                    "A stream is already live",
                )),
                Ok(Err(e)) => Err(AppError::new(
                    ErrorKind::Unavailable,
                    "Streams cannot start while the cluster's Redis is unavailable",
                )
                .with_detail(e)),
                Err(_) => Err(AppError::internal()),
            }
        })
    }

    /// Cluster mode: the next stream may start.
    fn release(&self, stream_id: String) {
        if let Some(cluster) = &self.cluster {
            cluster.do_send(ReleaseStream { stream_id });
        }
    }
}

impl Handler<StopStream> for LiveStream {
    type Result = ResponseActFuture<Self, Result<Stream, AppError>>;

    fn handle(&mut self, msg: StopStream, ctx: &mut Context<Self>) -> Self::Result {
        let checked = staff_only(&msg.caller).and_then(|()| match &self.live {
            Some(l) if l.row.id == msg.stream_id && !self.changing => Ok((
                l.peak_viewers.max(self.viewer_count()) as i64,
                l.liked_by.len() as i64,
            )),
            _ => Err(no_stream()),
        });
        let (peak_viewers, likes) = match checked {
            Ok(f) => f,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        self.changing = true;
        let stop = writes::StopStream {
            id: msg.stream_id.clone(),
            peak_viewers,
            likes,
        };
        let stopped = self.request(ctx, stop, move |act, _, stream| {
            act.commit(StreamSync::Stopped {
                stream_id: msg.stream_id.clone(),
            });
            act.release(msg.stream_id);
            stream
        });
        Box::pin(stopped.into_actor(self).map(|res, act, _| {
            act.changing = false;
            res
        }))
    }
}

impl Handler<PinProducts> for LiveStream {
    type Result = Result<Arc<Vec<PinnedProduct>>, AppError>;

    fn handle(&mut self, mut msg: PinProducts, ctx: &mut Context<Self>) -> Self::Result {
        staff_only(&msg.caller)?;
        self.live
            .as_ref()
            .filter(|l| msg.stream_id.as_ref().is_none_or(|id| *id == l.row.id))
            .ok_or_else(no_stream)?;
        if msg.products.len() > MAX_PINNED {
            return Err(AppError::validation(format!(
                "At most {MAX_PINNED} pinned products"
            )));
        }
        for p in &msg.products {
            if p.product_id.is_empty()
                || p.name.trim().is_empty()
                || p.name.len() > 200
                || p.image.len() > 2000
            {
                return Err(AppError::validation(
                    "Each product needs a productId and a name (max 200 characters)",
                ));
            }
            if !p.price.is_finite() || p.price < 0.0 {
                return Err(AppError::validation("price must be a non-negative number"));
            }
        }
        msg.products.sort_by_key(|p| p.display_order);
        let pinned = Arc::new(msg.products);
        self.commit(StreamSync::Pinned(pinned.clone()));
        self.checkpoint(ctx);
        Ok(pinned)
    }
}

impl Handler<GetCurrent> for LiveStream {
    type Result = MessageResult<GetCurrent>;
    fn handle(&mut self, _: GetCurrent, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.view().map(|v| {
            (
                v,
                self.live
                    .as_ref()
                    .map(|l| l.pinned.clone())
                    .unwrap_or_default(),
            )
        }))
    }
}
