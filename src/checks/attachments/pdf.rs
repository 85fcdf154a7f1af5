//! PDF: the name tokens that mark active content (JavaScript, Launch actions, automatic
//! actions), embedded files and encryption. Names are read with their `#xx` escapes
//! undone (`/J#61vaScript`), in the file and inside compressed object streams, which the
//! caller inflates under the message's decompression budget.

use memchr::memmem;

/// What a PDF holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct PdfFacts {
    /// `/JavaScript` or `/JS`.
    pub javascript: bool,
    /// `/OpenAction` or `/AA` (actions that run by themselves).
    pub auto_action: bool,
    /// `/Launch` (runs a program or opens a file).
    pub launch: bool,
    /// `/EmbeddedFile(s)`.
    pub embedded: bool,
    /// `/Encrypt` in the trailer.
    pub encrypted: bool,
}

impl PdfFacts {
    fn names(&mut self, d: &[u8]) {
        for at in memchr::memchr_iter(b'/', d) {
            let rest = &d[at + 1..];
            let end = rest
                .iter()
                .position(|&b| b.is_ascii_whitespace() || b"/<>[]()%{}".contains(&b))
                .unwrap_or(rest.len());
            let raw = &rest[..end.min(64)];
            // Short-cut: every name we want starts with one of these letters, or an escape.
            if !matches!(raw.first(), Some(b'J' | b'O' | b'A' | b'L' | b'E' | b'#')) {
                continue;
            }
            let name: std::borrow::Cow<'_, [u8]> = if raw.contains(&b'#') {
                crate::util::unescape_hex(raw, b'#').into()
            } else {
                raw.into()
            };
            match &*name {
                b"JavaScript" | b"JS" => self.javascript = true,
                b"OpenAction" | b"AA" => self.auto_action = true,
                b"Launch" => self.launch = true,
                b"EmbeddedFile" | b"EmbeddedFiles" => self.embedded = true,
                b"Encrypt" => self.encrypted = true,
                _ => {}
            }
        }
    }
}

/// Scans a PDF. `inflate` decodes a FlateDecode object stream (`None` when it cannot or
/// the budget is spent).
pub(super) fn scan(d: &[u8], inflate: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>) -> PdfFacts {
    let mut facts = PdfFacts::default();
    facts.names(d);
    // Object streams (PDF 1.5+) hide dictionaries inside compressed data. One pass: each
    // search starts past the previous stream, and the dictionary is looked for within a
    // few KB, so a file stuffed with `/ObjStm` tokens stays linear.
    let mut pos = 0;
    while let Some(i) = memmem::find(&d[pos..], b"/ObjStm") {
        let at = pos + i;
        pos = at + b"/ObjStm".len();
        let back = at.saturating_sub(4096);
        let dict_start = d[back..at]
            .iter()
            .rposition(|&b| b == b'<')
            .map_or(at, |p| back + p);
        let window = &d[at..d.len().min(at + 4096)];
        let Some(s) = memmem::find(window, b"stream") else {
            continue;
        };
        let dict = &d[dict_start..at + s];
        let mut start = at + s + b"stream".len();
        if d.get(start) == Some(&b'\r') {
            start += 1;
        }
        if d.get(start) == Some(&b'\n') {
            start += 1;
        }
        let end = memmem::find(&d[start..], b"endstream").map_or(d.len(), |e| start + e);
        pos = pos.max(end);
        if memmem::find(dict, b"/FlateDecode").is_some()
            && let Some(plain) = inflate(&d[start..end])
        {
            facts.names(&plain);
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(d: &[u8]) -> PdfFacts {
        scan(d, &mut |_| None)
    }

    #[test]
    fn names_and_escapes() {
        let f = plain(b"%PDF-1.4\n1 0 obj<</OpenAction 2 0 R>>endobj 2 0 obj<</S/J#61vaScript/JS(app.alert(1))>>endobj");
        assert!(f.javascript && f.auto_action && !f.launch);
        let f = plain(b"%PDF-1.7\n1 0 obj<</Type/Catalog/Names<</EmbeddedFiles 3 0 R>>>>endobj trailer<</Encrypt 5 0 R>>");
        assert!(f.embedded && f.encrypted && !f.javascript);
        assert_eq!(
            plain(b"%PDF-1.7\n1 0 obj<</Type/Page/JSX 1>>endobj"),
            PdfFacts::default()
        );
    }

    #[test]
    fn object_streams_are_read() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut z, b"<</S/Launch/F(cmd.exe)>>").unwrap();
        let body = z.finish().unwrap();
        let mut pdf =
            b"%PDF-1.5\n1 0 obj<</Type/ObjStm/N 1/Filter/FlateDecode/Length 9>>stream\n".to_vec();
        pdf.extend(&body);
        pdf.extend(b"\nendstream endobj");
        let f = scan(&pdf, &mut |c| {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(c), &mut out).ok()?;
            Some(out)
        });
        assert!(f.launch);
    }
}
