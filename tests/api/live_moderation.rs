//! Moderating the live chat on `/ws` and REST: timeouts and bans by viewer (across
//! connections, tabs and restarts), blocked terms with look-alike spellings,
//! moderators who can act where plain viewers cannot, and the log of who did what.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

async fn live_app() -> (TestApp, String) {
    let app = spawn_app().await;
    let host = app.token("host", "admin");
    let body = json!({"title": "Launch", "description": "", "streamUrl": "", "quality": "720p"});
    let (status, s) = app
        .call("POST", "/api/live/streams", Some(&body), Some(&host))
        .await;
    assert_eq!(status, 201, "{s}");
    (app, host)
}

fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == kind
}

/// `who` writes `text` and it reaches `reader`.
async fn says(who: &mut WsClient, reader: &mut WsClient, text: &str) -> Value {
    who.send(json!({"type": "chat_message", "message": text}))
        .await;
    reader
        .recv_until(|v| v["type"] == "chat_message" && v["message"] == text)
        .await
}

/// `who` writes `text` and is refused with `error`; `reader` never sees it (the next
/// line it gets is a marker written after it).
async fn refused(
    who: &mut WsClient,
    reader: &mut WsClient,
    marker: &mut WsClient,
    text: &str,
    error: &str,
) {
    who.send(json!({"type": "chat_message", "message": text}))
        .await;
    let e = who.recv_until(is("error")).await;
    assert_eq!(e["message"], error, "{text}: {e}");
    let mark = format!("after {text}");
    marker
        .send(json!({"type": "chat_message", "message": mark}))
        .await;
    loop {
        let next = reader.recv_until(is("chat_message")).await;
        assert_ne!(next["message"], text, "{text} was shown");
        if next["message"] == mark.as_str() {
            return;
        }
    }
}

#[actix_web::test]
async fn a_timed_out_viewer_is_told_once_refused_until_the_time_passes_then_allowed() {
    let (app, _) = live_app().await;
    let mut host = app.staff("host", "admin").await;
    let mut viewer = app.customer(&uid("v"), None).await;
    let mut other = app.customer(&uid("o"), None).await;
    let line = says(&mut viewer, &mut host, "first").await;

    host.send(json!({"type": "chat_timeout", "messageId": line["id"], "durationSeconds": 2, "reason": "calm down"}))
        .await;
    let done = host.recv_until(is("chat_moderated")).await;
    assert_eq!(done["action"], "timeout", "{done}");
    let told = viewer.recv_until(is("chat_banned")).await;
    assert_eq!(told["reason"], "calm down");
    let until = told["until"]
        .as_str()
        .expect("a timeout has an end")
        .to_owned();
    assert_eq!(done["ban"]["until"], until.as_str());

    refused(
        &mut viewer,
        &mut other,
        &mut host,
        "still here",
        "You are timed out",
    )
    .await;
    // Told once: the refused line got its error, not a second `chat_banned`.
    viewer.send(json!({"type": "ping"})).await;
    let next = viewer
        .recv_until(|v| v["type"] == "pong" || v["type"] == "chat_banned")
        .await;
    assert_eq!(next["type"], "pong", "{next}");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    says(&mut viewer, &mut other, "back again").await;
}

#[actix_web::test]
async fn a_ban_holds_across_connections_tabs_and_a_restart_until_staff_lift_it() {
    let (app, host) = live_app().await;
    let user = uid("user");
    let token = app.token(&user, "customer");
    let mut watcher = app.customer(&uid("w"), None).await;
    let mut first = app.customer(&uid("tab1"), Some(&token)).await;
    let anon = uid("anon");
    let mut guest = app.customer(&anon, None).await;
    // An anonymous viewer writes as its session (a guest as `guest:ID`).
    let anon_writer = format!("session:{anon}");

    // By user id over REST, and an anonymous viewer by session id over /ws.
    let (status, b) = app
        .call(
            "PUT",
            &format!("/api/live/bans/{user}"),
            Some(&json!({"reason": "spam", "name": "Sam"})),
            Some(&host),
        )
        .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(
        (
            &b["data"]["userId"],
            &b["data"]["until"],
            &b["data"]["name"]
        ),
        (&json!(user), &Value::Null, &json!("Sam"))
    );
    assert_eq!(
        first.recv_until(is("chat_banned")).await["until"],
        Value::Null
    );
    let mut staff = app.staff("host", "admin").await;
    staff
        .send(json!({"type": "chat_ban", "userId": anon_writer, "reason": "trolling"}))
        .await;
    staff.recv_until(is("chat_moderated")).await;
    guest.recv_until(is("chat_banned")).await;

    // A new connection in another tab (another session, the same user) is told on
    // arrival, and refused; so is the anonymous viewer's next connection.
    let mut second = app.customer(&uid("tab2"), Some(&token)).await;
    second.recv_until(is("chat_banned")).await;
    let banned = "You are banned from this chat";
    refused(&mut second, &mut watcher, &mut staff, "let me in", banned).await;
    drop(guest);
    let mut guest = app.customer(&anon, None).await;
    guest.recv_until(is("chat_banned")).await;
    refused(&mut guest, &mut watcher, &mut staff, "me too", banned).await;

    // Across a restart: stored.
    drop((first, second, guest, watcher, staff));
    let app = app.restart_gracefully().await;
    let mut third = app.customer(&uid("tab3"), Some(&token)).await;
    third.recv_until(is("chat_banned")).await;
    let (status, list) = app.call("GET", "/api/live/bans", None, Some(&host)).await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["userId"].as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{list}");
    assert!(ids.contains(&user.as_str()) && ids.contains(&anon_writer.as_str()));

    // Lifted: told, and allowed to write.
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/live/bans/{user}"),
            None,
            Some(&host),
        )
        .await;
    assert_eq!(status, 200);
    third.recv_until(is("chat_ban_lifted")).await;
    let mut watcher = app.customer(&uid("w2"), None).await;
    says(&mut third, &mut watcher, "thanks").await;
    let (status, again) = app
        .call(
            "DELETE",
            &format!("/api/live/bans/{user}"),
            None,
            Some(&host),
        )
        .await;
    assert_eq!(
        (status, again["message"].as_str()),
        (404, Some("No ban or timeout on that viewer"))
    );
}

#[actix_web::test]
async fn blocked_terms_in_any_spelling_are_refused_and_never_reach_others() {
    let (app, host) = live_app().await;
    let terms = json!({"terms": ["Scam*", "buy   now", "*coin"]});
    let (status, set) = app
        .call("PUT", "/api/live/blocked-terms", Some(&terms), Some(&host))
        .await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["data"], json!(["*coin", "buy now", "scam*"]));
    let (_, got) = app
        .call("GET", "/api/live/blocked-terms", None, Some(&host))
        .await;
    assert_eq!(got["data"], set["data"]);

    let mut writer = app.customer(&uid("w"), None).await;
    let mut reader = app.customer(&uid("r"), None).await;
    let mut staff = app.staff("host", "admin").await;
    let blocked = "Your message was not sent: it contains a blocked term";
    for text in [
        "SCAMMERS here",
        "total ѕсаm",     // Cyrillic ѕ, с, а
        "ｓｃａｍ alert", // fullwidth
        "$c4m",           // leetspeak
        "sсäm",           // an accent and a Cyrillic с
        "BUY NOW!!",
        "new shitcoin",
    ] {
        refused(&mut writer, &mut reader, &mut staff, text, blocked).await;
    }
    // Whole words only, and staff are exempt.
    says(&mut writer, &mut reader, "noscam, coins for buyers").await;
    says(&mut staff, &mut reader, "no scam here, promise").await;

    for bad in [
        json!({"terms": ["*"]}),
        json!({"terms": ["x".repeat(61)]}),
        json!({"terms": "scam"}),
    ] {
        let (status, e) = app
            .call("PUT", "/api/live/blocked-terms", Some(&bad), Some(&host))
            .await;
        assert!(status == 422 || status == 400, "{bad}: {status} {e}");
    }
    let viewer = app.token("viewer", "customer");
    let (status, _) = app
        .call(
            "PUT",
            "/api/live/blocked-terms",
            Some(&terms),
            Some(&viewer),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.call("GET", "/api/live/blocked-terms", None, None).await;
    assert_eq!(status, 401);
}

#[actix_web::test]
async fn a_moderator_can_act_where_a_plain_viewer_cannot_and_every_action_is_logged() {
    let (app, host) = live_app().await;
    let mod_id = uid("mod");
    let mod_token = app.token(&mod_id, "customer");
    let mut moderator = app.customer(&uid("m"), Some(&mod_token)).await;
    let plain_token = app.token(&uid("plain"), "customer");
    let mut plain = app.customer(&uid("p"), Some(&plain_token)).await;
    let mut reader = app.customer(&uid("r"), None).await;
    let line = says(&mut plain, &mut reader, "hello all").await;
    let line_id = line["id"].as_str().unwrap().to_owned();

    // A plain viewer cannot moderate.
    plain
        .send(json!({"type": "chat_delete", "messageId": line_id}))
        .await;
    assert_eq!(plain.recv_until(is("error")).await["code"], "forbidden");
    plain
        .send(json!({"type": "chat_ban", "messageId": line_id}))
        .await;
    assert_eq!(plain.recv_until(is("error")).await["code"], "forbidden");

    // Staff make a viewer a moderator; they are told.
    let (status, m) = app
        .call(
            "PUT",
            &format!("/api/live/moderators/{mod_id}"),
            Some(&json!({"name": "Mo"})),
            Some(&host),
        )
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(
        (&m["data"]["userId"], &m["data"]["name"]),
        (&json!(mod_id), &json!("Mo"))
    );
    assert_eq!(
        moderator.recv_until(is("chat_role")).await["moderator"],
        true
    );
    // A second connection of theirs is told on arrival.
    let mut again = app.customer(&uid("m2"), Some(&mod_token)).await;
    assert_eq!(again.recv_until(is("chat_role")).await["moderator"], true);

    // The moderator deletes a line and times out its author.
    moderator
        .send(json!({"type": "chat_delete", "messageId": line_id}))
        .await;
    reader.recv_until(is("chat_message_deleted")).await;
    let line = says(&mut plain, &mut reader, "rude words").await;
    moderator
        .send(json!({"type": "chat_timeout", "messageId": line["id"], "durationSeconds": 600}))
        .await;
    let done = moderator.recv_until(is("chat_moderated")).await;
    assert_eq!(done["action"], "timeout");
    // Whose id it was is for staff to know (a guest's or session's id is its secret).
    assert!(
        done.get("userId").is_none() && done["ban"].get("userId").is_none(),
        "{done}"
    );
    plain.recv_until(is("chat_banned")).await;

    // Staff are not moderated by moderators: not their lines, not them by id.
    let mut host_ws = app.staff("host", "admin").await;
    let staff_line = says(&mut host_ws, &mut reader, "host speaking").await;
    for (frame, error) in [
        (
            json!({"type": "chat_delete", "messageId": staff_line["id"]}),
            "Only staff delete staff's lines",
        ),
        (
            json!({"type": "chat_ban", "messageId": staff_line["id"]}),
            "That is staff, who are not moderated",
        ),
        (
            json!({"type": "chat_ban", "userId": "host"}),
            "That is staff, who are not moderated",
        ),
    ] {
        moderator.send(frame.clone()).await;
        let e = moderator.recv_until(is("error")).await;
        assert_eq!(e["message"], error, "{frame}");
    }
    // A session named like the moderator's user id is not the moderator.
    let mut impostor = app.customer(&mod_id, None).await;
    impostor
        .send(json!({"type": "chat_delete", "messageId": staff_line["id"]}))
        .await;
    assert_eq!(
        impostor.recv_until(is("error")).await["code"],
        "token_required"
    );
    // A moderator who is timed out moderates no more meanwhile.
    let path = format!("/api/live/bans/{mod_id}");
    let timeout = json!({"durationSeconds": 60});
    assert_eq!(
        app.call("PUT", &path, Some(&timeout), Some(&host)).await.0,
        200
    );
    moderator.recv_until(is("chat_banned")).await;
    moderator
        .send(json!({"type": "chat_unban", "userId": mod_id}))
        .await;
    assert_eq!(moderator.recv_until(is("error")).await["code"], "forbidden");
    assert_eq!(app.call("DELETE", &path, None, Some(&host)).await.0, 200);
    moderator.recv_until(is("chat_ban_lifted")).await;

    // Staff's tools stay staff's, and a moderator cannot ban another moderator.
    moderator
        .send(json!({"type": "chat_slow_mode", "seconds": 30}))
        .await;
    assert_eq!(moderator.recv_until(is("error")).await["code"], "forbidden");
    let other_mod = uid("mod2");
    app.call(
        "PUT",
        &format!("/api/live/moderators/{other_mod}"),
        Some(&json!({})),
        Some(&host),
    )
    .await;
    moderator
        .send(json!({"type": "chat_ban", "userId": other_mod}))
        .await;
    assert_eq!(
        moderator.recv_until(is("error")).await["message"],
        "Only staff can time out or ban a moderator"
    );

    // Moderators are exempt from slow mode.
    let mut staff = app.staff("host", "admin").await;
    staff
        .send(json!({"type": "chat_slow_mode", "seconds": 30}))
        .await;
    reader.recv_until(is("chat_settings")).await;
    says(&mut moderator, &mut reader, "mod one").await;
    says(&mut moderator, &mut reader, "mod two").await;

    // No longer a moderator: told, and refused.
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/live/moderators/{mod_id}"),
            None,
            Some(&host),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        moderator.recv_until(is("chat_role")).await["moderator"],
        false
    );
    moderator
        .send(json!({"type": "chat_unban", "userId": "anyone"}))
        .await;
    assert_eq!(moderator.recv_until(is("error")).await["code"], "forbidden");
    let (_, list) = app
        .call("GET", "/api/live/moderators", None, Some(&host))
        .await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");

    // The log: every action with who took it, newest first.
    let (status, log) = app
        .call(
            "GET",
            "/api/live/moderation-log?limit=50",
            None,
            Some(&host),
        )
        .await;
    assert_eq!(status, 200, "{log}");
    let mod_name = "Mo".to_owned();
    let actions: Vec<(&str, &str)> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["byName"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("moderator_remove", "host name"),
            ("chat_settings", "host name"),
            ("moderator_add", "host name"),
            ("unban", "host name"),
            ("timeout", "host name"),
            ("timeout", mod_name.as_str()),
            ("delete", mod_name.as_str()),
            ("moderator_add", "host name"),
        ],
        "{log}"
    );
    let delete = &log["data"][6];
    assert_eq!(
        (&delete["byId"], &delete["subject"]),
        (&json!(mod_id), &json!(line_id))
    );
    let (status, _) = app
        .call("GET", "/api/live/moderation-log?limit=0", None, Some(&host))
        .await;
    assert_eq!(status, 422);
}

#[actix_web::test]
async fn bad_moderation_commands_get_clear_errors() {
    let (app, host) = live_app().await;
    let mut staff = app.staff("host", "admin").await;
    for (frame, message) in [
        (
            json!({"type": "chat_ban", "messageId": "m", "userId": "u"}),
            "Give messageId or userId",
        ),
        (json!({"type": "chat_ban"}), "Give messageId or userId"),
        (
            json!({"type": "chat_timeout", "userId": "u", "durationSeconds": 0}),
            "durationSeconds must be between 1 and 604800",
        ),
        (
            json!({"type": "chat_timeout", "messageId": "nope", "durationSeconds": 5}),
            "Message not found",
        ),
        (
            json!({"type": "chat_unban", "userId": "nobody"}),
            "No ban or timeout on that viewer",
        ),
        (
            json!({"type": "chat_moderator_remove", "userId": "nobody"}),
            "Not a moderator",
        ),
    ] {
        staff.send(frame.clone()).await;
        let e = staff.recv_until(is("error")).await;
        assert_eq!(e["message"], message, "{frame}: {e}");
    }
    // Staff lines are not timed out.
    let mut reader = app.customer(&uid("r"), None).await;
    let line = says(&mut staff, &mut reader, "host here").await;
    staff
        .send(json!({"type": "chat_ban", "messageId": line["id"]}))
        .await;
    assert_eq!(
        staff.recv_until(is("error")).await["message"],
        "That is staff, who are not moderated"
    );
    let (status, e) = app
        .call(
            "PUT",
            "/api/live/bans/someone",
            Some(&json!({"durationSeconds": 9999999})),
            Some(&host),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    let (status, _) = app
        .call(
            "PUT",
            "/api/live/bans/someone",
            Some(&json!({"until": 5})),
            Some(&host),
        )
        .await;
    assert_eq!(status, 422, "an unknown field");
    staff.assert_alive().await;
}
