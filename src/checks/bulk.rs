//! The `bulk` family: the 2024 bulk-sender rules of Gmail, Yahoo and Microsoft
//! (one-click unsubscribe, RFC 8058), for marketing and subscribed commercial mail.
//!
//! Mail relayed by a list server (a discussion list, a Google or Yahoo group) is judged
//! as list mail: `list_traffic` tells it apart by the marks list servers leave, and the
//! one-click rules leave it alone. Gmail's sender guidelines ask forwarders and mailing
//! lists for other things (ARC headers, a List-Id, not impersonating the poster), and
//! their one-click unsubscribe requirement is for marketing and subscribed messages.

use super::{Check, Ctx};
use crate::message::{HeaderField, Message};

/// One-click unsubscribe on mail that looks like bulk mail.
pub(crate) struct BulkCheck;

/// The marks of a list server in a message's header: the list server's own fields, not
/// the fields every bulk sender writes (List-Unsubscribe, Precedence: bulk).
fn list_marks(msg: &Message<'_>) -> Vec<&'static str> {
    let mut marks = Vec::new();
    if msg.header("List-Id").is_some() {
        marks.push("List-Id");
    }
    // RFC 2369: a list one can post to names its address; an announce-only list says NO.
    if msg
        .header_value("List-Post")
        .is_some_and(|v| v.to_ascii_lowercase().contains("mailto:"))
    {
        marks.push("List-Post");
    }
    // ezmlm, Yahoo Groups and Google Groups ("list x@example.org; contact ...").
    if msg.header("Mailing-List").is_some() {
        marks.push("Mailing-List");
    }
    // qmail and ezmlm deliver list mail with this line.
    if msg.headers_named("Delivered-To").any(|h| {
        h.unfolded(msg.raw)
            .to_ascii_lowercase()
            .starts_with("mailing list ")
    }) {
        marks.push("Delivered-To: mailing list");
    }
    if msg
        .header_value("Precedence")
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("list"))
    {
        marks.push("Precedence: list");
    }
    // Mailman (X-Mailman-Version, X-BeenThere), vger and SmartList (X-Mailing-List),
    // Google Groups (X-Google-Group-Id).
    if [
        "X-Mailman-Version",
        "X-BeenThere",
        "X-Mailing-List",
        "X-Google-Group-Id",
    ]
    .iter()
    .any(|n| msg.header(n).is_some())
    {
        marks.push("a list server's X- field");
    }
    // The list's own return address: list-bounces@, list-owner@, owner-list@,
    // list-request@ (Mailman, Majordomo, LISTSERV, Sympa; VERP forms included).
    let role = ["Sender", "Errors-To"].iter().any(|n| {
        msg.header_value(n)
            .is_some_and(|v| list_role_address(&v.to_ascii_lowercase()))
    });
    if role {
        marks.push("Sender: the list's own address");
    }
    marks
}

/// Whether a (lower-cased) address field names a list server's role address.
fn list_role_address(v: &str) -> bool {
    let addr = v
        .rsplit_once('<')
        .map_or(v, |(_, a)| a.split('>').next().unwrap_or(a));
    let Some((local, _)) = addr.trim().rsplit_once('@') else {
        return false;
    };
    let base = local.split('+').next().unwrap_or(local);
    base.starts_with("owner-")
        || ["-bounces", "-owner", "-request", "-admin"]
            .iter()
            .any(|s| base.ends_with(s))
}

/// Why a message is list traffic, if it is: two or more marks that list servers leave
/// (List-Id, List-Post, Mailing-List, Precedence: list, Mailman's fields, the list's own
/// Sender); one alone is not enough, since marketing senders write a List-Id too. Such
/// mail is judged as list mail: the bulk-sender rules and the header rules about
/// recipients and the poster's address leave it alone.
pub(crate) fn list_traffic(msg: &Message<'_>) -> Option<String> {
    let marks = list_marks(msg);
    (marks.len() >= 2).then(|| marks.join(", "))
}

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
        // List mail is judged as list mail (see the module documentation).
        if list_traffic(msg).is_some() {
            return;
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

    /// Mailman, ezmlm/Yahoo Groups and Google Groups mail is list traffic; one mark alone
    /// (a marketing sender's List-Id, Precedence: list, a stray X-Mailing-List) is not.
    #[test]
    fn list_traffic_needs_two_marks() {
        let mailman = "List-Id: Development list <dev.lists.example.org>\nList-Post: <mailto:dev@lists.example.org>\nList-Unsubscribe: <https://lists.example.org/options/dev>\nPrecedence: list\nSender: \"dev\" <dev-bounces+ann=example.com@lists.example.org>\n";
        let yahoo = "Mailing-List: list fans@yahoogroups.example; contact fans-owner@yahoogroups.example\nDelivered-To: mailing list fans@yahoogroups.example\nPrecedence: bulk\nList-Unsubscribe: <mailto:fans-unsubscribe@yahoogroups.example>\n";
        let announce = "List-Id: <news.example.com>\nList-Post: NO\nPrecedence: bulk\n";
        let owner = "List-Id: <l.example.org>\nErrors-To: owner-l@example.org\n";
        let cases: &[(&str, bool, &[&str])] = &[
            (mailman, true, &[]),
            (yahoo, true, &[]),
            (owner, true, &[]),
            // Marketing: a List-Id and bulk fields, no list server's marks.
            (announce, false, &["BULK001"]),
            (
                "List-Id: <l.example.com>\nPrecedence: bulk\n",
                false,
                &["BULK001"],
            ),
            ("Precedence: list\n", false, &["BULK001"]),
            ("X-Mailing-List: l@example.org\n", false, &[]),
            // A Sender that only looks like a role address in its display name.
            (
                "List-Id: <l.example.org>\nSender: \"x-bounces\" <ann@example.com>\n",
                false,
                &["BULK001"],
            ),
        ];
        for (extra, list, want) in cases {
            let raw = format!("From: a@example.com\nSubject: news\n{extra}\nnews\n");
            let msg = crate::message::Message::parse(raw.as_bytes());
            assert_eq!(super::list_traffic(&msg).is_some(), *list, "{extra}");
            assert_eq!(ids(extra, "news"), *want, "{extra}");
        }
        // The malformed one-click header is a defect on list mail too.
        assert_eq!(
            ids(&format!("{mailman}List-Unsubscribe-Post: yes\n"), "news"),
            ["BULK004"]
        );
    }
}
