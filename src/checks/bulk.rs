//! The `bulk` family: the 2024 bulk-sender rules of Gmail, Yahoo and Microsoft
//! (one-click unsubscribe, RFC 8058).

use super::{Check, Ctx};
use crate::message::{HeaderField, Message};

/// One-click unsubscribe on mail that looks like bulk mail.
pub struct BulkCheck;

/// Why a message looks like bulk mail, if it does.
fn bulk_signal(msg: &Message<'_>) -> Option<String> {
    if let Some(p) = msg.header_value("Precedence") {
        let p = p.to_ascii_lowercase();
        if ["bulk", "list", "junk"].iter().any(|k| p.contains(k)) {
            return Some(format!("Precedence: {p}"));
        }
    }
    if msg.header("List-Id").is_some() {
        return Some("a List-Id header".into());
    }
    if msg.header("List-Unsubscribe").is_some() {
        return Some("a List-Unsubscribe header".into());
    }
    for t in &msg.text.parts {
        if let Some(i) = t.normalized.find("unsubscribe") {
            // An unsubscribe link or instruction, not a word in passing: a URL nearby.
            let lo = i.saturating_sub(200);
            let hi = (i + 200).min(t.normalized.len());
            let (lo, hi) = (floor(&t.normalized, lo), floor(&t.normalized, hi));
            let near = &t.normalized[lo..hi];
            let html_link = t
                .html
                .as_deref()
                .is_some_and(|h| h.contains("href") || h.contains("HREF"));
            if near.contains("http://") || near.contains("https://") || html_link {
                return Some(format!(
                    "an unsubscribe link in the body (part {})",
                    if t.part.is_empty() {
                        "message"
                    } else {
                        &t.part
                    }
                ));
            }
        }
    }
    None
}

fn floor(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The URIs of a List-Unsubscribe value (`<uri>, <uri>`).
fn uris(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = v;
    while let Some(s) = rest.find('<') {
        let Some(e) = rest[s..].find('>') else { break };
        out.push(rest[s + 1..s + e].trim().to_string());
        rest = &rest[s + e + 1..];
    }
    out
}

fn ev(msg: &Message<'_>, h: &HeaderField) -> Vec<crate::report::Evidence> {
    vec![msg.header_evidence(h)]
}

impl Check for BulkCheck {
    fn ids(&self) -> &'static [&'static str] {
        &["BULK001", "BULK002", "BULK003", "BULK004"]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let post = msg.header("List-Unsubscribe-Post");
        if let Some(p) = post {
            let v = p.unfolded(msg.raw);
            if v != "List-Unsubscribe=One-Click" {
                cx.hit("BULK004", format!("List-Unsubscribe-Post is \u{201c}{}\u{201d}, not exactly List-Unsubscribe=One-Click", crate::util::truncate_str(&v, 80)), ev(msg, p));
            }
        }
        let Some(signal) = bulk_signal(msg) else {
            return;
        };
        let Some(lu) = msg.header("List-Unsubscribe") else {
            cx.hit(
                "BULK001",
                format!(
                    "The message looks like bulk mail ({signal}) but has no List-Unsubscribe header"
                ),
                vec![],
            );
            return;
        };
        let list = uris(&lu.unfolded(msg.raw));
        let https = list
            .iter()
            .any(|u| u.len() > 8 && u.as_bytes()[..8].eq_ignore_ascii_case(b"https://"));
        if !https {
            let kinds: Vec<&str> = list
                .iter()
                .map(|u| u.split(':').next().unwrap_or("?"))
                .collect();
            let what = if list.is_empty() {
                "no <URI> at all".to_string()
            } else {
                format!("only {}", kinds.join(", "))
            };
            cx.hit(
                "BULK002",
                format!("List-Unsubscribe has {what}; one-click unsubscribe needs an https URI"),
                ev(msg, lu),
            );
        } else if post.is_none() {
            cx.hit("BULK003", "List-Unsubscribe has an https URI but there is no List-Unsubscribe-Post: List-Unsubscribe=One-Click header", ev(msg, lu));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn ids(extra: &str, body: &str) -> Vec<String> {
        let raw = format!("From: a@example.com\nSubject: news\n{extra}\n{body}\n");
        super::super::fired("BULK", Config::default(), raw.as_bytes())
    }

    #[test]
    fn table() {
        let one_click = "List-Unsubscribe: <https://u.example/x>, <mailto:u@example.com>\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n";
        let cases: &[(&str, &str, &[&str])] = &[
            ("", "Hi Bob, lunch?", &[]),
            ("", "Please unsubscribe me from nothing", &[]),
            ("Precedence: bulk\n", "news", &["BULK001"]),
            ("List-Id: <l.example.com>\n", "news", &["BULK001"]),
            ("", "To unsubscribe visit https://x.example/u", &["BULK001"]),
            (
                "List-Unsubscribe: <mailto:u@example.com>\n",
                "news",
                &["BULK002"],
            ),
            (
                "List-Unsubscribe: <http://u.example/x>\n",
                "news",
                &["BULK002"],
            ),
            (
                "List-Unsubscribe: <https://u.example/x>\n",
                "news",
                &["BULK003"],
            ),
            (one_click, "news", &[]),
            // Byte 8 inside a character: slicing the URI there used to panic (issue 20).
            (
                "List-Unsubscribe: <https:/\u{e9}x>, <\u{20ac}\u{20ac}\u{20ac}>\n",
                "news",
                &["BULK002"],
            ),
            (
                "List-Unsubscribe: <https://u.example/x>\nList-Unsubscribe-Post: yes\n",
                "news",
                &["BULK004"],
            ),
        ];
        for (extra, body, want) in cases {
            assert_eq!(ids(extra, body), *want, "{extra} {body}");
        }
    }
}
