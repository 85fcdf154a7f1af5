//! The Subject's own rules: capitals (CNT020), punctuation runs (CNT021), an amount of
//! money (CNT023), length (CNT024), a reply or forward prefix without a thread (CNT025),
//! padding and random tracking tags (CNT028), the recipient's mailbox name (CNT045) and
//! random strings that defeat duplicate detection (CNT076). They belong together because
//! each reads the one decoded Subject line and points its evidence there.

use std::sync::LazyLock;

use regex::Regex;

use super::{PUNCT_RUN, capitals, evidence};
use crate::checks::Ctx;
use crate::message::Message;

/// An amount of money: a currency sign next to digits, or digits and a currency code.
static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"[$€£¥]\s?\d[\d,.]*|\d[\d,.]*\s?(?:[$€£¥]|(?-u:\b)(?:usd|eur|gbp|dollars|euros)(?-u:\b))",
    )
    .expect("valid regex")
});

const SUBJECT_MAX_CHARS: usize = 200;

/// A Subject padded with white space and then a short random tag (`Great offer      NOAZ`),
/// or ending in a bracketed or parenthesised tracking id of mixed letters and digits
/// (`(9009zRlD0-486vNhZ47@18)`): bulk tools add them to defeat duplicate detection.
static SUBJECT_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\S\s{6,}[A-Za-z0-9]{1,8}\s*$|[(\[][A-Za-z0-9@._-]*[0-9][A-Za-z0-9@._-]*[a-zA-Z][A-Za-z0-9@._-]*[)\]]\s*$)")
        .expect("valid regex")
});

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

/// The Subject's own rules: capitals, punctuation, symbols, emoji, spacing, length.
pub(super) fn subject_rules(msg: &Message<'_>, cx: &mut Ctx<'_>) {
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

#[cfg(test)]
mod tests {
    use super::super::tests::{ids, msg};

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
    fn padding_random_tags_and_recipient_names() {
        assert_eq!(
            ids(&msg("Talk to an agent         ", "Hello there.")),
            ["CNT028"]
        );
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
    }
}
