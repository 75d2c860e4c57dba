//! The live chat's standing rules: moderators, timeouts and bans, and blocked terms.
//! They belong to the channel, not to one stream (as on Twitch): a ban outlasts the
//! stream it was made in. Every change, and every other moderation action, is logged
//! with who made it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::Caller;
use crate::error::AppError;

/// Who writes in the live chat, as moderation knows them: a signed-in user by their
/// user id; a guest as `guest:ID`, an anonymous viewer as `session:ID`. The prefixes
/// keep the kinds apart (a session named like a moderator's user id is not them).
pub fn writer_id(caller: &Caller, session_id: &str) -> String {
    match caller {
        Caller::Staff(i) | Caller::User(i) => i.user_id.clone(),
        Caller::Guest(g) => format!("guest:{g}"),
        Caller::Anonymous(_) => format!("session:{session_id}"),
    }
}

/// A viewer a host made a moderator: they delete lines, time out and ban.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Moderator {
    /// Who, as `writer_id` names them (a user id, `guest:ID` or `session:ID`).
    pub user_id: String,
    pub name: String,
    /// Who made them one (a name).
    pub added_by: String,
    /// ISO 8601.
    pub added_at: String,
}

/// A viewer who may watch but not write: until a time (a timeout), or until lifted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ban {
    /// Who, as `writer_id` names them: a user id, `guest:ID` or `session:ID`.
    pub user_id: String,
    /// The name they wrote under, when known.
    pub name: String,
    pub reason: String,
    /// When a timeout ends (ISO 8601); `null`: banned until lifted.
    pub until: Option<String>,
    /// Who banned them (a name).
    pub banned_by: String,
    /// ISO 8601.
    pub created_at: String,
}

impl Ban {
    /// Still in force at `now` (an ISO 8601 time in the same format, which compares
    /// as text).
    pub fn active(&self, now: &str) -> bool {
        self.until.as_deref().is_none_or(|until| until > now)
    }
}

/// A change to the rules, made on one node and applied on every node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum RuleChange {
    AddModerator(Moderator),
    RemoveModerator {
        user_id: String,
    },
    Ban(Ban),
    Lift {
        user_id: String,
    },
    /// The whole list, as it is now.
    BlockedTerms(Vec<String>),
}

impl RuleChange {
    /// As the log and `chat_moderated` name it.
    pub fn action(&self) -> &'static str {
        match self {
            RuleChange::Ban(b) if b.until.is_some() => "timeout",
            RuleChange::Ban(_) => "ban",
            RuleChange::Lift { .. } => "unban",
            RuleChange::AddModerator(_) => "moderator_add",
            RuleChange::RemoveModerator { .. } => "moderator_remove",
            RuleChange::BlockedTerms(_) => "blocked_terms",
        }
    }

    /// The viewer it is about, if one.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            RuleChange::Ban(Ban { user_id, .. })
            | RuleChange::AddModerator(Moderator { user_id, .. })
            | RuleChange::Lift { user_id }
            | RuleChange::RemoveModerator { user_id } => Some(user_id),
            RuleChange::BlockedTerms(_) => None,
        }
    }

    /// As this server makes them (another node's word is checked before it is taken):
    /// times it wrote, terms as `blocked_term` writes them.
    pub fn well_formed(&self) -> bool {
        use crate::domain::message::parse_iso;
        let time = |t: &str| parse_iso(t).is_some();
        match self {
            RuleChange::AddModerator(m) => time(&m.added_at),
            RuleChange::Ban(b) => time(&b.created_at) && b.until.as_deref().is_none_or(time),
            RuleChange::BlockedTerms(terms) => {
                terms.len() <= MAX_TERMS
                    && terms
                        .iter()
                        .all(|t| blocked_term(t).is_ok_and(|ok| ok == *t))
            }
            RuleChange::RemoveModerator { .. } | RuleChange::Lift { .. } => true,
        }
    }
}

/// One moderation action, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub id: String,
    /// delete, timeout, ban, unban, moderator_add, moderator_remove, blocked_terms,
    /// chat_settings, pin or unpin.
    pub action: String,
    /// Whom or what it was about (a user id, a message id), if anyone.
    pub subject: Option<String>,
    /// What was done, in words (a reason, a duration, the new settings).
    pub detail: String,
    /// Who did it: their user id and name.
    pub by_id: String,
    pub by_name: String,
    /// The stream live at the time, if one was.
    pub stream_id: Option<String>,
    /// ISO 8601.
    pub created_at: String,
}

/// The longest blocked term, and how many there may be.
pub const MAX_TERM_CHARS: usize = 60;
pub const MAX_TERMS: usize = 500;

/// A blocked word or phrase: case-insensitive, matching whole words, `*` standing for
/// any letters within a word (`scam*`, `*coin`), compared after look-alike characters
/// are resolved (Cyrillic `а` is `a`, `ｆｒｅｅ` is `free`, `$c4m` is `scam`, and
/// doubled or accented letters are the letter).
#[derive(Debug, Clone)]
struct Term {
    text: String,
    /// The literal pieces between the `*`s, and whether it starts or ends with one.
    pieces: Vec<String>,
    open_start: bool,
    open_end: bool,
}

/// How a blocked term is written: trimmed, lower case, single spaces; refused when
/// empty, too long, or nothing but wildcards.
pub fn blocked_term(raw: &str) -> Result<String, AppError> {
    let term = raw
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let letters = term.chars().filter(|c| *c != '*' && *c != ' ').count();
    if letters < 2 {
        return Err(AppError::validation(
            "A blocked term needs at least 2 characters besides *",
        ));
    }
    if term.chars().count() > MAX_TERM_CHARS {
        return Err(AppError::validation(format!(
            "A blocked term has at most {MAX_TERM_CHARS} characters"
        )));
    }
    Ok(term)
}

/// The blocked terms, ready to match chat lines against.
#[derive(Debug, Clone, Default)]
pub struct BlockedTerms(Vec<Term>);

impl BlockedTerms {
    /// From terms already written as `blocked_term` writes them.
    pub fn new(terms: &[String]) -> BlockedTerms {
        BlockedTerms(
            terms
                .iter()
                .map(|t| Term {
                    text: t.clone(),
                    pieces: t
                        .split('*')
                        .filter(|p| !p.is_empty())
                        .map(|p| cured(p).map_or_else(|| p.to_owned(), |c| c.to_string()))
                        .collect(),
                    open_start: t.starts_with('*'),
                    open_end: t.ends_with('*'),
                })
                .collect(),
        )
    }

    pub fn list(&self) -> Vec<String> {
        self.0.iter().map(|t| t.text.clone()).collect()
    }

    /// The first blocked term the text contains, if any.
    pub fn find(&self, text: &str) -> Option<&str> {
        if self.0.is_empty() {
            return None;
        }
        let line = cured(text)?;
        self.0
            .iter()
            .find(|t| t.matches(&line))
            .map(|t| t.text.as_str())
    }
}

/// The text with look-alikes resolved (lower case, accents and doubled letters folded,
/// homoglyphs and leetspeak read as letters); emoji are left alone.
fn cured(text: &str) -> Option<decancer::CuredString> {
    let options = decancer::Options::default().retain_emojis();
    decancer::cure(text, options)
        .or_else(|_| decancer::cure(text, options.disable_bidi()))
        .ok()
}

fn word_char(c: char) -> bool {
    c.is_alphanumeric()
}

impl Term {
    /// Somewhere in the line as whole words: the first piece at a word's start (unless
    /// the term starts with `*`), each next piece later in the same word, the last
    /// ending a word (unless the term ends with `*`).
    fn matches(&self, line: &decancer::CuredString) -> bool {
        let s: &str = line;
        let found: Vec<Vec<std::ops::Range<usize>>> =
            self.pieces.iter().map(|p| line.find(p).collect()).collect();
        let Some((first, rest)) = found.split_first() else {
            return false;
        };
        first
            .iter()
            .filter(|r| self.open_start || !before(s, r.start).is_some_and(word_char))
            .any(|r| self.rest_matches(s, rest, r.end))
    }

    /// The pieces after one that ended at `end`: each later in the same word (any of
    /// its places), the last ending a word unless the term ends with `*`.
    fn rest_matches(&self, s: &str, rest: &[Vec<std::ops::Range<usize>>], end: usize) -> bool {
        let Some((next, more)) = rest.split_first() else {
            return self.open_end || !s[end..].chars().next().is_some_and(word_char);
        };
        next.iter()
            .filter(|n| n.start >= end && s[end..n.start].chars().all(word_char))
            .any(|n| self.rest_matches(s, more, n.end))
    }
}

fn before(s: &str, at: usize) -> Option<char> {
    s[..at].chars().next_back()
}

/// The rules as every node holds them: loaded at start, changed by `RuleChange`s.
#[derive(Debug, Clone, Default)]
pub struct ChannelRules {
    pub moderators: HashMap<String, Moderator>,
    /// Bans and timeouts by `user_id`; an ended timeout is dropped when next seen.
    pub bans: HashMap<String, Ban>,
    pub blocked: BlockedTerms,
}

impl ChannelRules {
    pub fn new(moderators: Vec<Moderator>, bans: Vec<Ban>, terms: &[String]) -> Self {
        ChannelRules {
            moderators: moderators
                .into_iter()
                .map(|m| (m.user_id.clone(), m))
                .collect(),
            bans: bans.into_iter().map(|b| (b.user_id.clone(), b)).collect(),
            blocked: BlockedTerms::new(terms),
        }
    }

    pub fn is_moderator(&self, user_id: &str) -> bool {
        self.moderators.contains_key(user_id)
    }

    /// The ban or timeout on `user_id` in force at `now` (ISO 8601), if any.
    pub fn ban_on(&self, user_id: &str, now: &str) -> Option<&Ban> {
        self.bans.get(user_id).filter(|b| b.active(now))
    }

    pub fn apply(&mut self, change: &RuleChange) {
        match change {
            RuleChange::AddModerator(m) => {
                self.moderators.insert(m.user_id.clone(), m.clone());
            }
            RuleChange::RemoveModerator { user_id } => {
                self.moderators.remove(user_id);
            }
            RuleChange::Ban(b) => {
                self.bans.insert(b.user_id.clone(), b.clone());
            }
            RuleChange::Lift { user_id } => {
                self.bans.remove(user_id);
            }
            RuleChange::BlockedTerms(terms) => self.blocked = BlockedTerms::new(terms),
        }
    }

    /// Timeouts that have ended go (a long-running server does not keep them all).
    pub fn forget_ended(&mut self, now: &str) {
        self.bans.retain(|_, b| b.active(now));
    }

    /// Bans and timeouts in force, newest first.
    pub fn active_bans(&self, now: &str) -> Vec<Ban> {
        let mut bans: Vec<Ban> = self
            .bans
            .values()
            .filter(|b| b.active(now))
            .cloned()
            .collect();
        bans.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        bans
    }

    /// Moderators by name.
    pub fn moderator_list(&self) -> Vec<Moderator> {
        let mut list: Vec<Moderator> = self.moderators.values().cloned().collect();
        list.sort_by(|a, b| a.name.cmp(&b.name).then(a.user_id.cmp(&b.user_id)));
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(list: &[&str]) -> BlockedTerms {
        let list: Vec<String> = list.iter().map(|t| blocked_term(t).unwrap()).collect();
        BlockedTerms::new(&list)
    }

    #[test]
    fn whole_words_in_any_case() {
        let t = terms(&["scam"]);
        assert_eq!(t.find("this is a SCAM!"), Some("scam"));
        assert_eq!(t.find("Scam"), Some("scam"));
        assert_eq!(t.find("scampi for dinner"), None);
        assert_eq!(t.find("a noscam zone"), None);
    }

    #[test]
    fn look_alike_spellings_match() {
        let t = terms(&["scam"]);
        // Cyrillic а and с, fullwidth letters, accents, doubled letters, leetspeak.
        for line in [
            "ѕсаm",
            "total ѕсаm",
            "ｓｃａｍ alert",
            "scäm",
            "sсäm",
            "scaaam",
            "$c4m",
            "SC@M",
        ] {
            assert_eq!(t.find(line), Some("scam"), "{line}");
        }
    }

    #[test]
    fn wildcards_stand_for_letters_within_a_word() {
        let t = terms(&["scam*", "*coin", "fr*ud"]);
        assert_eq!(t.find("scammers everywhere"), Some("scam*"));
        assert_eq!(t.find("buy shitcoin now"), Some("*coin"));
        assert_eq!(t.find("pure fraud"), Some("fr*ud"));
        assert_eq!(t.find("frudud"), Some("fr*ud"), "a later place of a piece");
        assert_eq!(t.find("free mud"), None, "a wildcard does not cross words");
        assert_eq!(t.find("coins"), None, "*coin ends a word");
    }

    #[test]
    fn phrases_match_as_words() {
        let t = terms(&["buy now"]);
        assert_eq!(t.find("BUY NOW before it ends"), Some("buy now"));
        assert_eq!(t.find("BUY NOW!!"), Some("buy now"));
        assert_eq!(t.find("buy nowhere"), None);
        assert_eq!(t.find("nothing to see"), None);
    }

    #[test]
    fn terms_are_checked() {
        assert_eq!(blocked_term("  Buy   NOW ").unwrap(), "buy now");
        assert!(blocked_term("*").is_err());
        assert!(blocked_term("a*").is_err());
        assert!(blocked_term(&"x".repeat(61)).is_err());
    }

    #[test]
    fn timeouts_end_and_bans_do_not() {
        let ban = |until: Option<&str>| Ban {
            user_id: "u".into(),
            name: "U".into(),
            reason: String::new(),
            until: until.map(str::to_owned),
            banned_by: "host".into(),
            created_at: "2026-12-02T10:00:00.000Z".into(),
        };
        let now = "2026-12-02T10:05:00.000Z";
        assert!(ban(None).active(now));
        assert!(ban(Some("2026-12-02T10:06:00.000Z")).active(now));
        assert!(!ban(Some("2026-12-02T10:04:59.999Z")).active(now));
        let mut rules =
            ChannelRules::new(Vec::new(), vec![ban(Some("2026-12-02T10:01:00.000Z"))], &[]);
        assert!(rules.ban_on("u", now).is_none());
        rules.forget_ended(now);
        assert!(rules.bans.is_empty());
    }
}
