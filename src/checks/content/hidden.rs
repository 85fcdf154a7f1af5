//! CNT029: plain letters and digits written as numeric character references in the HTML
//! (`Dat&#101;`) so that word filters miss them. A rule of its own: the only content rule
//! that reads the HTML as written rather than the text it shows.

use std::sync::LazyLock;

use regex::Regex;

use crate::checks::Ctx;
use crate::message::Message;

/// Numeric character references (`&#83;` or `&#x53;`, with or without the semicolon).
static NUMERIC_ENTITY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"&#(?:[0-9]{2,3}|[xX][0-9a-fA-F]{2});?").expect("valid regex"));

/// How many letters and digits written as numeric references make obfuscation.
const ENTITY_LETTERS_MIN: usize = 8;

/// Letters hidden behind numeric character references in HTML (CNT029).
pub(super) fn hidden_references(msg: &Message<'_>, cx: &mut Ctx<'_>) {
    // Letters hidden behind numeric character references in HTML.
    if cx.on("CNT029") {
        for tp in msg.text.parts.iter() {
            let Some(html) = &tp.html else { continue };
            let mut n = 0usize;
            let mut first = None;
            for m in NUMERIC_ENTITY.find_iter(html) {
                let code = m.as_str().trim_start_matches("&#").trim_end_matches(';');
                let v = match code.strip_prefix(['x', 'X']) {
                    Some(h) => u32::from_str_radix(h, 16).ok(),
                    None => code.parse().ok(),
                };
                // Only references glued to plain letters ("Dat&#101;") hide words; a
                // run of references alone is how pages hide e-mail addresses.
                let b = html.as_bytes();
                let glued = (m.start() > 0 && b[m.start() - 1].is_ascii_alphabetic())
                    || b.get(m.end()).is_some_and(u8::is_ascii_alphabetic);
                if glued
                    && v.and_then(char::from_u32)
                        .is_some_and(|c| c.is_ascii_alphanumeric())
                {
                    n += 1;
                    first.get_or_insert(m.start());
                }
            }
            if n >= ENTITY_LETTERS_MIN {
                cx.hit(
                    "CNT029",
                    format!(
                        "Part {} writes {n} plain letters or digits as numeric character references (&#83; for S) so that word filters miss them",
                        tp.part
                    ),
                    vec![],
                );
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::ids;

    #[test]
    fn numeric_references() {
        let html = "From: a@example.com\nSubject: x\nContent-Type: text/html\n\n<p>&#83&#112&#101&#101d Dat&#101 &#83ingle&#115 &#99lic&#107 &#104&#101&#114&#101 &#109oney &#102&#114ee &#111ffer</p>\n";
        assert_eq!(ids(html), ["CNT029"]);
        let ok = "From: a@example.com\nSubject: x\nContent-Type: text/html\n\n<p>Caf&#233; &#8212; &#169; 2024 &#8220;quoted&#8221;</p>\n";
        assert!(ids(ok).is_empty());
    }
}
