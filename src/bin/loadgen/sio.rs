//! `--mode sio`: seed 004 pairs over Socket.IO (WebSocket transport).

use super::*;

/// A Socket.IO client over the WebSocket transport, namespace `/`, as far as the load
/// test needs: connect with a token, emit, receive events, answer pings.
async fn sio_connect(ws_url: &str, token: &str) -> Result<Conn, String> {
    let base = ws_url.trim_end_matches("/ws");
    let mut conn = connect(&format!("{base}/socket.io/?EIO=4&transport=websocket")).await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    sio_raw(&mut conn, deadline, |t| t.starts_with('0')).await?;
    conn.send(ws::Message::Text(
        format!("40{}", json!({ "token": token })).into(),
    ))
    .await
    .map_err(|e| e.to_string())?;
    sio_raw(&mut conn, deadline, |t| t.starts_with("40")).await?;
    Ok(conn)
}

/// The next Engine.IO text packet matching `want` (answering pings on the way).
async fn sio_raw(
    conn: &mut Conn,
    until: Instant,
    want: impl Fn(&str) -> bool,
) -> Result<String, String> {
    loop {
        let left = until
            .checked_duration_since(Instant::now())
            .ok_or("timed out")?;
        match tokio::time::timeout(left, conn.next()).await {
            Ok(Some(Ok(Frame::Text(b)))) => {
                let text = String::from_utf8_lossy(&b).into_owned();
                if text == "2" {
                    let _ = conn.send(ws::Message::Text("3".into())).await;
                } else if want(&text) {
                    return Ok(text);
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => return Err("connection closed".into()),
        }
    }
}

/// The next EVENT: its name and first argument.
async fn sio_event(conn: &mut Conn, until: Instant) -> Option<(String, Value)> {
    let text = sio_raw(conn, until, |t| t.starts_with("42")).await.ok()?;
    let Value::Array(mut args) = serde_json::from_str(&text[2..]).ok()? else {
        return None;
    };
    let data = if args.len() > 1 {
        args.swap_remove(1)
    } else {
        Value::Null
    };
    Some((args.first()?.as_str()?.to_owned(), data))
}

async fn sio_emit(conn: &mut Conn, event: &str, data: Value) -> Result<(), String> {
    conn.send(ws::Message::Text(
        format!("42{}", json!([event, data])).into(),
    ))
    .await
    .map_err(|e| e.to_string())
}

/// A seed 004 session: REST creates it, both sides join it over Socket.IO.
/// `urls`: the customer's node and the agent's.
pub async fn run_sio_pair(
    (url, agent_url): (String, String),
    customer_token: String,
    agent_token: String,
    start: Instant,
    end: Instant,
) -> Result<Samples, String> {
    let http = health_url(&url).trim_end_matches("/health").to_owned();
    let mut resp = awc::Client::new()
        .post(format!("{http}/api/v1/chat/sessions"))
        .insert_header(("Authorization", format!("Bearer {customer_token}")))
        .send_json(&json!({"subject": "loadgen"}))
        .await
        .map_err(|e| e.to_string())?;
    let body: Value = resp.json().await.map_err(|e| e.to_string())?;
    let session = body["data"]["id"]
        .as_str()
        .ok_or_else(|| format!("no session: {body}"))?
        .to_owned();
    let join = json!({ "session_id": session });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut agent = sio_connect(&agent_url, &agent_token).await?;
    sio_emit(&mut agent, "join_session", join.clone()).await?;
    let mut customer = sio_connect(&url, &customer_token).await?;
    sio_emit(&mut customer, "join_session", join).await?;
    for conn in [&mut agent, &mut customer] {
        while sio_event(conn, deadline).await.ok_or("join failed")?.0 != "session_joined" {}
    }
    tokio::time::sleep_until(start.into()).await;

    let grace = end + Duration::from_secs(2);
    let agent_loop = async {
        let mut s = Samples::default();
        while let Some((event, data)) = sio_event(&mut agent, grace).await {
            s.frames += 1;
            let m = &data["message"];
            match event.as_str() {
                "new_message" if m["sender_role"] == "customer" => {
                    if let Some(sent) = m["content"].as_str().and_then(|t| t.parse::<u64>().ok()) {
                        s.to_staff_us.push(now_us().saturating_sub(sent));
                    }
                    let reply = json!({"session_id": session, "content": now_us().to_string()});
                    if sio_emit(&mut agent, "send_message", reply).await.is_err() {
                        break;
                    }
                }
                "error" => s.errors += 1,
                _ => {}
            }
        }
        s
    };
    let customer_loop = async {
        let mut s = Samples::default();
        while Instant::now() < end {
            let sent_at = Instant::now();
            let msg = json!({"session_id": session, "content": now_us().to_string()});
            if sio_emit(&mut customer, "send_message", msg).await.is_err() {
                break;
            }
            let mut replied = false;
            while let Some((event, data)) = sio_event(&mut customer, grace).await {
                s.frames += 1;
                let m = &data["message"];
                match event.as_str() {
                    "new_message" if m["sender_role"] == "agent" => {
                        if let Some(sent) =
                            m["content"].as_str().and_then(|t| t.parse::<u64>().ok())
                        {
                            s.to_customer_us.push(now_us().saturating_sub(sent));
                        }
                        s.round_trip_us.push(sent_at.elapsed().as_micros() as u64);
                        replied = true;
                        break;
                    }
                    "error" => s.errors += 1,
                    _ => {}
                }
            }
            if !replied {
                break;
            }
        }
        s
    };
    let (mut a, b) = futures_util::join!(agent_loop, customer_loop);
    a.merge(b);
    Ok(a)
}
