//! Cleaning and bounding what clients send. Text is stored as given, minus control
//! characters; escaping is the renderer's job.

use crate::error::AppError;

/// Longest accepted conversation/session id.
pub const MAX_ID_LEN: usize = 128;

/// Strip control characters other than newline and tab, trim, and bound the length.
pub fn message_text(raw: &str, max_chars: usize) -> Result<String, AppError> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        return Err(AppError::validation("Message cannot be empty"));
    }
    if cleaned.chars().count() > max_chars {
        return Err(AppError::validation(format!(
            "Message too long (max {max_chars} characters)"
        )));
    }
    Ok(cleaned.to_owned())
}

/// Session ids are client-chosen: printable ASCII without spaces, bounded.
pub fn session_id(raw: &str) -> Result<&str, AppError> {
    if raw.is_empty() {
        return Err(AppError::validation("sessionId is required"));
    }
    if raw.len() > MAX_ID_LEN {
        return Err(AppError::validation(format!(
            "sessionId too long (max {MAX_ID_LEN} characters)"
        )));
    }
    if !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::validation("sessionId has invalid characters"));
    }
    Ok(raw)
}

/// Shortest id an anonymous session may use: its id is its only secret.
pub const MIN_ANONYMOUS_ID_LEN: usize = 16;

/// An anonymous caller's session id must be long enough to be unguessable.
pub fn anonymous_session_id(raw: &str) -> Result<&str, AppError> {
    let id = session_id(raw)?;
    if id.len() < MIN_ANONYMOUS_ID_LEN {
        return Err(AppError::validation(format!(
            "sessionId must be at least {MIN_ANONYMOUS_ID_LEN} characters (use a random id such as a UUID)"
        )));
    }
    Ok(id)
}

/// A client-chosen idempotency key (`clientId`/`temp_id`): same rules as ids.
pub fn client_id(raw: Option<&str>) -> Result<Option<String>, AppError> {
    match raw {
        None => Ok(None),
        Some(s)
            if s.is_empty() || s.len() > MAX_ID_LEN || !s.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Err(AppError::validation(format!(
                "clientId must be 1 to {MAX_ID_LEN} printable characters"
            )))
        }
        Some(s) => Ok(Some(s.to_owned())),
    }
}

/// Message types a client may send (`system` and `auth_code` are the server's own).
pub const CLIENT_MESSAGE_TYPES: [&str; 3] = ["text", "image", "file"];

pub fn message_type(raw: Option<&str>) -> Result<String, AppError> {
    match raw {
        None | Some("") => Ok("text".to_owned()),
        Some(t) if CLIENT_MESSAGE_TYPES.contains(&t) => Ok(t.to_owned()),
        Some(_) => Err(AppError::validation(format!(
            "message type must be one of: {}",
            CLIENT_MESSAGE_TYPES.join(", ")
        ))),
    }
}

/// An id given in a field (`userId`, `assignee`): 1 to 255 printable characters.
pub fn id_field(field: &str, raw: &str) -> Result<String, AppError> {
    session_id(raw).map(str::to_owned).map_err(|_| {
        AppError::validation(format!(
            "{field} must be 1 to {MAX_ID_LEN} printable characters"
        ))
    })
}

/// Names chosen from `allowed` (`singular`: what one is called, e.g. `event`), at
/// least one, each once, in the order given.
pub fn names_from(
    asked: &[String],
    allowed: &[&str],
    singular: &str,
) -> Result<Vec<String>, AppError> {
    if asked.is_empty() {
        return Err(
            AppError::validation(format!("{singular}s must name at least one {singular}"))
                .with_detail(format!("one or more of {}", allowed.join(", "))),
        );
    }
    let mut names = Vec::new();
    for n in asked {
        if !allowed.contains(&n.as_str()) {
            return Err(AppError::validation(format!("Unknown {singular}"))
                .with_detail(format!("{n:?} is not one of {}", allowed.join(", "))));
        }
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    Ok(names)
}

/// An optional short text field (subject, category): trimmed, controls stripped, bounded.
pub fn optional_field(
    name: &str,
    raw: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, AppError> {
    let Some(raw) = raw else { return Ok(None) };
    let cleaned: String = raw.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    if cleaned.chars().count() > max_chars {
        return Err(AppError::validation(format!(
            "{name} too long (max {max_chars} characters)"
        )));
    }
    Ok((!cleaned.is_empty()).then(|| cleaned.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_controls_and_bounds() {
        assert_eq!(
            message_text(" hi\u{0}\u{7}\nthere\t ", 100).unwrap(),
            "hi\nthere"
        );
        assert!(message_text("\u{1b}\u{0} ", 100).is_err());
        assert!(message_text(&"é".repeat(11), 10).is_err());
        assert!(message_text(&"é".repeat(10), 10).is_ok());
    }

    #[test]
    fn session_ids() {
        assert!(session_id("sess-uuid-12345").is_ok());
        assert!(session_id("").is_err());
        assert!(session_id("a b").is_err());
        assert!(session_id(&"x".repeat(129)).is_err());
    }
}
