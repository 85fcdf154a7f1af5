//! The `mime` family: MIME structure (RFC 2045, RFC 2046).

use super::{Check, Ctx};
use crate::message::{Message, MimePart};

/// HTML-only mail, alternatives without text, broken multiparts, empty parts.
pub(crate) struct MimeCheck;

fn is_inline_text(p: &MimePart, sub: &str) -> bool {
    p.is_leaf() && p.content_type == sub && !p.is_attachment()
}

/// Whether `p` lies inside an attached message (`message/rfc822`).
fn in_attached_message(parts: &[MimePart], p: &MimePart) -> bool {
    let mut cur = p.parent;
    while let Some(i) = cur {
        if parts[i].content_type == "message/rfc822" {
            return true;
        }
        cur = parts[i].parent;
    }
    false
}

impl Check for MimeCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[
            "MIME001", "MIME002", "MIME003", "MIME004", "MIME005", "MIME006",
        ]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let parts = &msg.mime.parts;
        // Only the message's own parts, not those of attached messages.
        let own = |p: &&MimePart| !in_attached_message(parts, p);
        let html: Vec<&MimePart> = parts
            .iter()
            .filter(own)
            .filter(|p| is_inline_text(p, "text/html"))
            .collect();
        let has_plain = parts
            .iter()
            .filter(own)
            .any(|p| is_inline_text(p, "text/plain") && !p.body_blank);
        if !html.is_empty() && !has_plain {
            // The field that makes the part HTML (its Content-Type), not the first line
            // of its header block (the From line, for a whole message).
            let h = html[0];
            let mut ev = h.header("Content-Type").map_or_else(
                || msg.raw_evidence(h.header_start, h.body_start),
                |ct| msg.header_evidence(ct),
            );
            ev.part = Some(if h.path.is_empty() {
                "1".into()
            } else {
                h.path.clone()
            });
            let ev = vec![ev];
            cx.hit(
                "MIME001",
                if html[0].path.is_empty() {
                    "The message is HTML only, with no text/plain alternative".to_string()
                } else {
                    format!(
                        "The message has HTML (part {}) and no text/plain alternative",
                        html[0].label()
                    )
                },
                ev,
            );
        }
        for p in parts {
            if p.content_type == "multipart/alternative" && !p.children.is_empty() {
                let kids: Vec<&MimePart> = p.children.iter().map(|&c| &parts[c]).collect();
                let has_html = kids.iter().any(|k| k.content_type == "text/html");
                let has_text = kids
                    .iter()
                    .any(|k| k.content_type == "text/plain" && !k.body_blank);
                if has_html && !has_text && html.len() <= 1 {
                    let types: Vec<&str> = kids.iter().map(|k| k.content_type.as_str()).collect();
                    cx.hit(
                        "MIME002",
                        format!(
                            "multipart/alternative ({}) holds {} but no non-empty text/plain",
                            p.noun().to_lowercase(),
                            types.join(", ")
                        ),
                        vec![msg.raw_evidence(p.header_start, p.body_start)],
                    );
                }
            }
            if !p.is_multipart() {
                continue;
            }
            let ct_ev = || {
                p.header("Content-Type")
                    .map(|h| vec![msg.header_evidence(h)])
                    .unwrap_or_default()
            };
            if !p.has_boundary_param {
                cx.hit(
                    "MIME003",
                    format!(
                        "{} is {} without a boundary parameter, so its parts cannot be found",
                        p.noun(),
                        p.content_type
                    ),
                    ct_ev(),
                );
            } else if p.delimiters == 0 {
                let b = p.param("boundary").unwrap_or_default();
                cx.hit(
                    "MIME004",
                    format!(
                        "{} declares boundary \u{201c}{b}\u{201d} but no line starts with --{b}",
                        p.noun()
                    ),
                    ct_ev(),
                );
            } else if !p.terminated {
                let b = p.param("boundary").unwrap_or_default();
                let ev = vec![msg.raw_evidence(p.end.saturating_sub(1).max(p.body_start), p.end)];
                cx.hit(
                    "MIME005",
                    format!(
                        "{} ({}) never closes: the final --{b}-- line is missing",
                        p.noun(),
                        p.content_type
                    ),
                    ev,
                );
            } else if p.children.is_empty() {
                cx.hit(
                    "MIME006",
                    format!("{} ({}) has no parts", p.noun(), p.content_type),
                    ct_ev(),
                );
            }
        }
        let empties: Vec<&MimePart> = parts
            .iter()
            .filter(|p| {
                !p.path.is_empty()
                    && p.is_leaf()
                    && p.body_blank
                    && p.content_type != "text/plain"
                    && p.content_type != "text/html"
            })
            .collect();
        let empty_text: Vec<&MimePart> = parts
            .iter()
            .filter(|p| {
                !p.path.is_empty()
                    && p.is_leaf()
                    && p.body_blank
                    && (p.content_type == "text/plain" || p.content_type == "text/html")
                    && p.is_attachment()
            })
            .collect();
        let all: Vec<&MimePart> = empties.into_iter().chain(empty_text).collect();
        if let Some(first) = all.first() {
            let names: Vec<String> = all
                .iter()
                .take(5)
                .map(|p| format!("part {} ({})", p.label(), p.content_type))
                .collect();
            cx.hit(
                "MIME006",
                format!("{} empty part(s): {}", all.len(), names.join(", ")),
                vec![msg.raw_evidence(first.header_start, first.end)],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn ids(raw: &[u8]) -> Vec<String> {
        let mut v = super::super::fired("MIME", Config::default(), raw);
        v.sort();
        v
    }

    #[test]
    fn table() {
        let cases: &[(&[u8], &[&str])] = &[
            (b"Content-Type: text/plain\n\nhi\n", &[]),
            (b"MIME-Version: 1.0\nContent-Type: text/html\n\n<p>hi</p>\n", &["MIME001"]),
            (b"Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: text/html\n\n<p>hi</p>\n--b--\n", &[]),
            (b"Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/html\n\n<p>hi</p>\n--b--\n", &["MIME001", "MIME002"]),
            (b"Content-Type: multipart/mixed\n\nhi\n", &["MIME003"]),
            (b"Content-Type: multipart/mixed; boundary=b\n\nhi --b\n", &["MIME004"]),
            (b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nhi\n", &["MIME005"]),
            (b"Content-Type: multipart/mixed; boundary=b\n\n--b--\n", &["MIME006"]),
            (b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nhi\n--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=a.pdf\n\n--b--\n", &["MIME006"]),
        ];
        for (raw, want) in cases {
            assert_eq!(ids(raw), *want, "{}", String::from_utf8_lossy(raw));
        }
    }

    /// MIME001 points at the Content-Type that makes the mail HTML only, in the part
    /// that has it: not at the From line that starts the message.
    #[test]
    fn html_only_evidence_is_the_content_type() {
        let check = |raw: &str| {
            let engine = crate::Engine::new(Config {
                select: vec!["MIME001".into()],
                ..Config::default()
            })
            .unwrap();
            let r = engine.check(raw.as_bytes(), &crate::Envelope::default());
            r.findings[0].evidence[0].clone()
        };
        let e = check(
            "From: a@example.com\nSubject: x\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<p>hi</p>\n",
        );
        assert_eq!(e.line, Some(4));
        assert_eq!(e.part.as_deref(), Some("1"));
        assert_eq!(
            e.snippet,
            crate::report::Snippet::Text("Content-Type: text/html; charset=utf-8".into())
        );
        let e = check(
            "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: 7bit\nContent-Type: text/html\n\n<p>hi</p>\n--b--\n",
        );
        assert_eq!((e.line, e.part.as_deref()), (Some(6), Some("1")));
        assert_eq!(
            e.snippet,
            crate::report::Snippet::Text("Content-Type: text/html".into())
        );
    }
}
