//! The body's formatting: runs of `!!!`, `???` or `$$$` (CNT022), shouting in capitals
//! (CNT026) and letters spaced out to hide a word from filters (CNT027). They belong
//! together because they share one pass over the body parts, each part's work done only
//! for the rules that are on.

use std::sync::LazyLock;

use regex::Regex;

use super::{PUNCT_RUN, body_parts, capitals, evidence};
use crate::checks::Ctx;
use crate::message::Message;
use crate::message::text::TextPart;
use crate::report::Evidence;

/// Letters spaced out one by one: `F R E E`, `V.I.A.G.R.A`, `c-a-s-h`.
static GAPPY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\p{L}\p{N}.\-_*])((?:\p{L}[ .\-_*]){3,}\p{L})(?:$|[^\p{L}\p{N}])")
        .expect("valid regex")
});

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

/// Body formatting: shouting, punctuation runs, gappy letters (CNT022, CNT026, CNT027).
pub(super) fn body_formatting(msg: &Message<'_>, cx: &mut Ctx<'_>) {
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
        // Spaced-out letters are what the de-obfuscation joins: none, no runs.
        let gappy_runs = if cnt027 && tp.deobfuscated.as_ref().is_some_and(|s| s.spaced) {
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
    use super::super::tests::{ids, msg};

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
