//! Small helpers shared across modules.

/// Standard base64 with padding.
pub(crate) fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Decodes standard base64 (padding optional); `None` on any other character.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let body = text.trim_end_matches('=');
    body.bytes()
        .all(|c| base64_value(c).is_some())
        .then(|| base64_decode_lenient(body.as_bytes()))
}

/// Decodes base64 as mail bodies carry it: line breaks and stray characters are skipped,
/// and the first `=` ends the data.
pub(crate) fn base64_decode_lenient(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in body {
        if c == b'=' {
            break;
        }
        let Some(v) = base64_value(c) else {
            continue;
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn base64_value(c: u8) -> Option<u8> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    })
}

/// Text for bytes that may not be UTF-8: valid sequences as they are, every other byte as
/// `\xNN`.
pub(crate) fn escape_non_utf8(mut bytes: &[u8]) -> String {
    let mut out = String::new();
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len()).max(1);
                for b in &rest[..bad] {
                    out.push_str(&format!("\\x{b:02x}"));
                }
                bytes = &rest[bad..];
            }
        }
    }
}

/// Cuts `s` to at most `max` bytes at a char boundary.
pub(crate) fn truncate_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A YAML error as `(line, column, message)`: the place once, as numbers, and the
/// message without serde-saphyr's own `line L column C` prefix or source snippet, on one
/// line with control characters escaped. Errors without a place point at 1:1.
pub(crate) fn yaml_error(e: &serde_saphyr::Error) -> (u64, u64, String) {
    use serde_saphyr::MessageFormatter as _;
    let (line, column) = e
        .location()
        .filter(|l| l.line() > 0)
        .map_or((1, 1), |l| (l.line(), l.column().max(1)));
    let text = serde_saphyr::DefaultMessageFormatter.format_message(e.without_snippet());
    let mut msg = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_control() {
            msg.extend(c.escape_debug());
        } else {
            msg.push(c);
        }
    }
    if msg.is_empty() {
        msg = "invalid YAML".into();
    }
    (line, column, msg)
}

/// The line of `text` that holds offset `at`: `(start, end)`, its terminator (LF, CR LF
/// or a lone CR before the LF) excluded, looking at most `reach` bytes each way from
/// `at` (a snippet needs no more, and a line may be megabytes long).
pub(crate) fn line_bounds(text: &[u8], at: usize, reach: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let lo = at.saturating_sub(reach);
    let hi = at.saturating_add(reach).min(text.len());
    let start = memchr::memrchr(b'\n', &text[lo..at]).map_or(lo, |p| lo + p + 1);
    let mut end = memchr::memchr(b'\n', &text[at..hi]).map_or(hi, |p| at + p);
    while end > start && end > at && text[end - 1] == b'\r' {
        end -= 1;
    }
    (start, end)
}

/// Where to cut a snippet of `line` (one line, without its terminator) that shows the
/// text from `at` on: at most `max` bytes, starting at most `before` bytes ahead of `at`.
/// Both cuts move to white space when there is some in reach, so no word, address or URL
/// is cut in two, and always to UTF-8 boundaries; a token longer than the whole window
/// is cut where the window ends. Returns `(start, end)` in `line`.
pub(crate) fn snippet_bounds(line: &[u8], at: usize, before: usize, max: usize) -> (usize, usize) {
    let len = line.len();
    let at = at.min(len);
    if len <= max {
        return (0, len);
    }
    let is_space = |b: u8| b == b' ' || b == b'\t';
    let continuation = |i: usize| i < len && (line[i] & 0xC0) == 0x80;
    let mut start = at.saturating_sub(before.min(max));
    if start > 0 && !is_space(line[start - 1]) {
        // Start after the next white space, if that is still before `at`.
        if let Some(p) = line[start..at].iter().position(|&b| is_space(b)) {
            start += p + 1;
        }
    }
    while start > 0 && continuation(start) {
        start -= 1;
    }
    let mut end = (start + max).min(len);
    if end < len && !is_space(line[end]) {
        // End at the last white space that still shows something past `at`.
        let keep = (at + 1).min(end);
        if let Some(p) = line[keep..end].iter().rposition(|&b| is_space(b)) {
            end = keep + p;
        }
    }
    while end > start && continuation(end) {
        end -= 1;
    }
    (start, end)
}

/// Undoes `<marker>xx` hex escapes (`%41` in URLs, `#41` in PDF names); a marker not
/// followed by two hex digits stays as it is.
pub(crate) fn unescape_hex(raw: &[u8], marker: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == marker
            && let Some(h) = raw.get(i + 1..i + 3)
            && let Ok(s) = std::str::from_utf8(h)
            && let Ok(b) = u8::from_str_radix(s, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

/// Defangs a URL for display so it cannot be clicked by accident:
/// `http://evil.example/x` becomes `hxxp://evil[.]example/x`.
pub(crate) fn defang(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i], &url[i + 3..]),
        None => ("", url),
    };
    let (host, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let scheme = scheme.replacen("ttp", "xxp", 1).replacen("TTP", "XXP", 1);
    let host = host.replace('.', "[.]");
    if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}://{host}{path}")
    }
}

/// Defangs every `http(s)://` URL in a text (see [`defang`]).
pub(crate) fn defang_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(i) = rest.to_ascii_lowercase().find("http") {
        let tail = &rest[i..];
        let lower = tail
            .get(..8)
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            out.push_str(&rest[..i + 4]);
            rest = &rest[i + 4..];
            continue;
        }
        out.push_str(&rest[..i]);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
            .unwrap_or(tail.len());
        out.push_str(&defang(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Rounds a score to hundredths, as reports, headers and logs show it; never -0 (an
/// empty `f64` sum is -0.0, which reports once printed as `"score": -0.0`).
pub(crate) fn round2(x: f64) -> f64 {
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 { 0.0 } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defangs_urls_inside_text() {
        assert_eq!(
            defang_text("<a href='https://evil.example/x'>HTTP://a.b/c</a> httpd"),
            "<a href='hxxps://evil[.]example/x'>HXXP://a[.]b/c</a> httpd"
        );
    }

    #[test]
    fn urls_are_defanged() {
        assert_eq!(
            defang("http://evil.example/a.b"),
            "hxxp://evil[.]example/a.b"
        );
        assert_eq!(
            defang("https://10.0.0.1:81/x"),
            "hxxps://10[.]0[.]0[.]1:81/x"
        );
    }

    #[test]
    fn base64_round_trips_and_escapes() {
        for s in [&b""[..], b"f", b"fo", b"foo", b"foob", b"\xff\x00\x80"] {
            assert_eq!(base64_decode(&base64(s)).unwrap(), s);
        }
        assert_eq!(base64_decode("a b"), None);
        assert_eq!(
            escape_non_utf8(b"caf\xe9 \xe2\x82\xac"),
            "caf\\xe9 \u{20ac}"
        );
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
    /// Snippets end and start at white space, not inside a word, address or URL; they
    /// keep the text at the offset in view and lose the line's CR.
    #[test]
    fn snippets_are_cut_between_tokens() {
        let line = b"Please verify your account at https://secure-login.example/verify?id=1 within 24 hours or it will be closed";
        let at = 30; // "https"
        let (s, e) = snippet_bounds(line, at, 20, 60);
        let shown = std::str::from_utf8(&line[s..e]).unwrap();
        assert_eq!(
            shown,
            "your account at https://secure-login.example/verify?id=1"
        );
        assert!(s <= at && e > at);
        // A short line is shown whole; a token longer than the window is cut at its end.
        assert_eq!(snippet_bounds(b"short", 2, 10, 60), (0, 5));
        let long = "x".repeat(300);
        assert_eq!(snippet_bounds(long.as_bytes(), 100, 40, 120), (60, 180));
        // Never inside a UTF-8 sequence.
        let text = "é".repeat(100);
        let (s, e) = snippet_bounds(text.as_bytes(), 61, 20, 45);
        assert!(text.is_char_boundary(s) && text.is_char_boundary(e) && e > s);
        assert_eq!(line_bounds(b"a\r\nbcd\r\ne", 4, 100), (3, 6));
        assert_eq!(line_bounds(b"abc", 1, 100), (0, 3));
        assert_eq!(line_bounds(b"abcdefgh", 4, 2), (2, 6));
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate_str("héllo", 2), "h");
        assert_eq!(truncate_str("héllo", 3), "hé");
        assert_eq!(truncate_str("abc", 10), "abc");
    }
}
