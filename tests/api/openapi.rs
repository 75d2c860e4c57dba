//! The OpenAPI description at `/api/openapi.json`: `tests/openapi/` validates it and
//! checks every described answer against the real server's, with a webhook receiver
//! from `webhooks.rs` for the webhook endpoints.

use crate::helpers::spawn_with;
use crate::node;

#[actix_web::test]
async fn the_openapi_description_validates_and_matches_real_answers() {
    let app = spawn_with(|c| c.allow_private_webhooks = true).await;
    let (hook, _) = crate::webhooks::scripted(Vec::new()).await;
    node::run(
        "openapi",
        "openapi.test.js",
        &app,
        vec![("SB_HOOK_URL", hook)],
    )
    .await;
}
