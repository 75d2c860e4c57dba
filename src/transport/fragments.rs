//! Fragmented WebSocket messages (RFC 6455 §5.4): a text or binary frame without FIN,
//! then continuation frames up to one with FIN. Both WebSocket transports put the
//! pieces back together here, with the size limit applied to the whole message.

use actix_http::ws::Item;
use bytes::{Bytes, BytesMut};

/// A whole message put back together from its fragments.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    Text(bytestring::ByteString),
    Binary(Bytes),
}

#[derive(Debug, PartialEq, Eq)]
pub enum FragmentError {
    /// The message grew past the limit (close 1009).
    TooLarge,
    /// Fragments out of order (close 1002).
    Protocol(&'static str),
    /// A text message that is not UTF-8 (close 1007).
    NotUtf8,
}

impl FragmentError {
    /// The RFC 6455 close code.
    pub fn close_code(&self) -> u16 {
        match self {
            FragmentError::TooLarge => 1009,
            FragmentError::Protocol(_) => 1002,
            FragmentError::NotUtf8 => 1007,
        }
    }
}

/// The message being received in fragments, if any.
pub struct Fragments {
    limit: usize,
    partial: Option<(bool, BytesMut)>,
}

impl Fragments {
    /// `limit`: the largest whole message, in bytes.
    pub fn new(limit: usize) -> Self {
        Fragments {
            limit,
            partial: None,
        }
    }

    /// Is a fragmented message under way? (Then no other data frame may start.)
    pub fn in_progress(&self) -> bool {
        self.partial.is_some()
    }

    /// Take one fragment; a whole message comes back with its last fragment.
    pub fn push(&mut self, item: Item) -> Result<Option<Message>, FragmentError> {
        let (text, first) = match &item {
            Item::FirstText(_) => (true, true),
            Item::FirstBinary(_) => (false, true),
            Item::Continue(_) | Item::Last(_) => (false, false),
        };
        if first == self.partial.is_some() {
            self.partial = None;
            return Err(FragmentError::Protocol(if first {
                "a new message began before the last one ended"
            } else {
                "a continuation frame without a message to continue"
            }));
        }
        let (bytes, last) = match item {
            Item::FirstText(b) | Item::FirstBinary(b) | Item::Continue(b) => (b, false),
            Item::Last(b) => (b, true),
        };
        let (is_text, buf) = self.partial.get_or_insert_with(|| (text, BytesMut::new()));
        if buf.len() + bytes.len() > self.limit {
            self.partial = None;
            return Err(FragmentError::TooLarge);
        }
        buf.extend_from_slice(&bytes);
        if !last {
            return Ok(None);
        }
        let is_text = *is_text;
        let whole = std::mem::take(buf).freeze();
        self.partial = None;
        if !is_text {
            return Ok(Some(Message::Binary(whole)));
        }
        bytestring::ByteString::try_from(whole)
            .map(|t| Some(Message::Text(t)))
            .map_err(|_| FragmentError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn reassembles_text_and_binary() {
        let mut f = Fragments::new(100);
        assert_eq!(f.push(Item::FirstText(b("{\"type\":"))), Ok(None));
        assert!(f.in_progress());
        assert_eq!(f.push(Item::Continue(b("\"pi"))), Ok(None));
        assert_eq!(
            f.push(Item::Last(b("ng\"}"))),
            Ok(Some(Message::Text("{\"type\":\"ping\"}".into())))
        );
        assert!(!f.in_progress());
        assert_eq!(f.push(Item::FirstBinary(b("ab"))), Ok(None));
        assert_eq!(
            f.push(Item::Last(b("c"))),
            Ok(Some(Message::Binary(b("abc"))))
        );
    }

    #[test]
    fn the_limit_is_on_the_whole_message() {
        let mut f = Fragments::new(10);
        assert_eq!(f.push(Item::FirstText(b("123456"))), Ok(None));
        assert_eq!(f.push(Item::Last(b("78901"))), Err(FragmentError::TooLarge));
        // Exactly the limit is fine.
        assert_eq!(f.push(Item::FirstText(b("12345"))), Ok(None));
        assert_eq!(
            f.push(Item::Last(b("67890"))),
            Ok(Some(Message::Text("1234567890".into())))
        );
    }

    #[test]
    fn out_of_order_and_bad_utf8_are_refused() {
        let mut f = Fragments::new(100);
        assert!(matches!(
            f.push(Item::Continue(b("x"))),
            Err(FragmentError::Protocol(_))
        ));
        assert_eq!(f.push(Item::FirstText(b("x"))), Ok(None));
        assert!(matches!(
            f.push(Item::FirstText(b("y"))),
            Err(FragmentError::Protocol(_))
        ));
        assert_eq!(
            f.push(Item::FirstText(Bytes::from_static(&[0xe2, 0x82]))),
            Ok(None)
        );
        assert_eq!(
            f.push(Item::Last(Bytes::from_static(&[0x28]))),
            Err(FragmentError::NotUtf8)
        );
        // A split multi-byte character is fine once whole.
        assert_eq!(
            f.push(Item::FirstText(Bytes::from_static(&[0xe2, 0x82]))),
            Ok(None)
        );
        assert_eq!(
            f.push(Item::Last(Bytes::from_static(&[0xac]))),
            Ok(Some(Message::Text("€".into())))
        );
    }
}
