//! Delivers the webhook outbox (`db::writes::outbox`): at least once, in order per
//! conversation, signed (Standard Webhooks), retried on the schedule
//! (`WEBHOOK_RETRY_SCHEDULE`) with a receiver's `Retry-After` honoured; `410 Gone`
//! disables the endpoint, and what fails after the last retry is kept as failed. Every
//! node runs one: a delivery is leased to the node that claimed it.

use std::time::Duration;

use actix::prelude::*;

use crate::actors::db_sync::Db;
use crate::db::models::{DeliveryRow, WebhookEndpointRow};
use crate::domain::webhook;
use crate::domain::writes::{ClaimDeliveries, FinishDelivery};
use crate::webhook_target::Sender;

/// How often the outbox is looked at (and at once again after a full batch).
const POLL_EVERY: Duration = Duration::from_millis(500);
/// Deliveries claimed at once.
const BATCH: i64 = 32;
/// A claim lasts this long: longer than one attempt may take.
const LEASE: Duration = Duration::from_secs(60);

pub struct WebhookSender {
    db: Db,
    schedule: Vec<Duration>,
    allow_private: bool,
    /// Made when the actor starts, on its own thread (a client stays on one).
    sender: Option<Sender>,
    busy: bool,
}

impl WebhookSender {
    pub fn new(db: Db, schedule: Vec<Duration>, allow_private: bool) -> Self {
        WebhookSender {
            db,
            schedule,
            allow_private,
            sender: None,
            busy: false,
        }
    }

    fn poll(&mut self, ctx: &mut Context<Self>) {
        let Some(sender) = self.sender.clone().filter(|_| !self.busy) else {
            return;
        };
        self.busy = true;
        let (db, schedule) = (self.db.clone(), self.schedule.clone());
        let work = async move {
            // A read first: an idle outbox costs no write transaction.
            match db.query(crate::db::reads::webhooks_due).await {
                Ok(true) => {}
                Ok(false) => return false,
                Err(e) => {
                    log::debug!("webhook outbox not read: {e}");
                    return false;
                }
            }
            let claim = ClaimDeliveries {
                limit: BATCH,
                lease: LEASE,
            };
            let due = match db.write(claim).await {
                Ok(due) => due,
                Err(e) => {
                    log::debug!("webhook outbox not read: {e}");
                    return false;
                }
            };
            let full = due.len() as i64 == BATCH;
            // Each is the oldest of its key: they may all go at once.
            let attempts = due.into_iter().map(|(delivery, endpoint)| {
                attempt(db.clone(), &schedule, &sender, delivery, endpoint)
            });
            futures_util::future::join_all(attempts).await;
            full
        };
        ctx.spawn(work.into_actor(self).map(|full, act, ctx| {
            act.busy = false;
            if full {
                act.poll(ctx);
            }
        }));
    }
}

/// One attempt at one delivery, and its outcome stored.
async fn attempt(
    db: Db,
    schedule: &[Duration],
    sender: &Sender,
    d: DeliveryRow,
    endpoint: Option<WebhookEndpointRow>,
) {
    let attempts = d.attempts + 1;
    let mut finish = FinishDelivery {
        pos: d.pos,
        endpoint_id: d.endpoint_id.clone(),
        attempts,
        status: None,
        error: None,
        retry_in: None,
        give_up: false,
        gone: false,
    };
    let endpoint = endpoint
        .map(crate::domain::webhook::Endpoint::from)
        .filter(|e| e.enabled);
    match endpoint {
        None => {
            finish.error = Some("the endpoint was deleted or disabled".into());
            finish.give_up = true;
        }
        Some(e) => {
            // The sender's resolver checks where each new connection goes.
            let ts = chrono::Utc::now().timestamp();
            let secrets: Vec<&str> = e.secrets.iter().map(String::as_str).collect();
            let body = d.payload.as_bytes();
            let sent = match webhook::signature_header(&secrets, &d.event_id, ts, body) {
                Ok(signature) => {
                    let a = sender.send(&e.url, &d.event_id, ts, &signature, body).await;
                    finish.status = a.outcome.as_ref().ok().copied();
                    a.outcome.map(|_| a.retry_after)
                }
                Err(e) => Err(e.to_string()),
            };
            match sent {
                Ok(retry_after) => match finish.status {
                    Some(s) if (200..300).contains(&s) => {}
                    Some(410) => finish.gone = true,
                    _ => {
                        finish.retry_in =
                            webhook::next_attempt(schedule, attempts as usize, retry_after)
                    }
                },
                Err(why) => {
                    finish.error = Some(why);
                    finish.retry_in = webhook::next_attempt(schedule, attempts as usize, None);
                }
            }
            finish.give_up = finish.retry_in.is_none();
            if finish.give_up
                && !finish.gone
                && finish.status.is_none_or(|s| !(200..300).contains(&s))
            {
                log::warn!(
                    "webhook {} to {} failed for good after {attempts} attempts",
                    d.event_id,
                    e.url
                );
            }
        }
    }
    if let Err(e) = db.write(finish).await {
        // The lease runs out and the delivery is tried again: at least once.
        log::warn!("webhook {}: its outcome was not stored: {e}", d.event_id);
    }
}

impl Actor for WebhookSender {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.sender = Some(Sender::new(self.allow_private));
        ctx.run_interval(POLL_EVERY, |act, ctx| act.poll(ctx));
    }
}
