//! The parts of a message, joined once.
//!
//! mail-parser decodes the parts (transfer encoding, charset, RFC 2231 and RFC 2047
//! names); the strict tree ([`super::mime`]) says where each part is and what it
//! declares. The two are joined here, when the message is parsed, by the offset of each
//! part's header: every part mail-parser decoded (multiparts are walked through, attached
//! messages descended into, 16 levels at most) gets the tree's leaf whose header starts
//! where its own does. The readers ask the message instead of joining again:
//! [`Message::decoded_parts`] gives mail-parser's parts in its order (the decoded text
//! reads them), [`Message::leaf_parts`] the tree's leaves in order (the attachments check
//! reads them: a part mail-parser misses is still seen).
//!
//! Where the two readers' own joins differed, each keeps its results: mail-parser starts
//! a single-part message at offset 0, before an mbox `From ` line the tree skips. The
//! decoded text names that part for the tree's root; the attachments check never matched
//! it to the root, and still reads the root's name and bytes from the raw part (the root
//! leaf of [`Message::leaf_parts`] has no decoded part then).

use std::borrow::Cow;

use mail_parser::{MimeHeaders, PartType};

use super::Message;
use super::mime::{MimePart, MimeTree};

/// Attached messages nested deeper than this are not descended into.
const MAX_NESTED: usize = 16;

/// One part mail-parser decoded (neither a multipart nor an attached message).
#[derive(Clone, Copy, Debug)]
struct Decoded {
    /// The message it is a part of: an index into [`Parts::messages`].
    message: usize,
    /// Its index among that message's parts.
    index: usize,
    /// The index in the tree of the leaf it is named for (see [`Part::leaf`]).
    leaf: Option<usize>,
}

/// The join of mail-parser's parts to the strict tree's leaves, made once per message.
#[derive(Clone, Debug, Default)]
pub struct Parts {
    /// The parts mail-parser decoded, in its order.
    decoded: Vec<Decoded>,
    /// The messages those parts belong to: the message itself first, then each attached
    /// message walked into, as (the message it is a part of, its index among that
    /// message's parts).
    messages: Vec<(usize, usize)>,
    /// For each part of the tree, the decoded part whose header starts exactly where its
    /// own does: an index into `decoded`. When several do (the parts of an attached
    /// message mail-parser decoded from base64 count their offsets from its decoded
    /// bytes), the last.
    of_tree: Vec<Option<usize>>,
}

impl Parts {
    /// Joins the parts of `parsed` (mail-parser's parse of `raw`) to the leaves of
    /// `mime`.
    pub(crate) fn join(
        raw: &[u8],
        parsed: Option<&mail_parser::Message<'_>>,
        mime: &MimeTree,
    ) -> Parts {
        let mut parts = Parts {
            decoded: Vec::new(),
            messages: vec![(0, 0)],
            of_tree: vec![None; mime.parts.len()],
        };
        if let Some(msg) = parsed {
            parts.walk(raw, mime, msg, 0, 0, 0);
        }
        parts
    }

    /// Records every part of `msg` that is neither a multipart nor an attached message,
    /// descending into attached messages. `base` is where `msg`'s bytes start in `raw`.
    fn walk(
        &mut self,
        raw: &[u8],
        mime: &MimeTree,
        msg: &mail_parser::Message<'_>,
        message: usize,
        base: usize,
        depth: usize,
    ) {
        if depth > MAX_NESTED {
            return;
        }
        for (index, part) in msg.parts.iter().enumerate() {
            match &part.body {
                // Offsets of a nested message are relative to its own bytes; find where
                // they start (when they are not a slice of `raw`, they were decoded).
                PartType::Message(inner) => {
                    let inner_base = locate(raw, inner.raw_message.as_ref()).unwrap_or(base);
                    self.messages.push((message, index));
                    let id = self.messages.len() - 1;
                    self.walk(raw, mime, inner, id, inner_base, depth + 1);
                }
                PartType::Multipart(_) => {}
                _ => self.push(mime, message, index, base + part.offset_header as usize),
            }
        }
    }

    /// Records one decoded part whose header starts at `header_start`.
    fn push(&mut self, mime: &MimeTree, message: usize, index: usize, header_start: usize) {
        let at = self.decoded.len();
        // Parts are in document order, so their header offsets never decrease and a
        // binary search finds those at `header_start` (a linear search per decoded part
        // was quadratic in the part count).
        let from = mime
            .parts
            .partition_point(|p| p.header_start < header_start);
        let mut leaf = None;
        for (k, p) in mime.parts[from..].iter().enumerate() {
            if p.header_start != header_start {
                break;
            }
            if p.is_leaf() {
                leaf = leaf.or(Some(from + k));
                self.of_tree[from + k] = Some(at);
            }
        }
        // mail-parser starts a single-part message at 0, before an mbox "From " line the
        // tree skips: the part is named for the root, but the root is not joined to it
        // (`of_tree`), as the attachments check never matched them (see the module's
        // notes).
        if leaf.is_none() && header_start == 0 && mime.parts.first().is_some_and(|p| p.is_leaf()) {
            leaf = Some(0);
        }
        self.decoded.push(Decoded {
            message,
            index,
            leaf,
        });
    }

    /// The part `d` in mail-parser's parse `top`.
    fn resolve<'m>(
        &self,
        top: Option<&'m mail_parser::Message<'m>>,
        d: &Decoded,
    ) -> Option<&'m mail_parser::MessagePart<'m>> {
        self.message(top?, d.message)?.parts.get(d.index)
    }

    /// Message `id` of [`Parts::messages`] in mail-parser's parse `top`.
    fn message<'m>(
        &self,
        top: &'m mail_parser::Message<'m>,
        id: usize,
    ) -> Option<&'m mail_parser::Message<'m>> {
        if id == 0 {
            return Some(top);
        }
        let &(outer, index) = self.messages.get(id)?;
        match &self.message(top, outer)?.parts.get(index)?.body {
            PartType::Message(inner) => Some(inner),
            _ => None,
        }
    }
}

/// Finds where `sub` (a borrowed sub-slice of `raw`) starts in `raw`.
fn locate(raw: &[u8], sub: &[u8]) -> Option<usize> {
    let r = raw.as_ptr_range();
    let s = sub.as_ptr();
    if r.contains(&s) {
        // Pointer arithmetic without unsafe: compare addresses.
        Some(s as usize - r.start as usize)
    } else {
        None
    }
}

/// What mail-parser decoded for a part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body<'m> {
    /// A text part (any `text/*` but HTML, or no type), decoded to UTF-8.
    Text(&'m str),
    /// An HTML part, decoded to UTF-8.
    Html(&'m str),
    /// Any other part, transfer-decoded.
    Binary(&'m [u8]),
}

/// One part of a message: a leaf of the strict tree, a part mail-parser decoded, or
/// (mostly) both.
#[derive(Clone, Copy)]
pub struct Part<'m> {
    raw: &'m [u8],
    leaf: Option<&'m MimePart>,
    decoded: Option<&'m mail_parser::MessagePart<'m>>,
    /// The decoded part's index among its message's parts.
    index: usize,
}

impl<'m> Part<'m> {
    /// The strict tree's leaf: for [`Message::leaf_parts`] always; for
    /// [`Message::decoded_parts`] the leaf whose header starts where the decoded part's
    /// does (the root for a single-part message mail-parser starts before an mbox
    /// `From ` line), when the tree has one.
    pub fn leaf(&self) -> Option<&'m MimePart> {
        self.leaf
    }

    /// The part's path in the tree (`1`, `2.1`, see [`MimePart::path`]); `?N` for a
    /// decoded part the tree has no leaf for (N: its index among its message's parts).
    pub fn path(&self) -> Cow<'m, str> {
        match self.leaf {
            Some(l) => Cow::Borrowed(&l.path),
            None => Cow::Owned(format!("?{}", self.index)),
        }
    }

    /// Declared type and subtype: the tree's (lower-cased, `text/plain` when absent or
    /// unparsable), or for a part the tree has no leaf for, mail-parser's.
    pub fn content_type(&self) -> (&'m str, &'m str) {
        if let Some(l) = self.leaf {
            return l.content_type.split_once('/').unwrap_or(("text", "plain"));
        }
        self.decoded
            .and_then(|p| p.content_type())
            .map_or(("text", "plain"), |c| {
                (c.ctype(), c.subtype().unwrap_or_default())
            })
    }

    /// The file name: mail-parser's, decoded (RFC 2231, RFC 2047), from
    /// Content-Disposition `filename` or Content-Type `name`; else the tree's, as written.
    pub fn name(&self) -> Option<&'m str> {
        self.decoded
            .and_then(|p| p.attachment_name())
            .or_else(|| self.leaf.and_then(|l| l.filename.as_deref()))
    }

    /// The disposition type as the tree read it (lower-cased: `inline`, `attachment`).
    pub fn disposition(&self) -> Option<&'m str> {
        self.leaf.and_then(|l| l.disposition.as_deref())
    }

    /// Whether mail-parser read the part's disposition as `attachment` (the decoded text
    /// skips those parts by this reading, the attachments check goes by
    /// [`Part::disposition`]).
    pub fn decoded_as_attachment(&self) -> bool {
        self.decoded
            .and_then(|p| p.content_disposition())
            .is_some_and(|d| d.is_attachment())
    }

    /// What mail-parser decoded, when it decoded the part.
    pub fn body(&self) -> Option<Body<'m>> {
        Some(match &self.decoded?.body {
            PartType::Text(t) => Body::Text(t),
            PartType::Html(h) => Body::Html(h),
            PartType::Binary(b) | PartType::InlineBinary(b) => Body::Binary(b),
            // Not recorded as parts (see `Parts::walk`).
            PartType::Message(_) | PartType::Multipart(_) => return None,
        })
    }

    /// The part's decoded bytes: mail-parser's, borrowed, when it decoded the part as
    /// binary, or as text (UTF-8) and `as_text`; otherwise the tree leaf's raw body
    /// transfer-decoded here, leniently ([`transfer_decode`]), when asked: a file
    /// mail-parser turned into text (a zip declared text/richtext), or a part it did not
    /// see (a boundary parameter folded onto its own line).
    pub fn bytes(&self, as_text: bool) -> Cow<'m, [u8]> {
        match self.body() {
            Some(Body::Binary(b)) => Cow::Borrowed(b),
            Some(Body::Text(t) | Body::Html(t)) if as_text => Cow::Borrowed(t.as_bytes()),
            _ => Cow::Owned(self.leaf.map_or_else(Vec::new, |l| {
                let body = self.raw.get(l.body_start..l.end).unwrap_or(&[]);
                transfer_decode(body, l.cte.as_deref())
            })),
        }
    }
}

impl Message<'_> {
    /// Every part mail-parser decoded (multiparts walked through, attached messages
    /// descended into), in its order, each with the tree's leaf it is named for. Parts
    /// mail-parser found where the tree has none (a boundary in the middle of a line)
    /// are here, with no leaf.
    pub fn decoded_parts(&self) -> impl Iterator<Item = Part<'_>> {
        let parsed = self.parsed.as_ref();
        self.parts.decoded.iter().map(move |d| Part {
            raw: self.raw,
            leaf: d.leaf.and_then(|i| self.mime.parts.get(i)),
            decoded: self.parts.resolve(parsed, d),
            index: d.index,
        })
    }

    /// Every leaf of the strict tree (text, images, files, and the parts of attached
    /// messages it parsed), in document order, each with the part mail-parser decoded
    /// from the same header when there is one.
    pub fn leaf_parts(&self) -> impl Iterator<Item = Part<'_>> {
        let parsed = self.parsed.as_ref();
        self.mime
            .parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_leaf())
            .map(move |(i, leaf)| {
                let d = self.parts.of_tree.get(i).copied().flatten();
                let d = d.and_then(|k| self.parts.decoded.get(k));
                Part {
                    raw: self.raw,
                    leaf: Some(leaf),
                    decoded: d.and_then(|d| self.parts.resolve(parsed, d)),
                    index: d.map_or(0, |d| d.index),
                }
            })
    }
}

/// Decodes a part body by its Content-Transfer-Encoding, leniently: base64 skips white
/// space and stray characters and stops at padding; quoted-printable keeps malformed
/// escapes as they are.
pub fn transfer_decode(body: &[u8], cte: Option<&str>) -> Vec<u8> {
    match cte.map(str::trim) {
        Some(c) if c.eq_ignore_ascii_case("base64") => crate::util::base64_decode_lenient(body),
        Some(c) if c.eq_ignore_ascii_case("quoted-printable") => {
            let mut out = Vec::with_capacity(body.len());
            let mut i = 0;
            while i < body.len() {
                if body[i] == b'=' {
                    let rest = &body[i + 1..];
                    if rest.starts_with(b"\r\n") {
                        i += 3;
                        continue;
                    }
                    if rest.starts_with(b"\n") {
                        i += 2;
                        continue;
                    }
                    if let Some(h) = rest.get(..2)
                        && let Ok(s) = std::str::from_utf8(h)
                        && let Ok(b) = u8::from_str_radix(s, 16)
                    {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                }
                out.push(body[i]);
                i += 1;
            }
            out
        }
        _ => body.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::Body;
    use crate::message::Message;

    #[test]
    fn parts_are_joined_to_the_tree() {
        let raw = b"From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nD=E9j=E0 vu\n--B\nContent-Type: text/plain\nContent-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.txt\nContent-Transfer-Encoding: base64\n\naGVsbG8=\n--B\nContent-Type: application/zip; name=\"=?UTF-8?B?YS56aXA=?=\"\nContent-Transfer-Encoding: base64\n\nUEsFBg==\n--B--\n";
        let m = Message::parse(raw);
        let decoded: Vec<_> = m.decoded_parts().collect();
        let paths: Vec<_> = decoded.iter().map(|p| p.path()).collect();
        assert_eq!(paths, ["1", "2", "3"]);
        assert!(matches!(decoded[0].body(), Some(Body::Text(t)) if t.starts_with("Déjà vu")));
        assert!(!decoded[0].decoded_as_attachment() && decoded[1].decoded_as_attachment());
        let leaves: Vec<_> = m.leaf_parts().collect();
        assert_eq!(leaves.len(), 3);
        // Names decoded, the tree's type and disposition.
        assert_eq!(leaves[1].name(), Some("résumé.txt"));
        assert_eq!(leaves[1].disposition(), Some("attachment"));
        assert_eq!(leaves[2].name(), Some("a.zip"));
        assert_eq!(leaves[2].content_type(), ("application", "zip"));
        // Bytes: binary from mail-parser; text from mail-parser when read as text, from
        // the raw body otherwise.
        assert_eq!(&*leaves[2].bytes(false), b"PK\x05\x06");
        assert!(leaves[0].bytes(true).starts_with("Déjà".as_bytes()));
        assert_eq!(&*leaves[0].bytes(false), b"D\xe9j\xe0 vu");
        assert_eq!(&*leaves[1].bytes(false), b"hello");
    }

    #[test]
    fn parts_only_one_side_sees() {
        // A delimiter in the middle of a line: mail-parser sees a part the tree has not.
        let raw = b"Content-Type: multipart/mixed; boundary=B\n\n--B\n\none --B\nContent-Type: text/plain\n\ntwo\n--B--\n";
        let m = Message::parse(raw);
        let decoded: Vec<_> = m.decoded_parts().map(|p| p.path().into_owned()).collect();
        let leaves: Vec<_> = m.leaf_parts().map(|p| p.path().into_owned()).collect();
        assert_eq!(leaves.len(), 1);
        assert!(decoded.iter().any(|p| p.starts_with('?')), "{decoded:?}");
        // A single part after an mbox "From " line: mail-parser starts it at 0, the tree
        // after the line. The text names it for the root; the root leaf stays unjoined.
        let raw = b"From a@example.com Thu Jan  1 00:00:00 2026\nSubject: x\nContent-Type: text/plain; name=\"=?UTF-8?B?YS50eHQ=?=\"\n\nhello\n";
        let m = Message::parse(raw);
        let decoded: Vec<_> = m.decoded_parts().collect();
        assert_eq!(decoded.len(), 1);
        assert!(decoded[0].leaf().is_some_and(|l| l.path.is_empty()));
        assert_eq!(decoded[0].name(), Some("a.txt"));
        let leaves: Vec<_> = m.leaf_parts().collect();
        assert_eq!(leaves.len(), 1);
        assert_eq!(leaves[0].body(), None);
        assert_eq!(leaves[0].name(), Some("=?UTF-8?B?YS50eHQ=?="));
    }
}
