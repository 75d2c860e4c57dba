//! One live stream over every node: its state, counts, likes, pins, chat, moderation
//! and WebRTC signalling reach viewers wherever they are connected.

use std::time::Duration;

use serde_json::{json, Value};

use super::*;

fn viewer(session: &str) -> Value {
    json!({"type": "register", "sessionId": session})
}

fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v: &Value| v["type"] == kind
}

/// The live stream's `streamData` as a node's REST API shows it.
async fn current(node: &NodeProcess) -> Value {
    let (status, body) = node
        .call("GET", "/api/live/streams/current", None, None)
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["streamData"].clone()
}

#[actix_web::test]
async fn one_stream_over_three_nodes() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["live-a", "live-b", "live-c"]);
    let (a, b, c) = (&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]);
    let host_token = token("live-host", "admin");
    let mut host = a
        .ws_as(json!({"type": "register_admin", "userId": "live-host", "token": host_token}))
        .await;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let session = |name: &str| format!("{name}-{run}");
    let mut on_b = b.ws_as(viewer(&session("vb"))).await;
    let mut on_c = c.ws_as(viewer(&session("vc"))).await;
    let _also_c = c.ws_as(viewer(&session("vc2"))).await;

    // Started on A: viewers on B and C hear it; a second stream is refused anywhere.
    let body = json!({"title": "Cluster launch", "quality": "720p"});
    let (status, started) = a
        .call("POST", "/api/live/streams", Some(&body), Some(&host_token))
        .await;
    assert_eq!(status, 201, "{started}");
    let id = started["data"]["streamId"].as_str().unwrap().to_owned();
    for v in [&mut on_b, &mut on_c] {
        let heard = v.recv_until(is("stream_started")).await;
        assert_eq!(heard["streamData"]["streamId"], id.as_str());
    }
    let (status, refused) = b
        .call("POST", "/api/live/streams", Some(&body), Some(&host_token))
        .await;
    assert_eq!(status, 409, "{refused}");

    // The viewer count is the sum over the nodes (host + 1 + 2), on every node.
    let update = on_b
        .recv_until(|v| v["type"] == "stream_update" && v["viewerCount"] == 4)
        .await;
    assert_eq!(update["likes"], 0);
    let (counted, data) = eventually(Duration::from_secs(5), || async {
        let data = current(c).await;
        (data["viewerCount"] == 4, data)
    })
    .await;
    assert!(counted, "{data}");

    // Pins set through C reach A and B.
    let products = json!([{"productId": "p1", "name": "Serum", "price": 49.99}]);
    let (status, _) = c
        .call(
            "PUT",
            &format!("/api/live/streams/{id}/pinned-products"),
            Some(&products),
            Some(&host_token),
        )
        .await;
    assert_eq!(status, 200);
    for v in [&mut host, &mut on_b] {
        let pinned = v.recv_until(is("pinned_products_updated")).await;
        assert_eq!(pinned["pinnedProducts"][0]["productId"], "p1");
    }

    // Chat from C reaches A and B.
    on_c.send(json!({"type": "chat_message", "username": "Cee", "message": "hello from C"}))
        .await;
    for v in [&mut host, &mut on_b] {
        let line = v.recv_until(is("chat_message")).await;
        assert_eq!(line["message"], "hello from C");
    }
    let line = on_c.recv_until(is("chat_message")).await;
    let line_id = line["id"].as_str().unwrap().to_owned();

    // A like on B counts once everywhere; the same person's next like, on C, is an
    // unlike, because C knows of the first.
    let liker = session("liker");
    let mut liker_b = b.ws_as(viewer(&liker)).await;
    let mut liker_c = c.ws_as(viewer(&liker)).await;
    liker_b.send(json!({"type": "toggle_like"})).await;
    let liked = host
        .recv_until(|v| v["type"] == "stream_update" && v["likes"] == 1)
        .await;
    assert_eq!(liked["likedBy"], json!([liker]));
    liker_c
        .recv_until(|v| v["type"] == "stream_update" && v["likes"] == 1)
        .await;
    liker_c.send(json!({"type": "toggle_like"})).await;
    host.recv_until(|v| v["type"] == "stream_update" && v["likes"] == 0)
        .await;
    // Liking on two nodes at once never counts twice, and the nodes agree.
    liker_b.send(json!({"type": "toggle_like"})).await;
    liker_c.send(json!({"type": "toggle_like"})).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut seen = Vec::new();
    for node in [a, b, c] {
        seen.push(current(node).await["likes"].clone());
    }
    assert!(seen[0] == 0 || seen[0] == 1, "{seen:?}");
    assert!(seen.iter().all(|l| *l == seen[0]), "{seen:?}");

    // A late viewer on B gets the state: the stream, the pins, the chat.
    let mut late = b.ws_as(viewer(&session("late"))).await;
    let state = late.recv_until(is("stream_started")).await;
    assert_eq!(state["streamData"]["streamId"], id.as_str());
    let pins = late.recv_until(is("pinned_products_updated")).await;
    assert_eq!(pins["pinnedProducts"][0]["productId"], "p1");
    let history = late.recv_until(is("chat_history")).await;
    assert_eq!(
        history["messages"][0]["message"], "hello from C",
        "{history}"
    );

    // Moderation from A holds on every node: the muted author is refused on B too.
    host.send(json!({"type": "chat_mute", "messageId": line_id, "durationSeconds": 60}))
        .await;
    host.send(json!({"type": "chat_slow_mode", "seconds": 30}))
        .await;
    let settings = on_b.recv_until(is("chat_settings")).await;
    assert_eq!(settings["slowModeSeconds"], 30, "{settings}");
    let mut muted_on_b = b.ws_as(viewer(&session("vc"))).await;
    muted_on_b
        .send(json!({"type": "chat_message", "message": "again, from B"}))
        .await;
    let refused = muted_on_b.recv_until(is("error")).await;
    assert_eq!(refused["message"], "You are timed out", "{refused}");

    // WebRTC: the host on A broadcasts to a viewer on B, both ways.
    host.send(
        json!({"type": "webrtc_register", "peerId": format!("host-{run}"), "userType": "admin"}),
    )
    .await;
    host.recv_until(is("webrtc_registered")).await;
    let peer = format!("viewer-{run}");
    on_b.send(json!({"type": "webrtc_register", "peerId": peer, "userType": "customer"}))
        .await;
    on_b.recv_until(is("webrtc_registered")).await;
    // The same peer id on another node is taken.
    let mut taker = c.ws_as(viewer(&session("taker"))).await;
    taker
        .send(json!({"type": "webrtc_register", "peerId": peer, "userType": "customer"}))
        .await;
    let answer = taker
        .recv_until(|v| v["type"] == "error" || v["type"] == "webrtc_registered")
        .await;
    assert_eq!(answer["message"], "peerId already registered", "{answer}");
    let host_peer = format!("host-{run}");
    host.send(json!({"type": "webrtc_broadcast_start", "peerId": host_peer}))
        .await;
    let available = on_b.recv_until(is("webrtc_broadcaster_available")).await;
    assert_eq!(available["broadcaster"], host_peer.as_str());
    let met = host.recv_until(is("webrtc_new_customer")).await;
    assert_eq!(met["customerId"], peer.as_str());
    host.send(json!({"type": "webrtc_offer", "from": host_peer, "to": peer, "offer": {"type": "offer", "sdp": "v=0"}}))
        .await;
    let offer = on_b.recv_until(is("webrtc_offer")).await;
    assert_eq!(offer["offer"]["sdp"], "v=0", "{offer}");
    on_b.send(json!({"type": "webrtc_answer", "from": peer, "to": host_peer, "answer": {"type": "answer", "sdp": "v=1"}}))
        .await;
    let answer = host.recv_until(is("webrtc_answer")).await;
    assert_eq!(answer["answer"]["sdp"], "v=1", "{answer}");
    let candidate = json!({"candidate": "candidate:1 1 udp 1 10.0.0.1 9 typ host", "sdpMid": "0"});
    on_b.send(json!({"type": "webrtc_ice_candidate", "from": peer, "to": host_peer, "candidate": candidate}))
        .await;
    assert_eq!(
        host.recv_until(is("webrtc_ice_candidate")).await["candidate"],
        candidate
    );

    // Stopped through C: everyone hears it, and the next stream may start on B.
    let (status, _) = c
        .call(
            "POST",
            &format!("/api/live/streams/{id}/stop"),
            None,
            Some(&host_token),
        )
        .await;
    assert_eq!(status, 200);
    for v in [&mut host, &mut on_b, &mut on_c] {
        let stopped = v.recv_until(is("stream_stopped")).await;
        assert_eq!(stopped["streamId"], id.as_str());
    }
    let (status, next) = b
        .call("POST", "/api/live/streams", Some(&body), Some(&host_token))
        .await;
    assert_eq!(status, 201, "{next}");
}

#[actix_web::test]
async fn a_dead_node_takes_its_viewers_and_broadcaster_with_it_and_a_new_one_joins() {
    let Some(services) = services() else { return };
    let mut cluster = Cluster::start(&services, &["live-d", "live-e"]);
    let host_token = token("live-host2", "admin");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (status, started) = cluster.nodes[0]
        .call(
            "POST",
            "/api/live/streams",
            Some(&json!({"title": "Node death"})),
            Some(&host_token),
        )
        .await;
    assert_eq!(status, 201, "{started}");
    let mut watcher = cluster.nodes[0]
        .ws_as(viewer(&format!("watcher-{run}")))
        .await;
    let peer = format!("watcher-peer-{run}");
    watcher
        .send(json!({"type": "webrtc_register", "peerId": peer, "userType": "customer"}))
        .await;
    watcher.recv_until(is("webrtc_registered")).await;

    // The host broadcasts from the second node, with two more viewers there.
    let mut host = cluster.nodes[1]
        .ws_as(json!({"type": "register_admin", "userId": "live-host2", "token": host_token}))
        .await;
    let _v1 = cluster.nodes[1].ws_as(viewer(&format!("v1-{run}"))).await;
    let host_peer = format!("host-peer-{run}");
    host.send(json!({"type": "webrtc_register", "peerId": host_peer, "userType": "admin"}))
        .await;
    host.recv_until(is("webrtc_registered")).await;
    host.send(json!({"type": "webrtc_broadcast_start", "peerId": host_peer}))
        .await;
    watcher.recv_until(is("webrtc_broadcaster_available")).await;
    watcher
        .recv_until(|v| v["type"] == "stream_update" && v["viewerCount"] == 3)
        .await;

    // kill -9 the host's node: the watcher hears the broadcast stop and the count fall.
    cluster.nodes[1].kill();
    let expiry = Duration::from_secs(10);
    let stopped = within(&mut watcher, expiry, is("webrtc_broadcast_stopped")).await;
    assert_eq!(stopped["broadcaster"], host_peer.as_str());
    within(&mut watcher, expiry, |v| {
        v["type"] == "stream_update" && v["viewerCount"] == 1
    })
    .await;
    // The stream lives on with its surviving node, and a node started now shows it
    // too (it asks the others for the state), with the likes so far.
    watcher.send(json!({"type": "toggle_like"})).await;
    watcher
        .recv_until(|v| v["type"] == "stream_update" && v["likes"] == 1)
        .await;
    let late_node = cluster.join(&services, "live-f", &[]);
    let mut newcomer = late_node.ws_as(viewer(&format!("new-{run}"))).await;
    let shown = within(&mut newcomer, expiry, is("stream_started")).await;
    assert_eq!(shown["streamData"]["streamId"], started["data"]["streamId"]);
    assert_eq!(shown["streamData"]["likes"], 1, "{shown}");
    within(&mut watcher, expiry, |v| {
        v["type"] == "stream_update" && v["viewerCount"] == 2
    })
    .await;
}

async fn healthy(node: &NodeProcess) {
    let (ok, h) = eventually(Duration::from_secs(15), || async {
        let (_, h) = node.health().await;
        (h["status"] == "ok", h)
    })
    .await;
    assert!(ok, "{h}");
}

#[actix_web::test]
async fn a_redis_restart_keeps_one_stream_live() {
    let Some(services) = services() else { return };
    let port = free_port();
    let redis = PrivateRedis::start(port);
    let url = redis.url();
    let prefix = format!("sbtest-streamkey-{}", uuid::Uuid::new_v4().simple());
    let spec = |id| NodeSpec {
        id,
        database_url: &services.database_url,
        redis_url: Some(&url),
        prefix: &prefix,
        env: &[],
    };
    let (a, b) = (
        NodeProcess::start(spec("key-a")),
        NodeProcess::start(spec("key-b")),
    );
    let host = token("key-host", "admin");
    let body = json!({"title": "Through a Redis restart"});
    healthy(&a).await;
    healthy(&b).await;
    let (status, started) = a
        .call("POST", "/api/live/streams", Some(&body), Some(&host))
        .await;
    assert_eq!(status, 201, "{started}");
    let id = started["data"]["streamId"].as_str().unwrap().to_owned();
    let key = format!("{prefix}:stream:live");
    let holder = || {
        let mut conn = redis::Client::open(url.as_str())
            .and_then(|c| c.get_connection())
            .expect("the test's Redis");
        redis::cmd("GET")
            .arg(&key)
            .query::<Option<String>>(&mut conn)
            .expect("GET")
    };
    assert_eq!(holder().as_deref(), Some(id.as_str()));

    // Redis restarts empty: the nodes showing the stream take its key again (after
    // checking that it still runs), so no node can start a second one.
    drop(redis);
    let _redis = PrivateRedis::start(port);
    healthy(&a).await;
    healthy(&b).await;
    let (ok, held) = eventually(Duration::from_secs(5), || async {
        let held = holder();
        (held.as_deref() == Some(id.as_str()), held)
    })
    .await;
    assert!(ok, "the key after the restart: {held:?}");
    let (status, refused) = b
        .call("POST", "/api/live/streams", Some(&body), Some(&host))
        .await;
    assert_eq!(status, 409, "{refused}");
    // B shows the stream again (it may take a moment to hear of it after the restart).
    let (ok, shown) = eventually(Duration::from_secs(5), || async {
        let (_, shown) = b.call("GET", "/api/live/streams/current", None, None).await;
        (
            shown["data"]["streamData"]["streamId"] == id.as_str(),
            shown,
        )
    })
    .await;
    assert!(ok, "B after the restart: {shown}");

    // Stopped: the key is released for good (no node takes it again), and the next
    // stream starts.
    let (status, _) = b
        .call(
            "POST",
            &format!("/api/live/streams/{id}/stop"),
            None,
            Some(&host),
        )
        .await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(holder(), None, "a stopped stream's key came back");
    let (status, next) = a
        .call("POST", "/api/live/streams", Some(&body), Some(&host))
        .await;
    assert_eq!(status, 201, "{next}");
}

#[actix_web::test]
async fn one_peer_id_registered_on_two_nodes_at_once_goes_to_one() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["peer-a", "peer-b"]);
    let run = uuid::Uuid::new_v4().simple().to_string();
    for round in 0..5 {
        let peer = format!("contested-{run}-{round}");
        let mut on_a = cluster.nodes[0]
            .ws_as(viewer(&format!("pa-{run}-{round}")))
            .await;
        let mut on_b = cluster.nodes[1]
            .ws_as(viewer(&format!("pb-{run}-{round}")))
            .await;
        let register = json!({"type": "webrtc_register", "peerId": peer, "userType": "customer"});
        futures::join!(on_a.send(register.clone()), on_b.send(register));
        let answer = |v: &Value| v["type"] == "webrtc_registered" || v["type"] == "error";
        let (a, b) = futures::join!(on_a.recv_until(answer), on_b.recv_until(answer));
        let mut kinds = [a["type"].clone(), b["type"].clone()];
        kinds.sort_by_key(|k| k.to_string());
        assert_eq!(
            kinds,
            [json!("error"), json!("webrtc_registered")],
            "{a} {b}"
        );
        let refused = if a["type"] == "error" { &a } else { &b };
        assert_eq!(refused["message"], "peerId already registered", "{refused}");
    }
}

/// Taps on two nodes, shown on each node once: every node sends its own interval's
/// counts to the others and shows theirs with its own.
#[actix_web::test]
async fn reactions_from_every_node_are_counted_once_everywhere() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["react-a", "react-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let host = token("react-host", "admin");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut on_a = a.ws_as(viewer(&format!("ra-{run}"))).await;
    let mut on_b = b.ws_as(viewer(&format!("rb-{run}"))).await;
    let (status, started) = a
        .call(
            "POST",
            "/api/live/streams",
            Some(&json!({"title": "Reactions"})),
            Some(&host),
        )
        .await;
    assert_eq!(status, 201, "{started}");
    on_a.recv_until(is("stream_started")).await;
    on_b.recv_until(is("stream_started")).await;
    for _ in 0..4 {
        on_a.send(json!({"type": "reaction", "emoji": "🔥"})).await;
    }
    for _ in 0..3 {
        on_b.send(json!({"type": "reaction", "emoji": "🔥"})).await;
    }
    on_b.send(json!({"type": "reaction", "emoji": "👍"})).await;
    for v in [&mut on_a, &mut on_b] {
        let mut fire = 0;
        let mut thumbs = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(2000);
        while let Ok(f) = tokio::time::timeout_at(deadline, v.recv()).await {
            if f["type"] == "reactions" {
                fire += f["counts"]["🔥"].as_i64().unwrap_or(0);
                thumbs += f["counts"]["👍"].as_i64().unwrap_or(0);
            }
        }
        assert_eq!((fire, thumbs), (7, 1));
    }
}

/// A message pinned through one node is shown on the others, to viewers there now and
/// to those who arrive later, and unpinned everywhere.
#[actix_web::test]
async fn a_pinned_message_is_shown_on_every_node() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["pin-a", "pin-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let host = token("pin-host", "admin");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut on_b = b.ws_as(viewer(&format!("pb-{run}"))).await;
    let (status, started) = a
        .call(
            "POST",
            "/api/live/streams",
            Some(&json!({"title": "Pins"})),
            Some(&host),
        )
        .await;
    assert_eq!(status, 201, "{started}");
    let id = started["data"]["streamId"].as_str().unwrap().to_owned();
    on_b.recv_until(is("stream_started")).await;
    let path = format!("/api/live/streams/{id}/pinned-message");
    let body = json!({"message": "Free shipping today"});
    let (status, pinned) = a.call("PUT", &path, Some(&body), Some(&host)).await;
    assert_eq!(status, 200, "{pinned}");
    let shown = on_b.recv_until(is("pinned_message")).await;
    assert_eq!(shown["message"]["message"], "Free shipping today");
    let mut late = b.ws_as(viewer(&format!("pl-{run}"))).await;
    let got = late.recv_until(is("pinned_message")).await;
    assert_eq!(got["message"]["message"], "Free shipping today");
    let (status, _) = b.call("DELETE", &path, None, Some(&host)).await;
    assert_eq!(status, 200);
    for v in [&mut on_b, &mut late] {
        let cleared = v.recv_until(is("pinned_message")).await;
        assert_eq!(cleared["message"], Value::Null);
    }
}

/// Chat rules set through one node hold on the others, for lines written there.
#[actix_web::test]
async fn chat_limits_set_on_one_node_hold_on_another() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["lim-a", "lim-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let host = token("lim-host", "admin");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut on_b = b.ws_as(viewer(&format!("lb-{run}"))).await;
    let (status, started) = a
        .call(
            "POST",
            "/api/live/streams",
            Some(&json!({"title": "Limits"})),
            Some(&host),
        )
        .await;
    assert_eq!(status, 201, "{started}");
    let id = started["data"]["streamId"].as_str().unwrap().to_owned();
    on_b.recv_until(is("stream_started")).await;
    let path = format!("/api/live/streams/{id}/chat-settings");
    let body = json!({"maxChars": 10, "perMinute": 1});
    let (status, answer) = a.call("PUT", &path, Some(&body), Some(&host)).await;
    assert_eq!(status, 200, "{answer}");
    on_b.recv_until(is("chat_settings")).await;
    on_b.send(json!({"type": "chat_message", "message": "far too long a line"}))
        .await;
    let e = on_b.recv_until(is("error")).await;
    assert_eq!(e["message"], "Message too long (max 10 characters)");
    on_b.send(json!({"type": "chat_message", "message": "short"}))
        .await;
    on_b.recv_until(is("chat_message")).await;
    on_b.send(json!({"type": "chat_message", "message": "again"}))
        .await;
    let e = on_b.recv_until(is("error")).await;
    assert_eq!(e["message"], "You are writing too fast");
}

/// The standing rules hold on every node: a moderator named on A acts on B, a
/// blocked term set on A is refused on B, a timeout made on B reaches the viewer's
/// other tab on A, and a ban lifted on A is heard on B; the log, in the shared
/// database, shows each action whichever node took it.
#[actix_web::test]
async fn moderators_bans_and_blocked_terms_hold_on_every_node() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["mod-a", "mod-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let host_token = token("mod-host", "admin");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let body = json!({"title": "Moderated", "quality": "720p"});
    let (status, started) = a
        .call("POST", "/api/live/streams", Some(&body), Some(&host_token))
        .await;
    assert_eq!(status, 201, "{started}");
    let signed_in = |user: &str, tab: &str| json!({"type": "register", "sessionId": format!("{tab}-{run}"), "token": token(user, "customer")});
    let (mod_id, user) = (format!("mod-{run}"), format!("user-{run}"));
    let mut moderator = b.ws_as(signed_in(&mod_id, "m")).await;
    let mut viewer_b = b.ws_as(signed_in(&user, "tab1")).await;
    let mut host = a
        .ws_as(json!({"type": "register_admin", "userId": "mod-host", "token": host_token}))
        .await;

    let (status, _) = a
        .call(
            "PUT",
            &format!("/api/live/moderators/{mod_id}"),
            Some(&json!({})),
            Some(&host_token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        moderator.recv_until(is("chat_role")).await["moderator"],
        true
    );
    let terms = json!({"terms": ["spam*"]});
    let (status, _) = a
        .call(
            "PUT",
            "/api/live/blocked-terms",
            Some(&terms),
            Some(&host_token),
        )
        .await;
    assert_eq!(status, 200);
    // The change travels by pub/sub: wait until B has it.
    let mut blocked = false;
    for _ in 0..50 {
        viewer_b
            .send(json!({"type": "chat_message", "message": "SPAMMY offer"}))
            .await;
        let next = viewer_b
            .recv_until(|v| v["type"] == "error" || v["type"] == "chat_message")
            .await;
        if next["type"] == "error" {
            assert_eq!(
                next["message"], "Your message was not sent: it contains a blocked term",
                "{next}"
            );
            blocked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(blocked, "the blocked term reached B");

    viewer_b
        .send(json!({"type": "chat_message", "message": "an honest line"}))
        .await;
    let line = host
        .recv_until(|v| v["type"] == "chat_message" && v["message"] == "an honest line")
        .await;
    moderator
        .send(json!({"type": "chat_timeout", "messageId": line["id"], "durationSeconds": 600}))
        .await;
    assert_eq!(
        moderator.recv_until(is("chat_moderated")).await["action"],
        "timeout"
    );
    viewer_b.recv_until(is("chat_banned")).await;
    let mut viewer_a = a.ws_as(signed_in(&user, "tab2")).await;
    viewer_a.recv_until(is("chat_banned")).await;
    viewer_a
        .send(json!({"type": "chat_message", "message": "from my other tab"}))
        .await;
    assert_eq!(
        viewer_a.recv_until(is("error")).await["message"],
        "You are timed out"
    );

    let (status, _) = a
        .call(
            "DELETE",
            &format!("/api/live/bans/{user}"),
            None,
            Some(&host_token),
        )
        .await;
    assert_eq!(status, 200);
    viewer_b.recv_until(is("chat_ban_lifted")).await;
    let (status, log) = a
        .call("GET", "/api/live/moderation-log", None, Some(&host_token))
        .await;
    assert_eq!(status, 200, "{log}");
    let actions: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["unban", "timeout", "blocked_terms", "moderator_add"],
        "{log}"
    );
}
