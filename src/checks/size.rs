//! The `size` family: limits receivers enforce on the message, its header and its parts.

use super::{Check, Ctx};
use crate::message::Message;
use crate::message::mime::{HARD_MAX_DEPTH, HARD_MAX_PARTS};

/// Message size, header block size, attachment count, MIME depth and part count.
pub(crate) struct SizeCheck;

/// Formats a byte count for people (`10,240,000 bytes (9.8 MiB)`).
pub(crate) fn human_bytes(n: usize) -> String {
    let grouped = grouped(n);
    if n >= 1024 * 1024 {
        format!("{grouped} bytes ({:.1} MiB)", n as f64 / 1048576.0)
    } else if n >= 1024 {
        format!("{grouped} bytes ({:.1} KiB)", n as f64 / 1024.0)
    } else {
        format!("{grouped} bytes")
    }
}

/// A number with its digits grouped by commas (`10,240,000`).
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The decoded size of a part body: base64 carries 3 bytes per 4 characters, line
/// breaks excluded; other encodings are counted as they are.
fn decoded_size(body: &[u8], cte: Option<&str>) -> usize {
    if cte.is_some_and(|c| c.trim().eq_ignore_ascii_case("base64")) {
        let breaks = memchr::memchr2_iter(b'\r', b'\n', body).count();
        (body.len() - breaks) / 4 * 3
    } else {
        body.len()
    }
}

/// SIZE001's message: the size as a file and on the wire (when they differ), the margin
/// for what servers add on the way, and the limit.
fn size_message(file: usize, wire: usize, margin: usize, receiver: &str, limit: usize) -> String {
    let size = if wire == file {
        format!("The message is {}", human_bytes(wire))
    } else {
        format!(
            "The message is {} as a file and {} on the wire (line ends sent as CR LF)",
            human_bytes(file),
            human_bytes(wire)
        )
    };
    let added = if margin > 0 {
        format!(
            "; with the {} bytes that servers add on the way (Received, DKIM-Signature), {}",
            grouped(margin),
            human_bytes(wire.saturating_add(margin))
        )
    } else {
        String::new()
    };
    format!("{size}{added}, over {receiver} of {}", human_bytes(limit))
}

impl Check for SizeCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[
            "SIZE001", "SIZE002", "SIZE003", "SIZE004", "SIZE005", "SIZE006",
        ]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let limits = &cx.config.limits;
        let limit = limits.message_limit();
        let file = msg.raw.len();
        let wire = msg.facts.wire_size();
        let margin = limits.size_margin_bytes;
        if wire.saturating_add(margin) > limit {
            let receiver = if limits.max_message_bytes.is_some() {
                "the configured limit"
            } else {
                limits.in_force.receiver.as_str()
            };
            cx.hit(
                "SIZE001",
                size_message(file, wire, margin, receiver, limit),
                vec![],
            );
        }
        let hsize = msg.facts.header_size();
        let h = &msg.facts.header_block;
        if hsize > limits.max_header_bytes || h.stopped_at.is_some() {
            let over = if hsize > limits.max_header_bytes {
                format!(
                    ", over the limit of {}",
                    human_bytes(limits.max_header_bytes)
                )
            } else {
                String::new()
            };
            let stopped = match h.stopped_at {
                Some(_) => format!(
                    "; inspection stopped after {} fields",
                    crate::message::raw::HARD_MAX_FIELDS
                ),
                None => String::new(),
            };
            cx.hit(
                "SIZE002",
                format!(
                    "The header block is {} in {} fields{over}{stopped}",
                    human_bytes(hsize),
                    h.count,
                ),
                vec![msg.raw_evidence(msg.facts.header_start, h.body_start)],
            );
        }
        let attachments: Vec<_> = msg.mime.attachments().collect();
        if attachments.len() > limits.max_attachments {
            let ev = attachments
                .iter()
                .skip(limits.max_attachments)
                .take(1)
                .map(|p| msg.raw_evidence(p.header_start, p.end))
                .collect();
            cx.hit(
                "SIZE003",
                format!(
                    "The message has {} attachments; the limit is {}",
                    attachments.len(),
                    limits.max_attachments
                ),
                ev,
            );
        }
        for p in &attachments {
            let decoded = decoded_size(
                msg.raw.get(p.body_start..p.end).unwrap_or(&[]),
                p.cte.as_deref(),
            );
            if decoded > limits.max_attachment_bytes {
                let name = p
                    .filename
                    .as_deref()
                    .map_or_else(String::new, |n| format!(" \u{201c}{n}\u{201d}"));
                cx.hit(
                    "SIZE006",
                    format!(
                        "Attachment {}{name} is about {} decoded, over the per-attachment limit of {}",
                        p.path,
                        human_bytes(decoded),
                        human_bytes(limits.max_attachment_bytes)
                    ),
                    vec![msg.raw_evidence(p.header_start, p.body_start)],
                );
            }
        }
        let depth = msg.mime.max_depth;
        if depth > limits.max_mime_depth || (msg.mime.truncated && depth >= HARD_MAX_DEPTH) {
            let deepest = msg.mime.parts.iter().max_by_key(|p| p.depth);
            let ev = deepest
                .map(|p| vec![msg.raw_evidence(p.header_start, p.end)])
                .unwrap_or_default();
            let more = if msg.mime.truncated {
                " or more (inspection stopped there)"
            } else {
                ""
            };
            cx.hit(
                "SIZE004",
                format!(
                    "MIME parts are nested {depth} levels deep{more}; the limit is {}",
                    limits.max_mime_depth
                ),
                ev,
            );
        }
        let parts = msg.mime.part_count();
        if parts > limits.max_mime_parts || (msg.mime.truncated && parts + 1 >= HARD_MAX_PARTS) {
            let more = if msg.mime.truncated {
                " or more (inspection stopped there)"
            } else {
                ""
            };
            cx.hit(
                "SIZE005",
                format!(
                    "The message has {parts} MIME parts{more}; the limit is {}",
                    limits.max_mime_parts
                ),
                vec![],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn padded(total: usize) -> Vec<u8> {
        let mut m = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=data.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
        let line =
            b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
        while m.len() + line.len() + 8 < total {
            m.extend_from_slice(line);
        }
        m.extend_from_slice(b"--b--\r\n");
        m
    }

    fn ids(profile: &str, raw: &[u8]) -> Vec<String> {
        let mut c = Config::default();
        c.limits.profile = profile.into();
        super::super::fired("SIZE", c, raw)
    }

    #[test]
    fn message_size_against_profiles() {
        let mb = 1024 * 1024;
        let m11 = padded(11 * mb);
        let m26 = padded(26 * mb);
        let m50 = padded(50 * mb);
        for (raw, postfix, gmail, microsoft) in [
            (&m11, true, false, false),
            (&m26, true, true, false),
            (&m50, true, true, true),
        ] {
            assert_eq!(
                ids("postfix", raw).contains(&"SIZE001".to_string()),
                postfix
            );
            assert_eq!(ids("gmail", raw).contains(&"SIZE001".to_string()), gmail);
            assert_eq!(
                ids("microsoft", raw).contains(&"SIZE001".to_string()),
                microsoft
            );
        }
        assert!(ids("postfix", &padded(9 * mb)).is_empty());
    }

    /// An LF draft of `total` bytes in lines of 77 (76 and LF).
    fn lf_draft(total: usize) -> Vec<u8> {
        let mut m = b"From: a@example.com\nTo: b@example.org\nSubject: big\n\n".to_vec();
        let line = [b"x".repeat(76), b"\n".to_vec()].concat();
        while m.len() + line.len() <= total {
            m.extend_from_slice(&line);
        }
        while m.len() < total - 1 {
            m.push(b'y');
        }
        m.push(b'\n');
        m
    }

    #[test]
    fn message_size_is_measured_on_the_wire_with_the_margin() {
        // The draft of issue 20: under the limit as a file, over it as sent.
        let raw = lf_draft(10_199_999);
        assert_eq!(raw.len(), 10_199_999);
        let c = Config::default();
        let report = crate::Engine::new(Config {
            select: vec!["SIZE001".into()],
            ..c.clone()
        })
        .unwrap()
        .check(&raw, &crate::Envelope::default());
        let m = &report.findings[0].message;
        assert!(
            m.contains("10,199,999 bytes (9.7 MiB) as a file and 10,332,4"),
            "both figures: {m}"
        );
        assert!(m.contains("2,000 bytes that servers add"), "{m}");
        // At the boundary: wire size plus margin equal to the limit passes, one more fails;
        // a CRLF message of the same wire size gives the same answer.
        let raw = lf_draft(5_000);
        let wire = crate::message::raw::RawFacts::scan(&raw).wire_size();
        let crlf = String::from_utf8(raw.clone())
            .unwrap()
            .replace('\n', "\r\n")
            .into_bytes();
        assert_eq!(crlf.len(), wire);
        for (limit, margin, fires) in [
            (wire + 100, 100, false),
            (wire + 99, 100, true),
            (wire, 0, false),
            (wire - 1, 0, true),
            (raw.len(), 0, true),
        ] {
            let mut c = Config::default();
            c.limits.max_message_bytes = Some(limit);
            c.limits.size_margin_bytes = margin;
            for r in [&raw, &crlf] {
                let ids = super::super::fired("SIZE001", c.clone(), r);
                assert_eq!(!ids.is_empty(), fires, "limit {limit}, margin {margin}");
            }
        }
    }

    #[test]
    fn header_block_limit() {
        let mut raw = Vec::new();
        for i in 0..2000 {
            raw.extend(format!("X-Tracking-{i}: {}\r\n", "v".repeat(60)).as_bytes());
        }
        raw.extend(b"From: a@example.com\r\n\r\nbody\r\n");
        assert!(ids("postfix", &raw).contains(&"SIZE002".to_string()));
    }

    #[test]
    fn human_bytes_groups_digits() {
        assert_eq!(super::human_bytes(10_240_000), "10,240,000 bytes (9.8 MiB)");
        assert_eq!(super::human_bytes(512), "512 bytes");
    }
}
