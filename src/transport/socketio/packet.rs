//! Engine.IO v4 and Socket.IO v5 packet encodings, written to the specifications
//! (`socketio/engine.io-protocol`, `socketio/socket.io-protocol`).

use base64::Engine as _;
use bytes::Bytes;
use bytestring::ByteString;
use serde_json::Value;

/// Polling payloads join packets with the record separator.
pub const SEPARATOR: char = '\x1e';

/// An Engine.IO packet as it travels: text (type digit + data) or a binary message.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Text(ByteString),
    Binary(Bytes),
    /// A WebSocket-level pong (never on polling).
    Pong(Bytes),
    /// Close the WebSocket with this code; nothing follows (never on polling).
    Close(u16),
}

/// A decoded Engine.IO packet from the client.
#[derive(Debug, Clone, PartialEq)]
pub enum EnginePacket {
    Close,
    Ping(String),
    Pong(String),
    Message(String),
    BinaryMessage(Bytes),
    Upgrade,
    Noop,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

pub fn decode_text(text: &str) -> Result<EnginePacket, DecodeError> {
    let mut chars = text.chars();
    let kind = chars.next().ok_or(DecodeError("empty packet"))?;
    let data = chars.as_str();
    Ok(match kind {
        '1' => EnginePacket::Close,
        '2' => EnginePacket::Ping(data.to_owned()),
        '3' => EnginePacket::Pong(data.to_owned()),
        '4' => EnginePacket::Message(data.to_owned()),
        '5' => EnginePacket::Upgrade,
        '6' => EnginePacket::Noop,
        _ => return Err(DecodeError("unknown packet type")),
    })
}

/// A polling POST body: packets separated by `\x1e`, binary ones as `b<base64>`.
pub fn decode_payload(body: &str) -> Result<Vec<EnginePacket>, DecodeError> {
    body.split(SEPARATOR)
        .map(|p| match p.strip_prefix('b') {
            Some(b64) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map(|b| EnginePacket::BinaryMessage(Bytes::from(b)))
                .map_err(|_| DecodeError("invalid base64")),
            None => decode_text(p),
        })
        .collect()
}

/// A polling GET response: the queued frames, binary ones base64-encoded.
pub fn encode_payload(frames: &[Frame]) -> String {
    let mut out = String::new();
    for (i, f) in frames.iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        match f {
            Frame::Text(t) => out.push_str(t),
            Frame::Binary(b) => {
                out.push('b');
                base64::engine::general_purpose::STANDARD.encode_string(b, &mut out);
            }
            // WebSocket control frames: polling has none.
            Frame::Pong(_) | Frame::Close(_) => {}
        }
    }
    out
}

/// Socket.IO packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
}

/// A decoded Socket.IO packet; binary attachments still to come are counted.
#[derive(Debug, Clone, PartialEq)]
pub struct SioPacket {
    pub kind: Kind,
    pub nsp: String,
    pub id: Option<u64>,
    pub data: Option<Value>,
    pub attachments: usize,
}

/// Attachments per packet we accept: more is an attack, not a chat message.
const MAX_ATTACHMENTS: usize = 16;

pub fn decode_sio(text: &str) -> Result<SioPacket, DecodeError> {
    let bytes = text.as_bytes();
    let kind = match bytes.first() {
        Some(b'0') => Kind::Connect,
        Some(b'1') => Kind::Disconnect,
        Some(b'2') => Kind::Event,
        Some(b'3') => Kind::Ack,
        Some(b'4') => Kind::ConnectError,
        Some(b'5') => Kind::BinaryEvent,
        Some(b'6') => Kind::BinaryAck,
        _ => return Err(DecodeError("unknown packet type")),
    };
    let mut i = 1;
    let mut attachments = 0;
    if matches!(kind, Kind::BinaryEvent | Kind::BinaryAck) {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || bytes.get(i) != Some(&b'-') {
            return Err(DecodeError("illegal attachments"));
        }
        attachments = text[start..i]
            .parse()
            .map_err(|_| DecodeError("illegal attachments"))?;
        if attachments > MAX_ATTACHMENTS {
            return Err(DecodeError("too many attachments"));
        }
        i += 1;
    }
    let mut nsp = "/".to_owned();
    if bytes.get(i) == Some(&b'/') {
        let end = text[i..].find(',').map_or(text.len(), |p| i + p);
        nsp = text[i..end].to_owned();
        i = (end + 1).min(text.len());
    }
    let mut id = None;
    let start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i > start {
        id = Some(
            text[start..i]
                .parse()
                .map_err(|_| DecodeError("invalid ack id"))?,
        );
    }
    let data = if i < text.len() {
        Some(serde_json::from_str::<Value>(&text[i..]).map_err(|_| DecodeError("invalid JSON"))?)
    } else {
        None
    };
    let valid = match kind {
        Kind::Connect => matches!(data, None | Some(Value::Object(_))),
        Kind::Disconnect => data.is_none(),
        Kind::ConnectError => false, // only servers send it
        Kind::Event | Kind::BinaryEvent => matches!(&data,
            Some(Value::Array(a)) if a.first().is_some_and(Value::is_string)),
        Kind::Ack | Kind::BinaryAck => id.is_some() && matches!(data, Some(Value::Array(_))),
    };
    if !valid {
        return Err(DecodeError("invalid payload"));
    }
    Ok(SioPacket {
        kind,
        nsp,
        id,
        data,
        attachments,
    })
}

/// `<type>[<attachments>-][<nsp>,][<id>][<json>]`, wrapped in an Engine.IO message.
pub fn encode_sio(kind: Kind, nsp: &str, id: Option<u64>, data: Option<&Value>) -> String {
    encode_sio_with(kind, 0, nsp, id, data)
}

fn encode_sio_with(
    kind: Kind,
    attachments: usize,
    nsp: &str,
    id: Option<u64>,
    data: Option<&Value>,
) -> String {
    let mut out = String::with_capacity(64);
    out.push('4');
    out.push(char::from(b'0' + kind as u8));
    if attachments > 0 {
        out.push_str(&attachments.to_string());
        out.push('-');
    }
    if nsp != "/" {
        out.push_str(nsp);
        out.push(',');
    }
    if let Some(id) = id {
        out.push_str(&id.to_string());
    }
    if let Some(data) = data {
        out.push_str(&data.to_string());
    }
    out
}

/// An EVENT with its name and arguments, as one Engine.IO message (written straight
/// out: broadcasts are encoded here, and the arguments need not be copied).
pub fn encode_event(nsp: &str, event: &str, args: &[&Value]) -> String {
    let mut out = encode_sio_with(Kind::Event, 0, nsp, None, None);
    out.push('[');
    out.push_str(&Value::String(event.to_owned()).to_string());
    for arg in args {
        out.push(',');
        out.push_str(&arg.to_string());
    }
    out.push(']');
    out
}

/// An EVENT or ACK carrying binary parts: the packet with placeholders, then the parts.
pub fn encode_binary(
    kind: Kind,
    nsp: &str,
    id: Option<u64>,
    data: &Value,
    parts: Vec<Bytes>,
) -> Vec<Frame> {
    let kind = match (kind, parts.is_empty()) {
        (Kind::Event, false) => Kind::BinaryEvent,
        (Kind::Ack, false) => Kind::BinaryAck,
        (k, _) => k,
    };
    let mut frames = vec![Frame::Text(
        encode_sio_with(kind, parts.len(), nsp, id, Some(data)).into(),
    )];
    frames.extend(parts.into_iter().map(Frame::Binary));
    frames
}

/// The binary part a `{"_placeholder":true,"num":n}` stands for.
pub fn placeholder(value: &Value, parts: &[Bytes]) -> Option<Bytes> {
    let obj = value.as_object()?;
    if obj.get("_placeholder") != Some(&Value::Bool(true)) {
        return None;
    }
    let n = obj.get("num")?.as_u64()?;
    parts.get(usize::try_from(n).ok()?).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_socket_io_packets() {
        let p = decode_sio("0/support,{\"token\":\"t\"}").unwrap();
        assert_eq!(p.kind, Kind::Connect);
        assert_eq!(p.nsp, "/support");
        assert_eq!(p.data, Some(json!({"token": "t"})));

        let p = decode_sio("2[\"hello\",1]").unwrap();
        assert_eq!((p.nsp.as_str(), p.id), ("/", None));

        let p = decode_sio("20[\"hello\"]").unwrap();
        assert_eq!(p.id, Some(0), "ack id 0 is an ack id");

        let p = decode_sio("3/admin,12[\"ok\"]").unwrap();
        assert_eq!((p.kind, p.id), (Kind::Ack, Some(12)));

        let p = decode_sio("51-/x,[\"up\",{\"_placeholder\":true,\"num\":0}]").unwrap();
        assert_eq!(
            (p.kind, p.attachments, p.nsp.as_str()),
            (Kind::BinaryEvent, 1, "/x")
        );

        let p = decode_sio("1/support,").unwrap();
        assert_eq!((p.kind, p.nsp.as_str()), (Kind::Disconnect, "/support"));
    }

    #[test]
    fn refuses_malformed_packets() {
        for bad in [
            "",
            "9",
            "abc",
            "2",
            "2{}",
            "2[]",
            "2[1]",
            "2[\"x\"",
            "0[]",
            "1{}",
            "3[\"no id\"]",
            "5[\"x\"]",
            "5x-[\"x\"]",
            "599-[\"x\"]",
            "4{\"message\":\"x\"}",
        ] {
            assert!(decode_sio(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn encodes_packets() {
        assert_eq!(
            encode_event("/", "hi", &[&json!({"a": 1})]),
            "42[\"hi\",{\"a\":1}]"
        );
        assert_eq!(
            encode_sio(
                Kind::ConnectError,
                "/random",
                None,
                Some(&json!({"message": "Invalid namespace"}))
            ),
            "44/random,{\"message\":\"Invalid namespace\"}"
        );
        assert_eq!(
            encode_sio(Kind::Ack, "/", Some(0), Some(&json!([]))),
            "430[]"
        );
        let frames = encode_binary(
            Kind::Ack,
            "/s",
            Some(3),
            &json!([{"_placeholder": true, "num": 0}]),
            vec![Bytes::from_static(b"\x01\x02")],
        );
        assert_eq!(
            frames[0],
            Frame::Text("461-/s,3[{\"_placeholder\":true,\"num\":0}]".into())
        );
        assert_eq!(frames[1], Frame::Binary(Bytes::from_static(b"\x01\x02")));
    }

    #[test]
    fn polling_payloads_round_trip() {
        let frames = vec![
            Frame::Text("4hello".into()),
            Frame::Binary(Bytes::from_static(&[1, 2, 3, 4])),
        ];
        let body = encode_payload(&frames);
        assert_eq!(body, "4hello\x1ebAQIDBA==");
        assert_eq!(
            decode_payload(&body).unwrap(),
            vec![
                EnginePacket::Message("hello".into()),
                EnginePacket::BinaryMessage(Bytes::from_static(&[1, 2, 3, 4]))
            ]
        );
        assert!(decode_payload("abc").is_err());
        assert!(decode_payload("b!!").is_err());
    }
}
