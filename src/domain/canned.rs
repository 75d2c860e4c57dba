//! Canned responses: shared reply snippets, managed by admins, that agents insert in
//! the console by typing `/` and the shortcut. Their text may hold placeholders the
//! console fills in: `{{customer.name}}` and `{{agent.name}}`.

use crate::error::AppError;

/// The longest snippet (a message's limit).
const MAX_CONTENT: usize = 5000;
const MAX_SHORTCUT: usize = 32;

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CannedResponse {
    pub id: String,
    /// What follows `/` in the composer: lowercase letters, digits, `-` and `_`.
    pub shortcut: String,
    pub content: String,
    pub created_by: String,
    pub updated_at: String,
}

/// A shortcut as stored (lowercased), or why it is refused.
pub fn shortcut(s: &str) -> Result<String, AppError> {
    let s = s.trim().trim_start_matches('/').to_lowercase();
    let ok = (1..=MAX_SHORTCUT).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(s)
    } else {
        Err(AppError::validation(format!(
            "shortcut must be 1 to {MAX_SHORTCUT} letters, digits, - or _"
        )))
    }
}

/// A snippet's text, or why it is refused.
pub fn content(s: &str) -> Result<String, AppError> {
    if s.trim().is_empty() || s.chars().count() > MAX_CONTENT {
        return Err(AppError::validation(format!(
            "content must be 1 to {MAX_CONTENT} characters"
        )));
    }
    Ok(s.to_owned())
}

/// The refusal of a shortcut another response has.
pub fn taken() -> AppError {
    AppError::new(
        crate::error::ErrorKind::Conflict,
        "A canned response with this shortcut exists",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_are_lowercase_words_without_the_slash() {
        assert_eq!(shortcut(" /Refund_2 ").unwrap(), "refund_2");
        for bad in ["", "/", "two words", "ünï", &"x".repeat(33)] {
            assert!(shortcut(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn content_is_not_blank_nor_too_long() {
        assert!(content(" ").is_err());
        assert!(content(&"x".repeat(5001)).is_err());
        assert_eq!(
            content("Hi {{customer.name}}").unwrap(),
            "Hi {{customer.name}}"
        );
    }
}
