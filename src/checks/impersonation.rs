//! The `impersonation` family: a brand's name written with look-alike characters
//! (IMP001), a brand's name on a free mailbox (IMP002), a sender on the shared domain of
//! a hosting platform (IMP003), and words written with letters of another script or with
//! invisible marks between their letters (IMP004). HDR024 (a brand's name from a domain
//! it does not own) stays in the headers family; these are what phishing adds to it.

use unicode_script::{Script, UnicodeScript};

use super::{Check, Ctx};
use crate::message::Message;
use crate::message::text::TextPart;
use crate::rules::lists::{Brand, Lists};

/// The impersonation checks.
pub(crate) struct ImpersonationCheck;

/// `name` with every look-alike read as the letter it imitates: a capital I as l (a
/// lower-case l and a capital I are the same glyph in most sans-serif fonts), 0 and 1
/// between or after letters as o and l, and other scripts' look-alikes (Cyrillic а,
/// Greek ο) by their Unicode confusable skeleton.
fn unmasked(name: &str) -> String {
    let c: Vec<char> = name.chars().collect();
    let letter = |i: Option<usize>| i.and_then(|i| c.get(i)).is_some_and(|c| c.is_alphabetic());
    let ascii: String = c
        .iter()
        .enumerate()
        .map(|(i, &ch)| {
            let after_letter = letter(i.checked_sub(1));
            match ch {
                'I' => 'l',
                '0' if after_letter => 'o',
                '1' if after_letter && letter(Some(i + 1)) => 'l',
                _ => ch,
            }
        })
        .collect();
    if ascii.is_ascii() {
        ascii.to_lowercase()
    } else {
        // Only letters of other scripts are read by their skeleton: TR39 also maps
        // ASCII pairs such as "rn" to "m", which would find brands in ordinary words.
        ascii
            .chars()
            .map(|ch| {
                if ch.is_ascii() || !ch.is_alphabetic() {
                    return ch;
                }
                lookalike_of(ch).unwrap_or(ch)
            })
            .collect::<String>()
            .to_lowercase()
    }
}

/// The first brand named in `text` as written (`plain`, looked up only when `plain` is
/// wanted) and the first one named only once its look-alikes are read as the letters
/// they imitate (`masked`).
fn brand_in<'l>(
    lists: &'l Lists,
    text: &str,
    want_plain: bool,
) -> (Option<&'l Brand>, Option<&'l Brand>) {
    let plain = want_plain
        .then(|| lists.brand_named(text, |_| true))
        .flatten();
    let masked = lists.brand_disguised(text, &unmasked(text), |_| true);
    (plain, masked)
}

/// Letters of Latin that other scripts have twins of (Cyrillic а, е, о, р, с, у, х, ...):
/// in a Cyrillic word these are look-alikes.
fn latin_twin(c: char) -> bool {
    matches!(
        c,
        'a' | 'c'
            | 'e'
            | 'o'
            | 'p'
            | 'x'
            | 'y'
            | 'A'
            | 'B'
            | 'C'
            | 'E'
            | 'H'
            | 'K'
            | 'M'
            | 'O'
            | 'P'
            | 'T'
            | 'X'
    )
}

/// The Latin letter a letter of another script looks like: its confusable skeleton when
/// that is one ASCII letter (Cyrillic а gives a, Greek Ο gives O).
fn lookalike_of(c: char) -> Option<char> {
    let mut buf = [0u8; 4];
    let mut it = unicode_security::skeleton(c.encode_utf8(&mut buf));
    match (it.next(), it.next()) {
        (Some(a), None) if a.is_ascii_alphabetic() => Some(a),
        _ => None,
    }
}

/// Whether a letter of another script looks like a Latin letter.
fn looks_latin(c: char) -> bool {
    lookalike_of(c).is_some()
}

/// Marks that hide between letters: non-spacing marks other than Latin diacritics (a
/// Syriac or Arabic mark on a Latin letter), variation selectors, tag characters, and,
/// when `zero_width`, zero-width spaces and joiners. (Newsletters put zero-width
/// non-joiners inside street addresses and dates so that mail apps do not turn them into
/// links: in a text they are no disguise; in a Subject or a sender's name they are.)
fn hiding_mark(c: char, zero_width: bool) -> bool {
    let u = c as u32;
    (zero_width && matches!(u, 0x200b..=0x200d | 0x2060))
        || matches!(u, 0xfe00..=0xfe0f)
        || tag_mark(c)
        || (u >= 0x0370
            && !matches!(u, 0x1ab0..=0x1aff | 0x1dc0..=0x1dff | 0x20d0..=0x20ff | 0xfe20..=0xfe2f)
            && unicode_normalization::char::is_combining_mark(c)
            && !matches!(c.script(), Script::Latin | Script::Common))
}

/// Tag characters and the ideographic variation selectors: marks with no use between
/// Latin letters, so one word with them is disguise enough.
fn tag_mark(c: char) -> bool {
    matches!(c as u32, 0xe0000..=0xe007f | 0xe0100..=0xe01ef)
}

/// The disguised words of `text`: words (letters with the marks inside them) that mix
/// Latin with Cyrillic or Greek look-alikes, or with at least two letters followed by a
/// hiding mark (zero-width characters count when `zero_width`). Byte spans, at most
/// `max`.
fn disguised_words(text: &str, zero_width: bool, max: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut pos = 0;
    // Only words with a character outside ASCII can be disguised: jump from one such
    // character to the next and read the word around it.
    while let Some(j) = bytes[pos..]
        .iter()
        .position(|b| *b >= 0x80)
        .map(|j| pos + j)
    {
        let mut start = j;
        while start > pos && bytes[start - 1].is_ascii_alphabetic() {
            start -= 1;
        }
        let (end, disguised) = read_word(text, start, zero_width);
        if disguised {
            out.push((start, end));
            if out.len() >= max {
                break;
            }
        }
        // Past the word, or past the character when it starts none.
        pos = if end > j {
            end
        } else {
            j + text[j..].chars().next().map_or(1, char::len_utf8)
        };
    }
    out
}

/// Reads the word that starts at `start` (letters and the marks inside them): where it
/// ends, and whether it is disguised (see [`disguised_words`]). A word starting with
/// something else than a letter ends where it starts.
fn read_word(text: &str, start: usize, zero_width: bool) -> (usize, bool) {
    let mut it = text[start..].char_indices().peekable();
    let Some((_, c)) = it.next().filter(|(_, c)| c.is_alphabetic()) else {
        return (start, false);
    };
    let mut end = start + c.len_utf8();
    let (mut latin, mut other, mut other_lookalike, mut twins, mut marked) =
        (0usize, 0usize, true, 0usize, 0usize);
    let mut tally = |c: char| {
        if c.is_ascii_alphabetic() || (!c.is_ascii() && c.script() == Script::Latin) {
            latin += 1;
            twins += usize::from(latin_twin(c));
        } else if matches!(c.script(), Script::Cyrillic | Script::Greek) {
            other += 1;
            other_lookalike &= looks_latin(c);
        }
    };
    tally(c);
    let mut last_letter = true;
    while let Some(&(i, d)) = it.peek() {
        if hiding_mark(d, zero_width) {
            marked += usize::from(last_letter);
            last_letter = false;
        } else if d.is_alphabetic() {
            tally(d);
            last_letter = true;
        } else if !unicode_normalization::char::is_combining_mark(d) {
            break;
        }
        it.next();
        end = start + i + d.len_utf8();
    }
    let letters = latin + other;
    // Latin with look-alikes of another script, or that script with Latin twins.
    let mixed = latin > 0
        && other > 0
        && letters >= 3
        && ((latin >= other && other_lookalike) || (other > latin && twins == latin));
    (end, mixed || (marked >= 2 && latin >= 2))
}

/// Disguised words in a body part before the rule fires on the body alone.
const BODY_WORDS: usize = 3;

impl Check for ImpersonationCheck {
    fn ids(&self) -> &'static [&'static str] {
        &["IMP001", "IMP002", "IMP003", "IMP004"]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let from = msg.from_mailboxes().first();
        let name = from.and_then(|m| m.name.as_deref());
        let domain = from
            .and_then(|m| m.address.as_deref())
            .and_then(|a| a.rsplit_once('@'))
            .map(|(_, d)| d.to_ascii_lowercase());
        let from_ev = || {
            msg.header("From")
                .map(|h| vec![msg.header_evidence(h)])
                .unwrap_or_default()
        };
        if let Some(name) = name
            && (cx.on("IMP001") || cx.on("IMP002"))
        {
            let freemail = domain.as_deref().is_some_and(|d| cx.lists.is_freemail(d));
            let (plain, masked) = brand_in(cx.lists, name, freemail && cx.on("IMP002"));
            let owned = |b: &Brand| domain.as_deref().is_some_and(|d| b.owns(d));
            if let Some(b) = masked.filter(|b| !owned(b)) {
                cx.hit(
                    "IMP001",
                    format!(
                        "The From display name \u{201c}{}\u{201d} spells {} with look-alike characters",
                        crate::util::truncate_str(name, 80),
                        b.key
                    ),
                    from_ev(),
                );
            }
            if let (Some(b), Some(d)) = (plain.or(masked), domain.as_deref())
                && freemail
                && !owned(b)
            {
                cx.hit(
                    "IMP002",
                    format!(
                        "The From display name \u{201c}{}\u{201d} names {} but the address is a free mailbox at {d}",
                        crate::util::truncate_str(name, 80),
                        b.key
                    ),
                    from_ev(),
                );
            }
        }
        if let Some(subject) = &msg.text.subject
            && cx.on("IMP001")
            && let (_, Some(b)) = brand_in(cx.lists, &subject.decoded, false)
        {
            cx.hit(
                "IMP001",
                format!(
                    "The Subject \u{201c}{}\u{201d} spells {} with look-alike characters",
                    crate::util::truncate_str(&subject.decoded, 80),
                    b.key
                ),
                vec![super::content::evidence(subject, 0, subject.decoded.len())],
            );
        }
        if let Some(d) = domain.as_deref()
            && cx.on("IMP003")
            && let Some(p) = cx.lists.hosting_platform(d)
        {
            cx.hit(
                "IMP003",
                format!("The From address is at {d}, a subdomain of the hosting platform {p} that anyone can create"),
                from_ev(),
            );
        }
        if cx.on("IMP004") {
            let one = |tp: &TextPart| disguised_words(&tp.decoded, true, 1);
            let heads = [msg.text.subject.as_ref(), msg.text.sender.as_ref()];
            for tp in heads.into_iter().flatten() {
                if let Some(&(a, b)) = one(tp).first() {
                    let what = if tp.kind == crate::message::text::TextKind::Subject {
                        "The Subject"
                    } else {
                        "The sender's name"
                    };
                    cx.hit(
                        "IMP004",
                        format!(
                            "{what} writes \u{201c}{}\u{201d} with letters of another script or hidden marks between its letters",
                            crate::util::truncate_str(&tp.decoded[a..b], 60)
                        ),
                        vec![super::content::evidence(tp, a, b)],
                    );
                }
            }
            for tp in &msg.text.parts {
                let words = disguised_words(&tp.decoded, false, 16);
                let mut distinct: Vec<&str> =
                    words.iter().map(|&(a, b)| &tp.decoded[a..b]).collect();
                distinct.sort_unstable();
                distinct.dedup();
                let tagged = distinct.iter().any(|w| w.chars().any(tag_mark));
                if distinct.len() >= BODY_WORDS || tagged {
                    let (a, b) = words[0];
                    cx.hit(
                        "IMP004",
                        format!(
                            "The text writes {} words with letters of another script or hidden marks between their letters, such as \u{201c}{}\u{201d}",
                            distinct.len(),
                            crate::util::truncate_str(&tp.decoded[a..b], 60)
                        ),
                        vec![super::content::evidence(tp, a, b)],
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(raw: &str) -> Vec<String> {
        super::super::fired("IMP", crate::Config::default(), raw.as_bytes())
    }

    #[test]
    fn unmasking() {
        assert_eq!(unmasked("PaypaI Service"), "paypal service");
        assert_eq!(unmasked("Trust-WaIIet"), "trust-wallet");
        assert_eq!(unmasked("Micr0soft 365"), "microsoft 365");
        assert_eq!(
            unmasked("\u{39c}et\u{430}\u{41c}\u{430}\u{455}k"),
            "metamask"
        );
        assert_eq!(unmasked("Win10 R2D2"), "win10 r2d2");
    }

    #[test]
    fn disguised_brands() {
        let m = |from: &str, subject: &str| {
            ids(&format!(
                "From: {from}\nTo: a@example.org\nSubject: {subject}\n\nHello.\n"
            ))
        };
        assert_eq!(m("PaypaI <service@pay.example>", "x"), ["IMP001"]);
        assert_eq!(
            m("Ann <ann@example.com>", "Scan your Iedger now"),
            ["IMP001"]
        );
        // The brand as written, or a word that only looks like one once unmasked.
        assert!(m("PayPal <service@pay.example>", "x").is_empty());
        assert!(m("IKEA Ireland <news@ikea.ie>", "Ideas for the kitchen").is_empty());
        assert!(m("Ann <ann@example.com>", "In the garden").is_empty());
        // A lower-case l for an I: "lRS", "OpenAl"; never a real i for an l.
        assert_eq!(m("Annual Tax <r@x.example>", "[ lRS ] refund"), ["IMP001"]);
        assert_eq!(m("OpenAl Airdrop <a@x.example>", "x"), ["IMP001"]);
        assert!(m("Dhi Group <news@dhigroup.example>", "x").is_empty());
        assert!(m("IRS <news@x.example>", "PayPal and Apple").is_empty());
        assert_eq!(m("Mercado PayPal <pp.help@gmail.com>", "x"), ["IMP002"]);
        assert!(m("Google <someone@gmail.com>", "x").is_empty());
        assert_eq!(
            m("Casino <noreply@spins-1a2b3.firebaseapp.com>", "x"),
            ["IMP003"]
        );
    }

    #[test]
    fn disguised_letters() {
        // A Cyrillic а and е in Latin words; Syriac marks between letters.
        // Zero-width joiners inside words count in a Subject, not in a text.
        let zw = "P\u{200c}a\u{200c}y\u{200c}P\u{200c}a\u{200c}l";
        assert_eq!(disguised_words(zw, true, 9).len(), 1);
        assert!(disguised_words(zw, false, 9).is_empty());
        assert_eq!(
            disguised_words("Your w\u{430}ll\u{435}t h\u{430}s failed", true, 9).len(),
            2
        );
        assert_eq!(
            disguised_words("A\u{73f}m\u{73f}a\u{73f}z\u{73f}o\u{73f}n", true, 9).len(),
            1
        );
        // A Cyrillic word with Latin twins (р, е written in Latin) is disguised; plain
        // Russian, French accents, Greek units and emoji with selectors are not.
        assert_eq!(
            disguised_words("\u{43f}\u{440}ив\u{435}т", true, 9).len(),
            0
        );
        assert_eq!(disguised_words("пpивeт", true, 9).len(), 1);
        for ok in [
            "Привет, как дела? Café, naïve, Zürich.",
            "5 µm and 3 μs, Δx, ΩΩ, kΩ",
            "Thanks \u{2764}\u{fe0f} see you",
            "Ελληνικά κείμενα",
        ] {
            assert!(disguised_words(ok, true, 9).is_empty(), "{ok}");
        }
        let subject = "From: a@example.com\nTo: b@example.org\nSubject: =?UTF-8?B?WW91ciBDcnnRgHRvIGlzIHJlc3RyaWN00LVk?=\n\nHello.\n";
        assert_eq!(ids(subject), ["IMP004"]);
        // In a body, one word with tag characters or ideographic variation selectors
        // between its letters is enough; one with zero-width joiners is not.
        let tag = "\u{e0139}";
        let body = |w: &str| {
            format!(
                "From: a@example.com\nTo: b@example.org\nSubject: Renewal\nContent-Type: text/plain; charset=utf-8\n\nYour {w} 365 renewal failed.\n"
            )
        };
        let tagged = format!("M{tag}i{tag}c{tag}rosoft");
        assert_eq!(ids(&body(&tagged)), ["IMP004"]);
        assert!(ids(&body("M\u{200d}i\u{200d}c\u{200d}rosoft")).is_empty());
    }
}
