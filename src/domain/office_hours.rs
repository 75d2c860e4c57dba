//! Office hours: when the team answers (weekly hours in a time zone, less holidays),
//! whether a customer can expect an answer now, and when the next hours begin.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The desk setting they are kept under.
pub const OFFICE_HOURS: &str = "office_hours";

/// The days as the wire names them, Monday first (chrono's `num_days_from_monday`).
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The most spans one day may have, and holidays the settings may list.
const MAX_SPANS: usize = 8;
const MAX_HOLIDAYS: usize = 400;
const MAX_AUTO_REPLY: usize = 2000;

/// Hours on one day, in minutes after local midnight: `open` until before `close`
/// (`close` up to 1440, midnight at the day's end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub open: u16,
    pub close: u16,
}

/// The team's hours, as an admin sets them.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficeHours {
    pub time_zone: Tz,
    /// Monday first.
    pub weekly: [Vec<Span>; 7],
    /// Local dates on which the team does not answer, sorted.
    pub holidays: Vec<NaiveDate>,
    /// Written to a customer who leaves a message while the desk is closed.
    pub auto_reply: Option<String>,
}

/// A span on the wire: `{"open": "09:00", "close": "17:30"}`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpanJson {
    #[schema(example = "09:00")]
    pub open: String,
    #[schema(example = "17:00")]
    pub close: String,
}

/// Office hours on the wire (what `PUT /api/desk/office-hours` takes and both
/// `GET`s answer). Days left out have no hours.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfficeHoursJson {
    /// An IANA time zone, e.g. `Europe/Berlin`.
    #[schema(example = "Europe/Berlin")]
    pub time_zone: String,
    /// By day (`mon` … `sun`): the spans the team answers in.
    #[schema(value_type = Object, example = json!({"mon": [{"open": "09:00", "close": "17:00"}]}))]
    pub weekly: std::collections::BTreeMap<String, Vec<SpanJson>>,
    /// Dates (`YYYY-MM-DD`, local) with no hours.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// An automatic reply to messages left while closed (none when absent or empty).
    #[serde(default)]
    pub auto_reply: Option<String>,
}

fn minutes(field: &str, s: &str) -> Result<u16, AppError> {
    if s == "24:00" {
        return Ok(24 * 60);
    }
    NaiveTime::parse_from_str(s, "%H:%M")
        .map(|t| (t.hour() * 60 + t.minute()) as u16)
        .map_err(|_| AppError::validation(format!("{field} must be a time like 09:00")))
}

fn hh_mm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

impl OfficeHours {
    /// Office hours as given, checked; every fault named.
    pub fn parse(j: &OfficeHoursJson) -> Result<OfficeHours, AppError> {
        let time_zone: Tz = j.time_zone.parse().map_err(|_| {
            AppError::validation("timeZone must be an IANA time zone, like Europe/Berlin")
        })?;
        let mut weekly: [Vec<Span>; 7] = Default::default();
        for (day, spans) in &j.weekly {
            let i = DAYS.iter().position(|d| d == day).ok_or_else(|| {
                AppError::validation(format!("weekly days are {}", DAYS.join(", ")))
            })?;
            if spans.len() > MAX_SPANS {
                return Err(AppError::validation(format!(
                    "{day} has more than {MAX_SPANS} spans"
                )));
            }
            let mut parsed = spans
                .iter()
                .map(|s| {
                    let span = Span {
                        open: minutes(&format!("{day}.open"), &s.open)?,
                        close: minutes(&format!("{day}.close"), &s.close)?,
                    };
                    match span.open < span.close {
                        true => Ok(span),
                        false => Err(AppError::validation(format!(
                            "{day}: each span must close after it opens (split one past midnight in two)"
                        ))),
                    }
                })
                .collect::<Result<Vec<Span>, AppError>>()?;
            parsed.sort_by_key(|s| s.open);
            if parsed.windows(2).any(|w| w[1].open < w[0].close) {
                return Err(AppError::validation(format!("{day}: spans overlap")));
            }
            weekly[i] = parsed;
        }
        if j.holidays.len() > MAX_HOLIDAYS {
            return Err(AppError::validation(format!(
                "at most {MAX_HOLIDAYS} holidays"
            )));
        }
        let mut holidays = j
            .holidays
            .iter()
            .map(|d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| AppError::validation("holidays must be dates like 2026-12-25"))
            })
            .collect::<Result<Vec<NaiveDate>, AppError>>()?;
        holidays.sort();
        holidays.dedup();
        let auto_reply =
            super::text::optional_field("autoReply", j.auto_reply.as_deref(), MAX_AUTO_REPLY)?
                .filter(|r| !r.is_empty());
        Ok(OfficeHours {
            time_zone,
            weekly,
            holidays,
            auto_reply,
        })
    }

    /// Hours as stored (checked when set; a document this server cannot read any more
    /// is logged and read as none: always within hours).
    pub fn from_stored(value: &str) -> Option<OfficeHours> {
        serde_json::from_str(value)
            .map_err(|e| e.to_string())
            .and_then(|j| OfficeHours::parse(&j).map_err(|e| e.to_string()))
            .inspect_err(|e| log::warn!("the stored office hours are unreadable: {e}"))
            .ok()
    }

    pub fn to_json(&self) -> OfficeHoursJson {
        OfficeHoursJson {
            time_zone: self.time_zone.name().to_owned(),
            weekly: DAYS
                .iter()
                .zip(&self.weekly)
                .filter(|(_, spans)| !spans.is_empty())
                .map(|(day, spans)| {
                    let spans = spans
                        .iter()
                        .map(|s| SpanJson {
                            open: hh_mm(s.open),
                            close: hh_mm(s.close),
                        })
                        .collect();
                    (day.to_string(), spans)
                })
                .collect(),
            holidays: self.holidays.iter().map(|d| d.to_string()).collect(),
            auto_reply: self.auto_reply.clone(),
        }
    }

    fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.binary_search(&date).is_ok()
    }

    /// Is `now` within the hours?
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&self.time_zone);
        let minute = (local.hour() * 60 + local.minute()) as u16;
        !self.is_holiday(local.date_naive())
            && self.weekly[local.weekday().num_days_from_monday() as usize]
                .iter()
                .any(|s| s.open <= minute && minute < s.close)
    }

    /// Is today (local) a holiday?
    pub fn is_holiday_at(&self, now: DateTime<Utc>) -> bool {
        self.is_holiday(now.with_timezone(&self.time_zone).date_naive())
    }

    /// When the hours next begin after `now` (`None`: open now, or never within a year).
    pub fn next_open(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.is_open(now) {
            return None;
        }
        let today = now.with_timezone(&self.time_zone).date_naive();
        (0..=366)
            .map(|d| today + Duration::days(d))
            .filter(|date| !self.is_holiday(*date))
            .flat_map(|date| {
                self.weekly[date.weekday().num_days_from_monday() as usize]
                    .iter()
                    .filter_map(move |s| self.instant(date, s.open))
            })
            .find(|t| *t > now)
    }

    /// A local date and minute as an instant; in a daylight-saving gap, when the clock
    /// jumps past it.
    fn instant(&self, date: NaiveDate, minute: u16) -> Option<DateTime<Utc>> {
        let at = date.and_hms_opt(0, 0, 0)? + Duration::minutes(minute.into());
        (0..=2)
            .find_map(|h| {
                self.time_zone
                    .from_local_datetime(&(at + Duration::hours(h)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
    }
}

/// Whether a customer can expect an answer now, and if not why and until when.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeskAvailability {
    /// Within office hours (or none are set) and an agent is online.
    pub open: bool,
    /// Why not: `holiday`, `outside_hours` or `no_agents` (`null` when open).
    pub reason: Option<&'static str>,
    pub within_office_hours: bool,
    /// At least one agent is online (and not away or busy), on any node.
    pub agents_available: bool,
    /// When the office hours next begin (`null`: within them, or none set).
    pub next_open_at: Option<String>,
    /// The hours (`null`: none set, always within them).
    pub office_hours: Option<OfficeHoursJson>,
}

impl DeskAvailability {
    pub fn at(hours: Option<&OfficeHours>, agents_available: bool, now: DateTime<Utc>) -> Self {
        let within = hours.is_none_or(|h| h.is_open(now));
        let reason = match (hours, within, agents_available) {
            (Some(h), false, _) if h.is_holiday_at(now) => Some("holiday"),
            (_, false, _) => Some("outside_hours"),
            (_, true, false) => Some("no_agents"),
            (_, true, true) => None,
        };
        DeskAvailability {
            open: reason.is_none(),
            reason,
            within_office_hours: within,
            agents_available,
            next_open_at: hours
                .and_then(|h| h.next_open(now))
                .map(|t| super::message::iso_timestamp(t.naive_utc())),
            office_hours: hours.map(OfficeHours::to_json),
        }
    }

    /// The automatic reply to a message left now, if any.
    pub fn auto_reply<'a>(&self, hours: Option<&'a OfficeHours>) -> Option<&'a str> {
        match self.open {
            true => None,
            false => hours.and_then(|h| h.auto_reply.as_deref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(json: serde_json::Value) -> Result<OfficeHours, AppError> {
        OfficeHours::parse(&serde_json::from_value(json).expect("shape"))
    }

    fn berlin_weekdays() -> OfficeHours {
        let nine_to_five = serde_json::json!([{"open": "09:00", "close": "17:00"}]);
        hours(serde_json::json!({
            "timeZone": "Europe/Berlin",
            "weekly": {"mon": nine_to_five, "tue": nine_to_five, "wed": nine_to_five,
                       "thu": nine_to_five, "fri": nine_to_five},
            "holidays": ["2026-12-25"],
        }))
        .expect("valid")
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn open_within_local_hours_only() {
        let h = berlin_weekdays();
        // Monday 7 December 2026: Berlin is UTC+1 in winter.
        assert!(!h.is_open(utc("2026-12-07T07:59:00Z")));
        assert!(h.is_open(utc("2026-12-07T08:00:00Z")));
        assert!(h.is_open(utc("2026-12-07T15:59:00Z")));
        assert!(!h.is_open(utc("2026-12-07T16:00:00Z")));
        // Saturday.
        assert!(!h.is_open(utc("2026-12-12T10:00:00Z")));
        // Summer time: UTC+2.
        assert!(h.is_open(utc("2026-07-06T07:00:00Z")));
        assert!(!h.is_open(utc("2026-07-06T06:59:00Z")));
    }

    #[test]
    fn holidays_are_closed_and_skipped() {
        let h = berlin_weekdays();
        // Friday 25 December 2026.
        assert!(!h.is_open(utc("2026-12-25T10:00:00Z")));
        assert!(h.is_holiday_at(utc("2026-12-25T10:00:00Z")));
        // Thursday evening: next is Monday 28th (the Friday is a holiday).
        assert_eq!(
            h.next_open(utc("2026-12-24T17:00:00Z")),
            Some(utc("2026-12-28T08:00:00Z"))
        );
    }

    #[test]
    fn next_open_later_today_tomorrow_or_none_when_open() {
        let h = berlin_weekdays();
        assert_eq!(
            h.next_open(utc("2026-12-07T06:00:00Z")),
            Some(utc("2026-12-07T08:00:00Z"))
        );
        assert_eq!(
            h.next_open(utc("2026-12-07T20:00:00Z")),
            Some(utc("2026-12-08T08:00:00Z"))
        );
        assert_eq!(h.next_open(utc("2026-12-07T09:00:00Z")), None);
        // No hours at all: never.
        let never = hours(serde_json::json!({"timeZone": "UTC", "weekly": {}})).expect("valid");
        assert_eq!(never.next_open(utc("2026-12-07T09:00:00Z")), None);
        assert!(!never.is_open(utc("2026-12-07T09:00:00Z")));
    }

    #[test]
    fn a_day_may_run_to_midnight_and_round_trips() {
        let h = hours(serde_json::json!({"timeZone": "America/New_York",
            "weekly": {"sat": [{"open": "18:00", "close": "24:00"}, {"open": "08:00", "close": "12:00"}]},
            "autoReply": "  We are closed.  "}))
        .expect("valid");
        assert!(h.is_open(utc("2026-12-13T04:59:00Z"))); // Sat 23:59 in New York
        assert_eq!(h.auto_reply.as_deref(), Some("We are closed."));
        let back = h.to_json();
        assert_eq!(back.weekly["sat"][0].open, "08:00");
        assert_eq!(back.weekly["sat"][1].close, "24:00");
        assert_eq!(OfficeHours::parse(&back).expect("again"), h);
    }

    #[test]
    fn bad_settings_are_named() {
        let bad = |json: serde_json::Value, says: &str| {
            let e = hours(json).expect_err("refused");
            assert!(e.to_string().contains(says), "{e} should say {says}");
        };
        bad(
            serde_json::json!({"timeZone": "Mars/Olympus", "weekly": {}}),
            "timeZone",
        );
        bad(
            serde_json::json!({"timeZone": "UTC", "weekly": {"monday": []}}),
            "weekly days",
        );
        bad(
            serde_json::json!({"timeZone": "UTC", "weekly": {"mon": [{"open": "9am", "close": "17:00"}]}}),
            "mon.open",
        );
        bad(
            serde_json::json!({"timeZone": "UTC", "weekly": {"mon": [{"open": "22:00", "close": "02:00"}]}}),
            "close after",
        );
        bad(
            serde_json::json!({"timeZone": "UTC", "weekly": {"mon": [{"open": "09:00", "close": "12:00"}, {"open": "11:00", "close": "13:00"}]}}),
            "overlap",
        );
        bad(
            serde_json::json!({"timeZone": "UTC", "weekly": {}, "holidays": ["25.12.2026"]}),
            "holidays",
        );
    }

    #[test]
    fn availability_says_why_not() {
        let h = berlin_weekdays();
        let open = DeskAvailability::at(Some(&h), true, utc("2026-12-07T09:00:00Z"));
        assert!(open.open && open.reason.is_none() && open.next_open_at.is_none());
        let nobody = DeskAvailability::at(Some(&h), false, utc("2026-12-07T09:00:00Z"));
        assert_eq!((nobody.open, nobody.reason), (false, Some("no_agents")));
        let night = DeskAvailability::at(Some(&h), true, utc("2026-12-07T20:00:00Z"));
        assert_eq!(night.reason, Some("outside_hours"));
        assert_eq!(
            night.next_open_at.as_deref(),
            Some("2026-12-08T08:00:00.000Z")
        );
        let xmas = DeskAvailability::at(Some(&h), true, utc("2026-12-25T09:00:00Z"));
        assert_eq!(xmas.reason, Some("holiday"));
        let unset = DeskAvailability::at(None, true, utc("2026-12-25T09:00:00Z"));
        assert!(unset.open && unset.office_hours.is_none());
    }

    #[test]
    fn a_spring_forward_gap_opens_when_the_clock_jumps() {
        // Berlin, Sunday 29 March 2026: 02:00 becomes 03:00.
        let h = hours(serde_json::json!({"timeZone": "Europe/Berlin",
            "weekly": {"sun": [{"open": "02:30", "close": "05:00"}]}}))
        .expect("valid");
        assert_eq!(
            h.next_open(utc("2026-03-28T12:00:00Z")),
            Some(utc("2026-03-29T01:30:00Z"))
        );
    }
}
