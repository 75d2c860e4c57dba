//! A conversation's transcript, for staff and for its customer: plain text, or a
//! printable HTML page (every text escaped), attachments listed with their links.

use std::fmt::Write;

use html_escape::{encode_double_quoted_attribute, encode_text};

use super::conversation::Conversation;
use super::message::{Message, SenderKind};

/// What a transcript is made of: the conversation, its messages as the reader may
/// see them (staff: notes too), and where the server is, for absolute file links.
pub struct Transcript<'a> {
    pub conversation: &'a Conversation,
    pub messages: &'a [Message],
    pub base_url: &'a str,
}

fn when(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Who wrote a message, as a transcript names them.
fn who(m: &Message) -> String {
    match (m.private, m.author.kind) {
        (true, _) => format!("{} (private note)", m.author.name),
        (false, SenderKind::System) => "System".to_owned(),
        _ => m.author.name.clone(),
    }
}

fn size(bytes: i64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / f64::from(1 << 10)),
        b => format!("{b} B"),
    }
}

impl Transcript<'_> {
    fn title(&self) -> String {
        let c = self.conversation;
        let name = if c.customer_name.is_empty() {
            "Guest"
        } else {
            &c.customer_name
        };
        match &c.subject {
            Some(s) => format!("Conversation with {name}: {s}"),
            None => format!("Conversation with {name}"),
        }
    }

    pub fn text(&self) -> String {
        let c = self.conversation;
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.title());
        let _ = writeln!(
            out,
            "Conversation {} · {} · started {}",
            c.id,
            c.status.as_str(),
            when(c.created_at)
        );
        for m in self.messages {
            let _ = write!(out, "\n[{}] {}:\n", when(m.created_at), who(m));
            for line in m.content.lines() {
                let _ = writeln!(out, "  {line}");
            }
            for a in &m.attachments {
                let _ = writeln!(
                    out,
                    "  Attachment: {} ({}) {}{}",
                    a.file_name,
                    size(a.size),
                    self.base_url,
                    a.url()
                );
            }
        }
        out
    }

    pub fn html(&self) -> String {
        let c = self.conversation;
        let title = encode_text(&self.title()).into_owned();
        let mut out = String::new();
        let _ = write!(
            out,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
             <style>body{{font:14px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;color:#111}}\
             .m{{margin:.8rem 0;padding:.5rem .8rem;border-left:3px solid #ddd}}.m.staff{{border-color:#2563eb}}\
             .m.note{{border-color:#c9a227;background:#fff8dc}}.m.system{{color:#666;border-color:transparent}}\
             .meta{{color:#666;font-size:.85em}}p{{margin:.2rem 0;white-space:pre-wrap}}\
             @media print{{body{{margin:0}}a{{color:inherit}}}}</style></head><body>\
             <h1>{title}</h1><p class=\"meta\">Conversation {} · {} · started {}</p>",
            encode_text(&c.id),
            c.status.as_str(),
            when(c.created_at)
        );
        for m in self.messages {
            let class = match (m.private, m.author.kind) {
                (true, _) => "note",
                (false, SenderKind::System) => "system",
                (false, k) if k.is_customer() => "customer",
                _ => "staff",
            };
            let _ = write!(
                out,
                "<div class=\"m {class}\"><div class=\"meta\">{} · {}</div><p>{}</p>",
                encode_text(&who(m)),
                when(m.created_at),
                encode_text(&m.content)
            );
            if !m.attachments.is_empty() {
                out.push_str("<ul>");
                for a in &m.attachments {
                    let href = format!("{}{}", self.base_url, a.url());
                    let _ = write!(
                        out,
                        "<li><a href=\"{}\">{}</a> ({})</li>",
                        encode_double_quoted_attribute(&href),
                        encode_text(&a.file_name),
                        size(a.size)
                    );
                }
                out.push_str("</ul>");
            }
            out.push_str("</div>");
        }
        out.push_str("</body></html>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::conversation::{Owner, Status};
    use crate::domain::message::{Attachment, Author};

    fn message(seq: i64, kind: SenderKind, text: &str, private: bool) -> Message {
        Message {
            id: format!("m{seq}"),
            conversation_id: "c1".into(),
            seq,
            author: Author {
                id: "a".into(),
                kind,
                name: "Nora <b>".into(),
            },
            content: text.into(),
            message_type: "text".into(),
            client_id: None,
            created_at: chrono::DateTime::from_timestamp(1_800_000_000, 0)
                .unwrap()
                .naive_utc(),
            read_by: Vec::new(),
            attachments: Vec::new(),
            private,
        }
    }

    #[test]
    fn text_and_html_say_who_wrote_what_and_html_escapes_it_all() {
        let now = chrono::Utc::now().naive_utc();
        let c = Conversation {
            id: "c1".into(),
            owner: Owner::User("u".into()),
            customer_name: "Nora <b>".into(),
            subject: Some("<script>x</script>".into()),
            category: None,
            priority: "normal".into(),
            kind: "general".into(),
            status: Status::Resolved,
            assigned_agent_id: None,
            last_seq: 2,
            created_at: now,
            updated_at: now,
            labels: Vec::new(),
            rating: None,
            snoozed_until: None,
            customer: Default::default(),
        };
        let mut with_file = message(
            1,
            SenderKind::Customer,
            "<img src=x onerror=alert(1)>",
            false,
        );
        with_file.attachments.push(Attachment {
            id: "f1".into(),
            file_name: "a\"b.pdf".into(),
            content_type: "application/pdf".into(),
            size: 2048,
        });
        let messages = [with_file, message(2, SenderKind::Agent, "check", true)];
        let t = Transcript {
            conversation: &c,
            messages: &messages,
            base_url: "https://chat.example",
        };
        let text = t.text();
        assert!(
            text.contains("[2027-01-15 08:00:00 UTC] Nora <b>:\n  <img src=x onerror=alert(1)>"),
            "{text}"
        );
        assert!(
            text.contains(
                "Attachment: a\"b.pdf (2.0 KB) https://chat.example/api/v1/chat/attachments/f1"
            ),
            "{text}"
        );
        assert!(text.contains("Nora <b> (private note):"), "{text}");
        let html = t.html();
        for raw in ["<script>", "<img", "<b>"] {
            assert!(!html.contains(raw), "{raw} in {html}");
        }
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://chat.example/api/v1/chat/attachments/f1\">a\"b.pdf</a>"),
            "{html}"
        );
    }
}
