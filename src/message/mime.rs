//! A strict MIME tree built on the raw bytes (RFC 2045, RFC 2046 §5.1.1).
//!
//! Boundary delimiters count only at the start of a line and followed by nothing but
//! optional white space (or `--` for the close delimiter), which is what strict receivers
//! require; mail-parser also accepts them in the middle of a line.

use super::raw::{HeaderField, RawFacts, parse_header_block};

/// Nesting deeper than this is not descended into (the tree records that it stopped).
pub const HARD_MAX_DEPTH: usize = 64;
/// More parts than this are not recorded (the tree records that it stopped).
pub const HARD_MAX_PARTS: usize = 10_000;

/// One MIME entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MimePart {
    /// Dotted part path: `""` for the whole message, `"1"`, `"2.1"`, ... below it. The
    /// message inside a `message/rfc822` part `P` is `P.1`.
    pub path: String,
    /// Nesting depth: 0 for the message, +1 per multipart or message/rfc822 level.
    pub depth: usize,
    /// Index of the parent part.
    pub parent: Option<usize>,
    /// Indices of the child parts.
    pub children: Vec<usize>,
    /// Offset of the part's first header byte.
    pub header_start: usize,
    /// Offset of the body.
    pub body_start: usize,
    /// Offset just past the body (the line break before the next delimiter excluded).
    pub end: usize,
    /// The part's header fields.
    pub headers: Vec<HeaderField>,
    /// Whether the part's header block ended with an empty line.
    pub has_separator: bool,
    /// Lower-cased `type/subtype` (the RFC 2045 default when absent or unparsable).
    pub content_type: String,
    /// Whether a Content-Type field was present.
    pub content_type_declared: bool,
    /// Content-Type parameters, names lower-cased, values unquoted.
    pub params: Vec<(String, String)>,
    /// Lower-cased Content-Transfer-Encoding, when present.
    pub cte: Option<String>,
    /// Lower-cased disposition type (`inline`, `attachment`), when present.
    pub disposition: Option<String>,
    /// File name from Content-Disposition `filename` or Content-Type `name` (raw value).
    pub filename: Option<String>,
    /// For multiparts: whether the boundary parameter is present.
    pub has_boundary_param: bool,
    /// For multiparts: number of delimiter lines found.
    pub delimiters: usize,
    /// For multiparts: whether the close delimiter was found.
    pub terminated: bool,
    /// For leaf parts: whether the body has bytes >= 0x80.
    pub body_8bit: bool,
    /// For leaf parts: whether the body is empty or white space only.
    pub body_blank: bool,
}

impl MimePart {
    /// A Content-Type parameter by (lower-case) name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    /// Whether this is a `multipart/*` part.
    pub fn is_multipart(&self) -> bool {
        self.content_type.starts_with("multipart/")
    }
    /// Whether this is a `text/*` part.
    pub fn is_text(&self) -> bool {
        self.content_type.starts_with("text/")
    }
    /// Whether this part is a leaf (not multipart, not message/rfc822 with a parsed child).
    pub fn is_leaf(&self) -> bool {
        self.children.is_empty() && !self.is_multipart()
    }
    /// Whether the part is an attachment (disposition attachment, or a file name on a
    /// non-text part).
    pub fn is_attachment(&self) -> bool {
        self.disposition.as_deref() == Some("attachment")
            || (self.filename.is_some() && !self.is_text() && !self.is_multipart())
    }
    /// A display label: the path, or `message` for the root.
    pub fn label(&self) -> &str {
        if self.path.is_empty() {
            "message"
        } else {
            &self.path
        }
    }
    /// The part as the subject of a sentence: `The message` for the root, `Part 1.2`
    /// otherwise.
    pub fn noun(&self) -> String {
        if self.path.is_empty() {
            "The message".into()
        } else {
            format!("Part {}", self.path)
        }
    }
    /// The first header field with this name.
    pub fn header(&self, name: &str) -> Option<&HeaderField> {
        self.headers.iter().find(|h| h.is(name))
    }
}

/// The strict MIME tree of a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MimeTree {
    /// All parts, in document order; index 0 is the message itself.
    pub parts: Vec<MimePart>,
    /// Deepest depth seen.
    pub max_depth: usize,
    /// Whether building stopped at [`HARD_MAX_DEPTH`] or [`HARD_MAX_PARTS`].
    pub truncated: bool,
    /// Where recording first stopped: the header offset of the first part not recorded,
    /// or the first header field past a block's [`super::raw::HARD_MAX_FIELDS`]. The
    /// decoder (mail-parser) is given only the bytes before it, so what is parsed and
    /// kept is bounded like the tree.
    pub stopped_at: Option<usize>,
}

/// Splits a structured header value on `;` outside quotes, returning the first item
/// (lower-cased) and the parameters.
pub fn parse_params(value: &str) -> (String, Vec<(String, String)>) {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escaped = false;
    let mut depth_comment = 0usize;
    for c in value.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' if depth_comment == 0 => {
                quoted = !quoted;
                cur.push(c);
            }
            '(' if !quoted => depth_comment += 1,
            ')' if !quoted && depth_comment > 0 => depth_comment -= 1,
            ';' if !quoted && depth_comment == 0 => items.push(std::mem::take(&mut cur)),
            _ if depth_comment > 0 => {}
            _ => cur.push(c),
        }
    }
    items.push(cur);
    let mut it = items.into_iter();
    let first = it.next().unwrap_or_default().trim().to_ascii_lowercase();
    let params = it
        .filter_map(|p| {
            let (n, v) = p.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            Some((n.trim().to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    (first, params)
}

struct Builder<'r> {
    raw: &'r [u8],
    facts: &'r RawFacts,
    tree: MimeTree,
}

fn trim_line_end(raw: &[u8], start: usize, mut end: usize) -> usize {
    // Remove the CRLF or LF that belongs to the following delimiter.
    if end > start && raw[end - 1] == b'\n' {
        end -= 1;
        if end > start && raw[end - 1] == b'\r' {
            end -= 1;
        }
    }
    end
}

/// Classifies the line at `at` as a delimiter for `boundary`: `Some(true)` close,
/// `Some(false)` open, `None` not a delimiter.
fn delimiter_kind(line: &[u8], boundary: &[u8]) -> Option<bool> {
    let rest = line.strip_prefix(b"--")?.strip_prefix(boundary)?;
    let (close, rest) = match rest.strip_prefix(b"--") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    rest.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .then_some(close)
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        header_start: usize,
        end: usize,
        depth: usize,
        parent: Option<usize>,
        path: String,
        digest_child: bool,
        top: bool,
    ) {
        if self.tree.parts.len() >= HARD_MAX_PARTS || depth > HARD_MAX_DEPTH {
            self.tree.truncated = true;
            let at = self
                .tree
                .stopped_at
                .map_or(header_start, |s| s.min(header_start));
            self.tree.stopped_at = Some(at);
            return;
        }
        self.tree.max_depth = self.tree.max_depth.max(depth);
        let raw = self.raw;
        let (headers, body_start, has_separator, fields_stopped) = if top {
            let b = &self.facts.header_block;
            (
                b.fields.clone(),
                b.body_start,
                b.has_separator,
                b.stopped_at,
            )
        } else {
            let b = parse_header_block(raw, header_start, end, &|o| self.facts.line_of(raw, o));
            (b.fields, b.body_start, b.has_separator, b.stopped_at)
        };
        // A header block past its field cap: the decoder stops there too.
        if let Some(at) = fields_stopped {
            self.tree.stopped_at = Some(self.tree.stopped_at.map_or(at, |s| s.min(at)));
        }
        let value = |name: &str| headers.iter().find(|h| h.is(name)).map(|h| h.unfolded(raw));
        let ct = value("Content-Type");
        let default_ct = if digest_child {
            "message/rfc822"
        } else {
            "text/plain"
        };
        let (mut content_type, params) = match &ct {
            Some(v) => parse_params(v),
            None => (default_ct.to_string(), Vec::new()),
        };
        if !content_type.contains('/') || content_type.contains(char::is_whitespace) {
            content_type = "text/plain".to_string();
        }
        let cte = value("Content-Transfer-Encoding").map(|v| {
            let (v, _) = parse_params(&v);
            v
        });
        let (disposition, dparams) = match value("Content-Disposition") {
            Some(v) => {
                let (d, p) = parse_params(&v);
                (Some(d), p)
            }
            None => (None, Vec::new()),
        };
        let find = |ps: &[(String, String)], n: &str| {
            ps.iter()
                .find(|(k, _)| k == n || k.strip_prefix(n).is_some_and(|r| r.starts_with('*')))
                .map(|(_, v)| v.clone())
        };
        let filename = find(&dparams, "filename").or_else(|| find(&params, "name"));
        let idx = self.tree.parts.len();
        let is_multipart = content_type.starts_with("multipart/");
        let boundary = params
            .iter()
            .find(|(n, _)| n == "boundary")
            .map(|(_, v)| v.clone())
            .filter(|b| !b.is_empty());
        let body_start = body_start.min(end);
        let body = &raw[body_start..end];
        let leaf = !is_multipart && content_type != "message/rfc822";
        self.tree.parts.push(MimePart {
            path: path.clone(),
            depth,
            parent,
            children: Vec::new(),
            header_start,
            body_start,
            end,
            headers,
            has_separator,
            content_type: content_type.clone(),
            content_type_declared: ct.is_some(),
            has_boundary_param: boundary.is_some(),
            params,
            cte,
            disposition,
            filename,
            delimiters: 0,
            terminated: false,
            body_8bit: leaf && !body.is_ascii(),
            body_blank: body.iter().all(|b| b.is_ascii_whitespace()),
        });
        if let Some(p) = parent {
            self.tree.parts[p].children.push(idx);
        }
        let child_path = |n: usize| {
            if path.is_empty() {
                n.to_string()
            } else {
                format!("{path}.{n}")
            }
        };
        if is_multipart {
            let Some(boundary) = boundary else { return };
            let digest = content_type == "multipart/digest";
            let b = boundary.as_bytes();
            let mut open: Option<usize> = None; // start of the current part's content
            let mut n = 0;
            let mut delimiters = 0;
            let mut terminated = false;
            // Candidates are found by searching for `--boundary` (not line by line: each
            // of 64 nested levels reads its whole body) and count at a line start only.
            let dashed = [b"--", b].concat();
            let finder = memchr::memmem::Finder::new(&dashed);
            let mut from = body_start;
            while let Some(p) = finder.find(&raw[from..end]) {
                let at = from + p;
                from = at + 1;
                if at > body_start && raw[at - 1] != b'\n' {
                    continue;
                }
                let next = match memchr::memchr(b'\n', &raw[at..end]) {
                    Some(p) => at + p + 1,
                    None => end,
                };
                if let Some(close) = delimiter_kind(&raw[at..next], b) {
                    delimiters += 1;
                    if let Some(s) = open.take() {
                        n += 1;
                        let e = trim_line_end(raw, s, at).max(s);
                        self.add(s, e, depth + 1, Some(idx), child_path(n), digest, false);
                    }
                    if close {
                        terminated = true;
                        break;
                    }
                    open = Some(next);
                    from = next;
                }
            }
            if let Some(s) = open {
                n += 1;
                self.add(s, end, depth + 1, Some(idx), child_path(n), digest, false);
            }
            let part = &mut self.tree.parts[idx];
            part.delimiters = delimiters;
            part.terminated = terminated;
        } else if content_type == "message/rfc822" && !body.iter().all(|b| b.is_ascii_whitespace())
        {
            let enc = self.tree.parts[idx].cte.as_deref().unwrap_or("7bit");
            if matches!(enc, "7bit" | "8bit" | "binary") {
                self.add(
                    body_start,
                    end,
                    depth + 1,
                    Some(idx),
                    child_path(1),
                    false,
                    false,
                );
                let inner = self.tree.parts.len();
                let _ = inner;
            }
        }
    }
}

impl MimeTree {
    /// Builds the tree for a whole message whose raw facts are `facts`.
    pub fn build(raw: &[u8], facts: &RawFacts) -> MimeTree {
        let mut b = Builder {
            raw,
            facts,
            tree: MimeTree::default(),
        };
        b.add(
            facts.header_start,
            raw.len(),
            0,
            None,
            String::new(),
            false,
            true,
        );
        b.tree
    }

    /// The whole-message part.
    pub fn root(&self) -> &MimePart {
        &self.parts[0]
    }

    /// The bytes of `raw` the decoder needs: all of them, or those before the first part
    /// the tree did not record.
    pub fn decodable<'r>(&self, raw: &'r [u8]) -> &'r [u8] {
        &raw[..self.stopped_at.unwrap_or(raw.len()).min(raw.len())]
    }

    /// Leaf parts (text, images, attachments), in document order.
    pub fn leaves(&self) -> impl Iterator<Item = &MimePart> {
        self.parts.iter().filter(|p| p.is_leaf())
    }

    /// Number of parts below the message (the message itself not counted).
    pub fn part_count(&self) -> usize {
        self.parts.len().saturating_sub(1)
    }

    /// Parts that are attachments.
    pub fn attachments(&self) -> impl Iterator<Item = &MimePart> {
        self.parts.iter().filter(|p| p.is_attachment())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(raw: &[u8]) -> MimeTree {
        MimeTree::build(raw, &RawFacts::scan(raw))
    }

    #[test]
    fn params_with_quotes_and_comments() {
        let (t, p) = parse_params("Multipart/Mixed; boundary=\"a;b\" (c); charset=UTF-8");
        assert_eq!(t, "multipart/mixed");
        assert_eq!(
            p,
            vec![
                ("boundary".into(), "a;b".into()),
                ("charset".into(), "UTF-8".into())
            ]
        );
    }

    #[test]
    fn nested_multipart_paths_and_termination() {
        let raw = b"Content-Type: multipart/mixed; boundary=X\n\npre\n--X\nContent-Type: multipart/alternative; boundary=Y\n\n--Y\n\ntext\n--Y\nContent-Type: text/html\n\n<p>h</p>\n--Y--\n--X\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"a.pdf\"\n\n%PDF\n--X--\nepilogue\n";
        let t = tree(raw);
        let paths: Vec<_> = t.parts.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["", "1", "1.1", "1.2", "2"]);
        assert!(t.parts[0].terminated && t.parts[1].terminated);
        assert_eq!(t.max_depth, 2);
        assert_eq!(&raw[t.parts[2].body_start..t.parts[2].end], b"text");
        assert_eq!(t.parts[4].filename.as_deref(), Some("a.pdf"));
        assert!(t.parts[4].is_attachment());
    }

    #[test]
    fn unterminated_and_mid_line_boundaries() {
        let raw = b"Content-Type: multipart/mixed; boundary=X\n\n--X\n\none --X\n";
        let t = tree(raw);
        assert_eq!(t.parts.len(), 2);
        assert!(!t.parts[0].terminated);
        assert_eq!(t.parts[0].delimiters, 1);
    }

    #[test]
    fn multipart_without_boundary() {
        let t = tree(b"Content-Type: multipart/mixed\n\nhello\n");
        assert!(!t.parts[0].has_boundary_param);
        assert_eq!(t.parts.len(), 1);
    }

    #[test]
    fn rfc822_inner_message() {
        let raw = b"Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: message/rfc822\n\nSubject: inner\n\nhi \xc3\xa9\n--X--\n";
        let t = tree(raw);
        let paths: Vec<_> = t.parts.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["", "1", "1.1"]);
        assert_eq!(t.parts[2].depth, 2);
        assert!(t.parts[2].body_8bit);
        assert_eq!(t.parts[2].headers[0].name, "Subject");
    }

    #[test]
    fn delimiters_count_only_at_line_starts() {
        // The same delimiters a line-by-line reading finds: `--b` inside a line, longer
        // boundaries that start with `b`, CR LF, white space after, the body's first line.
        // (body, delimiter lines, closed, the parts' bodies)
        type Case<'c> = (&'c [u8], usize, bool, &'c [&'c [u8]]);
        let cases: &[Case<'_>] = &[
            (
                b"--b\n\none --b\n--bb\n--b \t\r\n\ntwo\n--b--\n",
                3,
                true,
                &[b"one --b\n--bb", b"two"],
            ),
            (b"x--b\n--b\r\n\r\nA\r\n--b--", 2, true, &[b"A"]),
            (b"--b-\n--b\n\nlast", 1, false, &[b"last"]),
            (b"\n---b\n--b--x\n--b--\n", 1, true, &[]),
        ];
        for (body, delimiters, terminated, bodies) in cases {
            let mut raw = b"Content-Type: multipart/mixed; boundary=b\n\n".to_vec();
            raw.extend_from_slice(body);
            let t = tree(&raw);
            let root = t.root();
            let got: Vec<&[u8]> = root
                .children
                .iter()
                .map(|&c| &raw[t.parts[c].body_start..t.parts[c].end])
                .collect();
            assert_eq!(
                (root.delimiters, root.terminated, got.as_slice()),
                (*delimiters, *terminated, *bodies),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut raw = Vec::new();
        for i in 0..200 {
            raw.extend(
                format!("Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n").as_bytes(),
            );
        }
        let t = tree(&raw);
        assert!(t.truncated);
        assert!(t.max_depth <= HARD_MAX_DEPTH);
    }
}
