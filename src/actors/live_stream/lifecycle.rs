//! The stream's life: staff start one (one at a time) and stop it (its figures
//! stored), pin products; anyone may ask what is live.

use actix::prelude::*;

use crate::domain::stream::Stream;

use super::messages::*;
use super::*;

impl Handler<StartStream> for LiveStream {
    type Result = ResponseActFuture<Self, Result<StreamView, AppError>>;

    fn handle(&mut self, msg: StartStream, ctx: &mut Context<Self>) -> Self::Result {
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
        let started = self.request(ctx, writes::StartStream { stream }, |act, _, stream| {
            act.live = Some(Live {
                row: stream,
                liked_by: Vec::new(),
                liked: HashSet::new(),
                peak_viewers: act.viewers.len(),
                pinned: Arc::new(Vec::new()),
            });
            act.history.clear();
            act.moderation = Moderation::default();
            let view = act.view().ok_or_else(AppError::internal)?;
            act.broadcast(Event::StreamStarted {
                stream: Box::new(view.clone()),
            });
            Ok(view)
        });
        Box::pin(started.into_actor(self).map(|res, act, _| {
            act.changing = false;
            res?
        }))
    }
}

impl Handler<StopStream> for LiveStream {
    type Result = ResponseActFuture<Self, Result<Stream, AppError>>;

    fn handle(&mut self, msg: StopStream, ctx: &mut Context<Self>) -> Self::Result {
        let checked = staff_only(&msg.caller).and_then(|()| match &self.live {
            Some(l) if l.row.id == msg.stream_id && !self.changing => Ok((
                l.peak_viewers.max(self.viewers.len()) as i64,
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
            act.live = None;
            act.broadcast(Event::StreamStopped {
                stream_id: msg.stream_id,
            });
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

    fn handle(&mut self, mut msg: PinProducts, _: &mut Context<Self>) -> Self::Result {
        staff_only(&msg.caller)?;
        let live = self
            .live
            .as_mut()
            .filter(|l| l.row.id == msg.stream_id)
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
        live.pinned = Arc::new(msg.products);
        let pinned = live.pinned.clone();
        self.broadcast(Event::PinnedProducts {
            products: pinned.clone(),
        });
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
