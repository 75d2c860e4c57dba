//! The webhook outbox: an event is recorded in the transaction of the change it
//! describes, one row per endpoint that asked for it, so a crash can neither lose one
//! nor invent one. The webhook sender delivers them.

use diesel::prelude::*;

use super::WriteError;
use crate::db::models::{DeliveryRow, NewDeliveryRow, WebhookEndpointRow};
use crate::db::schema::{webhook_deliveries, webhook_endpoints};
use crate::db::DbConnection;
use crate::domain::conversation::{Conversation, Status};
use crate::domain::message::now_millis;
use crate::domain::webhook;
use crate::domain::Message;

/// Record event `kind` about `key` (a conversation's id: events of one key are
/// delivered in order) for every enabled endpoint that wants it.
pub(super) fn record(
    conn: &mut DbConnection,
    kind: &str,
    key: &str,
    data: serde_json::Value,
) -> Result<(), WriteError> {
    let endpoints: Vec<WebhookEndpointRow> = webhook_endpoints::table
        .filter(webhook_endpoints::enabled.eq(true))
        .select(WebhookEndpointRow::as_select())
        .load(conn)?;
    let wanting: Vec<&WebhookEndpointRow> = endpoints
        .iter()
        .filter(|e| {
            serde_json::from_str::<Vec<String>>(&e.events)
                .is_ok_and(|ev| ev.iter().any(|k| k == kind))
        })
        .collect();
    if wanting.is_empty() {
        return Ok(());
    }
    let now = now_millis();
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let payload = webhook::event_body(&id, kind, now, data);
    let rows: Vec<NewDeliveryRow> = wanting
        .iter()
        .map(|e| NewDeliveryRow {
            event_id: id.clone(),
            endpoint_id: e.id.clone(),
            event_type: kind.to_owned(),
            ordering_key: key.to_owned(),
            payload: payload.clone(),
            status: "pending".to_owned(),
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
        })
        .collect();
    // One at a time: the multi-backend connection has no batch insert.
    for row in &rows {
        diesel::insert_into(webhook_deliveries::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub(super) fn conversation_created(
    conn: &mut DbConnection,
    c: &Conversation,
) -> Result<(), WriteError> {
    let data = serde_json::json!({"conversation": webhook::conversation_data(c)});
    record(conn, "conversation.created", &c.id, data)
}

pub(super) fn status_changed(
    conn: &mut DbConnection,
    c: &Conversation,
    from: Status,
) -> Result<(), WriteError> {
    if from == c.status {
        return Ok(());
    }
    let data = serde_json::json!({
        "conversation": webhook::conversation_data(c),
        "previousStatus": from.as_str(),
    });
    record(conn, "conversation.status_changed", &c.id, data)
}

pub(super) fn rated(conn: &mut DbConnection, c: &Conversation) -> Result<(), WriteError> {
    let Some(r) = &c.rating else { return Ok(()) };
    let data = serde_json::json!({
        "conversation": webhook::conversation_data(c),
        "rating": r.score,
        "comment": r.comment,
    });
    record(conn, "conversation.rated", &c.id, data)
}

pub(super) fn assigned(
    conn: &mut DbConnection,
    c: &Conversation,
    previous: Option<&str>,
) -> Result<(), WriteError> {
    let Some(agent) = c
        .assigned_agent_id
        .as_deref()
        .filter(|a| Some(*a) != previous)
    else {
        return Ok(());
    };
    let data = serde_json::json!({
        "conversation": webhook::conversation_data(c),
        "agentId": agent,
        "previousAgentId": previous,
    });
    record(conn, "conversation.assigned", &c.id, data)
}

pub(super) fn message_created(conn: &mut DbConnection, m: &Message) -> Result<(), WriteError> {
    let data = serde_json::json!({"message": webhook::message_data(m)});
    record(conn, "message.created", &m.conversation_id, data)
}

/// Due deliveries, each the oldest undelivered of its endpoint and key, not leased
/// (several nodes: PostgreSQL's `SKIP LOCKED` keeps their claims apart).
const DUE: &str = "SELECT d.* FROM webhook_deliveries d \
    WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
      AND (d.claimed_until IS NULL OR d.claimed_until < $1) \
      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
          WHERE e.endpoint_id = d.endpoint_id AND e.ordering_key = d.ordering_key \
            AND e.status = 'pending' AND e.pos < d.pos) \
    ORDER BY d.pos LIMIT $2";

impl super::Write for crate::domain::writes::ClaimDeliveries {
    type Outcome = Vec<(DeliveryRow, Option<WebhookEndpointRow>)>;

    fn apply(&self, conn: &mut DbConnection) -> Result<Self::Outcome, WriteError> {
        use diesel::sql_types::{BigInt, Timestamp};
        let now = now_millis();
        let due: Vec<DeliveryRow> = match conn {
            DbConnection::Pg(c) => diesel::sql_query(format!("{DUE} FOR UPDATE OF d SKIP LOCKED"))
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(self.limit)
                .load(c)?,
            DbConnection::Sqlite(c) => {
                diesel::sql_query(DUE.replace("$1", "?1").replace("$2", "?2"))
                    .bind::<Timestamp, _>(now)
                    .bind::<BigInt, _>(self.limit)
                    .load(c)?
            }
        };
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let lease =
            now + chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(60));
        let positions: Vec<i64> = due.iter().map(|d| d.pos).collect();
        diesel::update(
            webhook_deliveries::table.filter(webhook_deliveries::pos.eq_any(&positions)),
        )
        .set(webhook_deliveries::claimed_until.eq(Some(lease)))
        .execute(conn)?;
        let ids: Vec<&str> = due.iter().map(|d| d.endpoint_id.as_str()).collect();
        let endpoints: Vec<WebhookEndpointRow> = webhook_endpoints::table
            .filter(webhook_endpoints::id.eq_any(ids))
            .select(WebhookEndpointRow::as_select())
            .load(conn)?;
        Ok(due
            .into_iter()
            .map(|d| {
                let e = endpoints.iter().find(|e| e.id == d.endpoint_id).cloned();
                (d, e)
            })
            .collect())
    }
}

impl super::Write for crate::domain::writes::FinishDelivery {
    type Outcome = ();

    fn apply(&self, conn: &mut DbConnection) -> Result<(), WriteError> {
        let now = now_millis();
        let delivered = self.status.is_some_and(|s| (200..300).contains(&s));
        let status = match (delivered, self.retry_in, self.give_up || self.gone) {
            (true, _, _) => "delivered",
            (false, Some(_), false) => "pending",
            _ => "failed",
        };
        let next = match self.retry_in {
            Some(wait) if status == "pending" => {
                now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(10))
            }
            _ => now,
        };
        diesel::update(webhook_deliveries::table.find(self.pos))
            .set((
                webhook_deliveries::status.eq(status),
                webhook_deliveries::attempts.eq(self.attempts),
                webhook_deliveries::next_attempt_at.eq(next),
                webhook_deliveries::claimed_until.eq(None::<chrono::NaiveDateTime>),
                webhook_deliveries::last_status.eq(self.status.map(i32::from)),
                webhook_deliveries::last_error.eq(&self.error),
                webhook_deliveries::delivered_at.eq(delivered.then_some(now)),
            ))
            .execute(conn)?;
        if self.gone {
            diesel::update(webhook_endpoints::table.find(&self.endpoint_id))
                .set((
                    webhook_endpoints::enabled.eq(false),
                    webhook_endpoints::disabled_reason.eq(Some("the receiver answered 410 Gone")),
                    webhook_endpoints::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(())
    }
}

pub(super) fn message_read(
    conn: &mut DbConnection,
    conversation_id: &str,
    participant: &str,
    up_to_seq: i64,
) -> Result<(), WriteError> {
    let data = serde_json::json!({
        "conversationId": conversation_id,
        "readerId": participant,
        "upToSeq": up_to_seq,
    });
    record(conn, "message.read", conversation_id, data)
}

/// Stream events share one key: one stream is live at a time, in order.
const STREAM_KEY: &str = "stream";

pub(super) fn stream_event(
    conn: &mut DbConnection,
    kind: &str,
    s: &crate::domain::stream::Stream,
) -> Result<(), WriteError> {
    use crate::domain::message::iso_timestamp;
    let data = serde_json::json!({"stream": {
        "streamId": s.id,
        "title": s.title,
        "description": s.description,
        "streamUrl": s.stream_url,
        "quality": s.quality,
        "startedBy": s.started_by,
        "startedAt": iso_timestamp(s.started_at),
        "endedAt": s.ended_at.map(iso_timestamp),
        "durationSeconds": s.ended_at.map(|e| (e - s.started_at).num_seconds()),
        "peakViewers": s.peak_viewers,
        "likes": s.likes,
    }});
    record(conn, kind, STREAM_KEY, data)
}

pub(super) fn code_verified(
    conn: &mut DbConnection,
    code: &crate::db::models::AuthCodeRow,
) -> Result<(), WriteError> {
    let key = code.conversation_id.as_deref().unwrap_or(&code.id);
    let data = serde_json::json!({
        "codeId": code.id,
        "conversationId": code.conversation_id,
        "userId": code.user_id,
        "guestId": code.guest_id,
        "issuedBy": code.created_by,
    });
    record(conn, "auth_code.verified", key, data)
}

impl super::Write for crate::domain::writes::ReplayDeliveries {
    /// How many went back to pending.
    type Outcome = usize;

    fn apply(&self, conn: &mut DbConnection) -> Result<usize, WriteError> {
        use webhook_deliveries as d;
        let mut chosen = d::table
            .filter(d::endpoint_id.eq(&self.endpoint_id))
            .into_boxed();
        if let Some(pos) = self.pos {
            chosen = chosen.filter(d::pos.eq(pos));
        }
        if let Some(from) = self.from {
            chosen = chosen.filter(d::pos.ge(from));
        }
        if let Some(to) = self.to {
            chosen = chosen.filter(d::pos.le(to));
        }
        if let Some(status) = &self.status {
            chosen = chosen.filter(d::status.eq(status.clone()));
        }
        let positions: Vec<i64> = chosen.select(d::pos).load(conn)?;
        let replayed = diesel::update(d::table.filter(d::pos.eq_any(&positions)))
            .set((
                d::status.eq("pending"),
                d::attempts.eq(0),
                d::next_attempt_at.eq(now_millis()),
                d::claimed_until.eq(None::<chrono::NaiveDateTime>),
                d::delivered_at.eq(None::<chrono::NaiveDateTime>),
            ))
            .execute(conn)?;
        Ok(replayed)
    }
}
