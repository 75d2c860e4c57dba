//! The OpenAPI 3.1 description of the REST surface, generated from the handlers'
//! `#[utoipa::path]` annotations and the schemas beside them, served at
//! `GET /api/openapi.json`. `tests/openapi/` validates the document and checks every
//! described answer against real responses.

pub mod schemas;
pub mod seeds;

use std::sync::OnceLock;

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard",
        description = "Real-time support and live-stream chat: the seeds' REST APIs, the admin APIs and the server API for the shop's backend. WebSocket and Socket.IO protocols are described in the README.",
    ),
    modifiers(&Security),
    paths(
        crate::api::chat::send_to_staff,
        crate::api::chat::session_messages,
        crate::api::chat::rate,
        crate::api::chat::transcript,
        crate::api::desk::add_note,
        crate::api::desk::snooze,
        crate::api::desk::conversations,
        crate::api::desk::search,
        crate::api::desk::queue,
        crate::api::desk::set_availability,
        crate::api::desk::set_capacity,
        crate::api::desk::add_label,
        crate::api::desk::remove_label,
        crate::api::desk::list_canned,
        crate::api::desk::create_canned,
        crate::api::desk::change_canned,
        crate::api::desk::delete_canned,
        crate::api::desk::office_hours,
        crate::api::desk::set_office_hours,
        crate::api::desk::clear_office_hours,
        crate::api::desk::widget_look,
        crate::api::desk::set_widget_look,
        crate::api::desk::reset_widget_look,
        crate::api::support::availability,
        crate::api::support::offline_message,
        crate::api::support::my_conversation,
        crate::api::support::guest_conversation,
        crate::api::support::conversation,
        crate::api::support::messages,
        crate::api::support::admin_conversations,
        crate::api::support::generate_code,
        crate::api::support::verify_code,
        crate::api::chat_sessions::create_session,
        crate::api::chat_sessions::list_sessions,
        crate::api::chat_sessions::get_session,
        crate::api::chat_sessions::list_messages,
        crate::api::chat_sessions::send_message,
        crate::api::chat_sessions::upload,
        crate::api::chat_sessions::download,
        crate::api::chat_sessions::mark_read,
        crate::api::chat_sessions::assign,
        crate::api::chat_sessions::set_status,
        crate::api::chat_sessions::participants,
        crate::api::chat_sessions::online_staff,
        crate::api::live::start,
        crate::api::live::stop,
        crate::api::live::pin,
        crate::api::live::chat_settings,
        crate::api::live::pin_message,
        crate::api::live::unpin_message,
        crate::api::live::current,
        crate::api::live::past,
        crate::api::live_moderation::bans,
        crate::api::live_moderation::ban,
        crate::api::live_moderation::lift,
        crate::api::live_moderation::moderators,
        crate::api::live_moderation::add_moderator,
        crate::api::live_moderation::remove_moderator,
        crate::api::live_moderation::blocked_terms,
        crate::api::live_moderation::set_blocked_terms,
        crate::api::live_moderation::moderation_log,
        crate::api::server::post_message,
        crate::api::server::open_conversation,
        crate::api::server::show_conversation,
        crate::api::server::change_conversation,
        crate::api::server::list_conversations,
        crate::api::server::list_messages,
        crate::api::server::current_stream,
        crate::api::server::announce,
        crate::api::server::pin,
        crate::api::api_keys::create,
        crate::api::api_keys::list,
        crate::api::api_keys::revoke,
        crate::api::webhooks::create,
        crate::api::webhooks::list,
        crate::api::webhooks::show,
        crate::api::webhooks::update,
        crate::api::webhooks::delete,
        crate::api::webhooks::rotate,
        crate::api::webhooks::test,
        crate::api::webhooks::deliveries,
        crate::api::webhooks::replay_one,
        crate::api::webhooks::replay_range,
        crate::api::health::health,
        crate::api::health::live,
        crate::api::health::ready,
        crate::api::metrics::metrics,
        serve,
    ),
    tags(
        (name = "native (seed 000)", description = "Seed 000's REST, beside the `/ws` protocol"),
        (name = "sessions (seed 004)", description = "Seed 004's agent sessions, under /api/v1/chat"),
        (name = "support (seed 003)", description = "Seed 003's support widget: signed-in users, and guests by `guestId`"),
        (name = "live (seed 002)", description = "Seed 002's live stream"),
        (name = "desk", description = "The team desk (staff): private notes, canned responses, labels and the inbox, search, agents and the queue"),
        (name = "operations", description = "Health, metrics and this document"),
        (name = "server", description = "The server API: for the shop's backend, with an API key (`sk_…`) and its scopes"),
        (name = "admin", description = "Admin APIs: a JWT with role `admin`"),
    )
)]
pub struct ApiDoc;

/// The two kinds of bearer credential: the host application's JWTs, and API keys.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "jwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An HS256 token signed with JWT_SECRET"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sk_…")
                    .description(Some("An API key made at /api/admin/api-keys"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metricsToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("METRICS_TOKEN, when one is set"))
                    .build(),
            ),
        );
    }
}

/// `GET /api/openapi.json`: made once, then served as is.
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)))]
pub async fn serve() -> HttpResponse {
    static DOC: OnceLock<String> = OnceLock::new();
    let doc = DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_default());
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.as_str())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_is_made() {
        use utoipa::OpenApi;
        let doc = super::ApiDoc::openapi().to_pretty_json().expect("JSON");
        if std::env::var("SB_PRINT_OPENAPI").is_ok() {
            println!("{doc}");
        }
        assert!(doc.contains("\"openapi\": \"3.1"));
    }
}
