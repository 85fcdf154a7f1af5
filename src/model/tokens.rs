//! Tokens of a message for the learned models, and their hashed feature buckets.
//!
//! The text is the normalised (NFKC, lower-case) Subject, From display name and inline
//! text parts the rules read. Words are runs of letters and digits in any script; Chinese
//! and Japanese, written without spaces, are read as overlapping pairs of characters.
//! Numbers and codes are reduced to their shape (`<num4>`, `<code>`) so one token stands
//! for every order number; words that mix Latin, Cyrillic and Greek letters (`pаypal`
//! with a Cyrillic `а`) add a token of their own. Adjacent words also make a pair. Links
//! add their registrable domain and its suffix. The words of the recipients' names and
//! addresses (To, Cc) are left out: who the mail goes to says nothing about what it is,
//! and a model that learnt a honeypot owner's name would score everyone of that name.
//! The same pass tells the message's language ([`super::lang`]).

use std::cell::Cell;

use unicode_script::{Script, UnicodeScript};

use super::lang::{Detector, Lang};
use crate::message::Message;

/// Feature buckets: 2^18, a 512 KiB model of 16-bit weights.
pub const BITS: u32 = 18;

/// The most word and character tokens read from one message (a bound on the cost of
/// a huge text part; the rules read more).
pub const MAX_TOKENS: usize = 4_000;

/// What a token is; the kind is hashed with its text, so `free` in the Subject and `free`
/// in the body are different features.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A word of the body text.
    Word,
    /// Two adjacent words of the body text.
    Pair,
    /// A word of the Subject.
    Subject,
    /// A word of the From display name.
    Sender,
    /// Two adjacent CJK characters.
    Cjk,
    /// A word mixing Latin, Cyrillic or Greek letters.
    MixedScript,
    /// The registrable domain of a link.
    LinkDomain,
    /// The public suffix of a link's domain.
    LinkSuffix,
}

impl Kind {
    fn tag(self) -> u8 {
        match self {
            Kind::Word => b'w',
            Kind::Pair => b'p',
            Kind::Subject => b's',
            Kind::Sender => b'n',
            Kind::Cjk => b'c',
            Kind::MixedScript => b'x',
            Kind::LinkDomain => b'u',
            Kind::LinkSuffix => b't',
        }
    }
}

/// One token: its kind and text (a pair has two words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'t> {
    /// What it is.
    pub kind: Kind,
    /// Its text.
    pub text: &'t str,
    /// The second word of a pair.
    pub second: Option<&'t str>,
}

impl Token<'_> {
    /// The feature bucket: FNV-1a over kind and text, spread by a multiplicative hash.
    pub fn bucket(&self) -> u32 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |b: u8| h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        eat(self.kind.tag());
        self.text.bytes().for_each(&mut eat);
        if let Some(s) = self.second {
            eat(0xff);
            s.bytes().for_each(&mut eat);
        }
        (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - BITS)) as u32
    }

    /// The token as a reader would name it in evidence (`"verify your"`,
    /// `subject "urgent"`, `link domain "example.top"`).
    pub fn describe(&self) -> String {
        let t = crate::util::truncate_str(self.text, 40);
        match (self.kind, self.second) {
            (Kind::Pair, Some(s)) => {
                format!("\u{201c}{t} {}\u{201d}", crate::util::truncate_str(s, 40))
            }
            (Kind::Subject, _) => format!("\u{201c}{t}\u{201d} in the Subject"),
            (Kind::Sender, _) => format!("\u{201c}{t}\u{201d} in the sender's name"),
            (Kind::MixedScript, _) => format!("\u{201c}{t}\u{201d} (letters of mixed scripts)"),
            (Kind::LinkDomain, _) => format!("link domain {t}"),
            (Kind::LinkSuffix, _) => format!("link suffix .{t}"),
            _ => format!("\u{201c}{t}\u{201d}"),
        }
    }
}

fn is_cjk(c: char) -> bool {
    // Nothing below the CJK radicals (U+2E80) is Han, Hiragana or Katakana: most text
    // never reaches the script tables.
    (c as u32) >= 0x2e80
        && matches!(
            c.script(),
            Script::Han | Script::Hiragana | Script::Katakana
        )
        || c == '\u{30fc}' // prolonged sound mark, script Common
}

/// The script class of a letter for the mixed-script test: 1 Latin, 2 Cyrillic, 4 Greek.
fn script_bit(c: char) -> u8 {
    if c.is_ascii() {
        return if c.is_ascii_alphabetic() { 1 } else { 0 };
    }
    match c.script() {
        Script::Latin => 1,
        Script::Cyrillic => 2,
        Script::Greek => 4,
        _ => 0,
    }
}

/// Shapes: what a word stands for when its letters do not matter.
const NUM_SHAPES: [&str; 9] = [
    "<num0>", "<num1>", "<num2>", "<num3>", "<num4>", "<num5>", "<num6>", "<num7>", "<num8+>",
];

/// The character of `text` at byte `i` (a character boundary).
fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..).and_then(|t| t.chars().next())
}

/// Whether an apostrophe at `i`, `len` bytes long, is inside a word (don't, l'offre): a
/// letter of a spaced script follows it.
fn inner_apostrophe(text: &str, i: usize, len: usize) -> bool {
    char_at(text, i + len).is_some_and(|n| n.is_alphabetic() && !is_cjk(n))
}

/// Calls `f` for every token of `text` of kind `word` (body, Subject or sender), with
/// word pairs when `pairs`; stops after `budget` word and character tokens and returns
/// what is left of it.
///
/// Walks the bytes: ASCII, most of any text, is judged byte by byte, and only other
/// characters are decoded (a third of the content model's cost was the character walk).
fn text_tokens<'t>(
    text: &'t str,
    word: Kind,
    pairs: bool,
    mut budget: usize,
    skip: &Skip<'_>,
    f: &mut dyn FnMut(Token<'t>),
) -> usize {
    let bytes = text.as_bytes();
    let mut prev: Option<&'t str> = None;
    let mut i = 0;
    while i < bytes.len() {
        if budget == 0 || skip.done.is_some_and(Cell::get) {
            break;
        }
        let b = bytes[i];
        if b < 0x80 {
            if !b.is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
        } else {
            let Some(c) = char_at(text, i) else { break };
            if is_cjk(c) {
                // A run of CJK characters: each pair of neighbours (a lone one on its own).
                let (start, mut last) = (i, i);
                let mut j = i + c.len_utf8();
                let mut lone = true;
                while let Some(d) = char_at(text, j) {
                    if !is_cjk(d) || budget == 0 {
                        break;
                    }
                    let end = j + d.len_utf8();
                    f(Token {
                        kind: Kind::Cjk,
                        text: &text[last..end],
                        second: None,
                    });
                    budget -= 1;
                    lone = false;
                    last = j;
                    j = end;
                }
                if lone {
                    f(Token {
                        kind: Kind::Cjk,
                        text: &text[start..start + c.len_utf8()],
                        second: None,
                    });
                    budget -= 1;
                }
                prev = None;
                i = j;
                continue;
            }
            if !c.is_alphanumeric() {
                i += c.len_utf8();
                continue;
            }
        }
        // A word starts at `i`: letters and digits of spaced scripts, and apostrophes
        // between letters.
        let start = i;
        let (mut letters, mut digits, mut scripts, mut chars) = (0usize, 0usize, 0u8, 0usize);
        let mut j = i;
        while j < bytes.len() {
            let b = bytes[j];
            if b < 0x80 {
                if b.is_ascii_alphanumeric() {
                    chars += 1;
                    if b.is_ascii_digit() {
                        digits += 1;
                    } else {
                        letters += 1;
                        scripts |= 1;
                    }
                    j += 1;
                } else if b == b'\'' && j > start && inner_apostrophe(text, j, 1) {
                    j += 1;
                } else {
                    break;
                }
                continue;
            }
            let Some(d) = char_at(text, j) else { break };
            let len = d.len_utf8();
            if d == '\u{2019}' && j > start && inner_apostrophe(text, j, len) {
                j += len;
                continue;
            }
            if !d.is_alphanumeric() || is_cjk(d) {
                break;
            }
            chars += 1;
            if d.is_numeric() {
                digits += 1;
            } else {
                letters += 1;
                scripts |= script_bit(d);
            }
            j += len;
        }
        i = j;
        let w = &text[start..j];
        let shaped: &'t str = if letters == 0 {
            NUM_SHAPES[digits.min(8)]
        } else if digits >= 3 || chars > 24 {
            "<code>"
        } else if chars < 2 || skip.drops(w) {
            prev = None;
            continue;
        } else {
            w
        };
        if scripts.count_ones() > 1 {
            f(Token {
                kind: Kind::MixedScript,
                text: w,
                second: None,
            });
        }
        f(Token {
            kind: word,
            text: shaped,
            second: None,
        });
        budget -= 1;
        if pairs {
            if let Some(p) = prev {
                f(Token {
                    kind: Kind::Pair,
                    text: p,
                    second: Some(shaped),
                });
            }
            prev = Some(shaped);
        }
    }
    budget
}

/// Words left out of the tokens: the recipients' (To and Cc) and, in training, words a
/// corpus's own sanitising put into its messages.
struct Skip<'d> {
    recipients: Vec<String>,
    extra: &'d [&'d str],
    /// Set by the caller's sink when it has read all it wants.
    done: Option<&'d Cell<bool>>,
}

impl Skip<'_> {
    fn drops(&self, w: &str) -> bool {
        w.len() >= 3 && (self.recipients.iter().any(|r| r == w) || self.extra.contains(&w))
    }
}

/// The words (three characters or more, lower case) of the To and Cc fields: names and
/// the parts of addresses, at most 32.
fn recipient_words(msg: &Message<'_>) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for name in ["To", "Cc"] {
        for h in msg.headers_named(name) {
            let v = crate::message::decode_header_text(&h.unfolded(msg.raw));
            for w in v.to_lowercase().split(|c: char| !c.is_alphanumeric()) {
                if w.chars().count() >= 3 && !words.iter().any(|x| x == w) && words.len() < 32 {
                    words.push(w.to_string());
                }
            }
        }
    }
    words
}

/// Calls `f` for every token of `msg`, in a fixed order: Subject, sender name, text
/// parts, link domains.
pub fn for_each<'m>(msg: &'m Message<'_>, f: &mut dyn FnMut(Token<'_>)) {
    for_each_skipping(msg, &[], None, f)
}

/// [`for_each`] until `done` is set (by `f`, when it has read all it wants).
pub fn for_each_until<'m>(msg: &'m Message<'_>, done: &Cell<bool>, f: &mut dyn FnMut(Token<'_>)) {
    for_each_skipping(msg, &[], Some(done), f)
}

fn for_each_skipping<'m>(
    msg: &'m Message<'_>,
    extra: &[&str],
    done: Option<&Cell<bool>>,
    f: &mut dyn FnMut(Token<'_>),
) {
    let t = &msg.text;
    let skip = Skip {
        recipients: recipient_words(msg),
        extra,
        done,
    };
    let stop = || done.is_some_and(Cell::get);
    let mut budget = MAX_TOKENS;
    if let Some(s) = &t.subject {
        budget = text_tokens(&s.normalized, Kind::Subject, false, budget, &skip, f);
    }
    if let Some(s) = &t.sender {
        budget = text_tokens(&s.normalized, Kind::Sender, false, budget, &skip, f);
    }
    for p in &t.parts {
        if stop() {
            return;
        }
        budget = text_tokens(&p.normalized, Kind::Word, true, budget, &skip, f);
    }
    if stop() {
        return;
    }
    let mut domains: Vec<String> = msg
        .links()
        .iter()
        .filter_map(|l| l.host.as_deref())
        .filter_map(|h| crate::message::links::registrable(h).or_else(|| Some(h.to_string())))
        .collect();
    domains.sort();
    domains.dedup();
    for d in domains.iter().take(32) {
        f(Token {
            kind: Kind::LinkDomain,
            text: d,
            second: None,
        });
        let suffix = psl::suffix_str(d).unwrap_or(d);
        f(Token {
            kind: Kind::LinkSuffix,
            text: suffix,
            second: None,
        });
    }
}

/// What the models read of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analysis {
    /// The distinct feature buckets, sorted.
    pub buckets: Vec<u32>,
    /// The language the text is written in.
    pub lang: Lang,
}

/// The distinct feature buckets of `msg`, sorted.
pub fn features(msg: &Message<'_>) -> Vec<u32> {
    analyse(msg).buckets
}

/// The feature buckets of `msg` and its language.
pub fn analyse(msg: &Message<'_>) -> Analysis {
    analyse_skipping(msg, &[])
}

/// [`analyse`], leaving out the words `extra` as well (lower case): in training, words a
/// corpus's sanitising wrote into its messages.
pub fn analyse_skipping(msg: &Message<'_>, extra: &[&str]) -> Analysis {
    // A bitmap of the buckets (32 KiB) dedups and sorts in one pass, where sorting a few
    // thousand tokens cost a tenth of a whole check.
    let mut bits = vec![0u64; 1 << (BITS - 6)];
    let mut n = 0usize;
    let mut lang = Detector::default();
    for_each_skipping(msg, extra, None, &mut |t| {
        match t.kind {
            Kind::Word | Kind::Subject => lang.word(t.text),
            Kind::Cjk => lang.cjk(t.text),
            _ => {}
        }
        let b = t.bucket();
        let (w, m) = ((b >> 6) as usize, 1u64 << (b & 63));
        n += usize::from(bits[w] & m == 0);
        bits[w] |= m;
    });
    let mut v = Vec::with_capacity(n);
    for (i, &w) in bits.iter().enumerate() {
        let mut w = w;
        while w != 0 {
            v.push(((i as u32) << 6) | w.trailing_zeros());
            w &= w - 1;
        }
    }
    Analysis {
        buckets: v,
        lang: lang.language(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<(Kind, String)> {
        let mut v = Vec::new();
        let skip = Skip {
            recipients: vec!["rodrigo".into()],
            extra: &["pot"],
            done: None,
        };
        text_tokens(text, Kind::Word, true, 1000, &skip, &mut |t| {
            v.push((
                t.kind,
                match t.second {
                    Some(s) => format!("{} {s}", t.text),
                    None => t.text.to_string(),
                },
            ))
        });
        v
    }

    /// The character-by-character walk the byte walk replaced, kept as its oracle.
    fn reference_tokens<'t>(
        text: &'t str,
        word: Kind,
        pairs: bool,
        mut budget: usize,
        skip: &Skip<'_>,
        f: &mut dyn FnMut(Token<'t>),
    ) -> usize {
        let mut prev: Option<&'t str> = None;
        let mut it = text.char_indices().peekable();
        while let Some((start, c)) = it.next() {
            if budget == 0 || skip.done.is_some_and(Cell::get) {
                break;
            }
            if is_cjk(c) {
                // A run of CJK characters: each pair of neighbours (a lone one on its own).
                let mut last = (start, c.len_utf8());
                let mut lone = true;
                while let Some(&(i, d)) = it.peek() {
                    if !is_cjk(d) || budget == 0 {
                        break;
                    }
                    it.next();
                    let end = i + d.len_utf8();
                    f(Token {
                        kind: Kind::Cjk,
                        text: &text[last.0..end],
                        second: None,
                    });
                    budget -= 1;
                    lone = false;
                    last = (i, d.len_utf8());
                }
                if lone {
                    f(Token {
                        kind: Kind::Cjk,
                        text: &text[start..start + c.len_utf8()],
                        second: None,
                    });
                    budget -= 1;
                }
                prev = None;
                continue;
            }
            if !c.is_alphanumeric() {
                continue;
            }
            let mut end = start + c.len_utf8();
            let (mut letters, mut digits, mut scripts, mut chars) = (0usize, 0usize, 0u8, 0usize);
            let mut count = |c: char| {
                chars += 1;
                if c.is_numeric() {
                    digits += 1;
                } else {
                    letters += 1;
                    scripts |= script_bit(c);
                }
            };
            count(c);
            while let Some(&(i, d)) = it.peek() {
                // An apostrophe inside a word (don't, l'offre) keeps it whole.
                let inner = (d == '\'' || d == '\u{2019}')
                    && text[i + d.len_utf8()..]
                        .chars()
                        .next()
                        .is_some_and(|n| n.is_alphabetic() && !is_cjk(n));
                if (!d.is_alphanumeric() || is_cjk(d)) && !inner {
                    break;
                }
                it.next();
                if !inner {
                    count(d);
                }
                end = i + d.len_utf8();
            }
            let w = &text[start..end];
            let shaped: &'t str = if letters == 0 {
                NUM_SHAPES[digits.min(8)]
            } else if digits >= 3 || chars > 24 {
                "<code>"
            } else if chars < 2 || skip.drops(w) {
                prev = None;
                continue;
            } else {
                w
            };
            if scripts.count_ones() > 1 {
                f(Token {
                    kind: Kind::MixedScript,
                    text: w,
                    second: None,
                });
            }
            f(Token {
                kind: word,
                text: shaped,
                second: None,
            });
            budget -= 1;
            if pairs {
                if let Some(p) = prev {
                    f(Token {
                        kind: Kind::Pair,
                        text: p,
                        second: Some(shaped),
                    });
                }
                prev = Some(shaped);
            }
        }
        budget
    }

    fn all_tokens(text: &str, budget: usize, walk: Walk) -> (Vec<(Kind, String)>, usize) {
        let mut v = Vec::new();
        let skip = Skip {
            recipients: vec!["rodrigo".into()],
            extra: &[],
            done: None,
        };
        let left = walk(text, Kind::Word, true, budget, &skip, &mut |t| {
            v.push((t.kind, format!("{}|{:?}", t.text, t.second)))
        });
        (v, left)
    }

    type Walk =
        for<'t> fn(&'t str, Kind, bool, usize, &Skip<'_>, &mut dyn FnMut(Token<'t>)) -> usize;

    proptest::proptest! {
        #[test]
        fn the_byte_walk_reads_as_the_character_walk(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "a", "Z", "7", "0", " ", ".", "'", "\u{2019}", "don", "rodrigo", "\u{0430}",
                "\u{00e9}", "\u{00b2}", "\u{0663}", "\u{0301}", "\u{4f60}", "\u{30fc}",
                "\u{30a2}", "\u{ac00}", "-", "\n", "\u{00a0}", "\u{1d400}", "x1y2z3",
            ]), 0..40),
            budget in 0usize..30,
        ) {
            let text: String = parts.concat();
            proptest::prop_assert_eq!(
                all_tokens(&text, budget, text_tokens),
                all_tokens(&text, budget, reference_tokens)
            );
        }
    }

    #[test]
    fn words_shapes_and_pairs() {
        let t = toks("verify your account 12345 now, ref a1b2c3d4 don't");
        let words: Vec<&str> = t
            .iter()
            .filter(|(k, _)| *k == Kind::Word)
            .map(|(_, s)| s.as_str())
            .collect();
        assert_eq!(
            words,
            [
                "verify", "your", "account", "<num5>", "now", "ref", "<code>", "don't"
            ]
        );
        assert!(t.contains(&(Kind::Pair, "verify your".into())));
        assert!(t.contains(&(Kind::Pair, "now ref".into())));
        // The recipient's name and the words to skip are left out, pairs across them too.
        let t = toks("hello rodrigo your pot is ready");
        assert!(
            !t.iter()
                .any(|(_, s)| s.contains("rodrigo") || s.contains("pot"))
        );
        assert!(t.contains(&(Kind::Pair, "is ready".into())));
        assert!(!t.contains(&(Kind::Pair, "hello your".into())));
    }

    #[test]
    fn cjk_is_read_as_character_pairs() {
        let t = toks("您的账户 ok");
        let cjk: Vec<&str> = t
            .iter()
            .filter(|(k, _)| *k == Kind::Cjk)
            .map(|(_, s)| s.as_str())
            .collect();
        assert_eq!(cjk, ["您的", "的账", "账户"]);
        let t = toks("アカウントを確認");
        assert_eq!(t.iter().filter(|(k, _)| *k == Kind::Cjk).count(), 7);
        // Cyrillic is a script of words like Latin.
        let t = toks("ваш аккаунт заблокирован");
        assert_eq!(t.iter().filter(|(k, _)| *k == Kind::Word).count(), 3);
    }

    #[test]
    fn mixed_scripts_inside_a_word() {
        // A Cyrillic "а" inside a Latin word.
        let t = toks("p\u{0430}ypal login");
        assert!(
            t.iter()
                .any(|(k, s)| *k == Kind::MixedScript && s == "p\u{0430}ypal")
        );
        assert!(
            !toks("paypal login")
                .iter()
                .any(|(k, _)| *k == Kind::MixedScript)
        );
    }

    #[test]
    fn the_budget_bounds_the_tokens() {
        let text = "word ".repeat(10_000);
        let mut n = 0;
        let skip = Skip {
            recipients: Vec::new(),
            extra: &[],
            done: None,
        };
        let left = text_tokens(&text, Kind::Word, false, 100, &skip, &mut |_| n += 1);
        assert_eq!((n, left), (100, 0));
    }

    #[test]
    fn buckets_are_stable_and_kind_matters() {
        let w = Token {
            kind: Kind::Word,
            text: "free",
            second: None,
        };
        let s = Token {
            kind: Kind::Subject,
            text: "free",
            second: None,
        };
        assert_ne!(w.bucket(), s.bucket());
        assert!(w.bucket() < 1 << BITS);
        // Fixed by the file format: a changed hash would need a retrained model.
        assert_eq!(
            w.bucket(),
            Token {
                kind: Kind::Word,
                text: "free",
                second: None
            }
            .bucket()
        );
    }
}
