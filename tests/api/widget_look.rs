//! The widget's look: admins set its colour, corner, greeting, team name and avatar
//! (`PUT /api/desk/widget`, `DELETE` resets); every widget reads it (`GET /api/widget`,
//! public).

use serde_json::{json, Value};

use crate::helpers::*;

#[actix_web::test]
async fn admins_set_the_widgets_look_and_every_widget_reads_it() {
    let app = spawn_app().await;
    let admin = app.token("look-admin", "admin");
    let agent = app.token("look-agent", "agent");
    let default = json!({"color": "#2563eb", "position": "right", "greeting": null, "teamName": null, "avatarUrl": null});
    let read = || async {
        let (status, body) = app.get_json("/api/widget", None).await;
        assert_eq!(status, 200, "{body}");
        body["data"].clone()
    };
    assert_eq!(read().await, default);

    let look = json!({"color": "#0F766E", "position": "left", "greeting": "  Hi! Ask us anything.  ",
        "teamName": "Corner Shop", "avatarUrl": "https://cdn.example/team.png"});
    let put = |body: Value, token: Option<String>| {
        let app = &app;
        async move {
            app.call("PUT", "/api/desk/widget", Some(&body), token.as_deref())
                .await
        }
    };
    assert_eq!(put(look.clone(), None).await.0, 401);
    assert_eq!(put(look.clone(), Some(agent.clone())).await.0, 403);
    for (field, value, says) in [
        ("color", json!("teal"), "color must be like #2563eb"),
        ("position", json!("top"), "position must be right or left"),
        (
            "avatarUrl",
            json!("http://cdn.example/team.png"),
            "avatarUrl must be an https:// URL or a path on this server",
        ),
        (
            "teamName",
            json!("x".repeat(61)),
            "teamName too long (max 60 characters)",
        ),
        (
            "greeting",
            json!("x".repeat(501)),
            "greeting too long (max 500 characters)",
        ),
    ] {
        let mut bad = look.clone();
        bad[field] = value;
        let (status, body) = put(bad, Some(admin.clone())).await;
        assert_eq!((status, &body["message"]), (422, &json!(says)), "{body}");
    }
    let (status, body) = put(json!({"colour": "#000"}), Some(admin.clone())).await;
    assert_eq!(status, 422, "an unknown field is refused: {body}");
    assert_eq!(read().await, default, "nothing stored by the refusals");

    let (status, body) = put(look, Some(admin.clone())).await;
    assert_eq!(status, 200, "{body}");
    let stored = json!({"color": "#0f766e", "position": "left", "greeting": "Hi! Ask us anything.",
        "teamName": "Corner Shop", "avatarUrl": "https://cdn.example/team.png"});
    assert_eq!((&body["data"], read().await), (&stored, stored.clone()));

    // Only what is given changes from the defaults; a reset brings them all back.
    let (_, body) = put(json!({"teamName": "Help"}), Some(admin.clone())).await;
    assert_eq!(
        (&body["data"]["teamName"], &body["data"]["color"]),
        (&json!("Help"), &json!("#2563eb"))
    );
    assert_eq!(
        app.call("DELETE", "/api/desk/widget", None, Some(&agent))
            .await
            .0,
        403
    );
    assert_eq!(
        app.call("DELETE", "/api/desk/widget", None, Some(&admin))
            .await
            .0,
        200
    );
    assert_eq!(read().await, default);
}
