//! Decoded, normalised text for the content rules.
//!
//! Every inline text part is decoded by its charset and transfer encoding (mail-parser),
//! HTML is reduced to the text a reader gets (our one pass over it,
//! [`super::html::scan`]), and the Subject is decoded (RFC 2047). Each text is then
//! NFKC-normalised, lower-cased and stripped of invisible format characters (zero-width
//! spaces and joiners, soft hyphens, BOM) so that `FREE`, `Ｆｒｅｅ` and `fr\u{200B}ee`
//! all read `free`. A sparse offset map leads every byte of the normalised text back to
//! the decoded text, so evidence can point at what the author wrote.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::Message;
use super::html::HtmlFacts;
use super::parts::Body;

/// What kind of source a text came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// The decoded Subject.
    Subject,
    /// A text/plain (or other non-HTML text/*) part.
    Plain,
    /// A text/html part reduced to text.
    Html,
    /// The display name of the (first) From mailbox.
    Sender,
}

/// One decoded text and its normalised form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextPart {
    /// Part path (see [`super::MimePart::path`]); empty for the Subject.
    pub part: String,
    /// Where it came from.
    pub kind: TextKind,
    /// The decoded text (for HTML: the text it shows).
    pub decoded: String,
    /// The decoded HTML source, for HTML parts.
    pub html: Option<String>,
    /// NFKC, lower-cased, invisible characters removed.
    pub normalized: String,
    /// Checkpoints `(normalized offset, decoded offset)` where the two diverge; between
    /// checkpoints the offsets move together.
    map: Vec<(u32, u32)>,
    /// The stretches of the normalised text with common obfuscations undone, with a map
    /// back to `normalized` (see [`deobfuscate`]); `None` when there was nothing to undo.
    pub deobfuscated: Option<Deobfuscated>,
    /// The decoded length before it was cut to [`TEXT_READ_MAX`], when it was.
    pub cut_from: Option<usize>,
}

/// Bytes of decoded text per part that the text rules read: the content, HTML-text and
/// link rules see the first 256 KiB of each part (SpamAssassin's default is 50 KB), so a
/// megabyte of text, or base64 sent as text, costs no more than a long newsletter. Size
/// and structure rules still measure the whole message.
pub const TEXT_READ_MAX: usize = 256 * 1024;

/// Cuts `text` to [`TEXT_READ_MAX`] bytes (at a character boundary, after the last line
/// break or space when there is one near), returning the length it had when cut.
fn cut_to_read_max(text: &mut String) -> Option<usize> {
    if text.len() <= TEXT_READ_MAX {
        return None;
    }
    let len = text.len();
    let mut at = text.floor_char_boundary(TEXT_READ_MAX);
    if let Some(sp) = text.as_bytes()[at.saturating_sub(200)..at]
        .iter()
        .rposition(|b| b.is_ascii_whitespace())
    {
        at = at.saturating_sub(200) + sp;
    }
    text.truncate(at);
    Some(len)
}

/// Characters that stand in for letters inside words (`v1agra`, `ca$h`).
const fn leet(b: u8) -> Option<u8> {
    Some(match b {
        b'0' => b'o',
        b'1' | b'!' => b'i',
        b'3' => b'e',
        // Not `@`: every e-mail address would look obfuscated.
        b'4' => b'a',
        b'5' | b'$' => b's',
        b'7' => b't',
        b'|' => b'l',
        _ => return None,
    })
}

/// Whether the word around byte `i` looks like an obfuscated word rather than a code or
/// a token in a link: at most 16 bytes of letters and look-alikes, at least twice as many
/// letters as look-alikes, and not part of a URL, path or address.
fn word_like(b: &[u8], i: usize) -> bool {
    let part = |c: u8| c.is_ascii_alphanumeric() || LOOK_ALIKE[usize::from(c)];
    // A word longer than 16 bytes is no obfuscated word: stop looking past that, so
    // base64 or hex text (one long "word" per line) costs no more than prose.
    let mut s = i;
    while s > 0 && i - s <= 16 && part(b[s - 1]) {
        s -= 1;
    }
    let mut e = i;
    while e < b.len() && e - s <= 16 && part(b[e]) {
        e += 1;
    }
    let joiner = |c: u8| {
        matches!(
            c,
            b'/' | b'=' | b'&' | b'?' | b'%' | b'.' | b'_' | b'@' | b'#'
        )
    };
    let letters = b[s..e].iter().filter(|c| c.is_ascii_lowercase()).count();
    let in_link_before = s >= 2 && joiner(b[s - 1]) && b[s - 2].is_ascii_alphanumeric();
    let in_link_after = e + 1 < b.len() && joiner(b[e]) && b[e + 1].is_ascii_alphanumeric();
    e - s <= 16 && letters >= 2 * (e - s - letters) && !in_link_before && !in_link_after
}

/// The de-obfuscated text of a [`TextPart`] (see [`deobfuscate`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deobfuscated {
    /// The stretches of the normalised text around each obfuscation, with it undone,
    /// joined by newlines (no phrase spans a newline).
    pub text: String,
    /// For each byte of `text`, its offset in the normalised text.
    pub map: Vec<u32>,
    /// Whether letters spaced out one by one were joined (`f r e e`).
    pub spaced: bool,
}

/// Bytes of context kept on each side of an undone obfuscation: longer than any phrase
/// of the shipped lists, so a phrase around it is whole in the de-obfuscated text.
const DEOBFUSCATION_CONTEXT: usize = 96;

/// Undoes the obfuscations spam uses to dodge word filters, on normalised text:
/// look-alike digits and signs between letters (`v1agra` -> `viagra`, `c1al1s`) and
/// letters spaced out with one repeated separator (`v.i.a.g.r.a`, `f r e e`, `c-a-s-h`, four
/// letters or more), and words glued together in CamelCase (`StrongErections`,
/// `NoPrescription`): `splits` are the byte offsets where a space goes in (see
/// [`camel_splits`]). Returns `None` when nothing changed; otherwise the stretches of
/// text around the changes (whole words, `DEOBFUSCATION_CONTEXT` bytes each side) and, for
/// each byte, its offset in the input. Only ASCII bytes are replaced, dropped or
/// inserted, so UTF-8 stays valid.
pub fn deobfuscate(n: &str, splits: &[usize]) -> Option<Deobfuscated> {
    let b = n.as_bytes();
    let lower = |v: &[u8], i: usize| v.get(i).is_some_and(u8::is_ascii_lowercase);
    let alnum = |v: &[u8], i: usize| {
        v.get(i)
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    // Most texts have neither: two vector scans tell, and the passes below run only
    // for what was found.
    let look_alikes = any_pair(b, |x, y| x.is_ascii_lowercase() & is_look_alike(y));
    let spaced = may_be_spaced(b);
    if !look_alikes && !spaced && splits.is_empty() {
        return None;
    }
    // Pass 1: look-alikes between letters (same length), on a copy made at the first one.
    // Only look-alike bytes after a letter are candidates (a table lookup per byte).
    let mut copy: Option<Vec<u8>> = None;
    let mut changes: Vec<(usize, usize)> = Vec::new();
    if look_alikes {
        for (i, pair) in b.windows(2).enumerate() {
            if LOOK_ALIKE[usize::from(pair[1])] && pair[0].is_ascii_lowercase() {
                look_alike_at(b, i + 1, &mut copy, &mut changes);
            }
        }
    }
    let a: &[u8] = copy.as_deref().unwrap_or(b);
    // Pass 2: letters spaced out by one repeated separator, four or more: (first, last).
    // A run starts with a one-letter word followed by a separator.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while spaced && i + 2 < a.len() {
        if !(SEPARATOR[usize::from(a[i + 1])] && a[i].is_ascii_lowercase()) {
            i += 1;
            continue;
        }
        let sep = a[i + 1];
        if (i == 0 || !alnum(a, i - 1)) && lower(a, i + 2) && !alnum(a, i + 3) {
            let (mut j, mut count) = (i, 1);
            while a.get(j + 1) == Some(&sep) && lower(a, j + 2) && !alnum(a, j + 3) {
                j += 2;
                count += 1;
            }
            if count >= 4 {
                runs.push((i, j));
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    if changes.is_empty() && runs.is_empty() && splits.is_empty() {
        return None;
    }
    deobfuscated_windows(a, splits, changes, runs)
}

/// Whether some byte of `b` and the one after it satisfy `f`. Branch-free within blocks,
/// so the compiler turns it into vector code: a cheap test before a byte-by-byte pass.
fn any_pair(b: &[u8], f: impl Fn(u8, u8) -> bool) -> bool {
    let n = b.len().saturating_sub(1);
    let (x, y) = (&b[..n], &b[b.len().min(1)..]);
    x.chunks(256).zip(y.chunks(256)).any(|(x, y)| {
        x.iter()
            .zip(y)
            .fold(0u8, |acc, (&p, &q)| acc | u8::from(f(p, q)))
            != 0
    })
}

/// [`LOOK_ALIKE`] as comparisons (which vectorise; a table lookup does not).
const fn is_look_alike(c: u8) -> bool {
    (c.wrapping_sub(b'0') < 2)
        | (c.wrapping_sub(b'3') < 3)
        | (c == b'7')
        | (c == b'!')
        | (c == b'$')
        | (c == b'|')
}

/// Whether `b` may hold letters spaced out (pass 2 of [`deobfuscate`]): somewhere a
/// one-letter word, one separator and a letter that ends its word. A necessary
/// condition, tested branch-free on the text before pass 1 replaces look-alikes: a
/// replaced byte follows a letter, so it can be neither the first letter of a run nor
/// the letter after a separator, and as a neighbour it only ever becomes alphanumeric.
fn may_be_spaced(b: &[u8]) -> bool {
    let alnum = |c: u8| (c.wrapping_sub(b'a') < 26) | (c.wrapping_sub(b'0') < 10);
    let start = |prev: Option<u8>, x: u8, s: u8, y: u8, next: Option<u8>| {
        !prev.is_some_and(alnum)
            && x.is_ascii_lowercase()
            && is_separator(s)
            && y.is_ascii_lowercase()
            && !next.is_some_and(alnum)
    };
    let n = b.len();
    if n < 3 {
        return false;
    }
    // The edges, where a neighbour is missing.
    if start(None, b[0], b[1], b[2], b.get(3).copied())
        || start(
            b.get(n.wrapping_sub(4)).copied(),
            b[n - 3],
            b[n - 2],
            b[n - 1],
            None,
        )
    {
        return true;
    }
    // Every window of five inside, a block at a time.
    let m = n.saturating_sub(4);
    (0..m).step_by(256).any(|from| {
        let len = (m - from).min(256);
        let w = &b[from..from + len + 4];
        let (p, x, s, y, q) = (
            &w[..len],
            &w[1..=len],
            &w[2..len + 2],
            &w[3..len + 3],
            &w[4..len + 4],
        );
        let mut hit = 0u8;
        for k in 0..len {
            hit |= u8::from(
                !alnum(p[k])
                    & x[k].is_ascii_lowercase()
                    & is_separator(s[k])
                    & y[k].is_ascii_lowercase()
                    & !alnum(q[k]),
            );
        }
        hit != 0
    })
}

/// [`SEPARATOR`] as comparisons (written out, so they vectorise).
const fn is_separator(c: u8) -> bool {
    (c == b'.') | (c == b'-') | (c == b'_') | (c == b'*') | (c == b' ')
}

/// Bytes that stand in for letters ([`leet`]).
const LOOK_ALIKE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = leet(c as u8).is_some();
        c += 1;
    }
    t
};

/// Bytes that space letters out (`v.i.a.g.r.a`, `f r e e`).
const SEPARATOR: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = is_separator(c as u8);
        c += 1;
    }
    t
};

/// Replaces the look-alike at `i` (after a letter) when it sits inside a word.
fn look_alike_at(
    b: &[u8],
    i: usize,
    copy: &mut Option<Vec<u8>>,
    changes: &mut Vec<(usize, usize)>,
) {
    let lower = |i: usize| b.get(i).is_some_and(u8::is_ascii_lowercase);
    if let Some(l) = leet(b[i])
        && lower(i - 1)
        && (lower(i + 1) || (b.get(i + 1).is_some_and(|&c| leet(c).is_some()) && lower(i + 2)))
        && word_like(b, i)
    {
        copy.get_or_insert_with(|| b.to_vec())[i] = l;
        changes.push((i, i));
    }
}

/// Builds the de-obfuscated text of `a` (look-alikes already replaced) from the changes: the
/// look-alike positions, the spaced-out `runs` and the CamelCase `splits`.
fn deobfuscated_windows(
    a: &[u8],
    splits: &[usize],
    mut changes: Vec<(usize, usize)>,
    runs: Vec<(usize, usize)>,
) -> Option<Deobfuscated> {
    changes.extend(runs.iter().copied());
    changes.extend(splits.iter().map(|&p| (p, p)));
    // Three sorted runs: the stable sort merges them in linear time.
    changes.sort();
    // Windows of whole words around the changes, merged. The edges move out to white
    // space, but only so far (text without spaces, such as Chinese, has none), and stay
    // on character boundaries.
    let space = |c: &u8| c.is_ascii_whitespace();
    let boundary = |mut k: usize| {
        while k < a.len() && (a[k] & 0xC0) == 0x80 {
            k += 1;
        }
        k
    };
    let mut windows: Vec<(usize, usize)> = Vec::new();
    for &(p, q) in &changes {
        let to = (q + 1 + DEOBFUSCATION_CONTEXT).min(a.len());
        // Already inside the current window with its context after it (dense changes,
        // as in base64 or hex text): nothing to extend.
        if let Some(w) = windows.last()
            && p.saturating_sub(DEOBFUSCATION_CONTEXT) <= w.1
            && to <= w.1
        {
            continue;
        }
        let limit = (to + DEOBFUSCATION_CONTEXT).min(a.len());
        let to = a[to..limit]
            .iter()
            .position(space)
            .map_or_else(|| boundary(limit), |k| to + k);
        if let Some(w) = windows.last_mut()
            && p.saturating_sub(DEOBFUSCATION_CONTEXT) <= w.1
        {
            w.1 = w.1.max(to);
            continue;
        }
        let from = p.saturating_sub(DEOBFUSCATION_CONTEXT);
        let lower_limit = from.saturating_sub(DEOBFUSCATION_CONTEXT);
        let from = a[lower_limit..from]
            .iter()
            .rposition(space)
            .map_or_else(|| boundary(lower_limit), |k| lower_limit + k + 1);
        windows.push((from, to));
    }
    let mut out = Vec::with_capacity(a.len().min(windows.len() * 2 * DEOBFUSCATION_CONTEXT + 64));
    let mut map = Vec::with_capacity(out.capacity());
    let (mut next_split, mut next_run) = (0, 0);
    let mut i = 0;
    for (k, &(from, to)) in windows.iter().enumerate() {
        if k > 0 {
            out.push(b'\n');
            map.push(from as u32);
        }
        i = i.max(from);
        while i < to {
            while splits.get(next_split).is_some_and(|&p| p < i) {
                next_split += 1;
            }
            while runs.get(next_run).is_some_and(|&(p, _)| p < i) {
                next_run += 1;
            }
            // Copy up to the next split or run in one go.
            let split_at = splits.get(next_split).copied().unwrap_or(to).min(to);
            let run_at = runs.get(next_run).map_or(to, |r| r.0).min(to);
            let stop = split_at.min(run_at);
            if stop > i {
                out.extend_from_slice(&a[i..stop]);
                map.extend((i..stop).map(|k| k as u32));
                i = stop;
                continue;
            }
            if split_at == i {
                out.push(b' ');
                map.push(i as u32);
                next_split += 1;
            }
            if run_at == i {
                let (p, j) = runs[next_run];
                for k in (p..=j).step_by(2) {
                    out.push(a[k]);
                    map.push(k as u32);
                }
                i = j + 1;
                continue;
            }
            out.push(a[i]);
            map.push(i as u32);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(|text| Deobfuscated {
        text,
        map,
        spaced: !runs.is_empty(),
    })
}

/// Byte offsets where a capitalised word is glued to the word before it
/// (`StrongErections`, `NoPrescription`): a capital letter after a lower-case letter that
/// ends a word of two letters or more, and before a lower-case letter; `iPhone` stays
/// whole.
pub fn camel_splits(decoded: &str) -> Vec<usize> {
    // A lower-case letter before a capital is rare: a vector scan rules most texts out.
    if !any_pair(decoded.as_bytes(), |x, y| {
        x.is_ascii_lowercase() & y.is_ascii_uppercase()
    }) {
        return Vec::new();
    }
    // Windows of four bytes: the two before the capital, the capital, the one after.
    decoded
        .as_bytes()
        .windows(4)
        .enumerate()
        .filter(|(_, w)| {
            w[2].is_ascii_uppercase()
                && w[3].is_ascii_lowercase()
                && w[1].is_ascii_lowercase()
                && w[0].is_ascii_alphabetic()
        })
        .map(|(k, _)| k + 2)
        .collect()
}

/// Whether `c` is an invisible format character that the normalised text drops.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Normalises `s` for matching and returns the normalised text with its offset map.
pub fn normalize(s: &str) -> (String, Vec<(u32, u32)>) {
    if s.is_ascii() {
        // Nearly every text: lower case is all there is to do, a word at a time.
        return (s.to_ascii_lowercase(), Vec::new());
    }
    let mut out = String::with_capacity(s.len());
    let mut map = Vec::new();
    let b = s.as_bytes();
    // ASCII text (most of nearly every message) is only lower-cased: copy it in runs, up
    // to the last ASCII byte before a non-ASCII one, which may carry combining marks.
    let mut from = 0;
    let mut cluster = String::new();
    while from < b.len() {
        let run_end = b[from..]
            .iter()
            .position(|&c| !c.is_ascii())
            .map_or(b.len(), |k| from + k);
        let copy_to = if run_end == b.len() {
            run_end
        } else {
            run_end.saturating_sub(1).max(from)
        };
        if copy_to > from {
            let start = out.len();
            out.push_str(&s[from..copy_to]);
            out.as_mut_str()[start..].make_ascii_lowercase();
            from = copy_to;
        }
        if from >= b.len() {
            break;
        }
        // The slow path up to the end of the non-ASCII stretch.
        let slow_end = b[run_end..]
            .iter()
            .position(u8::is_ascii)
            .map_or(b.len(), |k| run_end + k);
        normalize_slow(s, from, slow_end, &mut out, &mut map, &mut cluster);
        from = slow_end;
    }
    (out, map)
}

/// [`normalize`] for `s[from..to]`, a stretch with non-ASCII characters: NFKC per
/// character with the combining marks after it, invisible characters dropped, lower case.
fn normalize_slow(
    s: &str,
    from: usize,
    to: usize,
    out: &mut String,
    map: &mut Vec<(u32, u32)>,
    cluster: &mut String,
) {
    let mut chars = s[from..to]
        .char_indices()
        .map(|(i, c)| (i + from, c))
        .peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii()
            && !chars
                .peek()
                .is_some_and(|&(_, m)| !m.is_ascii() && is_combining_mark(m))
        {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        // A non-ASCII character and the combining marks after it normalise together.
        cluster.clear();
        cluster.push(c);
        let mut end = i + c.len_utf8();
        while let Some(&(j, m)) = chars.peek() {
            if is_combining_mark(m) {
                cluster.push(m);
                end = j + m.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let before = out.len();
        for n in cluster.nfkc() {
            if is_invisible(n) {
                continue;
            }
            out.extend(n.to_lowercase());
        }
        if out.len() - before != end - i {
            map.push((before as u32, i as u32));
            map.push((out.len() as u32, end as u32));
        }
    }
}

impl TextPart {
    /// The part path evidence names: `part`, or `1` for the body of a single-part
    /// message (whose MIME path is empty), as IMAP numbers it.
    pub fn evidence_part(&self) -> String {
        if self.part.is_empty() {
            "1".into()
        } else {
            self.part.clone()
        }
    }

    /// Builds a text part, normalising `decoded` (cut to [`TEXT_READ_MAX`] first).
    pub fn new(
        part: String,
        kind: TextKind,
        mut decoded: String,
        html: Option<String>,
    ) -> TextPart {
        let cut_from = cut_to_read_max(&mut decoded);
        let (normalized, map) = normalize(&decoded);
        // CamelCase joins are read off the decoded text; offsets agree only when
        // normalising changed no lengths.
        let splits = if map.is_empty() && normalized.len() == decoded.len() {
            camel_splits(&decoded)
        } else {
            Vec::new()
        };
        let deobfuscated = deobfuscate(&normalized, &splits);
        TextPart {
            part,
            kind,
            decoded,
            html,
            normalized,
            map,
            deobfuscated,
            cut_from,
        }
    }

    /// Maps an offset in `normalized` back to an offset in `decoded` (at a char boundary).
    pub fn to_decoded(&self, norm: usize) -> usize {
        let n = norm as u32;
        let idx = self.map.partition_point(|&(k, _)| k <= n);
        let off = if idx == 0 {
            norm
        } else {
            let (nk, dk) = self.map[idx - 1];
            // Inside an expanded cluster the next checkpoint bounds the position.
            let candidate = dk as usize + (norm - nk as usize);
            match self.map.get(idx) {
                Some(&(_, dnext)) if idx % 2 == 1 => candidate.min(dnext as usize).max(dk as usize),
                _ => candidate,
            }
        };
        let mut off = off.min(self.decoded.len());
        while !self.decoded.is_char_boundary(off) {
            off -= 1;
        }
        off
    }

    /// Maps a `[start, end)` range of the de-obfuscated text back to the normalised text.
    pub fn deobfuscated_to_normalized(&self, start: usize, end: usize) -> (usize, usize) {
        match &self.deobfuscated {
            None => (start, end),
            Some(Deobfuscated { map, .. }) => {
                let s = map
                    .get(start)
                    .map_or(self.normalized.len(), |&o| o as usize);
                let e = if end == 0 {
                    s
                } else {
                    map.get(end - 1)
                        .map_or(self.normalized.len(), |&o| o as usize + 1)
                };
                (s, e.max(s))
            }
        }
    }

    /// 1-based line in `decoded` of a decoded offset.
    pub fn line_of(&self, decoded_off: usize) -> usize {
        1 + self.decoded.as_bytes()[..decoded_off.min(self.decoded.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }
}

/// The Subject and every inline text part of a message, decoded and normalised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecodedText {
    /// The decoded Subject, when there is one.
    pub subject: Option<TextPart>,
    /// Inline text parts (plain and HTML reduced to text), in document order.
    pub parts: Vec<TextPart>,
    /// The decoded display name of the first From mailbox ("BuyViagra Store"), when
    /// there is one: phrase rules with target `any` read it with the Subject.
    pub sender: Option<TextPart>,
    /// The facts of each HTML part (its text is the part's `decoded`), with the index of
    /// the part in `parts`.
    pub html: Vec<(usize, HtmlFacts)>,
}

impl DecodedText {
    /// Decodes the texts of `msg` (its Subject, its sender's name and the text parts
    /// mail-parser decoded, named by their path in the tree).
    pub fn build(msg: &Message<'_>) -> DecodedText {
        let mut out = DecodedText::default();
        let Some(parsed) = &msg.parsed else {
            return out;
        };
        if let Some(s) = parsed.subject() {
            out.subject = Some(TextPart::new(
                String::new(),
                TextKind::Subject,
                s.to_string(),
                None,
            ));
        }
        let sender = msg.from_mailboxes().first().and_then(|m| m.name.as_deref());
        if let Some(name) = sender.map(str::trim).filter(|n| !n.is_empty()) {
            out.sender = Some(TextPart::new(
                "header:from".to_string(),
                TextKind::Sender,
                name.to_string(),
                None,
            ));
        }
        collect(msg, &mut out.parts, &mut out.html);
        out
    }

    /// The Subject followed by every part.
    pub fn all(&self) -> impl Iterator<Item = &TextPart> {
        self.subject.iter().chain(self.parts.iter())
    }
}

/// The inline text and HTML parts of `msg`, in mail-parser's order.
fn collect(msg: &Message<'_>, out: &mut Vec<TextPart>, html: &mut Vec<(usize, HtmlFacts)>) {
    let max_items = msg.max_links();
    // What all HTML parts keep together: as much as one part may (a message of 10,000
    // parts with 20,000 links each would otherwise keep them all).
    let mut left = [max_items; 5];
    for part in msg.decoded_parts() {
        // mail-parser's reading of the disposition (the attachments check reads the
        // tree's).
        if part.decoded_as_attachment() {
            continue;
        }
        match part.body() {
            Some(Body::Text(t)) => {
                out.push(TextPart::new(
                    part.path().into_owned(),
                    TextKind::Plain,
                    t.to_string(),
                    None,
                ));
            }
            Some(Body::Html(h)) => {
                let mut facts = super::html::scan_with(h, max_items);
                keep_within(&mut facts, &mut left);
                let text = std::mem::take(&mut facts.text);
                html.push((out.len(), facts));
                out.push(TextPart::new(
                    part.path().into_owned(),
                    TextKind::Html,
                    text,
                    Some(h.to_string()),
                ));
            }
            _ => {}
        }
    }
}

/// Cuts the lists of `f` to what `left` allows (links, images, forms, frames, style
/// sheets) and takes what they keep from it.
fn keep_within(f: &mut HtmlFacts, left: &mut [usize; 5]) {
    fn cut<T>(v: &mut Vec<T>, left: &mut usize) {
        v.truncate(*left);
        *left -= v.len();
    }
    let links = f.links.len();
    cut(&mut f.links, &mut left[0]);
    f.links_not_kept += links - f.links.len();
    cut(&mut f.images, &mut left[1]);
    cut(&mut f.forms, &mut left[2]);
    cut(&mut f.frames, &mut left[3]);
    cut(&mut f.stylesheets, &mut left[4]);
}

#[cfg(test)]
mod deobfuscation_tests {
    use super::{Deobfuscated, camel_splits, deobfuscate};

    #[test]
    fn undoes_common_obfuscations() {
        for (input, want) in [
            ("buy v1agra now", "buy viagra now"),
            ("c1al1s", "cialis"),
            ("ca$h and v1agra", "cash and viagra"),
            ("get v.i.a.g.r.a today", "get viagra today"),
            ("it is f r e e", "it is free"),
            ("fast c-a-s-h", "fast cash"),
        ] {
            assert_eq!(
                deobfuscate(input, &[]).map(|s| s.text).as_deref(),
                Some(want),
                "{input}"
            );
        }
        for input in [
            "version 1.2.3",
            "a b c",
            "win 10 pro",
            "call 555-1234",
            "u.s.a.",
            "see https://x.example/a1b2c3d4e5 now",
            "token tm6a7gpeotr8zsh1jhtxx",
            "https://example.com/news?id=ab1cd",
        ] {
            assert_eq!(deobfuscate(input, &[]), None, "{input}");
        }
        let text = "Buy NoPrescription pills, iPhone";
        let splits = camel_splits(text);
        assert_eq!(splits, [6]);
        let Deobfuscated {
            text: joined,
            map: jmap,
            ..
        } = deobfuscate(&text.to_lowercase(), &splits).unwrap();
        assert_eq!(joined, "buy no prescription pills, iphone");
        assert_eq!(jmap[6], 6);
        assert_eq!(jmap[7], 6);
        let Deobfuscated {
            text: s,
            map,
            spaced,
        } = deobfuscate("xx v.i.a.g.r.a", &[]).unwrap();
        assert!(spaced);
        assert_eq!(s, "xx viagra");
        assert_eq!(map[3], 3);
        assert_eq!(map[8], 13);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_prefilters_agree_with_the_byte_tests() {
        for c in 0..=255u8 {
            assert_eq!(is_look_alike(c), LOOK_ALIKE[usize::from(c)], "byte {c}");
        }
        // Every text of up to 7 bytes over a small alphabet: `may_be_spaced` is exactly
        // "some run of spaced letters starts here" as pass 2 of `deobfuscate` tests it.
        let alphabet = b"a .1X";
        let alnum =
            |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let lower = |c: Option<&u8>| c.is_some_and(u8::is_ascii_lowercase);
        for len in 0..=7u32 {
            for mut code in 0..5usize.pow(len) {
                let mut b = Vec::new();
                for _ in 0..len {
                    b.push(alphabet[code % 5]);
                    code /= 5;
                }
                let want = (0..b.len().saturating_sub(2)).any(|i| {
                    SEPARATOR[usize::from(b[i + 1])]
                        && lower(b.get(i))
                        && (i == 0 || !alnum(b.get(i - 1)))
                        && lower(b.get(i + 2))
                        && !alnum(b.get(i + 3))
                });
                assert_eq!(may_be_spaced(&b), want, "{:?}", String::from_utf8_lossy(&b));
                let pair = b.windows(2).any(|w| w[0] == b'a' && w[1] == b'1');
                assert_eq!(any_pair(&b, |x, y| x == b'a' && y == b'1'), pair);
            }
        }
        // Longer than one block.
        let mut long = vec![b'x'; 700];
        assert!(!may_be_spaced(&long) && !any_pair(&long, |x, y| x == b'x' && y == b'y'));
        long[600] = b'y';
        assert!(any_pair(&long, |x, y| x == b'x' && y == b'y'));
        long[400..405].copy_from_slice(b" a b ");
        assert!(may_be_spaced(&long));
    }

    #[test]
    fn normalises_width_case_and_invisibles() {
        let (n, _) = normalize("ＦＲＥＥ Fr\u{200B}ee Café");
        assert_eq!(n, "free free café");
    }

    #[test]
    fn combining_marks_compose() {
        let (n, _) = normalize("Cafe\u{301}!");
        assert_eq!(n, "café!");
    }

    #[test]
    fn maps_back_to_decoded_offsets() {
        let t = TextPart::new(
            String::new(),
            TextKind::Plain,
            "ＦＲＥＥ money\nnow".into(),
            None,
        );
        let at = t.normalized.find("money").unwrap();
        let d = t.to_decoded(at);
        assert_eq!(&t.decoded[d..d + 5], "money");
        let at = t.normalized.find("now").unwrap();
        assert_eq!(t.line_of(t.to_decoded(at)), 2);
        assert_eq!(t.to_decoded(0), 0);
        let e = t.to_decoded(t.normalized.find(' ').unwrap());
        assert_eq!(&t.decoded[e..e + 1], " ");
    }

    #[test]
    fn decodes_parts_and_subject() {
        let raw = b"Subject: =?utf-8?q?Caf=C3=A9?=\nContent-Type: multipart/alternative; boundary=B\n\n--B\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nD=E9j=E0 vu\n--B\nContent-Type: text/html\n\n<p>Hello <b>there</b></p>\n--B--\n";
        let m = crate::message::Message::parse(raw);
        assert_eq!(m.text.subject.as_ref().unwrap().decoded, "Café");
        assert_eq!(m.text.parts.len(), 2);
        assert_eq!(m.text.parts[0].part, "1");
        assert!(m.text.parts[0].decoded.starts_with("Déjà vu"));
        assert_eq!(m.text.parts[1].part, "2");
        assert!(m.text.parts[1].decoded.contains("Hello there"));
    }

    #[test]
    fn long_texts_are_read_up_to_the_limit() {
        let mut raw = b"Subject: x\nContent-Type: text/plain; charset=utf-8\n\nBuy now. ".to_vec();
        while raw.len() < 3 * TEXT_READ_MAX {
            raw.extend_from_slice("lorem ipsum dolor \u{e9}t amet\n".as_bytes());
        }
        let m = crate::message::Message::parse(&raw);
        let tp = &m.text.parts[0];
        assert!(tp.decoded.len() <= TEXT_READ_MAX && tp.decoded.len() > TEXT_READ_MAX - 200);
        assert!(tp.decoded.starts_with("Buy now."));
        assert!(tp.cut_from.is_some_and(|n| n > 2 * TEXT_READ_MAX));
        let short = crate::message::Message::parse(b"Subject: x\n\nshort\n");
        assert_eq!(short.text.parts[0].cut_from, None);
    }

    /// Callers slice `decoded[to_decoded(a)..to_decoded(b)]` for a match `a..b`: the map
    /// must land on character boundaries and never go backwards, whatever characters
    /// grow, shrink or vanish when normalised.
    #[test]
    fn offset_map_is_monotonic_on_character_boundaries() {
        let pieces = [
            "a",
            "Z",
            " ",
            "\n",
            "\u{e9}",
            "e\u{301}",
            "\u{fb01}",
            "\u{130}",
            "\u{df}",
            "\u{200b}",
            "\u{ad}",
            "\u{ff26}",
            "\u{1f600}",
            "\u{2460}",
            "\u{3392}",
            "\u{301}",
            "\u{feff}",
            "\u{212b}",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut s = String::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            let t = TextPart::new(String::new(), TextKind::Plain, s.clone(), None);
            let mut last = 0;
            for n in 0..=t.normalized.len() + 2 {
                let d = t.to_decoded(n);
                assert!(t.decoded.is_char_boundary(d), "{s:?} {n}");
                assert!(d >= last, "{s:?}: to_decoded({n}) = {d} < {last}");
                last = d;
            }
        }
    }
}
