//! Facts measured on the raw bytes, before any parser forgives them.

/// How many positions of each kind of defect are kept as evidence (the count is exact).
pub const MAX_POSITIONS: usize = 16;

/// Bytes per block of the line index (see [`RawFacts::line_of`]).
pub const LINE_BLOCK: usize = 1024;

/// Header fields recorded per header block; the rest are counted ([`HeaderBlock::count`])
/// and the block records where recording stopped. 35 MB of two-byte fields would
/// otherwise be 12 million entries here and as many in the decoder.
pub const HARD_MAX_FIELDS: usize = 10_000;

/// The line terminator the message uses, judged by its first line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnding {
    /// CR LF, as on the wire.
    Crlf,
    /// LF only, as in a file on disk; the MTA converts it, so it is not a defect.
    Lf,
    /// No line terminator at all (a one-line input).
    None,
}

/// A defect that occurs at byte positions: the exact count and the first few positions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Positions {
    /// How many times it occurs.
    pub count: usize,
    /// The first [`MAX_POSITIONS`] byte offsets.
    pub first: Vec<usize>,
}

impl Positions {
    fn push(&mut self, at: usize) {
        self.count += 1;
        if self.first.len() < MAX_POSITIONS {
            self.first.push(at);
        }
    }
}

/// One header field as written, with its byte offsets in the raw message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderField {
    /// Field name as written (without trailing white space).
    pub name: String,
    /// Offset of the first byte of the field name.
    pub start: usize,
    /// Offset just past the colon.
    pub value_start: usize,
    /// Offset just past the field's last line terminator (folded lines included).
    pub end: usize,
    /// 1-based line of the field's first line.
    pub line: usize,
    /// Set when the field breaks RFC 5322 §2.2/§3.6.8 syntax (the reason).
    pub malformed: Option<&'static str>,
}

impl HeaderField {
    /// The raw value bytes (folded lines included, terminators included).
    pub fn raw_value<'r>(&self, raw: &'r [u8]) -> &'r [u8] {
        &raw[self.value_start.min(raw.len())..self.end.min(raw.len())]
    }

    /// The value unfolded (CR and LF removed), trimmed, lossily decoded as UTF-8.
    pub fn unfolded(&self, raw: &[u8]) -> String {
        unfold(self.raw_value(raw))
    }

    /// Whether the field's name equals `name`, ignoring ASCII case.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// Header bytes with line terminators removed, as text (invalid UTF-8 replaced), trimmed.
/// One allocation in the common case.
pub fn unfold(v: &[u8]) -> String {
    let v = v.trim_ascii();
    let bytes: Vec<u8> = if memchr::memchr2(b'\r', b'\n', v).is_some() {
        v.iter()
            .copied()
            .filter(|&b| b != b'\r' && b != b'\n')
            .collect()
    } else {
        v.to_vec()
    };
    let s = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    match s.trim() {
        t if t.len() == s.len() => s,
        t => t.to_string(),
    }
}

/// A header block parsed strictly.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderBlock {
    /// The fields in order (the first [`HARD_MAX_FIELDS`]).
    pub fields: Vec<HeaderField>,
    /// How many fields the block has, recorded or not.
    pub count: usize,
    /// Where the first field that was not recorded starts, when there were more than
    /// [`HARD_MAX_FIELDS`].
    pub stopped_at: Option<usize>,
    /// Offset where the body starts (after the empty line), or where the header block
    /// stopped when there is no empty line.
    pub body_start: usize,
    /// Whether the block ended with an empty line (false: a non-header line started the
    /// body, or the input ended inside the headers).
    pub has_separator: bool,
    /// A line inside the header block that is neither a field nor a continuation: its
    /// offset (the body is taken to start there).
    pub stray_line: Option<usize>,
    /// A continuation line with nothing before it to continue.
    pub orphan_continuation: Option<usize>,
}

/// Returns the offset just past the line that starts at `at` (past its LF, or `end`).
fn line_end(raw: &[u8], at: usize, end: usize) -> usize {
    match memchr::memchr(b'\n', &raw[at..end]) {
        Some(p) => at + p + 1,
        None => end,
    }
}

/// Whether the line `raw[at..next]` is empty (only CR/LF).
fn is_blank_line(line: &[u8]) -> bool {
    line.iter().all(|&b| b == b'\r' || b == b'\n')
}

/// Where the header block starts: past an mbox `From ` envelope line, if there is one.
pub fn header_start(raw: &[u8]) -> usize {
    if raw.starts_with(b"From ") {
        line_end(raw, 0, raw.len())
    } else {
        0
    }
}

/// Parses a header block strictly from `start` up to `end`.
pub fn parse_header_block(
    raw: &[u8],
    start: usize,
    end: usize,
    line_of: &dyn Fn(usize) -> usize,
) -> HeaderBlock {
    let mut block = HeaderBlock::default();
    let mut at = start;
    // Asked once, then counted: a line number per field cost a search per field.
    let mut line_no = line_of(start);
    while at < end {
        let next = line_end(raw, at, end);
        let line = &raw[at..next];
        if is_blank_line(line) {
            block.has_separator = true;
            block.body_start = next;
            return block;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            match block.fields.last_mut() {
                Some(_) if block.stopped_at.is_some() => {}
                Some(f) => f.end = next,
                None => {
                    if block.orphan_continuation.is_none() {
                        block.orphan_continuation = Some(at);
                    }
                }
            }
            at = next;
            line_no += 1;
            continue;
        }
        let colon = memchr::memchr(b':', line);
        let Some(colon) = colon else {
            // Not a field: the body starts here without an empty line.
            block.stray_line = Some(at);
            block.body_start = at;
            return block;
        };
        let name_raw = &line[..colon];
        let name_trim_len = name_raw
            .iter()
            .rposition(|&b| b != b' ' && b != b'\t')
            .map_or(0, |p| p + 1);
        let name = &name_raw[..name_trim_len];
        let valid_name = !name.is_empty() && name.iter().all(|&b| (33..=126).contains(&b));
        if !valid_name
            && (name.is_empty()
                || name.len() > 76
                || name.iter().any(|&b| b == b'\r' || b == b'\n'))
        {
            // A line like ": foo" or prose containing a colon: treat as a stray line.
            block.stray_line = Some(at);
            block.body_start = at;
            return block;
        }
        let malformed = if !valid_name {
            Some("field name contains characters RFC 5322 §3.6.8 forbids (space, control or 8-bit)")
        } else if name_trim_len != colon {
            Some(
                "white space between the field name and the colon (obsolete syntax, RFC 5322 §4.5)",
            )
        } else {
            None
        };
        block.count += 1;
        if block.fields.len() >= HARD_MAX_FIELDS {
            block.stopped_at.get_or_insert(at);
        } else {
            block.fields.push(HeaderField {
                name: String::from_utf8_lossy(name).into_owned(),
                start: at,
                value_start: at + colon + 1,
                end: next,
                line: line_no,
                malformed,
            });
        }
        at = next;
        line_no += 1;
    }
    block.body_start = end;
    block
}

/// Facts about the raw bytes of a whole message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFacts {
    /// Total size in bytes.
    pub size: usize,
    /// Line starts before each [`LINE_BLOCK`]-byte block: `block_lines[k]` counts the
    /// lines that start before byte `k * LINE_BLOCK`, so a line number is this plus the
    /// line feeds in at most one block. (A list of every line start cost 8 bytes a line:
    /// 280 MB for 35 MB of empty lines.)
    block_lines: Vec<usize>,
    /// The line terminator of the first line.
    pub line_ending: LineEnding,
    /// Lines terminated by CR LF.
    pub crlf_lines: usize,
    /// LF not preceded by CR (counted always; a defect only when `line_ending` is CRLF).
    pub bare_lf: Positions,
    /// CR not followed by LF.
    pub bare_cr: Positions,
    /// NUL bytes.
    pub nul: Positions,
    /// Lines longer than 998 octets (terminator excluded): start offsets.
    pub long_lines: Positions,
    /// Length of the longest line (terminator excluded).
    pub max_line_len: usize,
    /// Whether the last line has no line feed (the input does not end with LF).
    pub unterminated: bool,
    /// Bytes >= 0x80 inside the top-level header block.
    pub header_8bit: Positions,
    /// Whether the input starts with an mbox `From ` envelope line (skipped).
    pub mbox_from_line: bool,
    /// Offset where the header block starts (past an mbox `From ` line).
    pub header_start: usize,
    /// The top-level header block.
    pub header_block: HeaderBlock,
}

impl RawFacts {
    /// The top-level header fields (`header_block.fields`).
    pub fn headers(&self) -> &[HeaderField] {
        &self.header_block.fields
    }

    /// Scans `raw` once for line structure and the top-level header block.
    pub fn scan(raw: &[u8]) -> RawFacts {
        let mut block_lines = Vec::with_capacity(raw.len() / LINE_BLOCK + 1);
        // Lines started so far (line 1 starts at 0).
        let mut lines = 1;
        let mut crlf_lines = 0;
        let mut bare_lf = Positions::default();
        let mut bare_cr = Positions::default();
        let mut nul = Positions::default();
        let mut long_lines = Positions::default();
        let mut max_line_len = 0;
        let mut line_start = 0;
        // Only LF, CR and NUL matter here; memchr finds them without a byte-by-byte loop.
        for i in memchr::memchr3_iter(b'\n', b'\r', 0, raw) {
            match raw[i] {
                b'\n' => {
                    let crlf = i > 0 && raw[i - 1] == b'\r';
                    if crlf {
                        crlf_lines += 1;
                    } else {
                        bare_lf.push(i);
                    }
                    let len = i - line_start - usize::from(crlf);
                    if len > 998 {
                        long_lines.push(line_start);
                    }
                    max_line_len = max_line_len.max(len);
                    line_start = i + 1;
                    // Blocks that begin at or before this line feed have seen `lines`.
                    while block_lines.len() * LINE_BLOCK <= i {
                        block_lines.push(lines);
                    }
                    lines += 1;
                }
                b'\r' if raw.get(i + 1) != Some(&b'\n') => bare_cr.push(i),
                0 => nul.push(i),
                _ => {}
            }
        }
        while block_lines.len() * LINE_BLOCK <= raw.len() {
            block_lines.push(lines);
        }
        let last_len = raw.len() - line_start;
        if last_len > 998 {
            long_lines.push(line_start);
        }
        max_line_len = max_line_len.max(last_len);
        let line_ending = match memchr::memchr(b'\n', raw) {
            Some(p) if p > 0 && raw[p - 1] == b'\r' => LineEnding::Crlf,
            Some(_) => LineEnding::Lf,
            None => LineEnding::None,
        };
        let mbox_from_line = raw.starts_with(b"From ");
        let header_start = header_start(raw);
        let mut facts = RawFacts {
            size: raw.len(),
            unterminated: line_start < raw.len(),
            block_lines,
            line_ending,
            crlf_lines,
            bare_lf,
            bare_cr,
            nul,
            long_lines,
            max_line_len,
            header_8bit: Positions::default(),
            mbox_from_line,
            header_start,
            header_block: HeaderBlock::default(),
        };
        let block = parse_header_block(raw, header_start, raw.len(), &|o| facts.line_of(raw, o));
        let header_end = block.body_start;
        let head = &raw[header_start..header_end];
        if !head.is_ascii() {
            for (i, &b) in head.iter().enumerate() {
                if b >= 0x80 {
                    facts.header_8bit.push(header_start + i);
                }
            }
        }
        facts.header_block = block;
        facts
    }

    /// 1-based line number of a byte offset of `raw` (the bytes these facts were
    /// scanned from): the index's count at the offset's block plus the line feeds
    /// between the block's start and the offset, so at most [`LINE_BLOCK`] bytes are read.
    pub fn line_of(&self, raw: &[u8], offset: usize) -> usize {
        let offset = offset.min(raw.len());
        let k = (offset / LINE_BLOCK).min(self.block_lines.len().saturating_sub(1));
        let base = self.block_lines.get(k).copied().unwrap_or(1);
        let from = (k * LINE_BLOCK).min(offset);
        base + memchr::memchr_iter(b'\n', &raw[from..offset]).count()
    }

    /// Size of the top-level header block in bytes (up to and including the empty line).
    pub fn header_size(&self) -> usize {
        self.header_block.body_start - self.header_start
    }

    /// Whether the input has no header fields at all.
    pub fn has_no_headers(&self) -> bool {
        self.headers().is_empty()
    }

    /// The size of the message as an SMTP client sends it in DATA: every line ended by
    /// CR LF (a bare LF becomes two bytes, an unterminated last line gets its CR LF) and
    /// without the dot-stuffing, which the server takes off before it counts (Postfix's
    /// smtpd counts each line's length plus 2). For a CRLF message, as the milter gets
    /// it, this is its length.
    pub fn wire_size(&self) -> usize {
        self.size + self.bare_lf.count + if self.unterminated { 2 } else { 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lf_file_is_not_bare_lf_defect() {
        let f = RawFacts::scan(b"From: a@b.example\nSubject: x\n\nbody\n");
        assert_eq!(f.line_ending, LineEnding::Lf);
        assert_eq!(f.bare_lf.count, 4);
        assert_eq!(f.headers().len(), 2);
        assert!(f.header_block.has_separator);
        assert_eq!(f.header_block.body_start, 30);
    }

    #[test]
    fn crlf_with_bare_lf_and_cr() {
        let f = RawFacts::scan(b"From: a@b.example\r\nSubject: x\r\n\r\nbo\rdy\nmore\r\n");
        assert_eq!(f.line_ending, LineEnding::Crlf);
        assert_eq!(f.bare_lf.count, 1);
        assert_eq!(f.bare_cr.count, 1);
        assert_eq!(f.bare_cr.first, vec![35]);
    }

    #[test]
    fn folded_header_offsets_and_lines() {
        let raw = b"Subject: a\r\n b\r\nTo: x@y.example\r\n\r\n";
        let f = RawFacts::scan(raw);
        assert_eq!(f.headers()[0].end, 16);
        assert_eq!(f.headers()[0].unfolded(raw), "a b");
        assert_eq!(f.headers()[1].line, 3);
        assert_eq!(f.line_of(raw, 0), 1);
        assert_eq!(f.line_of(raw, 12), 2);
    }

    #[test]
    fn line_numbers_match_a_plain_count() {
        // Lines of every length around the index's block size, and CR LF endings.
        let mut raw = b"Subject: x\r\n\r\n".to_vec();
        for n in [
            0,
            1,
            LINE_BLOCK - 1,
            LINE_BLOCK,
            LINE_BLOCK + 1,
            3 * LINE_BLOCK,
            5,
            0,
        ] {
            raw.extend(std::iter::repeat_n(b'a', n));
            raw.extend(b"\r\n");
        }
        raw.extend(b"tail");
        let f = RawFacts::scan(&raw);
        for at in 0..=raw.len() {
            let want = 1 + raw[..at].iter().filter(|&&b| b == b'\n').count();
            assert_eq!(f.line_of(&raw, at), want, "offset {at}");
        }
        assert_eq!(f.line_of(&raw, raw.len() + 10), f.line_of(&raw, raw.len()));
        assert_eq!(RawFacts::scan(b"").line_of(b"", 0), 1);
    }

    #[test]
    fn fields_past_the_cap_are_counted_not_kept() {
        let mut raw = Vec::new();
        for i in 0..HARD_MAX_FIELDS + 5 {
            raw.extend(format!("X-{i}: v\n continued\n").as_bytes());
        }
        let stop = raw.len() - 5 * "X-10000: v\n continued\n".len();
        raw.extend(b"\nbody\n");
        let f = RawFacts::scan(&raw);
        let b = &f.header_block;
        assert_eq!(
            (b.fields.len(), b.count),
            (HARD_MAX_FIELDS, HARD_MAX_FIELDS + 5)
        );
        assert_eq!(b.stopped_at, Some(stop));
        assert!(b.has_separator);
        // The last field kept ends where it ended, its continuation included.
        assert_eq!(b.fields.last().map(|h| h.end), Some(stop));
        let tree = crate::message::MimeTree::build(&raw, &f);
        assert_eq!(tree.decodable(&raw).len(), stop);
    }

    #[test]
    fn malformed_names_and_stray_lines() {
        let raw = b"Fr om: a@b.example\nSubject : x\nthis is body\n";
        let f = RawFacts::scan(raw);
        assert_eq!(f.headers().len(), 2);
        assert!(f.headers()[0].malformed.is_some());
        assert!(f.headers()[1].malformed.is_some());
        assert_eq!(f.header_block.stray_line, Some(31));
        assert!(!f.header_block.has_separator);
    }

    #[test]
    fn long_lines_nul_and_8bit_headers() {
        let mut raw = b"Subject: caf\xc3\xa9\n\n".to_vec();
        raw.extend(std::iter::repeat_n(b'a', 1000));
        raw.extend(b"\n\0\n");
        let f = RawFacts::scan(&raw);
        assert_eq!(f.header_8bit.count, 2);
        assert_eq!(f.long_lines.count, 1);
        assert_eq!(f.max_line_len, 1000);
        assert_eq!(f.nul.count, 1);
    }

    #[test]
    fn wire_size_counts_crlf_line_ends() {
        for (raw, wire) in [
            (&b"Subject: x\n\nbody\n"[..], 20),
            (b"Subject: x\r\n\r\nbody\r\n", 20),
            (b"Subject: x\r\n\r\nbody", 20),
            (b"Subject: x\n\r\nbody\nmore", 26),
            (b"", 0),
        ] {
            assert_eq!(RawFacts::scan(raw).wire_size(), wire, "{raw:?}");
        }
    }

    #[test]
    fn mbox_from_line_is_skipped() {
        let f = RawFacts::scan(b"From someone Mon Jan  1 00:00:00 2024\nFrom: a@b.example\n\nx\n");
        assert!(f.mbox_from_line);
        assert_eq!(f.headers().len(), 1);
        assert_eq!(f.headers()[0].name, "From");
    }
}
