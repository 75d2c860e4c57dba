//! WebSockets leave their HTTP connection once the 101 is written
//! (`transport::handover`): what a client sends right behind its upgrade request is
//! kept, a refused upgrade gets its whole answer and a closed connection, and
//! `MAX_CONNECTIONS` bounds each worker's open WebSockets. Raw TCP where the bytes
//! on the wire are the point.

use std::time::Duration;

use actix_http::ws::{Codec, Frame, Message};
use bytes::BytesMut;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::{Decoder, Encoder};

use crate::helpers::*;

fn handshake(addr: std::net::SocketAddr, origin: Option<&str>) -> String {
    let origin = origin
        .map(|o| format!("Origin: {o}\r\n"))
        .unwrap_or_default();
    format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\n{origin}Upgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
}

/// Read until the end of the response head; the head, and what came after it.
async fn read_head(tcp: &mut TcpStream) -> (String, BytesMut) {
    let mut buf = BytesMut::new();
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let _ = buf.split_to(end + 4);
            return (head, buf);
        }
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read_buf(&mut buf))
            .await
            .expect("an answer in time")
            .expect("read");
        assert!(n > 0, "the connection closed before the answer: {buf:?}");
    }
}

/// The next frame the server sends.
async fn next_frame(tcp: &mut TcpStream, codec: &mut Codec, buf: &mut BytesMut) -> Frame {
    loop {
        if let Some(frame) = codec.decode(buf).expect("a valid frame") {
            return frame;
        }
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read_buf(buf))
            .await
            .expect("a frame in time")
            .expect("read");
        assert!(n > 0, "the connection closed");
    }
}

/// The next text frame the server sends, as JSON.
async fn next_json(tcp: &mut TcpStream, codec: &mut Codec, buf: &mut BytesMut) -> Value {
    loop {
        if let Frame::Text(t) = next_frame(tcp, codec, buf).await {
            return serde_json::from_slice(&t).expect("JSON");
        }
    }
}

#[actix_web::test]
async fn frames_sent_right_behind_the_upgrade_request_are_kept() {
    let app = spawn_app().await;
    let mut codec = Codec::new().client_mode();
    let mut bytes = BytesMut::from(handshake(app.addr, None).as_bytes());
    for frame in [
        json!({"type": "register", "sessionId": "handover-session-0001"}),
        json!({"type": "customer_message", "message": "in the same packet", "clientId": "c1"}),
    ] {
        codec
            .encode(Message::Text(frame.to_string().into()), &mut bytes)
            .expect("encode");
    }
    let mut tcp = TcpStream::connect(app.addr).await.expect("connect");
    // The request and both frames in one write: the server reads them together.
    tcp.write_all(&bytes).await.expect("write");
    let (head, mut rest) = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let registered = next_json(&mut tcp, &mut codec, &mut rest).await;
    assert_eq!(registered["type"], "registered", "{registered}");
    assert_eq!(registered["sessionId"], "handover-session-0001");
    let ack = loop {
        let frame = next_json(&mut tcp, &mut codec, &mut rest).await;
        if frame["type"] != "conversation_updated" {
            break frame;
        }
    };
    assert_eq!(ack["type"], "message_ack", "{ack}");
    assert_eq!(ack["clientId"], "c1");
}

#[actix_web::test]
async fn a_refused_upgrade_gets_its_whole_answer_and_the_connection_closes() {
    let app = spawn_with(|c| c.allowed_origins = vec!["https://shop.example".into()]).await;
    let mut tcp = TcpStream::connect(app.addr).await.expect("connect");
    tcp.write_all(handshake(app.addr, Some("https://evil.example")).as_bytes())
        .await
        .expect("write");
    let mut answer = Vec::new();
    // To the end: the server closes the connection after the answer.
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer))
        .await
        .expect("the connection closes")
        .expect("read");
    let answer = String::from_utf8(answer).expect("UTF-8");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    let body: Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(
        body,
        json!({"success": false, "message": "Origin not allowed", "code": "forbidden"})
    );
}

async fn ws_status(app: &TestApp) -> Result<WsClient, u16> {
    match awc::Client::new()
        .ws(format!("ws://{}/ws", app.addr))
        .connect()
        .await
    {
        Ok((_, framed)) => Ok(WsClient { framed }),
        Err(awc::error::WsClientError::InvalidResponseStatus(s)) => Err(s.as_u16()),
        Err(e) => panic!("unexpected: {e}"),
    }
}

#[actix_web::test]
async fn max_connections_bounds_the_open_websockets_of_a_worker() {
    // One worker (as every test server): two WebSockets at most.
    let app = spawn_with(|c| c.max_connections = 2).await;
    let first = app.customer("cap-session-00000001", None).await;
    let _second = app.customer("cap-session-00000002", None).await;
    assert_eq!(ws_status(&app).await.err(), Some(503), "a third is refused");
    // HTTP is counted apart, and still served.
    let health = awc::Client::new()
        .get(app.url("/health"))
        .send()
        .await
        .expect("health");
    assert!(health.status().is_success(), "{}", health.status());
    // A WebSocket that ends (here its client just goes) makes room for the next one.
    drop(first);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match ws_status(&app).await {
            Ok(_) => break,
            Err(503) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(s) => panic!("no room after a WebSocket closed: {s}"),
        }
    }
}

/// A masked text frame whose payload is not UTF-8 (a client codec would not write one).
const NOT_UTF8_TEXT: [u8; 8] = [0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe];

/// Read frames until the server's close frame; its code.
async fn close_code(tcp: &mut TcpStream, codec: &mut Codec, buf: &mut BytesMut) -> u16 {
    loop {
        if let Frame::Close(reason) = next_frame(tcp, codec, buf).await {
            return reason.map(|r| u16::from(r.code)).unwrap_or(0);
        }
    }
}

#[actix_web::test]
async fn text_that_is_not_utf8_is_refused_with_1007_on_both_websockets() {
    let app = spawn_app().await;
    let sio =
        handshake(app.addr, None).replace("GET /ws ", "GET /socket.io/?EIO=4&transport=websocket ");
    for request in [handshake(app.addr, None), sio] {
        let mut tcp = TcpStream::connect(app.addr).await.expect("connect");
        tcp.write_all(request.as_bytes()).await.expect("write");
        let (head, mut rest) = read_head(&mut tcp).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        tcp.write_all(&NOT_UTF8_TEXT).await.expect("write");
        let mut codec = Codec::new().client_mode();
        let code = close_code(&mut tcp, &mut codec, &mut rest).await;
        assert_eq!(code, 1007, "{request}");
    }
}

#[actix_web::test]
async fn a_plain_get_of_the_websocket_path_gets_the_handshake_error() {
    let app = spawn_app().await;
    let mut tcp = TcpStream::connect(app.addr).await.expect("connect");
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        app.addr
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let (head, _) = read_head(&mut tcp).await;
    assert!(
        head.starts_with("HTTP/1.1 400 No WebSocket Upgrade header found"),
        "{head}"
    );
}
