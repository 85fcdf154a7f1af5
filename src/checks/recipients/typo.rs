//! RCPT005: a recipient domain one typing slip away from a big mailbox provider's
//! (`gmial.com`, `hotmai.com`, `yahoo.con`), which bounces (the domain does not exist) or
//! reaches whoever registered the typo.
//!
//! The providers are `lists/mailbox-providers.txt`. A domain is a typo of a listed one
//! when it is not listed itself and one edit turns the listed domain into it (a letter
//! typed wrong, typed twice or left out, or two neighbouring letters swapped: restricted
//! Damerau-Levenshtein distance 1), and the edit is one people make by slip rather than a
//! different real name. Short names are dense with real domains (`gmx.de` and `gmx.at`,
//! `me.com` and `mw.com`, `msn.com` and `mtn.com`), so where the edit falls decides:
//!
//! * in the provider's name (`gmail` of `gmail.com`): only for names of five letters or
//!   more, never at the first letter (`mail.com`, `email.com` and `cloud.com` are real;
//!   swapping the first two letters still counts, and so does leaving the first out of a
//!   name of seven or more: `otmail.com`), and a letter typed wrong must be a
//!   key next to the one meant (QWERTY, QWERTZ or AZERTY), the same letter with an
//!   accent, or `0` for `o`, `1` for `l` or `i`; a letter typed twice may be the one
//!   before or after it or a key next to them, but at the end of the name only a repeat
//!   (`gmaill`; `oranges.fr` is a word, not a slip). So `earthling.net` (g for k) is not
//!   taken for `earthlink.net`;
//! * in the public suffix: when what is typed in its place is not a public suffix at all
//!   (`gmail.con`, `web.dr`, `yahoo.co.ul`: the domain cannot exist); or when `.com`
//!   became `.cm` or `.om`, two country domains known for catching `.com` typos, or `.co`
//!   for names of five letters or more (`gmail.co`, `outlook.co`; `me.co` may well be
//!   someone's). Another real suffix is left alone: providers have country domains
//!   (`yahoo.dk`, `live.be`, `hotmail.com.ar`), and not all of them are listed;
//! * across the dot (`gmailc.om`): for names of five letters or more, or when the result
//!   has no public suffix.

use std::fmt::Write as _;

use super::{Ctx, Message, recipient_addresses};
use crate::report::Evidence;
use crate::rules::lists::Lists;

/// How many addresses of one typo domain a finding names.
const SHOWN_MAX: usize = 3;

/// A provider name needs this many characters before a slip in it counts.
const NAME_MIN: usize = 5;

/// ... and this many before leaving out its first letter counts (`otmail.com`; `cloud.com`
/// is not `icloud.com` without its i).
const FIRST_LEFT_OUT_MIN: usize = 7;

/// One edit that turns a listed domain into the typed one, at a character index of the
/// listed domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Edit {
    /// The character at `at` was typed as `typed`.
    Substitution { at: usize, typed: char },
    /// `typed` was typed before the character at `at` (at the end when `at` is the
    /// length).
    Insertion { at: usize, typed: char },
    /// The character at `at` was left out.
    Deletion { at: usize },
    /// The characters at `at` and `at + 1` were typed the other way round.
    Transposition { at: usize },
}

/// The one edit that turns `listed` into `typed`, when their restricted Damerau-
/// Levenshtein (optimal string alignment) distance is exactly 1; `None` when they are
/// equal or further apart. An insertion or deletion in a run of one letter is placed at
/// the run's end (`yahooo`: an `o` after `yahoo`).
pub(super) fn one_edit(listed: &[char], typed: &[char]) -> Option<Edit> {
    let (m, n) = (listed.len(), typed.len());
    if m.abs_diff(n) > 1 {
        return None;
    }
    let p = listed.iter().zip(typed).take_while(|(a, b)| a == b).count();
    if m == n {
        if p == m {
            return None;
        }
        if listed[p + 1..] == typed[p + 1..] {
            return Some(Edit::Substitution {
                at: p,
                typed: typed[p],
            });
        }
        let swapped = p + 1 < m && listed[p] == typed[p + 1] && listed[p + 1] == typed[p];
        return (swapped && listed[p + 2..] == typed[p + 2..])
            .then_some(Edit::Transposition { at: p });
    }
    if n == m + 1 {
        (listed[p..] == typed[p + 1..]).then_some(Edit::Insertion {
            at: p,
            typed: typed[p],
        })
    } else {
        (listed[p + 1..] == typed[p..]).then_some(Edit::Deletion { at: p })
    }
}

/// Letter rows of the keyboard layouts people type addresses on: QWERTY, QWERTZ
/// (German) and AZERTY (French). Each row sits about half a key to the right of the
/// one above.
const LAYOUTS: [[&str; 3]; 3] = [
    ["qwertyuiop", "asdfghjkl", "zxcvbnm"],
    ["qwertzuiop", "asdfghjkl", "yxcvbnm"],
    ["azertyuiop", "qsdfghjklm", "wxcvbn"],
];

/// Whether keys `a` and `b` touch on one of [`LAYOUTS`].
fn near_keys(a: char, b: char) -> bool {
    let at = |rows: &[&str; 3], c: char| {
        rows.iter()
            .enumerate()
            .find_map(|(r, row)| row.chars().position(|k| k == c).map(|col| (r, col)))
    };
    LAYOUTS.iter().any(|rows| match (at(rows, a), at(rows, b)) {
        (Some((ra, ca)), Some((rb, cb))) => {
            // On one row the next key; on the row below the keys under the left half
            // and the right half (col - 1 and col), and so the other way round.
            (ra == rb && ca.abs_diff(cb) == 1)
                || (rb == ra + 1 && (cb == ca || cb + 1 == ca))
                || (ra == rb + 1 && (ca == cb || ca + 1 == cb))
        }
        _ => false,
    })
}

/// Whether `typed` in place of `meant` is a slip: a key next to it, the letter with an
/// accent (`í` for `i`), or a digit that looks like it.
fn slipped_key(meant: char, typed: char) -> bool {
    near_keys(meant, typed)
        || matches!((meant, typed), ('o', '0') | ('l', '1') | ('i', '1'))
        || (!typed.is_ascii() && {
            let mut base = None;
            unicode_normalization::char::decompose_canonical(typed, |c| {
                base.get_or_insert(c);
            });
            base == Some(meant)
        })
}

/// Where an edit falls in a listed domain whose name (before the public suffix) has
/// `dot` characters.
#[derive(Debug, PartialEq)]
enum Place {
    Name,
    Dot,
    Suffix,
}

fn place(edit: Edit, dot: usize) -> Place {
    let by = |at: usize| match at {
        _ if at < dot => Place::Name,
        _ if at == dot => Place::Dot,
        _ => Place::Suffix,
    };
    match edit {
        Edit::Substitution { typed: '.', .. } | Edit::Insertion { typed: '.', .. } => Place::Dot,
        Edit::Substitution { at, .. } | Edit::Deletion { at } => by(at),
        // Typed just before the dot: at the name's end.
        Edit::Insertion { at, .. } if at <= dot => Place::Name,
        Edit::Insertion { .. } => Place::Suffix,
        Edit::Transposition { at } if at + 1 == dot => Place::Dot,
        Edit::Transposition { at } => by(at),
    }
}

/// Whether `text` is a public suffix (`com`, `co.uk`) by the public suffix list.
fn public_suffix(text: &str) -> bool {
    psl::suffix(text.as_bytes()).is_some_and(|s| s.is_known() && s.as_bytes() == text.as_bytes())
}

/// Whether `domain` ends in a suffix of the public suffix list (`gmail.con` does not).
fn has_public_suffix(domain: &str) -> bool {
    psl::suffix(domain.as_bytes()).is_some_and(|s| s.is_known())
}

/// Whether `edit`, turning `listed` (its characters `l`) into `typed` (its characters
/// `t`), is a typing slip rather than another real domain (see the module's comment).
fn is_slip(listed: &str, l: &[char], t: &[char], edit: Edit) -> bool {
    let Some(suffix) = psl::suffix_str(listed) else {
        return false;
    };
    let Some(dot) = l.len().checked_sub(suffix.chars().count() + 1) else {
        return false;
    };
    let long = dot >= NAME_MIN;
    match place(edit, dot) {
        Place::Name => {
            long && match edit {
                Edit::Transposition { .. } => true,
                Edit::Deletion { at } => at > 0 || dot >= FIRST_LEFT_OUT_MIN,
                Edit::Substitution { at, typed } => at > 0 && slipped_key(l[at], typed),
                Edit::Insertion { at, typed } => {
                    // A repeat of the letter before; inside the name, also of the letter
                    // after or a key next to either.
                    at > 0
                        && (typed == l[at - 1]
                            || (at < dot
                                && (typed == l[at]
                                    || near_keys(typed, l[at - 1])
                                    || near_keys(typed, l[at]))))
                }
            }
        }
        Place::Suffix => {
            // The name and its dot are as listed; what follows was meant as `suffix`.
            let instead: String = t[dot + 1..].iter().collect();
            !public_suffix(&instead)
                || (suffix == "com"
                    && (matches!(instead.as_str(), "cm" | "om") || (instead == "co" && long)))
        }
        Place::Dot => long || !has_public_suffix(&t.iter().collect::<String>()),
    }
}

/// The listed provider domain that `domain` (lower case) looks like a typo of: the first
/// in the list's order that one slip turns into it. `None` for a listed domain.
pub(super) fn suggestion<'l>(domain: &str, lists: &'l Lists) -> Option<&'l str> {
    if lists.is_known_mailbox_domain(domain) {
        return None;
    }
    let t: Vec<char> = domain.chars().collect();
    lists
        .mailbox_providers()
        .iter()
        .find(|p| {
            p.chars.len().abs_diff(t.len()) <= 1
                && one_edit(&p.chars, &t).is_some_and(|e| is_slip(&p.domain, &p.chars, &t, e))
        })
        .map(|p| p.domain.as_str())
}

/// Reports RCPT005 once per recipient domain that looks like a typo, naming its
/// addresses and the provider's domain.
pub(super) fn check(msg: &Message<'_>, cx: &mut Ctx<'_>) {
    let envelope = cx.envelope;
    // Each domain with its addresses, in first-seen order.
    let mut domains: Vec<(String, Vec<&str>)> = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for addr in recipient_addresses(msg, envelope) {
        let Some((_, domain)) = addr.rsplit_once('@') else {
            continue;
        };
        let domain = domain.trim_end_matches('.').to_lowercase();
        match seen.get(&domain) {
            Some(&i) => domains[i].1.push(addr),
            None => {
                seen.insert(domain.clone(), domains.len());
                domains.push((domain, vec![addr]));
            }
        }
    }
    let lists = cx.lists;
    for (domain, addrs) in &domains {
        let Some(meant) = suggestion(domain, lists) else {
            continue;
        };
        cx.hit_with("RCPT005", None, || {
            (
                describe(domain, meant, addrs),
                addrs
                    .iter()
                    .filter_map(|a| address_evidence(msg, a))
                    .collect(),
            )
        });
    }
}

/// `bob@gmial.com: gmial.com looks like a typo of gmail.com (did you mean
/// bob@gmail.com?)`; with more addresses, up to [`SHOWN_MAX`] of them.
fn describe(domain: &str, meant: &str, addrs: &[&str]) -> String {
    let shown: Vec<&str> = addrs
        .iter()
        .take(SHOWN_MAX)
        .map(|a| crate::util::truncate_str(a, 80))
        .collect();
    let mut m = shown.join(", ");
    if addrs.len() > SHOWN_MAX {
        let _ = write!(m, " and {} more", addrs.len() - SHOWN_MAX);
    }
    let _ = write!(m, ": {domain} looks like a typo of {meant}");
    if let [one] = addrs
        && let Some((local, _)) = one.rsplit_once('@')
    {
        let _ = write!(
            m,
            " (did you mean {}@{meant}?)",
            crate::util::truncate_str(local, 64)
        );
    }
    m
}

/// Evidence for `addr` where a To, Cc or Bcc field writes it (any case), or `None` (an
/// envelope recipient the fields do not show, an encoded or folded address).
fn address_evidence(msg: &Message<'_>, addr: &str) -> Option<Evidence> {
    let needle = addr.to_ascii_lowercase();
    for name in ["To", "Cc", "Bcc"] {
        for h in msg.headers_named(name) {
            let value = h.raw_value(msg.raw).to_ascii_lowercase();
            if let Some(i) = find_address(&value, needle.as_bytes()) {
                let at = h.value_start + i;
                let mut e = msg.line_evidence(at);
                e.span.end = at + needle.len();
                return Some(e);
            }
        }
    }
    None
}

/// Where `addr` stands as a whole address in `value` (both lower case): not inside a
/// longer one (`xbob@gmial.com`, `bob@gmial.com.au`).
fn find_address(value: &[u8], addr: &[u8]) -> Option<usize> {
    let atext =
        |b: u8| b.is_ascii_alphanumeric() || b >= 0x80 || b"!#$%&'*+-/=?^_`{|}~.".contains(&b);
    memchr::memmem::find_iter(value, addr).find(|&i| {
        let end = i + addr.len();
        let before = i.checked_sub(1).map(|j| value[j]);
        let after = value.get(end).copied();
        let more_domain = match after {
            Some(b'.') => value.get(end + 1).is_some_and(u8::is_ascii_alphanumeric),
            Some(b) => b.is_ascii_alphanumeric() || b == b'-' || b >= 0x80,
            None => false,
        };
        !before.is_some_and(atext) && !more_domain
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn edit(listed: &str, typed: &str) -> Option<Edit> {
        one_edit(&chars(listed), &chars(typed))
    }

    /// The restricted Damerau-Levenshtein (optimal string alignment) distance, by the
    /// textbook table: the reference [`one_edit`] is checked against.
    fn osa(a: &[char], b: &[char]) -> usize {
        let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        for (j, cell) in d[0].iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                d[i][j] = (d[i - 1][j] + 1)
                    .min(d[i][j - 1] + 1)
                    .min(d[i - 1][j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
                }
            }
        }
        d[a.len()][b.len()]
    }

    /// Applies `e` to `listed`: what was typed.
    fn apply(listed: &[char], e: Edit) -> Vec<char> {
        let mut v = listed.to_vec();
        match e {
            Edit::Substitution { at, typed } => v[at] = typed,
            Edit::Insertion { at, typed } => v.insert(at, typed),
            Edit::Deletion { at } => {
                v.remove(at);
            }
            Edit::Transposition { at } => v.swap(at, at + 1),
        }
        v
    }

    #[test]
    fn one_edit_finds_the_edit() {
        use Edit::*;
        for (listed, typed, want) in [
            ("gmail.com", "gmail.com", None),
            ("gmail.com", "gmial.com", Some(Transposition { at: 2 })),
            ("gmail.com", "gamil.com", Some(Transposition { at: 1 })),
            ("gmail.com", "gmai.com", Some(Deletion { at: 4 })),
            (
                "gmail.com",
                "gmaill.com",
                Some(Insertion { at: 5, typed: 'l' }),
            ),
            (
                "gmail.com",
                "gmail.con",
                Some(Substitution { at: 8, typed: 'n' }),
            ),
            ("gmail.com", "gmail.co", Some(Deletion { at: 8 })),
            (
                "gmail.com",
                "gmail.comm",
                Some(Insertion { at: 9, typed: 'm' }),
            ),
            (
                "yahoo.com",
                "yahooo.com",
                Some(Insertion { at: 5, typed: 'o' }),
            ),
            ("yahoo.com", "yaho.com", Some(Deletion { at: 4 })),
            ("gmail.com", "gmailc.om", Some(Transposition { at: 5 })),
            ("gmail.com", "mail.com", Some(Deletion { at: 0 })),
            // Two edits and more.
            ("gmail.com", "gmial.con", None),
            ("gmail.com", "gmali.co", None),
            ("gmail.com", "hotmail.com", None),
            ("gmail.com", "gm", None),
            ("hotmail.com", "hotmial.co", None),
            // A transposition is one edit, two substitutions are not.
            ("ab", "ba", Some(Transposition { at: 0 })),
            ("abc", "bca", None),
            ("", "a", Some(Insertion { at: 0, typed: 'a' })),
            ("a", "", Some(Deletion { at: 0 })),
        ] {
            assert_eq!(edit(listed, typed), want, "{listed} -> {typed}");
            if let Some(e) = want {
                assert_eq!(
                    apply(&chars(listed), e),
                    chars(typed),
                    "{listed} -> {typed}"
                );
            }
        }
    }

    /// Every string of up to four of `a`, `b` and `.`.
    fn short_strings() -> Vec<Vec<char>> {
        let mut all = vec![Vec::new()];
        let mut last = vec![Vec::new()];
        for _ in 0..4 {
            last = last
                .iter()
                .flat_map(|s: &Vec<char>| {
                    ['a', 'b', '.'].map(|c| {
                        let mut t = s.clone();
                        t.push(c);
                        t
                    })
                })
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    /// `one_edit` finds an edit exactly when the distance is 1, and its edit gives the
    /// typed string: every pair of short strings.
    #[test]
    fn one_edit_agrees_with_the_distance() {
        let all = short_strings();
        for a in &all {
            for b in &all {
                let e = one_edit(a, b);
                assert_eq!(e.is_some(), osa(a, b) == 1, "{a:?} {b:?}");
                if let Some(e) = e {
                    assert_eq!(&apply(a, e), b, "{a:?} {b:?}");
                }
            }
        }
    }

    proptest::proptest! {
        /// The same for longer strings.
        #[test]
        fn one_edit_agrees_with_the_distance_on_long_strings(a in "[ab]{0,12}", b in "[ab]{0,12}") {
            let (a, b) = (chars(&a), chars(&b));
            let e = one_edit(&a, &b);
            proptest::prop_assert_eq!(e.is_some(), osa(&a, &b) == 1);
            if let Some(e) = e {
                proptest::prop_assert_eq!(apply(&a, e), b);
            }
        }
    }

    #[test]
    fn keys_next_to_each_other() {
        for (a, b) in [
            ('a', 's'),
            ('g', 'h'),
            ('g', 't'),
            ('g', 'b'),
            ('o', 'l'),
            ('k', 'i'),
        ] {
            assert!(near_keys(a, b) && near_keys(b, a), "{a} {b}");
        }
        // QWERTZ and AZERTY.
        assert!(near_keys('z', 'u') && near_keys('a', 'z') && near_keys('q', 's'));
        for (a, b) in [
            ('a', 'e'),
            ('g', 'e'),
            ('k', 'g'),
            ('a', 'a'),
            ('y', '7'),
            ('l', '.'),
        ] {
            assert!(!near_keys(a, b), "{a} {b}");
        }
        assert!(slipped_key('i', 'í') && slipped_key('o', '0') && slipped_key('l', '1'));
        assert!(!slipped_key('i', 'ö'));
    }

    #[test]
    fn typos_and_the_real_domains_near_them() {
        let lists = Lists::shipped();
        for (domain, want) in [
            // Typos.
            ("gamil.com", Some("gmail.com")),
            ("gmial.com", Some("gmail.com")),
            ("gmai.com", Some("gmail.com")),
            // gail.com may be somebody's, but an address there is likelier a slip.
            ("gail.com", Some("gmail.com")),
            ("gmaill.com", Some("gmail.com")),
            ("gnail.com", Some("gmail.com")),
            ("gmaíl.com", Some("gmail.com")),
            ("gmail.con", Some("gmail.com")),
            ("gmail.co", Some("gmail.com")),
            ("gmail.cm", Some("gmail.com")),
            ("gmail.om", Some("gmail.com")),
            ("gmail.comm", Some("gmail.com")),
            ("gmail.c0m", Some("gmail.com")),
            ("gmailc.om", Some("gmail.com")),
            ("hotmai.com", Some("hotmail.com")),
            ("hotmial.com", Some("hotmail.com")),
            ("hotmial.co.uk", Some("hotmail.co.uk")),
            ("outlok.com", Some("outlook.com")),
            ("outllok.com", Some("outlook.com")),
            // outlook.co is no Microsoft mail domain (its country domains are
            // outlook.de, outlook.fr, outlook.co.il, ...), so it is the .com slip.
            ("outlook.co", Some("outlook.com")),
            ("yaho.com", Some("yahoo.com")),
            ("yahooo.com", Some("yahoo.com")),
            ("yahoo.co.ul", Some("yahoo.co.uk")),
            ("icloud.co", Some("icloud.com")),
            ("iclod.com", Some("icloud.com")),
            ("icooud.com", Some("icloud.com")),
            ("tonline.de", Some("t-online.de")),
            ("otmail.com", Some("hotmail.com")),
            ("utlook.com", Some("outlook.com")),
            ("mgail.com", Some("gmail.com")),
            // Short names: only a suffix that cannot exist, or .cm and .om for .com.
            ("web.dr", Some("web.de")),
            ("me.con", Some("me.com")),
            ("qq.cm", Some("qq.com")),
            ("aol.om", Some("aol.com")),
            ("mail.cod", Some("mail.com")),
            // Listed providers and real domains near them.
            ("gmail.com", None),
            ("ymail.com", None),
            ("y7mail.com", None),
            ("gmx.at", None),
            ("mail.com", None),
            ("email.com", None),
            ("cloud.com", None),
            ("me.com", None),
            ("mac.com", None),
            ("live.com", None),
            ("aol.de", None),
            ("hotmail.co.uk", None),
            ("example.com", None),
            ("example.org", None),
            // Real or likely real: another first letter, a short name, a key far from
            // the one meant, a word, another real suffix.
            ("wahoo.com", None),
            ("fmail.com", None),
            ("ahoo.com", None),
            ("tmail.com", None),
            ("hotimail.com", None),
            ("mw.com", None),
            ("at.net", None),
            ("q.com", None),
            ("mdn.com", None),
            ("mtn.com", None),
            ("ge.com", None),
            ("te.com", None),
            ("ml.com", None),
            ("arm.com", None),
            ("line.com", None),
            ("aok.de", None),
            ("uk2.net", None),
            ("op.pl", None),
            ("vp.pl", None),
            ("msen.com", None),
            ("weg.de", None),
            ("gmx.co", None),
            ("me.co", None),
            ("aol.co", None),
            ("earthling.net", None),
            ("oranges.fr", None),
            ("yahoo.dk", None),
            ("yahoo.se", None),
            ("live.be", None),
            ("live.no", None),
            ("hotmail.com.ar", None),
            ("gmail.cam", None),
            ("mec.om", None),
        ] {
            assert_eq!(suggestion(domain, &lists), want, "{domain}");
        }
    }

    /// No listed domain is taken for a typo of another (`ymail.com` of `gmail.com`).
    #[test]
    fn listed_domains_are_never_typos() {
        let lists = Lists::shipped();
        assert!(lists.mailbox_providers().len() > 80);
        for p in lists.mailbox_providers() {
            assert_eq!(suggestion(&p.domain, &lists), None, "{}", p.domain);
        }
    }

    #[test]
    fn whole_addresses_only() {
        let v = b" ann <xbob@gmial.com>, bob@gmial.com.au, bob@gmial.com\r\n";
        assert_eq!(find_address(v, b"bob@gmial.com"), Some(41));
        assert_eq!(find_address(b"<bob@gmial.com>", b"bob@gmial.com"), Some(1));
        assert_eq!(find_address(b"bob@gmial.com-x", b"bob@gmial.com"), None);
    }
}
