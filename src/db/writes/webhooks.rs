//! Webhook endpoints, as admins manage them.

use diesel::prelude::*;

use super::{Write, WriteError};
use crate::db::models::WebhookEndpointRow;
use crate::db::schema::webhook_endpoints;
use crate::db::DbConnection;
use crate::domain::message::now_millis;
use crate::domain::writes::{CreateEndpoint, DeleteEndpoint, UpdateEndpoint};
use crate::error::AppError;

fn events_json(events: &[String]) -> Result<String, WriteError> {
    serde_json::to_string(events).map_err(|_| AppError::internal().into())
}

fn find(conn: &mut DbConnection, id: &str) -> Result<Option<WebhookEndpointRow>, WriteError> {
    Ok(webhook_endpoints::table
        .find(id)
        .select(WebhookEndpointRow::as_select())
        .first(conn)
        .optional()?)
}

impl Write for CreateEndpoint {
    type Outcome = WebhookEndpointRow;

    fn apply(&self, conn: &mut DbConnection) -> Result<WebhookEndpointRow, WriteError> {
        let now = now_millis();
        let row = WebhookEndpointRow {
            id: self.id.clone(),
            url: self.url.clone(),
            description: self.description.clone(),
            events: events_json(&self.events)?,
            secret: self.secret.clone(),
            previous_secret: None,
            previous_until: None,
            enabled: self.enabled,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(webhook_endpoints::table)
            .values(&row)
            .execute(conn)?;
        Ok(row)
    }
}

impl Write for UpdateEndpoint {
    type Outcome = Option<WebhookEndpointRow>;

    fn apply(&self, conn: &mut DbConnection) -> Result<Self::Outcome, WriteError> {
        let Some(mut row) = find(conn, &self.id)? else {
            return Ok(None);
        };
        if let Some(url) = &self.url {
            row.url = url.clone();
        }
        if let Some(description) = &self.description {
            row.description = description.clone();
        }
        if let Some(events) = &self.events {
            row.events = events_json(events)?;
        }
        if let Some(enabled) = self.enabled {
            row.enabled = enabled;
            if enabled {
                row.disabled_reason = None;
            }
        }
        if let Some((secret, until)) = &self.rotate {
            row.previous_secret = Some(std::mem::replace(&mut row.secret, secret.clone()));
            row.previous_until = Some(*until);
        }
        row.updated_at = now_millis();
        diesel::update(webhook_endpoints::table.find(&self.id))
            .set((
                webhook_endpoints::url.eq(&row.url),
                webhook_endpoints::description.eq(&row.description),
                webhook_endpoints::events.eq(&row.events),
                webhook_endpoints::enabled.eq(row.enabled),
                webhook_endpoints::disabled_reason.eq(&row.disabled_reason),
                webhook_endpoints::secret.eq(&row.secret),
                webhook_endpoints::previous_secret.eq(&row.previous_secret),
                webhook_endpoints::previous_until.eq(row.previous_until),
                webhook_endpoints::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
        Ok(Some(row))
    }
}

impl Write for DeleteEndpoint {
    type Outcome = bool;

    fn apply(&self, conn: &mut DbConnection) -> Result<bool, WriteError> {
        let deleted = diesel::delete(webhook_endpoints::table.find(&self.id)).execute(conn)?;
        Ok(deleted == 1)
    }
}

impl Write for crate::domain::writes::SeedEndpoints {
    type Outcome = ();

    fn apply(&self, conn: &mut DbConnection) -> Result<(), WriteError> {
        for s in &self.0 {
            let now = now_millis();
            match find(conn, &s.id)? {
                Some(_) => {
                    diesel::update(webhook_endpoints::table.find(&s.id))
                        .set((
                            webhook_endpoints::url.eq(&s.url),
                            webhook_endpoints::description.eq(&s.description),
                            webhook_endpoints::events.eq(events_json(&s.events)?),
                            webhook_endpoints::secret.eq(&s.secret),
                            webhook_endpoints::enabled.eq(s.enabled),
                            webhook_endpoints::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                }
                None => {
                    CreateEndpoint {
                        id: s.id.clone(),
                        url: s.url.clone(),
                        description: s.description.clone(),
                        events: s.events.clone(),
                        secret: s.secret.clone(),
                        enabled: s.enabled,
                    }
                    .apply(conn)?;
                }
            }
        }
        Ok(())
    }
}
