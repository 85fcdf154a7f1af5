//! Is this input a mail message at all?
//!
//! The CLI refuses input that is not mail (exit status 65, `EX_DATAERR`) instead of reporting
//! on it, because findings about a PNG file or an empty file help nobody. The test is
//! deliberately conservative: a *malformed* message (bare LF, NULs, a broken header, no
//! blank line, a missing From) is still mail and gets findings. Only input that has no
//! chance of being a message is refused:
//!
//! * empty input, or input made only of white space;
//! * binary data: more than 10% of the first 1,024 bytes are control bytes other than
//!   TAB, CR and LF (NUL included), which text never has and an image or archive always has;
//! * no header field at all at the start (after an optional mbox `From ` line): the first
//!   line must read `Name: value` (after at most eight stray continuation lines, which
//!   are a finding, HDR019), and at least one field of the header block must have a
//!   name of printable ASCII (RFC 5322 §3.6.8 `ftext`; the obsolete white space before the
//!   colon is tolerated).

use super::raw::{header_start, parse_header_block};

/// How many leading bytes the binary test looks at.
const SNIFF_BYTES: usize = 1024;

/// Checks that `raw` is plausibly a mail message; `Err` says why it is not.
///
/// ```
/// use preflight::message::looks_like_mail;
/// assert!(looks_like_mail(b"Subject: hi\n\nbody\n").is_ok());
/// assert!(looks_like_mail(b"").is_err());
/// assert!(looks_like_mail(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").is_err());
/// assert!(looks_like_mail(b"Dear friend,\nhello\n").is_err());
/// ```
pub fn looks_like_mail(raw: &[u8]) -> Result<(), String> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(if raw.is_empty() {
            "the input is empty".into()
        } else {
            "the input contains only white space".into()
        });
    }
    let head = &raw[..raw.len().min(SNIFF_BYTES)];
    let control = head
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n')) || b == 0x7f)
        .count();
    if control * 10 > head.len() {
        return Err(format!(
            "the input looks binary ({control} control bytes in the first {} bytes)",
            head.len()
        ));
    }
    // Only the header block is parsed (it stops at the first line that is not a field),
    // not the line structure of the whole input: `Engine::check` scans that once later.
    let head = &raw[..raw.len().min(256 * 1024)];
    let mut start = header_start(head);
    let first_line = start;
    // A draft that opens with a few stray continuation lines (white space first, some
    // text) is still mail, with an HDR019 finding: the fields after them decide.
    for _ in 0..8 {
        let rest = &head[start..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |p| p + 1);
        let line = &rest[..end];
        let indented = matches!(line.first(), Some(b' ' | b'\t'));
        if !indented || line.iter().all(u8::is_ascii_whitespace) || end == rest.len() {
            break;
        }
        start += end;
    }
    let valid_name = |n: &str| !n.is_empty() && n.bytes().all(|b| (33..=126).contains(&b));
    // Nearly always the first line is a well-formed field, and that settles it: read only
    // that line (this test runs before every check, in the library too).
    let first_line_end = head[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(head.len(), |p| start + p + 1);
    let first = parse_header_block(head, start, first_line_end, &|_| 0);
    let settled = first
        .fields
        .first()
        .is_some_and(|h| h.start == start && valid_name(&h.name));
    let first_is_field = settled || {
        let block = parse_header_block(head, start, head.len(), &|_| 0);
        block.fields.first().is_some_and(|h| h.start == start)
            && block.fields.iter().any(|h| valid_name(&h.name))
    };
    if !first_is_field {
        let start = first_line;
        let end = raw[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |p| start + p);
        let line = String::from_utf8_lossy(&raw[start..end.min(start + 60)])
            .trim_end()
            .to_string();
        // Line 2 when an mbox `From ` line came first.
        let number = 1 + usize::from(start > 0 && raw[start - 1] == b'\n');
        if line.trim().is_empty() {
            return Err(format!(
                "no header field at the start of the input (line {number} is blank; a message starts with `Name: value` fields, and a blank line ends them)"
            ));
        }
        return Err(format!(
            "no header field at the start of the input (line {number} reads {line:?}, expected `Name: value`)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conservative_not_mail_test() {
        let ok: &[&[u8]] = &[
            b"Subject: hi\n\nbody\n",
            b"From: a@b.example\r\nTo: c@d.example\r\n\r\n",
            b"From someone Mon Jan  1 00:00:00 2024\nFrom: a@b.example\n\nx\n",
            b"Subject : obsolete space\n\nx\n",
            b"Subject: no blank line\nthis is the body\n",
            b"Subject: a NUL\n\nbo\0dy with a NUL byte among plenty of ordinary text\n",
            b"X-Only: header",
            b"Fr om: a\nSubject: x\n\nx\n",
            // Stray continuation lines before the first field (HDR019's case).
            b" X-Stray: 1\nFrom: a@example.com\nSubject: hi\n\nbody\n",
        ];
        for raw in ok {
            assert!(
                looks_like_mail(raw).is_ok(),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
        let bad: &[&[u8]] = &[
            b"",
            b" \r\n\n",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0",
            b"Hello there\nSubject: x\n",
            b": x\n",
            b"Fr om: a\n\nx\n",
            b"\0\0\0\0Subject: x\n",
            b"   indented prose\n   more prose\n",
        ];
        for raw in bad {
            assert!(
                looks_like_mail(raw).is_err(),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    /// A blank first line is named as blank, not quoted as `""`.
    #[test]
    fn a_blank_first_line_is_called_blank() {
        for raw in [&b"\nSubject: x\n\nbody\n"[..], b"  \r\nSubject: x\r\n"] {
            let e = looks_like_mail(raw).unwrap_err();
            assert!(e.contains("line 1 is blank"), "{e}");
            assert!(!e.contains("reads"), "{e}");
        }
        let e = looks_like_mail(b"Hello there\r\nSubject: x\n").unwrap_err();
        assert!(e.contains("line 1 reads \"Hello there\""), "{e}");
    }
}
