//! Pattern rules: phrase lists (Aho-Corasick) and regexes (linear-time `regex` crate)
//! over a target text.
//!
//! All phrase rules that share a target and case mode are compiled into one automaton,
//! once, when the engine is built. Case-insensitive matching runs on the normalised text
//! (NFKC, lower-cased, invisible characters removed; see [`crate::message::text`]), with
//! the phrases normalised the same way, and matches are mapped back to the decoded text.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::Regex;
use serde_json::Value;
use serde_saphyr::{Location, Spanned};

use crate::message::text::{TextPart, normalize};
use crate::message::{Message, SNIPPET_MAX};
use crate::report::{Evidence, Frame, Snippet, Span};

/// Which text a pattern looks at.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// The decoded Subject.
    Subject,
    /// Every inline text part (plain, and HTML reduced to text).
    Body,
    /// The Subject, the From display name and every inline text part.
    Any,
    /// The decoded value of every top-level header with this (lower-case) name.
    Header(String),
}

impl Target {
    /// The target as written in YAML (`subject`, `body`, `header:NAME`).
    pub fn label(&self) -> String {
        match self {
            Target::Subject => "subject".into(),
            Target::Body => "body".into(),
            Target::Any => "any".into(),
            Target::Header(n) => format!("header:{n}"),
        }
    }
    fn parse(s: &str) -> Option<Target> {
        match s {
            "subject" => Some(Target::Subject),
            "body" | "text" => Some(Target::Body),
            "any" => Some(Target::Any),
            _ => s
                .strip_prefix("header:")
                .filter(|n| !n.is_empty() && !n.contains(char::is_whitespace))
                .map(|n| Target::Header(n.to_ascii_lowercase())),
        }
    }
}

/// Case handling of a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Case {
    /// Match the normalised text (the default).
    Insensitive,
    /// Match the decoded text exactly as written.
    Sensitive,
}

/// The pattern fields of a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternSpec {
    /// Phrases (any of them matches).
    pub literals: Vec<String>,
    /// A regex (alternative to `literals`).
    pub regex: Option<String>,
    /// What it looks at.
    pub target: Target,
    /// Case handling.
    pub case: Case,
    /// Phrases must start and end at word boundaries (default true).
    pub whole_word: bool,
    /// How many different phrases must match for the rule to fire (default 1; phrase
    /// rules only).
    pub min_hits: usize,
}

type Loc = Option<Location>;

impl PatternSpec {
    /// Reads the pattern fields of a rule map; `Ok(None)` when the rule has none. Every
    /// problem is returned, each with the place of its field (`None`: the rule's own),
    /// and a regex is compiled here so a bad one is reported with the rule's other
    /// problems.
    pub(crate) fn from_fields(
        m: &BTreeMap<String, Spanned<Value>>,
        file_literals: Option<Vec<String>>,
    ) -> Result<Option<PatternSpec>, Vec<(Loc, String)>> {
        let mut problems: Vec<(Loc, String)> = Vec::new();
        let has = |k: &str| m.contains_key(k) || (k == "literals" && file_literals.is_some());
        if !has("literals") && !has("regex") {
            for k in ["target", "case", "whole_word", "min_hits"] {
                if let Some(v) = m.get(k) {
                    problems.push((
                        Some(v.referenced),
                        format!("`{k}` is only valid with `literals` or `regex`"),
                    ));
                }
            }
            return if problems.is_empty() {
                Ok(None)
            } else {
                Err(problems)
            };
        }
        if has("literals") && has("regex") {
            problems.push((
                m.get("regex").map(|v| v.referenced),
                "use either `literals` or `regex`, not both".into(),
            ));
        }
        let mut literals = file_literals.clone().unwrap_or_default();
        if let Some(v) = m.get("literals") {
            let list: Option<Vec<String>> = v
                .value
                .as_array()
                .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_string)).collect());
            match list {
                Some(l) if !l.is_empty() && l.iter().all(|s| !s.trim().is_empty()) => {
                    literals.extend(l)
                }
                _ => problems.push((
                    Some(v.referenced),
                    "`literals` must be a non-empty list of non-empty strings".into(),
                )),
            }
        }
        let case = match m.get("case") {
            None => Case::Insensitive,
            Some(v) => match v.value.as_str() {
                Some("insensitive") => Case::Insensitive,
                Some("sensitive") => Case::Sensitive,
                _ => {
                    problems.push((
                        Some(v.referenced),
                        "`case` must be `insensitive` or `sensitive`".into(),
                    ));
                    Case::Insensitive
                }
            },
        };
        let regex = match m.get("regex") {
            Some(v) => match v.value.as_str() {
                Some(s) if !s.is_empty() => {
                    if let Err(e) = check_regex(s, case) {
                        problems.push((Some(v.referenced), e));
                    }
                    Some(s.to_string())
                }
                _ => {
                    problems.push((
                        Some(v.referenced),
                        "`regex` must be a non-empty string".into(),
                    ));
                    None
                }
            },
            None => None,
        };
        let target = match m.get("target") {
            Some(v) => match v.value.as_str().and_then(Target::parse) {
                Some(t) => Some(t),
                None => {
                    problems.push((
                        Some(v.referenced),
                        "`target` must be `subject`, `body`, `any` (subject and body) or `header:NAME`".into(),
                    ));
                    None
                }
            },
            None => {
                problems.push((
                    None,
                    "pattern rules need a `target` (subject, body, header:NAME)".into(),
                ));
                None
            }
        };
        let whole_word = match m.get("whole_word") {
            None => true,
            Some(v) => v.value.as_bool().unwrap_or_else(|| {
                problems.push((
                    Some(v.referenced),
                    "`whole_word` must be true or false".to_string(),
                ));
                true
            }),
        };
        let min_hits = match m.get("min_hits") {
            None => 1,
            Some(v) => match v.value.as_u64() {
                Some(n) if n >= 1 && !m.contains_key("regex") => n as usize,
                _ => {
                    problems.push((
                        Some(v.referenced),
                        "`min_hits` must be a whole number of 1 or more, on a phrase rule".into(),
                    ));
                    1
                }
            },
        };
        match target {
            Some(target) if problems.is_empty() => Ok(Some(PatternSpec {
                literals,
                regex,
                target,
                case,
                whole_word,
                min_hits,
            })),
            _ => Err(problems),
        }
    }

    /// Checks that the regex compiles and is not wrapped in `.*`.
    pub fn validate(&self) -> Result<(), String> {
        match &self.regex {
            Some(r) => check_regex(r, self.case),
            None => Ok(()),
        }
    }

    fn compile_regex(&self) -> Result<Regex, String> {
        build_regex(self.regex.as_deref().unwrap_or(""), self.case)
    }
}

fn build_regex(r: &str, case: Case) -> Result<Regex, String> {
    let src = if case == Case::Insensitive {
        format!("(?i){r}")
    } else {
        r.to_string()
    };
    regex::RegexBuilder::new(&src)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| e.to_string())
}

/// Checks that regex `r` compiles (under `case`) and is not wrapped in `.*`.
fn check_regex(r: &str, case: Case) -> Result<(), String> {
    if r.starts_with(".*") || r.ends_with(".*") || r.starts_with("(?i).*") {
        return Err("regex must not start or end with `.*` (it adds nothing and makes matches span the whole text)".into());
    }
    build_regex(r, case).map(|_| ()).map_err(|e| {
        let last = e.lines().last().unwrap_or(&e);
        format!(
            "invalid regex: {}",
            last.strip_prefix("error: ").unwrap_or(last)
        )
    })
}

/// One pattern hit: which rule and where.
#[derive(Clone, Debug)]
pub struct PatternHit {
    /// Index of the rule in the engine's rule list.
    pub rule: usize,
    /// What matched, as written.
    pub matched: String,
    /// Where.
    pub evidence: Evidence,
}

/// Every phrase of one case mode, whatever its target: each text is scanned once per case
/// mode, and a match counts for the rules whose target includes that text.
struct LiteralGroup {
    case: Case,
    /// Whether the phrases are written with characters outside ASCII: they can only
    /// match a text that has some.
    non_ascii: bool,
    ac: AhoCorasick,
    /// Pattern index -> owner.
    owners: Vec<Owner>,
    /// The targets of its phrases, to skip texts no phrase looks at.
    targets: Vec<Target>,
}

#[derive(Clone)]
struct Owner {
    rule: usize,
    whole_word: bool,
    target: Target,
    min_hits: usize,
}

/// Where a text comes from, to decide which targets see it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot<'t> {
    Subject,
    Sender,
    Body,
    Header(&'t str),
}

impl Target {
    fn sees(&self, slot: Slot<'_>) -> bool {
        match (self, slot) {
            (Target::Subject, Slot::Subject) | (Target::Body, Slot::Body) => true,
            (Target::Any, Slot::Subject | Slot::Sender | Slot::Body) => true,
            (Target::Header(h), Slot::Header(n)) => h == n,
            _ => false,
        }
    }
}

struct RegexRule {
    target: Target,
    case: Case,
    rule: usize,
    re: Regex,
}

/// All pattern rules compiled for matching.
pub struct PatternSet {
    groups: Vec<LiteralGroup>,
    regexes: Vec<RegexRule>,
    /// The header fields some `header:NAME` target reads (only these are decoded).
    header_targets: Vec<String>,
}

impl std::fmt::Debug for PatternSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PatternSet({} automata, {} regexes)",
            self.groups.len(),
            self.regexes.len()
        )
    }
}

/// Whether a character is written inside words (a letter, digit, mark or `_`) of a
/// script that separates its words with spaces.
fn is_spaced_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    (c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c))
        && !unspaced_script(c)
}

/// Chinese, Japanese, Thai, Lao, Khmer and Myanmar are written without spaces between
/// words: a phrase in them matches inside a longer run of their characters.
fn unspaced_script(c: char) -> bool {
    use unicode_script::{Script, UnicodeScript};
    (c as u32) >= 0x0e00
        && matches!(
            c.script(),
            Script::Han
                | Script::Hiragana
                | Script::Katakana
                | Script::Thai
                | Script::Lao
                | Script::Khmer
                | Script::Myanmar
        )
        || c == '\u{30fc}'
}

/// Whether `at` in `hay` falls inside a word: word characters of a spaced script on both
/// sides (so a whole-word phrase cannot start or end there).
fn inside_word(hay: &str, at: usize) -> bool {
    let hb = hay.as_bytes();
    if at == 0 || at >= hb.len() {
        return false;
    }
    let (b, a) = (hb[at - 1], hb[at]);
    if b < 0x80 && a < 0x80 {
        return is_spaced_word_char(b as char) && is_spaced_word_char(a as char);
    }
    match (hay[..at].chars().next_back(), hay[at..].chars().next()) {
        (Some(b), Some(a)) => is_spaced_word_char(b) && is_spaced_word_char(a),
        _ => false,
    }
}

/// Phrases of one case mode and script class, with the owner of each phrase.
type PhraseList = (Vec<String>, Vec<Owner>);

impl PatternSet {
    /// Compiles `(rule index, spec)` pairs. Specs have been validated.
    pub fn compile<'s>(specs: impl IntoIterator<Item = (usize, &'s PatternSpec)>) -> PatternSet {
        let mut lits: BTreeMap<(Case, bool), PhraseList> = BTreeMap::new();
        let mut regexes = Vec::new();
        for (rule, spec) in specs {
            if let Some(_r) = &spec.regex {
                if let Ok(re) = spec.compile_regex() {
                    regexes.push(RegexRule {
                        target: spec.target.clone(),
                        case: spec.case,
                        rule,
                        re,
                    });
                }
                continue;
            }
            for l in &spec.literals {
                let p = if spec.case == Case::Insensitive {
                    normalize(l).0
                } else {
                    l.clone()
                };
                let e = lits.entry((spec.case, !p.is_ascii())).or_default();
                e.0.push(p);
                e.1.push(Owner {
                    rule,
                    whole_word: spec.whole_word,
                    target: spec.target.clone(),
                    min_hits: spec.min_hits,
                });
            }
        }
        let groups: Vec<LiteralGroup> = lits
            .into_iter()
            .filter_map(|((case, non_ascii), (pats, owners))| {
                // ASCII phrases: a DFA, since a thousand phrases over a few dozen byte
                // classes make a small table, and overlapping search over every text part
                // is the hot loop of content matching. Phrases in other scripts use most
                // of the 256 byte values, so their DFA took 36 MB and 0.1 s to build: a
                // contiguous NFA instead, run only over texts that are not ASCII.
                let kind = if non_ascii {
                    AhoCorasickKind::ContiguousNFA
                } else {
                    AhoCorasickKind::DFA
                };
                let ac = AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .kind(Some(kind))
                    .build(&pats)
                    .or_else(|_| {
                        AhoCorasick::builder()
                            .match_kind(MatchKind::Standard)
                            .build(&pats)
                    })
                    .ok()?;
                let mut targets: Vec<Target> = owners.iter().map(|o| o.target.clone()).collect();
                targets.sort();
                targets.dedup();
                Some(LiteralGroup {
                    case,
                    non_ascii,
                    ac,
                    owners,
                    targets,
                })
            })
            .collect();
        let mut header_targets: Vec<String> = groups
            .iter()
            .flat_map(|g| g.targets.iter())
            .chain(regexes.iter().map(|r| &r.target))
            .filter_map(|t| match t {
                Target::Header(n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        header_targets.sort();
        header_targets.dedup();
        PatternSet {
            groups,
            regexes,
            header_targets,
        }
    }

    /// Whether there is nothing to match.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.regexes.is_empty()
    }

    /// Runs every pattern whose rule `enabled` accepts over `msg`; at most one hit per rule
    /// and text (the first), at most `max_per_rule` per rule overall.
    pub fn run(
        &self,
        msg: &Message<'_>,
        enabled: &dyn Fn(usize) -> bool,
        max_per_rule: usize,
    ) -> Vec<PatternHit> {
        // Rules that need several different phrases keep the phrases seen so far and the
        // threshold (in `run_texts`).
        let header_texts = header_texts_of(msg, &self.header_targets);
        let mut texts: Vec<(&TextPart, Slot<'_>)> = Vec::new();
        texts.extend(msg.text.subject.iter().map(|t| (t, Slot::Subject)));
        texts.extend(msg.text.sender.iter().map(|t| (t, Slot::Sender)));
        texts.extend(msg.text.parts.iter().map(|t| (t, Slot::Body)));
        texts.extend(
            header_texts
                .iter()
                .map(|(n, t)| (t, Slot::Header(n.as_str()))),
        );
        self.run_texts(&texts, enabled, max_per_rule)
    }

    /// Runs the body patterns whose rule `enabled` accepts over one text that is not part
    /// of the message's own texts (the hidden text of an HTML part), one hit per rule.
    pub fn probe_body(&self, tp: &TextPart, enabled: &dyn Fn(usize) -> bool) -> Vec<PatternHit> {
        self.run_texts(&[(tp, Slot::Body)], enabled, 1)
    }

    fn run_texts(
        &self,
        texts: &[(&TextPart, Slot<'_>)],
        enabled: &dyn Fn(usize) -> bool,
        max_per_rule: usize,
    ) -> Vec<PatternHit> {
        let mut hits: Vec<PatternHit> = Vec::new();
        let mut count: BTreeMap<usize, usize> = BTreeMap::new();
        let mut distinct: BTreeMap<usize, (Vec<String>, usize)> = BTreeMap::new();
        let texts_for = |t: &Target| -> Vec<&TextPart> {
            texts
                .iter()
                .filter(|(_, s)| t.sees(*s))
                .map(|(tp, _)| *tp)
                .collect()
        };
        for g in &self.groups {
            if !g.owners.iter().any(|o| enabled(o.rule)) {
                continue;
            }
            for &(tp, slot) in texts {
                if !g.targets.iter().any(|t| t.sees(slot)) {
                    continue;
                }
                let mut seen_here: Vec<usize> = Vec::new();
                let mut spans_here: Vec<(usize, usize, usize)> = Vec::new();
                // Case-insensitive phrases also run over the de-obfuscated text.
                let skel = match (&tp.deobfuscated, g.case) {
                    (Some(sk), Case::Insensitive) => Some(sk.text.as_str()),
                    _ => None,
                };
                let plain = if g.case == Case::Insensitive {
                    tp.normalized.as_str()
                } else {
                    tp.decoded.as_str()
                };
                for (hay, is_skel) in [(plain, false)].into_iter().chain(skel.map(|s| (s, true))) {
                    if g.non_ascii && hay.is_ascii() {
                        continue;
                    }
                    for m in g.ac.find_overlapping_iter(hay) {
                        let o = &g.owners[m.pattern().as_usize()];
                        let rule = o.rule;
                        let several = o.min_hits > 1;
                        if !o.target.sees(slot)
                            || !enabled(rule)
                            || (!several && seen_here.contains(&rule))
                        {
                            continue;
                        }
                        if o.whole_word
                            && (inside_word(hay, m.start()) || inside_word(hay, m.end()))
                        {
                            continue;
                        }
                        let (s, e) = if is_skel {
                            tp.deobfuscated_to_normalized(m.start(), m.end())
                        } else {
                            (m.start(), m.end())
                        };
                        if several {
                            // Different phrases at different places: "herbal viagra"
                            // and the "viagra" inside it count once.
                            let phrase = hay[m.start()..m.end()].to_string();
                            let d = distinct.entry(rule).or_insert((Vec::new(), o.min_hits));
                            let overlaps = spans_here
                                .iter()
                                .any(|&(r, a, b)| r == rule && s < b && a < e);
                            if overlaps || d.0.contains(&phrase) {
                                continue;
                            }
                            d.0.push(phrase);
                            spans_here.push((rule, s, e));
                        }
                        let c = count.entry(rule).or_default();
                        if *c >= max_per_rule.max(o.min_hits) {
                            continue;
                        }
                        *c += 1;
                        seen_here.push(rule);
                        hits.push(hit(rule, tp, s, e, g.case));
                    }
                }
            }
        }
        hits.retain(|h| {
            distinct
                .get(&h.rule)
                .is_none_or(|(seen, need)| seen.len() >= *need)
        });
        for r in &self.regexes {
            if !enabled(r.rule) {
                continue;
            }
            for tp in texts_for(&r.target) {
                let hay = if r.case == Case::Insensitive {
                    &tp.normalized
                } else {
                    &tp.decoded
                };
                if let Some(m) = r.re.find(hay) {
                    let c = count.entry(r.rule).or_default();
                    if *c >= max_per_rule {
                        break;
                    }
                    *c += 1;
                    hits.push(hit(r.rule, tp, m.start(), m.end(), r.case));
                }
            }
        }
        hits
    }
}

fn hit(rule: usize, tp: &TextPart, start: usize, end: usize, case: Case) -> PatternHit {
    let (ds, de) = if case == Case::Insensitive {
        (tp.to_decoded(start), tp.to_decoded(end))
    } else {
        (start, end)
    };
    let de = de.max(ds);
    let matched = tp.decoded[ds..de].to_string();
    // A snippet with some context around the match, on one line.
    let snippet = Snippet::around(&tp.decoded, ds, SNIPPET_MAX);
    let (frame, part) = match tp.kind {
        crate::message::text::TextKind::Subject => (Frame::Subject, None),
        _ => (Frame::Decoded, Some(tp.evidence_part())),
    };
    PatternHit {
        rule,
        matched,
        evidence: Evidence {
            frame,
            part,
            span: Span { start: ds, end: de },
            line: Some(tp.line_of(ds)),
            snippet,
        },
    }
}

/// Decoded values of the top-level headers named in `targeted` (lower case), for
/// `header:NAME` targets.
fn header_texts_of(msg: &Message<'_>, targeted: &[String]) -> Vec<(String, TextPart)> {
    if targeted.is_empty() {
        return Vec::new();
    }
    msg.facts
        .headers()
        .iter()
        .filter(|h| targeted.iter().any(|t| h.name.eq_ignore_ascii_case(t)))
        .map(|h| {
            let name = h.name.to_ascii_lowercase();
            let value = crate::message::decode_header_text(&h.unfolded(msg.raw));
            let part = TextPart::new(
                format!("header:{name}"),
                crate::message::text::TextKind::Plain,
                value,
                None,
            );
            (name, part)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(lits: &[&str], target: Target, case: Case) -> PatternSpec {
        PatternSpec {
            literals: lits.iter().map(|s| s.to_string()).collect(),
            regex: None,
            target,
            case,
            whole_word: true,
            min_hits: 1,
        }
    }

    #[test]
    fn literals_match_normalised_text_at_word_boundaries() {
        let s = spec(&["FREE money"], Target::Body, Case::Insensitive);
        let set = PatternSet::compile([(0, &s)]);
        let m = Message::parse("Subject: x\n\nGet ＦＲＥＥ Money now\n".as_bytes());
        let hits = set.run(&m, &|_| true, 5);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].matched, "ＦＲＥＥ Money");
        // The body of a single-part message is part 1.
        assert_eq!(hits[0].evidence.part.as_deref(), Some("1"));
        let m = Message::parse(b"Subject: x\n\ncarefree moneyless\n");
        assert!(set.run(&m, &|_| true, 5).is_empty());
    }

    /// Words are told by characters, not bytes: punctuation outside ASCII is a boundary,
    /// accented letters and Cyrillic are inside words, and phrases in Chinese or Japanese
    /// (written without spaces) match inside longer runs.
    #[test]
    fn word_boundaries_in_every_script() {
        let s = spec(
            &[
                "cliquez ici",
                "验证您的账户",
                "アカウントを確認",
                "ваш аккаунт",
            ],
            Target::Body,
            Case::Insensitive,
        );
        let set = PatternSet::compile([(0, &s)]);
        let hits = |body: &str| {
            let raw = format!("Subject: x\nContent-Type: text/plain; charset=utf-8\n\n{body}\n");
            set.run(&Message::parse(raw.as_bytes()), &|_| true, 5).len()
        };
        assert_eq!(hits("«cliquez ici» pour voir"), 1);
        assert_eq!(hits("“cliquez ici”"), 1);
        assert_eq!(hits("écliquez icié"), 0);
        assert_eq!(hits("请立即验证您的账户以免冻结"), 1);
        assert_eq!(hits("至急アカウントを確認してください"), 1);
        assert_eq!(hits("проверьте ваш аккаунт сегодня"), 1);
        assert_eq!(hits("проверьте ваш аккаунтов"), 0);
    }

    /// A match deep in a long line is shown with whole words around it, never a word
    /// cut in two, and without the CR of a CRLF line.
    #[test]
    fn snippets_show_whole_words_and_no_cr() {
        let s = spec(&["wire transfer"], Target::Body, Case::Insensitive);
        let set = PatternSet::compile([(0, &s)]);
        let line = format!(
            "{} please send the wire transfer today to the account below {}",
            "Dear customer, as agreed on the phone".repeat(2),
            "and keep this confidential ".repeat(6)
        );
        let raw = format!("Subject: x\r\n\r\n{line}\r\nbye\r\n");
        let m = Message::parse(raw.as_bytes());
        let hits = set.run(&m, &|_| true, 5);
        let crate::report::Snippet::Text(t) = &hits[0].evidence.snippet else {
            panic!("text snippet")
        };
        assert!(t.contains("wire transfer"), "{t}");
        assert!(t.len() <= SNIPPET_MAX && t.len() < line.len(), "{t}");
        let words: Vec<&str> = line.split(' ').collect();
        let first = t.split(' ').next().unwrap();
        let last = t.split(' ').next_back().unwrap();
        assert!(
            words.contains(&first) && words.contains(&last),
            "cut inside a word: {t:?}"
        );
        let m = Message::parse(b"Subject: x\r\n\r\nsend a wire transfer\r\nbye\r\n");
        let hits = set.run(&m, &|_| true, 5);
        assert_eq!(
            hits[0].evidence.snippet,
            crate::report::Snippet::Text("send a wire transfer".into())
        );
    }

    #[test]
    fn literals_see_through_obfuscation() {
        let s = spec(&["viagra", "cash now"], Target::Body, Case::Insensitive);
        let set = PatternSet::compile([(0, &s), (1, &s)]);
        for (body, want) in [
            ("Buy V.I.A.G.R.A today", "V.I.A.G.R.A"),
            ("Buy v1agra today", "v1agra"),
            ("Buy vi\u{200b}agra today", "vi\u{200b}agra"),
            ("Get ca$h now!", "ca$h now"),
            ("Get c-a-s-h now!", "c-a-s-h now"),
        ] {
            let raw = format!("Subject: x\nContent-Type: text/plain; charset=utf-8\n\n{body}\n");
            let m = Message::parse(raw.as_bytes());
            let hits = set.run(&m, &|r| r == 0, 5);
            assert_eq!(hits.len(), 1, "{body}");
            assert_eq!(hits[0].matched, want, "{body}");
        }
        let m = Message::parse(b"Subject: x\n\nversion 1.2.3 of the v.i.a package\n");
        assert!(set.run(&m, &|_| true, 5).is_empty());
    }

    #[test]
    fn min_hits_counts_different_phrases() {
        let mut s = spec(
            &["viagra", "cialis", "levitra"],
            Target::Any,
            Case::Insensitive,
        );
        s.min_hits = 2;
        let set = PatternSet::compile([(0, &s)]);
        let one = Message::parse(b"Subject: viagra\n\nviagra, VIAGRA and v1agra\n");
        assert!(set.run(&one, &|_| true, 5).is_empty());
        let nested = Message::parse(b"Subject: x\n\nherbal viagra\n");
        let mut n = spec(&["herbal viagra", "viagra"], Target::Any, Case::Insensitive);
        n.min_hits = 2;
        assert!(
            PatternSet::compile([(0, &n)])
                .run(&nested, &|_| true, 5)
                .is_empty()
        );
        let two = Message::parse(b"Subject: viagra\n\nand cialis too\n");
        let hits = set.run(&two, &|_| true, 1);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[1].matched, "cialis");
    }

    #[test]
    fn regex_and_subject_targets() {
        let s = PatternSpec {
            literals: vec![],
            regex: Some(r"\$\d{1,3}(,\d{3})+".into()),
            target: Target::Subject,
            case: Case::Insensitive,
            whole_word: true,
            min_hits: 1,
        };
        s.validate().unwrap();
        let set = PatternSet::compile([(3, &s)]);
        let m = Message::parse(b"Subject: Win $5,000,000 today\n\nbody\n");
        let hits = set.run(&m, &|_| true, 5);
        assert_eq!(hits[0].rule, 3);
        assert_eq!(hits[0].matched, "$5,000,000");
        assert_eq!(hits[0].evidence.frame, Frame::Subject);
    }

    #[test]
    fn header_targets_read_unfolded_decoded_values() {
        let s = spec(
            &["bulk sender pro"],
            Target::Header("x-mailer".into()),
            Case::Insensitive,
        );
        let set = PatternSet::compile([(0, &s)]);
        for header in [
            "X-Mailer: =?utf-8?q?Bulk_Sender?= Pro",
            "X-Mailer: Bulk Sender\r\n Pro 4.1",
            "x-mailer: =?iso-8859-1?B?QnVsayBTZW5kZXIgUHJv?=",
        ] {
            let raw = format!("Subject: x\r\n{header}\r\n\r\nbody\r\n");
            let hits = set.run(&Message::parse(raw.as_bytes()), &|_| true, 5);
            assert_eq!(hits.len(), 1, "{header}");
        }
        let other = Message::parse(b"Subject: bulk sender pro\n\nbulk sender pro\n");
        assert!(set.run(&other, &|_| true, 5).is_empty());
    }

    #[test]
    fn rejects_dot_star_wrapping() {
        let s = PatternSpec {
            literals: vec![],
            regex: Some(".*cure.*cancer.*".into()),
            target: Target::Body,
            case: Case::Insensitive,
            whole_word: true,
            min_hits: 1,
        };
        assert!(s.validate().is_err());
    }
}
