//! The `content` family's code rules: template mistakes and formatting that phrase lists
//! cannot express (capital-letter ratios, punctuation runs, fake reply prefixes, letters
//! spaced out to dodge filters).
//!
//! Everything works on the decoded texts of [`crate::message::DecodedText`]: the Subject
//! and each inline text part (HTML reduced to the text it shows), so evidence points at
//! what the reader sees.

use std::sync::LazyLock;

use regex::Regex;

use super::{Check, Ctx};
use crate::message::Message;
use crate::message::text::{TextKind, TextPart};
use crate::report::{Evidence, Frame, Snippet, Span};

/// Content checks.
pub struct ContentCheck;

/// Merge tags of the common mailing tools whose name is a personalisation field. The field
/// vocabulary keeps code in technical mail (`${HOME}`, `{{ item }}`) out.
static MERGE_TAG: LazyLock<Regex> = LazyLock::new(|| {
    let field = r"(?:(?:first|last|full|user|customer|contact|company|sender|recipient|subscriber|member|client)[ _.-]?(?:name|email|e-mail)|f_?name|l_?name|name|e-?mail|email_?address|company|city|country|phone|unsubscribe(?:[_-]?(?:url|link))?|(?:contact|subscriber|recipient|customer|member|user)\.(?:first_?name|last_?name|name|email))";
    Regex::new(&format!(
        r"(?i)\{{\{{\s*{field}\s*(?:\|[^}}]{{0,40}})?\}}\}}|\*\|[A-Z0-9_:-]{{2,40}}\|\*|%%\s*{field}\s*%%|\$\{{\s*{field}\s*\}}|\[\s*(?:FIRST_?NAME|LAST_?NAME|FNAME|LNAME|FULL_?NAME|NAME|EMAIL|COMPANY)\s*\]|%RND_[A-Z_]+%?|https?://\[\s*[A-Za-z][A-Za-z _-]{{1,30}}\]|\{{\s*(?:first_?name|last_?name|fname|lname|email)\s*\}}"
    ))
    .expect("valid regex")
});

/// Whether `text` has a byte every merge tag has (`{`, `[`, `|` or `%`): a vector scan
/// that spares most texts the [`MERGE_TAG`] search.
fn may_have_merge_tag(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr3(b'{', b'[', b'|', b).is_some() || memchr::memchr(b'%', b).is_some()
}

/// Letters spaced out one by one: `F R E E`, `V.I.A.G.R.A`, `c-a-s-h`.
static GAPPY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\p{L}\p{N}.\-_*])((?:\p{L}[ .\-_*]){3,}\p{L})(?:$|[^\p{L}\p{N}])")
        .expect("valid regex")
});

/// An amount of money: a currency sign next to digits, or digits and a currency code.
static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"[$€£¥]\s?\d[\d,.]*|\d[\d,.]*\s?(?:[$€£¥]|(?-u:\b)(?:usd|eur|gbp|dollars|euros)(?-u:\b))",
    )
    .expect("valid regex")
});

/// Runs of three or more `!`, `?` or `$`.
static PUNCT_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"!{3,}|\?{3,}|\${3,}|(?:[!?]\s*){4,}").expect("valid regex"));

const SUBJECT_MAX_CHARS: usize = 200;

/// A Subject padded with white space and then a short random tag (`Great offer      NOAZ`),
/// or ending in a bracketed or parenthesised tracking id of mixed letters and digits
/// (`(9009zRlD0-486vNhZ47@18)`): bulk tools add them to defeat duplicate detection.
static SUBJECT_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\S\s{6,}[A-Za-z0-9]{1,8}\s*$|[(\[][A-Za-z0-9@._-]*[0-9][A-Za-z0-9@._-]*[a-zA-Z][A-Za-z0-9@._-]*[)\]]\s*$)")
        .expect("valid regex")
});

/// Numeric character references (`&#83;` or `&#x53;`, with or without the semicolon).
static NUMERIC_ENTITY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"&#(?:[0-9]{2,3}|[xX][0-9a-fA-F]{2});?").expect("valid regex"));

/// How many letters and digits written as numeric references make obfuscation.
const ENTITY_LETTERS_MIN: usize = 8;

fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A random string of ASCII letters and digits in `s` (byte span): ten or more
/// characters with at least three capitals and three small letters, that switch between
/// letters and digits four times or more (`G3ejrKKzNc30o7qJhZ`); or fourteen or more that
/// switch case five times or more, with a run of three capitals inside and at most one
/// capitalised word (`YydtzJJTBFBvIBDBt9jk`, not `iPhone15ProMax` or `MyHTMLParserTool`).
fn hash_buster(s: &str) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let t = &b[start..i];
        if t.len() < 10 {
            continue;
        }
        let count = |f: fn(&u8) -> bool| t.iter().filter(|c| f(c)).count();
        let (upper, lower, digits) = (
            count(u8::is_ascii_uppercase),
            count(u8::is_ascii_lowercase),
            count(u8::is_ascii_digit),
        );
        if upper < 3 || lower < 3 {
            continue;
        }
        let (mut digit_switches, mut case_switches, mut caps_run, mut inner_caps, mut words) =
            (0, 0, 0, false, 0);
        for (k, w) in t.windows(2).enumerate() {
            let (x, y) = (w[0], w[1]);
            if x.is_ascii_digit() != y.is_ascii_digit() {
                digit_switches += 1;
            }
            if x.is_ascii_alphabetic()
                && y.is_ascii_alphabetic()
                && x.is_ascii_uppercase() != y.is_ascii_uppercase()
            {
                case_switches += 1;
            }
            if x.is_ascii_uppercase() {
                caps_run += 1;
                // A run of three capitals followed by more of the string.
                inner_caps |= caps_run >= 3 && !y.is_ascii_uppercase();
            } else {
                caps_run = 0;
            }
            // A capitalised word: a capital and two small letters.
            if x.is_ascii_uppercase()
                && y.is_ascii_lowercase()
                && t.get(k + 2).is_some_and(u8::is_ascii_lowercase)
            {
                words += 1;
            }
        }
        if (digits >= 1 && digit_switches >= 4)
            || (t.len() >= 14 && case_switches >= 5 && inner_caps && words <= 1)
        {
            return Some((start, i));
        }
    }
    None
}

/// Evidence for `[start, end)` of a decoded text (offsets are floored to char boundaries),
/// with the line around it as the snippet.
pub(super) fn evidence(tp: &TextPart, start: usize, end: usize) -> Evidence {
    let start = floor(&tp.decoded, start);
    let end = floor(&tp.decoded, end).max(start);
    let (frame, part) = match tp.kind {
        TextKind::Subject => (Frame::Subject, None),
        _ => (Frame::Decoded, Some(tp.evidence_part())),
    };
    Evidence {
        frame,
        part,
        span: Span { start, end },
        line: Some(tp.line_of(start)),
        snippet: Snippet::around(&tp.decoded, start, crate::message::SNIPPET_MAX),
    }
}

/// Characters spam decorates names and subjects with: arrows, mathematical and technical
/// symbols, and the "mathematical" bold and italic letters that dodge word filters. Emoji
/// (what honest newsletters use) are not among them.
fn is_decoration(c: char) -> bool {
    matches!(c as u32,
        0x2190..=0x21FF       // arrows
        | 0x2300..=0x23FF     // miscellaneous technical
        | 0x25A0..=0x25FF     // geometric shapes
        | 0x27F0..=0x27FF     // supplemental arrows A
        | 0x2900..=0x297F     // supplemental arrows B
        | 0x2980..=0x29FF     // miscellaneous mathematical symbols B
        | 0x2A00..=0x2AFF     // supplemental mathematical operators
        | 0x2B00..=0x2BFF     // miscellaneous symbols and arrows
        | 0x1D400..=0x1D7FF   // mathematical alphanumeric symbols
    )
}

/// The display name of the From field, as written (decoded by mail-parser).
fn from_display_name(msg: &Message<'_>) -> Option<String> {
    msg.from_mailboxes().first()?.name.clone()
}

/// Words of a text that are not URLs, and how many URLs it has; the count stops past
/// `max_words` words (the caller only needs to know there are more).
fn words_and_urls(text: &str, max_words: usize) -> (usize, usize) {
    let (mut words, mut urls) = (0, 0);
    for w in text.split_whitespace() {
        if words > max_words {
            break;
        }
        let l = w.trim_matches(|c: char| !c.is_alphanumeric() && c != ':' && c != '/');
        if l.starts_with("http://") || l.starts_with("https://") || l.starts_with("www.") {
            urls += 1;
        } else if l.chars().any(char::is_alphabetic) {
            words += 1;
        }
    }
    (words, urls)
}

/// The local part of the only To recipient, lower-cased, when it is long enough to be
/// distinctive and is not the recipient's name as shown (`Ann <ann@...>`).
fn recipient_local_part(msg: &Message<'_>) -> Option<String> {
    // Mail to a list carries the list's name in the Subject ("[exmh-workers] ...").
    if ["List-Id", "List-Post", "Mailing-List", "X-Mailing-List"]
        .iter()
        .any(|h| msg.header(h).is_some())
    {
        return None;
    }
    let to = msg.header_value("To")?;
    if to.contains(',') {
        return None;
    }
    let addr = match (to.rfind('<'), to.rfind('>')) {
        (Some(a), Some(b)) if a < b => &to[a + 1..b],
        _ => to.trim(),
    };
    let (local, _) = addr.rsplit_once('@')?;
    let local = local.trim().to_lowercase();
    let display = if to.contains('<') {
        to.split('<').next().unwrap_or("").to_lowercase()
    } else {
        String::new()
    };
    let distinctive = local.len() >= 5
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
        && !display
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w.len() >= 3 && local.contains(w));
    distinctive.then_some(local)
}

/// `s` without its uuencoded blocks (from a `begin 644 name` line to an `end` line):
/// files pasted into a text part by old mail programs, written in capitals and
/// punctuation that are not shouting.
fn without_uuencode(s: &str) -> std::borrow::Cow<'_, str> {
    let mut out = String::new();
    let mut rest = 0;
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&s.as_bytes()[from..], b"begin ").map(|i| from + i) {
        from = i + 6;
        let line_start = i == 0 || s.as_bytes()[i - 1] == b'\n';
        let mode = s[i + 6..].split(' ').next().unwrap_or("");
        if !line_start
            || !(3..=4).contains(&mode.len())
            || !mode.bytes().all(|b| (b'0'..=b'7').contains(&b))
        {
            continue;
        }
        let end = s[i..]
            .match_indices("\nend")
            .map(|(j, _)| i + j + 4)
            .find(|&j| matches!(s.as_bytes().get(j), None | Some(b'\n' | b'\r')))
            .unwrap_or(s.len());
        out.push_str(&s[rest..i]);
        rest = end;
        from = end;
    }
    if rest == 0 {
        return std::borrow::Cow::Borrowed(s);
    }
    out.push_str(&s[rest..]);
    std::borrow::Cow::Owned(out)
}

/// Share of upper-case letters among the letters of `s`, and how many letters there are.
fn capitals(s: &str) -> (f64, usize) {
    let (mut up, mut letters) = (0usize, 0usize);
    if s.is_ascii() {
        // Branch-free, in blocks of 255 bytes whose counts fit a byte: the compiler turns
        // it into vector code.
        for block in s.as_bytes().chunks(255) {
            let (mut u, mut l) = (0u8, 0u8);
            for &b in block {
                let upper = b.is_ascii_uppercase();
                u += u8::from(upper);
                l += u8::from(upper | b.is_ascii_lowercase());
            }
            up += usize::from(u);
            letters += usize::from(l);
        }
        return if letters == 0 {
            (0.0, 0)
        } else {
            (up as f64 / letters as f64, letters)
        };
    }
    for c in s.chars() {
        // Mostly-ASCII text with a few accents: the Unicode tables only for the rest.
        let (letter, upper) = if c.is_ascii() {
            (c.is_ascii_alphabetic(), c.is_ascii_uppercase())
        } else {
            (c.is_alphabetic(), c.is_uppercase())
        };
        letters += usize::from(letter);
        up += usize::from(letter && upper);
    }
    if letters == 0 {
        (0.0, 0)
    } else {
        (up as f64 / letters as f64, letters)
    }
}

/// Words that spam spaces out to get past word filters. Newsletters space out their own
/// names as a design (`L I N U X P L A N E T`), so only these words count.
const GAPPY_WORDS: &[&str] = &[
    "free",
    "viagra",
    "cialis",
    "levitra",
    "cash",
    "money",
    "casino",
    "winner",
    "prize",
    "credit",
    "loan",
    "loans",
    "sex",
    "porn",
    "xxx",
    "bitcoin",
    "crypto",
    "pharmacy",
    "pills",
    "bonus",
    "urgent",
    "password",
    "account",
    "verify",
    "click",
    "discount",
    "rolex",
    "replica",
    "mortgage",
    "debt",
    "lottery",
    "offer",
    "dating",
    "singles",
    "weight",
    "diet",
    "refund",
    "invoice",
    "payment",
    "bank",
    "paypal",
    "win",
    "won",
    "guaranteed",
    "income",
    "earn",
    "investment",
    "stock",
    "profit",
    "meds",
    "valium",
    "xanax",
    "penis",
    "enlarge",
];

/// Whether a spaced-out run is a word (not initials or a list like `a, b, c`).
fn gappy_word(run: &str) -> Option<String> {
    let letters: String = run.chars().filter(|c| c.is_alphabetic()).collect();
    let seps: Vec<char> = run.chars().filter(|c| !c.is_alphabetic()).collect();
    // One kind of separator throughout, and at least four letters.
    if letters.chars().count() < 4 || seps.windows(2).any(|w| w[0] != w[1]) {
        return None;
    }
    // Enumerations (a b c d, A.B.C.D) are not words.
    let lower: Vec<char> = letters.to_lowercase().chars().collect();
    if lower.windows(2).all(|w| w[1] as u32 == w[0] as u32 + 1) {
        return None;
    }
    // Dotted upper-case initials are abbreviations (U.S.A.), except long ones.
    if seps.first() == Some(&'.') && letters.chars().count() < 6 {
        return None;
    }
    let word = letters.to_lowercase();
    GAPPY_WORDS.contains(&word.as_str()).then_some(word)
}

/// Body texts to look at: the plain parts when there are any (an HTML alternative usually
/// says the same, and counting both would count every run twice), else the HTML parts.
fn body_parts<'m>(msg: &'m Message<'_>) -> impl Iterator<Item = &'m TextPart> {
    let has_plain = msg.text.parts.iter().any(|t| t.kind == TextKind::Plain);
    msg.text
        .parts
        .iter()
        .filter(move |t| !has_plain || t.kind == TextKind::Plain)
}

impl Check for ContentCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[
            "CNT010", "CNT020", "CNT021", "CNT022", "CNT023", "CNT024", "CNT025", "CNT026",
            "CNT027", "CNT028", "CNT029", "CNT045", "CNT055", "CNT056", "CNT076",
        ]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        merge_tags(msg, cx);
        subject_rules(msg, cx);
        decorated_names(msg, cx);
        links_only(msg, cx);
        hidden_references(msg, cx);
        body_formatting(msg, cx);
    }
}

/// Merge tags left unfilled in the text (CNT010).
fn merge_tags(msg: &Message<'_>, cx: &mut Ctx<'_>) {
    if cx.on("CNT010") {
        let mut found: Vec<(String, Evidence)> = Vec::new();
        for tp in msg.text.all().filter(|tp| may_have_merge_tag(&tp.decoded)) {
            for m in MERGE_TAG.find_iter(&tp.decoded).take(5) {
                if found.len() < 5 {
                    found.push((m.as_str().to_string(), evidence(tp, m.start(), m.end())));
                }
            }
        }
        if let Some((first, _)) = found.first() {
            let n = found.len();
            let first = first.clone();
            cx.hit(
                "CNT010",
                format!(
                    "Unresolved merge tag \u{201c}{first}\u{201d}{}",
                    if n > 1 {
                        format!(" and {} more", n - 1)
                    } else {
                        String::new()
                    }
                ),
                found.into_iter().map(|(_, e)| e).collect(),
            );
        }
    }
}

/// The Subject's own rules: capitals, punctuation, symbols, emoji, spacing, length.
fn subject_rules(msg: &Message<'_>, cx: &mut Ctx<'_>) {
    if let Some(subject) = &msg.text.subject {
        let s = subject.decoded.trim();
        let (ratio, letters) = capitals(s);
        if letters >= 12 && ratio >= 0.8 && s.split_whitespace().count() >= 3 {
            cx.hit(
                "CNT020",
                format!(
                    "The Subject is {:.0}% capital letters: \u{201c}{}\u{201d}",
                    ratio * 100.0,
                    crate::util::truncate_str(s, 100)
                ),
                vec![evidence(subject, 0, subject.decoded.len())],
            );
        }
        if let Some(m) = PUNCT_RUN.find(&subject.decoded) {
            cx.hit(
                "CNT021",
                format!(
                    "The Subject has a run of \u{201c}{}\u{201d}",
                    m.as_str().trim()
                ),
                vec![evidence(subject, m.start(), m.end())],
            );
        }
        if let Some(m) = AMOUNT.find(&subject.normalized) {
            let (a, b) = (subject.to_decoded(m.start()), subject.to_decoded(m.end()));
            cx.hit(
                "CNT023",
                format!(
                    "The Subject names an amount of money (\u{201c}{}\u{201d})",
                    &subject.decoded[a..b]
                ),
                vec![evidence(subject, a, b)],
            );
        }
        let chars = s.chars().count();
        if chars > SUBJECT_MAX_CHARS {
            cx.hit(
                "CNT024",
                format!("The Subject is {chars} characters long (over {SUBJECT_MAX_CHARS})"),
                vec![evidence(subject, 0, subject.decoded.len())],
            );
        }
        // The tracking id must look random: mixed case or letters and digits, not a
        // ticket number such as (#1234) or a year.
        // Parsers trim the value, so trailing padding is measured on the raw field.
        let trailing = msg.header("Subject").map_or(0, |h| {
            let v = h.raw_value(msg.raw);
            let v = v.strip_suffix(b"\n").unwrap_or(v);
            let v = v.strip_suffix(b"\r").unwrap_or(v);
            v.iter()
                .rev()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .count()
        });
        let padded_inside = subject.decoded.trim().contains("     ") || trailing >= 8;
        if padded_inside && !SUBJECT_TAG.is_match(&subject.decoded) {
            cx.hit(
                "CNT028",
                "The Subject is padded with runs of spaces".to_string(),
                vec![evidence(subject, 0, subject.decoded.len())],
            );
        }
        if cx.on("CNT076")
            && let Some((a, b)) = hash_buster(&subject.decoded)
        {
            cx.hit(
                "CNT076",
                format!(
                    "The Subject carries the random string \u{201c}{}\u{201d}",
                    &subject.decoded[a..b]
                ),
                vec![evidence(subject, a, b)],
            );
        }
        if let Some(m) = SUBJECT_TAG.find(&subject.decoded) {
            let tag = m.as_str().trim();
            let tag = tag.rsplit(char::is_whitespace).next().unwrap_or(tag);
            let digits = tag.chars().filter(char::is_ascii_digit).count();
            let letters = tag.chars().filter(char::is_ascii_alphabetic).count();
            let upper_only = tag
                .chars()
                .filter(char::is_ascii_alphabetic)
                .all(|c| c.is_ascii_uppercase());
            let padded = m.as_str().contains("      ");
            if (padded && (letters >= 2 && (upper_only || digits > 0) || digits >= 3))
                || (!padded && digits >= 2 && letters >= 3)
            {
                cx.hit(
                    "CNT028",
                    format!("The Subject ends with a random-looking tag \u{201c}{tag}\u{201d}"),
                    vec![evidence(subject, m.start(), m.end())],
                );
            }
        }
        // Written exactly as in the address (lower case): a greeting by name is
        // capitalised ("Marcy, ..."), a pasted mailbox name is not ("User hibody").
        if let Some(local) = recipient_local_part(msg)
            && let Some(at) = subject.decoded.find(local.as_str())
        {
            let (a, b) = (at, at + local.len());
            cx.hit(
                "CNT045",
                format!(
                    "The Subject contains the recipient's mailbox name \u{201c}{local}\u{201d}"
                ),
                vec![evidence(subject, a, b)],
            );
        }
        let lower = subject.normalized.trim_start();
        let prefix = ["re:", "re :", "fw:", "fwd:", "aw:", "tr:", "wg:"]
            .iter()
            .find(|p| lower.starts_with(**p));
        if let Some(p) = prefix {
            let threaded = ["In-Reply-To", "References", "Thread-Index", "Thread-Topic"]
                .iter()
                .any(|h| msg.header(h).is_some());
            if !threaded {
                cx.hit(
                    "CNT025",
                    format!(
                        "The Subject starts with \u{201c}{}\u{201d} but the message has no In-Reply-To or References: it is not a reply or forward",
                        p.trim_end_matches(':').to_uppercase()
                    ),
                    vec![evidence(subject, 0, subject.decoded.len().min(60))],
                );
            }
        }
    }
}

/// A decorated sender name or Subject (CNT055).
fn decorated_names(msg: &Message<'_>, cx: &mut Ctx<'_>) {
    // Decorated sender name or Subject.
    if cx.on("CNT055") {
        let mut places = Vec::new();
        let name = from_display_name(msg).unwrap_or_default();
        let subject = msg.text.subject.as_ref().map_or("", |s| s.decoded.as_str());
        for (what, text) in [("From name", name.as_str()), ("Subject", subject)] {
            let n = text.chars().filter(|&c| is_decoration(c)).count();
            if n >= 2 {
                places.push(format!(
                    "{what} \u{201c}{}\u{201d}",
                    crate::util::truncate_str(text.trim(), 80)
                ));
            }
        }
        if !places.is_empty() {
            let ev = msg
                .text
                .subject
                .as_ref()
                .filter(|_| places.iter().any(|p| p.starts_with("Subject")))
                .map(|s| vec![evidence(s, 0, s.decoded.len())])
                .unwrap_or_default();
            cx.hit(
                "CNT055",
                format!(
                    "Decorative symbols or mathematical letters in the {}",
                    places.join(" and the ")
                ),
                ev,
            );
        }
    }
}

/// A body that is nothing but links (CNT056).
fn links_only(msg: &Message<'_>, cx: &mut Ctx<'_>) {
    // A body that is nothing but links.
    if cx.on("CNT056") {
        let (mut words, mut urls) = (0, 0);
        let mut first = None;
        for tp in body_parts(msg) {
            let (w, u) = words_and_urls(&tp.decoded, 3);
            words += w;
            urls += u;
            if u > 0 && first.is_none() {
                first = Some(tp);
            }
        }
        if urls > 0 && words <= 3 && msg.mime.attachments().next().is_none() {
            let ev = first
                .map(|tp| vec![evidence(tp, 0, tp.decoded.len().min(120))])
                .unwrap_or_default();
            cx.hit(
                "CNT056",
                format!("The body is {urls} link(s) and {words} other word(s)"),
                ev,
            );
        }
    }
}

/// Letters hidden behind numeric character references in HTML (CNT029).
fn hidden_references(msg: &Message<'_>, cx: &mut Ctx<'_>) {
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

/// Body formatting: shouting, punctuation runs, gappy letters (CNT022, CNT026, CNT027).
fn body_formatting(msg: &Message<'_>, cx: &mut Ctx<'_>) {
    // Body formatting, each pass only for a rule that runs.
    let (cnt022, cnt026, cnt027) = (cx.on("CNT022"), cx.on("CNT026"), cx.on("CNT027"));
    if !(cnt022 || cnt026 || cnt027) {
        return;
    }
    let mut punct: Vec<Evidence> = Vec::new();
    let mut gappy: Vec<(String, Evidence)> = Vec::new();
    let (mut up, mut letters) = (0usize, 0usize);
    let mut caps_part: Option<&TextPart> = None;
    for tp in body_parts(msg) {
        if cnt022 {
            // Five are all the rule reports.
            for m in PUNCT_RUN.find_iter(&tp.decoded).take(5 - punct.len()) {
                punct.push(evidence(tp, m.start(), m.end()));
            }
        }
        // Spaced-out letters are what the skeleton joins: no skeleton, no runs.
        let gappy_runs = if cnt027 && tp.skeleton.as_ref().is_some_and(|s| s.spaced) {
            GAPPY.captures_iter(&tp.decoded).collect::<Vec<_>>()
        } else {
            Vec::new()
        };
        for c in gappy_runs {
            let g = c.get(1).expect("group 1");
            if let Some(word) = gappy_word(g.as_str())
                && gappy.len() < 5
            {
                gappy.push((word, evidence(tp, g.start(), g.end())));
            }
        }
        if !cnt026 {
            continue;
        }
        let (r, l) = capitals(&without_uuencode(&tp.decoded));
        let u = (r * l as f64).round() as usize;
        up += u;
        letters += l;
        if caps_part.is_none() && l >= 100 && r >= 0.6 {
            caps_part = Some(tp);
        }
    }
    if punct.len() >= 3 {
        cx.hit(
            "CNT022",
            format!(
                "The body has {}{} runs of \u{201c}!!!\u{201d}, \u{201c}???\u{201d} or \u{201c}$$$\u{201d}",
                punct.len(),
                if punct.len() == 5 { " or more" } else { "" }
            ),
            punct,
        );
    }
    if letters >= 200 && up as f64 >= 0.6 * letters as f64 {
        let ev = caps_part
            .map(|tp| {
                let end = tp.decoded.len().min(
                    tp.decoded
                        .char_indices()
                        .nth(80)
                        .map_or(tp.decoded.len(), |(i, _)| i),
                );
                vec![evidence(tp, 0, end)]
            })
            .unwrap_or_default();
        cx.hit(
            "CNT026",
            format!(
                "The body is {:.0}% capital letters ({letters} letters)",
                100.0 * up as f64 / letters as f64
            ),
            ev,
        );
    }
    if let Some((word, _)) = gappy.first() {
        let word = word.clone();
        cx.hit(
            "CNT027",
            format!("Letters are spaced out to hide the word \u{201c}{word}\u{201d} from filters"),
            gappy.into_iter().map(|(_, e)| e).collect(),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn every_merge_tag_style_passes_the_byte_prefilter() {
        for tag in [
            "{{first_name}}",
            "{{ email | default }}",
            "*|FNAME|*",
            "%%name%%",
            "${firstname}",
            "[FIRSTNAME]",
            "%RND_NUMBER%",
            "https://[Your Link]",
            "{fname}",
        ] {
            let text = format!("Hi {tag}, your order shipped.");
            assert!(super::MERGE_TAG.is_match(&text), "{tag} is a merge tag");
            assert!(
                super::may_have_merge_tag(&text),
                "{tag} passes the prefilter"
            );
        }
        assert!(!super::may_have_merge_tag("Hi Ann, your order shipped."));
    }

    fn ids(raw: &str) -> Vec<String> {
        use super::super::Check;
        let mut v = super::super::fired("content", Config::default(), raw.as_bytes());
        // Only this module's rules: the phrase rules have their own tests.
        v.retain(|i| super::ContentCheck.ids().contains(&i.as_str()));
        v.sort();
        v
    }

    fn msg(subject: &str, body: &str) -> String {
        format!(
            "From: a@example.com\nSubject: {subject}\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
        )
    }

    #[test]
    fn merge_tags() {
        for body in [
            "Hi {{first_name}}, welcome",
            "Hi {{ contact.first_name | default: 'there' }},",
            "Dear *|FNAME|*,",
            "Hello %%FirstName%%!",
            "Hi ${firstName}",
            "Dear [FIRSTNAME],",
            "ref %RND_NUMBER%",
        ] {
            assert_eq!(ids(&msg("Hello", body)), ["CNT010"], "{body}");
        }
        for body in [
            "export PATH=${HOME}/bin",
            "{% for item in items %}{{ item }}{% endfor %}",
            "see [1] and [RFC 5322]",
            "50%% off",
        ] {
            assert!(ids(&msg("Hello", body)).is_empty(), "{body}");
        }
        assert_eq!(ids(&msg("Hi {{first_name}}, your offer", "x")), ["CNT010"]);
    }

    #[test]
    fn subject_formatting() {
        let cases: &[(&str, &[&str])] = &[
            ("LIMITED OFFER ENDS TONIGHT", &["CNT020"]),
            ("Meeting notes from the NASA visit", &[]),
            ("Act now!!!", &["CNT021"]),
            ("Really?", &[]),
            ("Win $5,000 today", &["CNT023"]),
            ("Invoice 2024-113", &[]),
            ("Re: your order", &["CNT025"]),
            ("FWD: the files", &["CNT025"]),
            ("Regarding your order", &[]),
        ];
        for (s, want) in cases {
            assert_eq!(ids(&msg(s, "Hello.")), *want, "{s}");
        }
        assert_eq!(ids(&msg(&"word ".repeat(45), "Hello.")), ["CNT024"]);
        let reply = "From: a@example.com\nSubject: Re: lunch\nIn-Reply-To: <1@example.com>\n\nok\n";
        assert!(ids(reply).is_empty());
    }

    #[test]
    fn decorations_and_link_only_bodies() {
        assert_eq!(
            ids(&msg(
                "\u{2913}\u{2913} Don't miss out",
                "Hello there, see the offer."
            )),
            ["CNT055"]
        );
        let from = "From: \u{1d7ef}_\u{1d5d7}\u{1d5ee}\u{1d06} Deals <a@example.com>\nSubject: Hi\n\nHello there.\n";
        assert_eq!(ids(from), ["CNT055"]);
        assert!(
            ids(&msg("Our autumn sale \u{1f342}\u{1f389}", "Hello there.")).is_empty(),
            "emoji are fine"
        );
        assert_eq!(
            ids(&msg(
                "Hi",
                "http://a.example/x http://a.example/y unsubscribe"
            )),
            ["CNT056"]
        );
        assert!(
            ids(&msg(
                "Hi",
                "Here are the minutes: https://example.com/minutes see you Tuesday at ten."
            ))
            .is_empty()
        );
        assert_eq!(
            ids(&msg("Talk to an agent         ", "Hello there.")),
            ["CNT028"]
        );
    }

    #[test]
    fn hash_busters_in_the_subject() {
        for s in [
            "Valor bloqueado por seguranca6n4i7B0COLI",
            "Ourocard - Ref. Fatura - G3ejrKKzNc30o7qJhZ",
            "Transação pendente -    YydtzJJTBFBvIBDBt9jk",
            "ENC: Troque seus PontosU61vwYWxj8AIABfL0",
            "Saldo Disponível-9aJqKga0PEWhWiJ",
        ] {
            assert!(super::hash_buster(s).is_some(), "{s}");
        }
        for s in [
            "Your iPhone15ProMax order 4521-AB",
            "Case 5003x00002AbCdE updated",
            "ref:_00D30jPy._5003x0000ABCd1:ref",
            "Release notes for MyHTMLParserTool 2.0",
            "Meeting at 10:00 about Q3OKRs",
            "Invoice INV-2024-000123 from ACME",
            "Your code is 7KQ2-MX9P-44RT",
        ] {
            assert!(super::hash_buster(s).is_none(), "{s}");
        }
    }

    #[test]
    fn random_tags_recipient_names_and_entities() {
        for s in [
            "Toners for less....               NOAZ",
            "Custom Websites (9009zRlD0-486vNhZ47@18)",
        ] {
            assert_eq!(ids(&msg(s, "Hello.")), ["CNT028"], "{s}");
        }
        for s in [
            "Ticket (#4521) updated",
            "Minutes [2024]",
            "Report      Q3",
            "Meeting notes (v2)",
        ] {
            assert!(ids(&msg(s, "Hello.")).is_empty(), "{s}");
        }
        let to = |to: &str, subject: &str| {
            ids(&format!(
                "From: a@example.com\nTo: {to}\nSubject: {subject}\n\nHello.\n"
            ))
        };
        assert_eq!(to("hibody@example.org", "User hibody save now"), ["CNT045"]);
        assert!(to("Marcy Smith <marcy.smith@example.org>", "Marcy, your trip").is_empty());
        assert!(
            to("bob@example.org", "Hi bob").is_empty(),
            "short local parts are common words"
        );
        let html = "From: a@example.com\nSubject: x\nContent-Type: text/html\n\n<p>&#83&#112&#101&#101d Dat&#101 &#83ingle&#115 &#99lic&#107 &#104&#101&#114&#101 &#109oney &#102&#114ee &#111ffer</p>\n";
        assert_eq!(ids(html), ["CNT029"]);
        let ok = "From: a@example.com\nSubject: x\nContent-Type: text/html\n\n<p>Caf&#233; &#8212; &#169; 2024 &#8220;quoted&#8221;</p>\n";
        assert!(ids(ok).is_empty());
    }

    #[test]
    fn body_formatting() {
        assert_eq!(ids(&msg("Hi", "Buy!!! Now!!! Cheap!!!")), ["CNT022"]);
        assert!(ids(&msg("Hi", "Great news!!! See you")).is_empty());
        let shouting =
            "THIS IS A ONCE IN A LIFETIME OPPORTUNITY TO MAKE MONEY FROM HOME. ".repeat(5);
        assert_eq!(ids(&msg("Hi", &shouting)), ["CNT026"]);
        // A uuencoded file pasted into the text is not shouting.
        let uu = format!(
            "Here is the log you asked for, with the oops attached below.\n\nbegin 644 oops1\n{}end\n\nThanks, and let me know what you find in it.\n",
            "M.68X,\" P,# P,# P,2 P,# P,# P,2 P,# P,# P,2!C,#(W,34P8R P,# P\n".repeat(20)
        );
        assert!(ids(&msg("Hi", &uu)).is_empty());
        assert!(
            ids(&msg(
                "Hi",
                &"A normal sentence with NASA and the USA in it. ".repeat(10)
            ))
            .is_empty()
        );
        for body in [
            "Get it F R E E today",
            "Buy V.I.A.G.R.A now",
            "fast c-a-s-h here",
        ] {
            assert_eq!(ids(&msg("Hi", body)), ["CNT027"], "{body}");
        }
        for body in [
            "the U.S.A. and U.K.",
            "options a, b, c, d and e",
            "grades A B C",
            "x y z",
            "L I N U X P L A N E T weekly",
        ] {
            assert!(ids(&msg("Hi", body)).is_empty(), "{body}");
        }
    }
}
