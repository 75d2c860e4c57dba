//! Staff search: by customer name or id, and by message text. The database does the
//! full-text part (SQLite FTS5, PostgreSQL's text search, each behind one query); this
//! is what both share: the words searched for, and a hit's snippet with its matches.

use crate::error::AppError;

/// Words (prefixes, in fact) a query holds at most, and longest word.
const MAX_WORDS: usize = 8;
const MAX_WORD: usize = 64;

/// Where a snippet's matches start and end, as the database marks them (never in
/// message text, which refuses control characters).
pub const MATCH_START: char = '\u{2}';
pub const MATCH_END: char = '\u{3}';

/// What staff typed: its words, lowercased, each matched as a word prefix, all of them
/// required. Anything but letters and digits separates words (and so can never reach
/// a full-text query's syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub text: String,
    pub words: Vec<String>,
}

impl Query {
    pub fn parse(q: &str) -> Result<Query, AppError> {
        let words: Vec<String> = q
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w.to_lowercase().chars().take(MAX_WORD).collect())
            .take(MAX_WORDS)
            .collect();
        if words.is_empty() {
            return Err(AppError::validation("q must hold a word to search for"));
        }
        Ok(Query {
            text: q.trim().chars().take(200).collect(),
            words,
        })
    }

    /// SQLite FTS5: each word a quoted prefix, all required.
    pub fn fts5(&self) -> String {
        self.words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// PostgreSQL `to_tsquery('simple', …)`: each word a prefix, all required.
    pub fn tsquery(&self) -> String {
        self.words
            .iter()
            .map(|w| format!("'{w}':*"))
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

/// A message that matched, as staff see it in results.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hit {
    pub message_id: String,
    pub session_id: String,
    pub seq: i64,
    pub sender_type: String,
    pub sender_name: String,
    pub customer_name: String,
    pub timestamp: String,
    /// A staff note.
    pub private: bool,
    /// The text around the matches, in parts; `match: true` for matched words.
    pub parts: Vec<Part>,
}

/// A piece of a snippet: matched text or not.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Part {
    pub text: String,
    #[serde(rename = "match")]
    pub hit: bool,
}

/// A snippet the database marked with `MATCH_START`/`MATCH_END`, in parts, so a page
/// highlights matches without ever treating text as markup.
pub fn parts(marked: &str) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::new();
    let mut hit = false;
    let mut text = String::new();
    for c in marked.chars() {
        if c == MATCH_START || c == MATCH_END {
            if !text.is_empty() {
                out.push(Part {
                    text: std::mem::take(&mut text),
                    hit,
                });
            }
            hit = c == MATCH_START;
        } else {
            text.push(c);
        }
    }
    if !text.is_empty() {
        out.push(Part { text, hit });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_words_that_cannot_carry_syntax() {
        let q = Query::parse(r#"  Refund "OR" 1042*; DROP"#).unwrap();
        assert_eq!(q.words, ["refund", "or", "1042", "drop"]);
        assert_eq!(q.fts5(), r#""refund"* "or"* "1042"* "drop"*"#);
        assert_eq!(q.tsquery(), "'refund':* & 'or':* & '1042':* & 'drop':*");
        assert!(Query::parse(" ;*' ").is_err());
        assert_eq!(
            Query::parse(&"w ".repeat(20)).unwrap().words.len(),
            MAX_WORDS
        );
    }

    #[test]
    fn marked_snippets_come_apart_into_parts() {
        let p = parts("…my \u{2}order\u{3} is \u{2}late\u{3}");
        let got: Vec<(&str, bool)> = p.iter().map(|p| (p.text.as_str(), p.hit)).collect();
        assert_eq!(
            got,
            [
                ("…my ", false),
                ("order", true),
                (" is ", false),
                ("late", true)
            ]
        );
        assert_eq!(parts(""), []);
    }
}
