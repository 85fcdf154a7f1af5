//! Our message type: mail-parser's view of a message plus the raw-byte facts the parser
//! forgives.
//!
//! mail-parser 0.11 is lenient: it finds MIME boundaries anywhere in a line, reads `Fr om`
//! as `From`, accepts bare LF and NUL bytes, and silently closes unterminated multiparts.
//! Receivers are not so kind, so everything structural is measured here on the raw bytes:
//! line endings and lengths, NULs, 8-bit header bytes, every header field with its offsets,
//! and a strict MIME tree (boundaries only at the start of a line, RFC 2046 §5.1.1).
//! mail-parser is used for what it is good at: charset and transfer decoding, RFC 2047
//! words, addresses and dates.

pub mod address;
pub mod date;
pub mod html;
pub mod links;
pub mod mime;
pub mod parts;
pub mod raw;
pub mod sniff;
pub mod text;

pub use address::{Addresses, Mailbox};
pub use mime::{MimePart, MimeTree};
pub use parts::{Body, Part};
pub use raw::{HeaderField, LineEnding, RawFacts};
pub use sniff::looks_like_mail;
pub use text::{DecodedText, TextPart};

use crate::report::{Evidence, Frame, Snippet, Span};

/// Maximum bytes of an evidence snippet.
pub const SNIPPET_MAX: usize = 120;

/// mail-parser configured once: its header table is a hash map built per parser. It
/// parses only what is read from it: the MIME fields (to find and decode the parts), the
/// Subject and From; every other field is skipped (our own header table reads them, and
/// parsing Received, To or Date was a large share of parse time).
static PARSER: std::sync::LazyLock<mail_parser::MessageParser> = std::sync::LazyLock::new(|| {
    mail_parser::MessageParser::new()
        .with_mime_headers()
        .header_text(mail_parser::HeaderName::Subject)
        .header_address(mail_parser::HeaderName::From)
        .default_header_ignore()
});

/// Decodes the RFC 2047 encoded words of one unfolded, unstructured header value.
pub fn decode_header_text(value: &str) -> String {
    if !value.contains("=?") {
        return value.to_string();
    }
    // Carried as a Subject, which the parser reads as text.
    static TEXT: std::sync::LazyLock<mail_parser::MessageParser> = std::sync::LazyLock::new(|| {
        mail_parser::MessageParser::new().header_text(mail_parser::HeaderName::Subject)
    });
    let mut buf = b"Subject: ".to_vec();
    buf.extend_from_slice(value.as_bytes());
    buf.extend_from_slice(b"\n\n");
    TEXT.parse_headers(&buf[..])
        .and_then(|m| {
            m.headers()
                .first()
                .and_then(|h| h.value().as_text().map(str::to_string))
        })
        .unwrap_or_else(|| value.to_string())
}

/// One parsed message: the raw bytes, the raw facts, the strict MIME tree, mail-parser's
/// parse joined to it ([`Message::decoded_parts`], [`Message::leaf_parts`]) and the
/// decoded, normalised text.
pub struct Message<'a> {
    /// The bytes as given.
    pub raw: &'a [u8],
    /// Facts measured on the raw bytes.
    pub facts: RawFacts,
    /// Strict MIME tree (part 0 is the whole message).
    pub mime: MimeTree,
    /// mail-parser's parse, when it produced one.
    pub parsed: Option<mail_parser::Message<'a>>,
    /// mail-parser's parts joined to the tree's leaves (see [`parts`]).
    parts: parts::Parts,
    /// Decoded subject and text parts, normalised for matching.
    pub text: DecodedText,
    /// The most links read (see [`Message::parse_with`]).
    max_links: usize,
    /// Every link and how many were not read, computed on first use.
    links: std::cell::OnceCell<(Vec<links::Link>, usize)>,
    /// The links' distinct registrable domains, computed on first use.
    link_domains: std::cell::OnceCell<Vec<String>>,
    /// The From addresses' distinct registrable domains, computed on first use.
    from_domains: std::cell::OnceCell<Vec<String>>,
    /// The address fields, parsed once.
    addresses: Addresses,
}

impl<'a> Message<'a> {
    /// Parses `raw`. Never fails and never panics: whatever is malformed is recorded.
    pub fn parse(raw: &'a [u8]) -> Message<'a> {
        Message::parse_with(raw, html::MAX_ITEMS)
    }

    /// [`Message::parse`], reading at most `max_links` links (and as many images, forms,
    /// frames and style sheets) from the HTML and as many URLs from the text
    /// (`limits.max_links`): past them they are only counted ([`Message::links_not_read`]).
    pub fn parse_with(raw: &'a [u8], max_links: usize) -> Message<'a> {
        let facts = RawFacts::scan(raw);
        let mime = MimeTree::build(raw, &facts);
        // Received and other trace fields stay unparsed text: nothing reads them structured,
        // and mail-parser's Received tokenizer is a large share of parse time.
        // Only what the strict tree recorded is decoded: past its caps (10,000 parts, 64
        // levels) mail-parser would still parse and keep every part (830,000 tiny parts
        // cost 876 MB, and a deep enough nest of attached messages overflowed the stack
        // when its parse was dropped).
        let parsed = PARSER.parse(mime.decodable(raw));
        let parts = parts::Parts::join(raw, parsed.as_ref(), &mime);
        // The address fields are read by most checks; the sender's name is also text.
        let addresses = Addresses::parse(raw, &facts);
        let mut msg = Message {
            raw,
            facts,
            mime,
            parsed,
            parts,
            text: DecodedText::default(),
            max_links,
            links: std::cell::OnceCell::new(),
            link_domains: std::cell::OnceCell::new(),
            from_domains: std::cell::OnceCell::new(),
            addresses,
        };
        msg.text = DecodedText::build(&msg);
        msg
    }

    /// Every link of the message (HTML hrefs, srcs and form actions, URLs in the text
    /// and in the Subject), parsed, on first use.
    pub fn links(&self) -> &[links::Link] {
        &self.links.get_or_init(|| links::extract_counted(self)).0
    }

    /// The distinct registrable domains of the http and https links (IP addresses as
    /// written), sorted ([`links::domains`]), on first use: the report's and the domain
    /// blocklists' (read in every round of lookups).
    pub fn link_domains(&self) -> &[String] {
        self.link_domains
            .get_or_init(|| links::domains(self.links()))
    }

    /// The distinct registrable domains of the From addresses (a name the public suffix
    /// list does not know stands for itself), lower-case, in order, on first use.
    pub fn from_domains(&self) -> &[String] {
        self.from_domains.get_or_init(|| {
            let mut out: Vec<String> = Vec::new();
            for m in self.from_mailboxes() {
                let Some((_, d)) = m.address.as_deref().and_then(|a| a.rsplit_once('@')) else {
                    continue;
                };
                let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
                if d.is_empty() {
                    continue;
                }
                let d = links::registrable(&d).unwrap_or(d);
                if !out.contains(&d) {
                    out.push(d);
                }
            }
            out
        })
    }

    /// How many links were not read past the per-message cap (`limits.max_links` HTML
    /// links, as many text URLs): what URL017 reports.
    pub fn links_not_read(&self) -> usize {
        // (The links are read once, with their count.)
        self.links.get_or_init(|| links::extract_counted(self)).1
    }

    /// The facts of every HTML part (one streaming pass each, made with the text), with
    /// the index of its entry in `text.parts`.
    pub fn html_facts(&self) -> &[(usize, html::HtmlFacts)] {
        &self.text.html
    }

    /// The address fields (From, To, Cc, Bcc), parsed once with the message.
    pub fn addresses(&self) -> &Addresses {
        &self.addresses
    }

    /// The mailboxes of the first top-level From field (see [`Addresses::from`]).
    pub fn from_mailboxes(&self) -> &[Mailbox] {
        &self.addresses().from
    }

    /// The most links read from the HTML, and from the text ([`Message::parse_with`]).
    pub fn max_links(&self) -> usize {
        self.max_links
    }

    /// Top-level header fields named `name` (case-insensitive), in order.
    pub fn headers_named<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = &'s HeaderField> + 's {
        self.facts
            .headers()
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
    }

    /// The first top-level header named `name`.
    pub fn header(&self, name: &str) -> Option<&HeaderField> {
        self.facts
            .headers()
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
    }
    /// Unfolded raw value of the first header named `name`, trimmed.
    pub fn header_value(&self, name: &str) -> Option<String> {
        self.header(name).map(|h| h.unfolded(self.raw))
    }

    /// 1-based line number of a raw byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.facts.line_of(self.raw, offset)
    }

    /// MIME part `path`; the message itself for a single-part message (`path` empty or
    /// `1`).
    fn part_at(&self, path: &str) -> Option<&mime::MimePart> {
        self.mime
            .parts
            .iter()
            .find(|p| p.path == path)
            .or_else(|| (path.is_empty() || path == "1").then(|| self.mime.root()))
    }

    /// Evidence for MIME part `path` (its header block), or for the message body when
    /// the message is a single part (`path` empty or `1`).
    pub fn part_evidence(&self, path: &str) -> Vec<Evidence> {
        let part = self.part_at(path);
        part.map(|p| {
            let mut e = if p.path.is_empty() {
                self.line_evidence(p.body_start)
            } else {
                self.raw_evidence(p.header_start, p.body_start)
            };
            e.part = Some(if path.is_empty() {
                "1".into()
            } else {
                path.into()
            });
            e
        })
        .into_iter()
        .collect()
    }

    /// Evidence for `needle` as written in the raw body of part `path` (its span, the
    /// line around it as the snippet), or for the part itself when it is not there as written (encoded bodies).
    pub fn find_evidence(&self, path: &str, needle: &str) -> Vec<Evidence> {
        let part = self.part_at(path);
        if let Some(p) = part
            && !needle.is_empty()
            && let Some(body) = self.raw.get(p.body_start..p.end)
            && let Some(i) = memchr::memmem::find(body, needle.as_bytes())
        {
            let at = p.body_start + i;
            let mut e = self.line_evidence(at);
            e.span.end = at + needle.len();
            e.part = Some(if path.is_empty() {
                "1".into()
            } else {
                path.into()
            });
            return vec![e];
        }
        self.part_evidence(path)
    }

    /// Evidence pointing at a raw byte range, with its line and a snippet.
    pub fn raw_evidence(&self, start: usize, end: usize) -> Evidence {
        let start = start.min(self.raw.len());
        let end = end.clamp(start, self.raw.len());
        // One line from `start`, without its terminator, cut between tokens.
        let line_end = crate::util::line_bounds(self.raw, start, SNIPPET_MAX + 1)
            .1
            .clamp(start, end);
        let line = &self.raw[start..line_end];
        let (_, cut) = crate::util::snippet_bounds(line, 0, 0, SNIPPET_MAX);
        let mut bytes = &line[..cut];
        while let Some((&last, rest)) = bytes.split_last() {
            if last == b'\r' {
                bytes = rest;
            } else {
                break;
            }
        }
        Evidence {
            frame: Frame::Raw,
            part: None,
            span: Span { start, end },
            line: Some(self.line_of(start)),
            snippet: Snippet::from_bytes(bytes, SNIPPET_MAX),
        }
    }

    /// Evidence pointing at the byte at `at`, with the text of its line (up to
    /// [`SNIPPET_MAX`] bytes around it) as the snippet, so a reader sees the context.
    pub fn line_evidence(&self, at: usize) -> Evidence {
        let at = at.min(self.raw.len());
        let (line_start, line_end) = crate::util::line_bounds(self.raw, at, SNIPPET_MAX + 1);
        let line_end = line_end.max(at);
        let (from, to) = crate::util::snippet_bounds(
            &self.raw[line_start..line_end],
            at - line_start,
            SNIPPET_MAX / 2,
            SNIPPET_MAX,
        );
        let mut e = self.raw_evidence(line_start + from, line_start + to);
        e.span = Span {
            start: at,
            end: (at + 1).min(self.raw.len()),
        };
        e
    }

    /// Evidence for a whole header field (first line as snippet).
    pub fn header_evidence(&self, h: &HeaderField) -> Evidence {
        self.raw_evidence(h.start, h.end)
    }
}
