//! The `encoding` family: line structure and transfer encodings (RFC 5322 §2.1, RFC 2045).

use super::{Check, Ctx};
use crate::message::raw::Positions;
use crate::message::{LineEnding, Message};

/// Long lines, bare CR/LF, NUL, 8-bit headers and bodies, transfer encodings, charsets.
pub(crate) struct EncodingCheck;

const KNOWN_CTE: &[&str] = &["7bit", "8bit", "binary", "quoted-printable", "base64"];

fn evidence_at(msg: &Message<'_>, p: &Positions, width: usize) -> Vec<crate::report::Evidence> {
    p.first
        .iter()
        .take(3)
        .map(|&at| {
            // The line's start, or `width` bytes back when the line started earlier.
            let lo = at.min(msg.raw.len()).saturating_sub(width);
            let start = msg.raw[lo..at.min(msg.raw.len())]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(lo, |p| lo + p + 1);
            msg.raw_evidence(start, (at + 1).min(msg.raw.len()))
        })
        .collect()
}

fn lines_list(msg: &Message<'_>, p: &Positions) -> String {
    let lines: Vec<String> = p
        .first
        .iter()
        .take(5)
        .map(|&o| msg.line_of(o).to_string())
        .collect();
    let more = if p.count > lines.len() { ", ..." } else { "" };
    format!(
        "line{} {}{more}",
        if p.count == 1 { "" } else { "s" },
        lines.join(", ")
    )
}

/// The positions of `p` inside a header block (the message's or a MIME part's), and the
/// others. Lines past the recorded first offsets count as the others.
fn split_header_lines(msg: &Message<'_>, p: &Positions) -> (Positions, Positions) {
    let top = msg.facts.header_start..msg.facts.header_block.body_start;
    let in_header = |at: usize| {
        top.contains(&at)
            || msg
                .mime
                .parts
                .iter()
                .any(|part| (part.header_start..part.body_start).contains(&at))
    };
    let (mut header, mut body) = (Positions::default(), Positions::default());
    for &at in &p.first {
        let side = if in_header(at) {
            &mut header
        } else {
            &mut body
        };
        side.count += 1;
        side.first.push(at);
    }
    body.count += p.count.saturating_sub(p.first.len());
    (header, body)
}

/// Length of the line starting at `start`, its terminator excluded.
fn line_len(raw: &[u8], start: usize) -> usize {
    let rest = raw.get(start..).unwrap_or_default();
    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    end - usize::from(end > 0 && rest[end - 1] == b'\r')
}

/// Whether a quoted-printable body encodes bytes >= 0x80 (`=80`..`=FF`).
fn qp_has_8bit(body: &[u8]) -> bool {
    body.windows(3).any(|w| {
        w[0] == b'='
            && matches!(w[1], b'8'..=b'9' | b'A'..=b'F' | b'a'..=b'f')
            && w[2].is_ascii_hexdigit()
    })
}

impl Check for EncodingCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[
            "ENC001", "ENC002", "ENC003", "ENC004", "ENC005", "ENC006", "ENC007", "ENC008",
            "ENC009",
        ]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let f = &msg.facts;
        if f.long_lines.count > 0 {
            // A long header line is folded, a long body line encoded: the two get their
            // own fix. (Past the first recorded offsets, lines count as body lines.)
            let (header, body) = split_header_lines(msg, &f.long_lines);
            let ev = |p: &Positions| -> Vec<crate::report::Evidence> {
                p.first
                    .iter()
                    .take(3)
                    .map(|&s| {
                        let e = msg.raw[s..]
                            .iter()
                            .position(|&b| b == b'\n')
                            .map_or(msg.raw.len(), |p| s + p);
                        msg.raw_evidence(s, e)
                    })
                    .collect()
            };
            if header.count == 0 {
                cx.hit(
                    "ENC001",
                    format!(
                        "{} line(s) longer than 998 octets ({}); the longest is {} octets",
                        f.long_lines.count,
                        lines_list(msg, &f.long_lines),
                        f.max_line_len
                    ),
                    ev(&f.long_lines),
                );
            } else {
                let longest = header
                    .first
                    .iter()
                    .map(|&s| line_len(msg.raw, s))
                    .max()
                    .unwrap_or(0);
                cx.hit_at(
                    "ENC001",
                    "header",
                    format!(
                        "{} header line(s) longer than 998 octets ({}); the longest is {longest} octets",
                        header.count,
                        lines_list(msg, &header),
                    ),
                    ev(&header),
                );
                if body.count > 0 {
                    cx.hit(
                        "ENC001",
                        format!(
                            "{} body line(s) longer than 998 octets ({})",
                            body.count,
                            lines_list(msg, &body),
                        ),
                        ev(&body),
                    );
                }
            }
        }
        if f.line_ending == LineEnding::Crlf && f.bare_lf.count > 0 {
            // A lone LF as the very last byte is how files are saved, not part of the
            // message: the SMTP client ends the data with CRLF.CRLF anyway.
            let mut bare = f.bare_lf.clone();
            let last = msg.raw.len().wrapping_sub(1);
            if bare.first.last() == Some(&last)
                || (bare.count > bare.first.len()
                    && msg.raw.last() == Some(&b'\n')
                    && msg.raw.get(last.wrapping_sub(1)) != Some(&b'\r'))
            {
                bare.count -= 1;
                bare.first.retain(|&o| o != last);
            }
            if bare.count > 0 {
                cx.hit(
                    "ENC002",
                    format!(
                        "{} bare LF line ending(s) in a message that uses CRLF ({})",
                        bare.count,
                        lines_list(msg, &bare)
                    ),
                    evidence_at(msg, &bare, 60),
                );
            }
        }
        if f.bare_cr.count > 0 {
            cx.hit(
                "ENC003",
                format!(
                    "{} bare CR byte(s) not followed by LF ({})",
                    f.bare_cr.count,
                    lines_list(msg, &f.bare_cr)
                ),
                evidence_at(msg, &f.bare_cr, 60),
            );
        }
        if f.nul.count > 0 {
            cx.hit(
                "ENC004",
                format!("{} NUL byte(s) ({})", f.nul.count, lines_list(msg, &f.nul)),
                evidence_at(msg, &f.nul, 40),
            );
        }
        if f.header_8bit.count > 0 && cx.on("ENC005") {
            // The first few names; a set counts the rest (each field may have its own).
            let mut names: Vec<&str> = Vec::new();
            let mut distinct = std::collections::HashSet::new();
            let mut ev = Vec::new();
            for h in f.headers() {
                if !msg.raw[h.start..h.end].is_ascii() {
                    if distinct.insert(h.name.to_ascii_lowercase()) && names.len() < 5 {
                        names.push(&h.name);
                    }
                    if ev.len() < 3 {
                        ev.push(msg.header_evidence(h));
                    }
                }
            }
            let names = match distinct.len() {
                0 => "the header block".to_string(),
                n if n > names.len() => {
                    format!("{}, and {} more", names.join(", "), n - names.len())
                }
                _ => names.join(", "),
            };
            cx.hit("ENC005", format!("{} raw 8-bit byte(s) in header fields ({names}) instead of RFC 2047 encoded-words", f.header_8bit.count), ev);
        }
        // Plain ASCII text hidden behind base64.
        if cx.on("ENC009") {
            // The paths of text parts that decode to ASCII, looked up per part.
            let ascii: std::collections::HashSet<&str> = msg
                .text
                .parts
                .iter()
                .filter(|t| !t.decoded.trim().is_empty() && t.decoded.is_ascii())
                .map(|t| t.part.as_str())
                .collect();
            let hidden = msg.mime.parts.iter().find(|p| {
                p.is_leaf()
                    && p.is_text()
                    && !p.is_attachment()
                    && p.cte.as_deref() == Some("base64")
                    && ascii.contains(p.path.as_str())
            });
            if let Some(p) = hidden {
                let ev = p
                    .header("Content-Transfer-Encoding")
                    .map(|h| vec![msg.header_evidence(h)])
                    .unwrap_or_default();
                cx.hit(
                    "ENC009",
                    format!(
                        "{} is plain ASCII text but is sent base64-encoded",
                        p.noun()
                    ),
                    ev,
                );
            }
        }
        let top_is_mime = msg.header("MIME-Version").is_some();
        for p in msg.mime.parts.iter().filter(|p| p.is_leaf()) {
            let cte = p.cte.as_deref();
            let known = cte.is_none_or(|c| KNOWN_CTE.contains(&c));
            if let Some(c) = cte
                && !known
            {
                cx.hit_with("ENC007", None, || {
                    let ev = p
                        .header("Content-Transfer-Encoding")
                        .map(|h| vec![msg.header_evidence(h)])
                        .unwrap_or_default();
                    (
                        format!("{} has Content-Transfer-Encoding \u{201c}{c}\u{201d}, which receivers cannot decode", p.noun()),
                        ev,
                    )
                });
            }
            if p.body_8bit
                && cx.on("ENC006")
                && matches!(cte, None | Some("7bit"))
                && (top_is_mime || !p.path.is_empty() || cte.is_some())
            {
                let at = msg.raw[p.body_start..p.end]
                    .iter()
                    .position(|&b| b >= 0x80)
                    .map_or(p.body_start, |o| p.body_start + o);
                let declared = if cte.is_some() {
                    "declared 7bit"
                } else {
                    "with no Content-Transfer-Encoding (so 7bit)"
                };
                cx.hit_with("ENC006", None, || {
                    (
                        format!("{} has raw 8-bit bytes but is {declared}", p.noun()),
                        vec![msg.line_evidence(at)],
                    )
                });
            }
            if p.is_text()
                && cx.on("ENC008")
                && p.param("charset").is_none_or(|c| c.trim().is_empty())
            {
                let body = &msg.raw[p.body_start..p.end];
                let eight = match cte {
                    Some("quoted-printable") => qp_has_8bit(body),
                    _ => p.body_8bit,
                };
                if eight {
                    cx.hit_with("ENC008", None, || {
                        let ev = p
                            .header("Content-Type")
                            .map(|h| vec![msg.header_evidence(h)])
                            .unwrap_or_else(|| vec![msg.raw_evidence(p.body_start, p.body_start)]);
                        (
                            format!(
                                "{} is text with 8-bit characters but names no charset",
                                p.noun()
                            ),
                            ev,
                        )
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn ids(raw: &[u8]) -> Vec<String> {
        super::super::fired("ENC", Config::default(), raw)
    }

    #[test]
    fn table() {
        let long = format!("From: a@example.com\n\n{}\n", "x".repeat(1200));
        let cases: &[(&[u8], &[&str])] = &[
            (b"From: a@example.com\nSubject: ok\n\nplain LF file is fine\n", &[]),
            (b"From: a@example.com\r\nSubject: x\r\n\r\nmixed\nendings\r\n", &["ENC002"]),
            (b"From: a@example.com\r\n\r\nbare\rcr\r\n", &["ENC003"]),
            (b"From: a@example.com\r\nSubject: x\r\n\r\nfile saved with a final LF\r\n\n", &[]),
            (b"From: a@example.com\n\nnul\0byte\n", &["ENC004"]),
            (b"From: a@example.com\nSubject: caf\xc3\xa9\n\nx\n", &["ENC005"]),
            (b"From: a@example.com\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\ncaf\xc3\xa9\n", &["ENC006"]),
            (b"From: a@example.com\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\ncaf\xc3\xa9\n", &[]),
            (b"From: a@example.com\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: x-uuencode\n\nbegin\n", &["ENC007"]),
            (b"From: a@example.com\nMIME-Version: 1.0\nContent-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\ncaf\xc3\xa9\n", &["ENC008"]),
            (b"From: a@example.com\nMIME-Version: 1.0\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9\n", &["ENC008"]),
        ];
        for (raw, want) in cases {
            assert_eq!(ids(raw), *want, "{}", String::from_utf8_lossy(raw));
        }
        assert_eq!(ids(long.as_bytes()), ["ENC001"]);
    }

    fn enc001(raw: &str) -> crate::report::Finding {
        let engine = crate::Engine::new(Config {
            select: vec!["ENC001".into()],
            ..Config::default()
        })
        .unwrap();
        let r = engine.check(raw.as_bytes(), &crate::Envelope::default());
        r.findings.into_iter().find(|f| f.id == "ENC001").unwrap()
    }

    /// A long header line is folded (RFC 5322 §2.2.3), a long body line encoded: each
    /// finding gives the fix for where its lines are, both when there are both.
    #[test]
    fn the_fix_fits_where_the_long_line_is() {
        let refs = format!("References: {}\n", "<a@example.com>".repeat(70));
        let body = format!("From: a@example.com\nSubject: x\n\n{}\n", "x".repeat(1200));
        let f = enc001(&body);
        assert!(
            f.fix.contains("base64") && !f.fix.contains("Fold"),
            "{}",
            f.fix
        );
        let header = format!("From: a@example.com\n{refs}Subject: x\n\nshort\n");
        let f = enc001(&header);
        assert!(
            f.fix.starts_with("Fold the field (RFC 5322 §2.2.3)"),
            "{}",
            f.fix
        );
        assert!(!f.fix.contains("base64"), "{}", f.fix);
        assert!(
            f.message
                .starts_with("1 header line(s) longer than 998 octets (line 2)"),
            "{}",
            f.message
        );
        assert_eq!(f.evidence[0].line, Some(2));
        // A MIME part's header block is a header too.
        let part = format!(
            "From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\nX-Long: {}\n\nhi\n--b--\n",
            "y".repeat(1000)
        );
        assert!(enc001(&part).fix.starts_with("Fold the field"));
        let both = format!(
            "From: a@example.com\n{refs}Subject: x\n\n{}\n",
            "x".repeat(1200)
        );
        let f = enc001(&both);
        assert!(
            f.fix.starts_with("Fold the field") && f.fix.contains("base64"),
            "{}",
            f.fix
        );
        assert!(
            f.message
                .contains("; 1 body line(s) longer than 998 octets (line 5)"),
            "{}",
            f.message
        );
    }
}
