//! The rule-example runner behind `preflight rules test`.
//!
//! Every rule carries examples that must (`match`) and must not (`no_match`) make it fire.
//! For a rule implemented in code each example is a whole raw message. For a pattern rule
//! each example is the text the pattern looks at, and [`example_message`] wraps it in an
//! otherwise clean message:
//!
//! * `target: subject`: the example is the Subject (RFC 2047 encoded when not ASCII);
//! * `target: body`: the example is the body of a `text/plain; charset=utf-8` message;
//! * `target: header:NAME`: the example is the value of header `NAME`.
//!
//! A code-rule example may start with an SMTP transcript that sets the envelope (see
//! [`split_transcript`]): `XCLIENT LOGIN=alice`, `MAIL FROM:<...>`, `RCPT TO:<...>`, `DATA`.
//!
//! Each example is checked with that rule alone switched on (as `config.select = [id]`
//! would) and a fixed reference time, running the very code the [`crate::Engine`] runs: the
//! rule's check (the code in `checks`) for code rules, its compiled pattern for pattern
//! rules. Calling them directly rather than through a whole engine also tests rules that an
//! override disabled and helper rules with a score of 0, which a report leaves out.

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;

use crate::checks::{self, Check, Ctx};
use crate::config::Config;
use crate::envelope::Envelope;
use crate::message::Message;

use crate::rules::pattern::{PatternSet, Target};
use crate::rules::{Rule, RuleSet};

/// The reference time examples are checked at when the configuration sets none
/// (Mon, 23 Nov 2026 00:00:00 UTC, the Date of the wrapper message).
pub const EXAMPLES_NOW: i64 = 1_795_392_000;

/// Whether an example must make its rule fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// A `match` example: the rule must fire.
    Match,
    /// A `no_match` example: the rule must not fire.
    NoMatch,
}

impl Expect {
    /// `match` or `no_match`, as written in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Match => "match",
            Expect::NoMatch => "no_match",
        }
    }
}

/// The result of checking one example.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExampleOutcome {
    /// Rule id.
    pub id: String,
    /// Where the rule is defined (`file:line:column`).
    pub origin: String,
    /// Whether the rule had to fire.
    pub expect: Expect,
    /// 0-based index in the rule's `match` or `no_match` list.
    pub index: usize,
    /// The example as written.
    pub example: String,
    /// Whether the rule fired.
    pub fired: bool,
    /// What the rule said when it fired (its hit message or the matched text), or why the
    /// example could not be checked (a panic, no code for the rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Set when checking the example failed for another reason than the rule's verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ExampleOutcome {
    /// Whether the rule behaved as the example says.
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && match self.expect {
                Expect::Match => self.fired,
                Expect::NoMatch => !self.fired,
            }
    }
}

/// The results of checking every example of a rule set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExampleReport {
    /// How many rules were looked at.
    pub rules: usize,
    /// Rules that have no `match` example.
    pub without_match: Vec<String>,
    /// Rules that have no `no_match` example.
    pub without_no_match: Vec<String>,
    /// Every example checked, in rule id order, `match` before `no_match`.
    pub outcomes: Vec<ExampleOutcome>,
}

impl ExampleReport {
    /// The examples that did not behave.
    pub fn failures(&self) -> impl Iterator<Item = &ExampleOutcome> {
        self.outcomes.iter().filter(|o| !o.passed())
    }
    /// Whether every example behaved.
    pub fn all_passed(&self) -> bool {
        self.outcomes.iter().all(ExampleOutcome::passed)
    }
}

/// Encodes `s` as RFC 2047 `B` words when it is not ASCII, folding between words.
fn encode_words(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in s.chars() {
        // 45 bytes of UTF-8 make 60 base64 characters: the word stays under 75 (RFC 2047 §2).
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", crate::util::base64(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\n ")
}

/// The clean wrapper message's header fields, in order.
const WRAPPER: &[(&str, &str)] = &[
    ("From", "Example <sender@example.com>"),
    ("To", "a@example.org"),
    ("Date", "Mon, 23 Nov 2026 00:00:00 +0000"),
    ("Message-ID", "<x@example.com>"),
    ("Subject", "Example"),
    ("MIME-Version", "1.0"),
    ("Content-Type", "text/plain; charset=utf-8"),
];

/// Splits a code-rule example that starts with an SMTP transcript into the envelope it
/// sets and the message after `DATA`. The transcript is the lines `XCLIENT LOGIN=...
/// ADDR=... HELO=...` (Postfix's XCLIENT attributes), `EHLO name`, `MAIL FROM:<...>` and
/// `RCPT TO:<...>` (repeated), ended by `DATA`; an example without one has an empty
/// envelope.
pub fn split_transcript(example: &str) -> (Envelope, &str) {
    let mut env = Envelope::default();
    let starts = ["XCLIENT ", "EHLO ", "HELO ", "MAIL FROM:", "RCPT TO:"];
    if !starts.iter().any(|s| example.starts_with(s)) {
        return (env, example);
    }
    // `<address>` and any ESMTP parameters after it (a quoted local part may hold spaces).
    let addr = |s: &str| {
        let s = s.trim();
        match (s.strip_prefix('<'), s.rfind('>')) {
            (Some(_), Some(end)) => s[1..end].to_string(),
            _ => s.split_whitespace().next().unwrap_or("").to_string(),
        }
    };
    let mut rest = example;
    while let Some((line, after)) = rest.split_once('\n') {
        let line = line.trim_end_matches('\r');
        rest = after;
        if line.eq_ignore_ascii_case("DATA") {
            return (env, rest);
        } else if let Some(a) = line.strip_prefix("MAIL FROM:") {
            env.mail_from = Some(addr(a));
        } else if let Some(a) = line.strip_prefix("RCPT TO:") {
            env.rcpt_to.push(addr(a));
        } else if let Some(h) = line
            .strip_prefix("EHLO ")
            .or_else(|| line.strip_prefix("HELO "))
        {
            env.helo = Some(h.trim().to_string());
        } else if let Some(attrs) = line.strip_prefix("XCLIENT ") {
            for kv in attrs.split_whitespace() {
                match kv.split_once('=') {
                    Some(("LOGIN", v)) => env.auth_user = Some(v.to_string()),
                    Some(("ADDR", v)) => env.client_ip = v.trim_start_matches("IPv6:").parse().ok(),
                    Some(("HELO", v)) => env.helo = Some(v.to_string()),
                    _ => {}
                }
            }
        }
    }
    (env, rest)
}

/// Builds the raw message an example stands for (see the module documentation).
pub fn example_message(rule: &Rule, example: &str) -> Vec<u8> {
    let Some(spec) = &rule.pattern else {
        return example.as_bytes().to_vec();
    };
    let mut headers: Vec<(String, String)> = WRAPPER
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let mut body = "Hello.\n".to_string();
    let set = |headers: &mut Vec<(String, String)>, name: &str, value: String| match headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        Some(h) => h.1 = value,
        None => headers.push((name.to_string(), value)),
    };
    match &spec.target {
        Target::Subject => set(&mut headers, "Subject", encode_words(example)),
        Target::Body | Target::Any => {
            body = example.to_string();
            if !body.ends_with('\n') {
                body.push('\n');
            }
            if !body.is_ascii() {
                set(&mut headers, "Content-Transfer-Encoding", "8bit".into());
            }
        }
        Target::Header(name) => {
            // Keep the conventional spelling of the wrapper's own fields.
            let name = WRAPPER
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map_or(name.as_str(), |(n, _)| n);
            set(&mut headers, name, example.to_string());
        }
    }
    let mut out = String::new();
    for (n, v) in headers {
        out.push_str(&n);
        out.push_str(": ");
        out.push_str(&v);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&body);
    out.into_bytes()
}

/// Checks one rule against one raw message with only that rule on (a meta rule with every
/// rule on, since it combines others). Returns whether it fired and what it said.
/// What code rules run with: the checks, the data lists and the content phrase probe.
struct CodeRules<'a> {
    checks: &'a [Box<dyn Check>],
    lists: &'a crate::rules::lists::Lists,
    probe: &'a crate::checks::Probe<'a>,
    models: &'a crate::model::Models,
}

fn fires(
    rule: &Rule,
    raw: &[u8],
    envelope: &Envelope,
    config: &Config,
    now: i64,
    code: &CodeRules<'_>,
    whole: &dyn Fn() -> Result<crate::Engine, String>,
) -> Result<(bool, Option<String>), String> {
    let run = || -> Result<(bool, Option<String>), String> {
        if rule.meta.is_some() {
            // A meta rule needs the rules it combines: check with every rule on.
            let engine = whole()?;
            let fired = engine.fired_ids(raw, envelope).contains(&rule.id);
            return Ok((fired, None));
        }
        let msg = Message::parse_with(raw, config.limits.max_links);
        match &rule.pattern {
            Some(spec) => {
                let set = PatternSet::compile([(0, spec)]);
                let hits = set.run(&msg, &|_| true, 1);
                Ok((
                    !hits.is_empty(),
                    hits.first()
                        .map(|h| format!("matched \u{201c}{}\u{201d}", h.matched)),
                ))
            }
            None => {
                let Some(check) = code
                    .checks
                    .iter()
                    .find(|c| c.ids().contains(&rule.id.as_str()))
                else {
                    return Err("no code implements this rule".into());
                };
                let only = |id: &str| id == rule.id;
                // A rule that needs the network gets the example's DNS answers, asked
                // for round after round as the engine does.
                let answers = if check.online() {
                    let text = rule.examples.answers.as_deref().unwrap_or_default();
                    let zone =
                        crate::dns::Fixed::parse(text, "answers").map_err(|e| e.to_string())?;
                    Some(crate::dns::gather(&zone, |a| {
                        let cx = Ctx::new(config, envelope, now, code.lists, &only).with_answers(a);
                        check.lookups(&msg, &cx)
                    }))
                } else {
                    None
                };
                let mut cx = Ctx::new(config, envelope, now, code.lists, &only)
                    .with_probe(code.probe)
                    .with_models(code.models);
                if let Some(a) = &answers {
                    cx = cx.with_answers(a);
                }
                check.run(&msg, &mut cx);
                let hits = cx.into_hits();
                let hit = hits.iter().find(|h| h.id == rule.id);
                Ok((hit.is_some(), hit.map(|h| h.message.clone())))
            }
        }
    };
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| Err("the check panicked".into()))
}

/// Checks every example of every rule in `rules` (in id order) under `config` (its `now`,
/// or [`EXAMPLES_NOW`]; its limits). `only`, when given, restricts the run to the rules
/// a selector names (an id, id prefix, family or name, as `--select` takes).
pub fn run(rules: &RuleSet, config: &Config, only: &[String]) -> ExampleReport {
    let now = config.now.unwrap_or(EXAMPLES_NOW);
    let code = checks::all();
    let whole = || {
        let c = Config {
            now: Some(now),
            select: Vec::new(),
            ignore: Vec::new(),
            ..config.clone()
        };
        crate::Engine::with_rules(c, rules.clone()).map_err(|e| e.to_string())
    };
    // Code rules that look for content phrases (HTML006) get them from the rule set.
    let probed = crate::engine::probed_rules(rules, config);
    let phrases = PatternSet::compile(
        rules
            .rules()
            .iter()
            .enumerate()
            .filter(|(i, _)| probed[*i])
            .filter_map(|(i, r)| r.pattern.as_ref().map(|p| (i, p))),
    );
    let probe = |tp: &crate::message::text::TextPart| {
        crate::engine::probe_hits(rules, &phrases, &probed, tp)
    };
    // The learned models as the engine builds them (a model that does not load leaves
    // their rules without one, and their match examples fail).
    let models = crate::model::Models::build(rules, config).unwrap_or_default();
    let code_rules = CodeRules {
        checks: &code,
        lists: rules.lists(),
        probe: &probe,
        models: &models,
    };
    let mut report = ExampleReport::default();
    for rule in rules.rules() {
        if !only.is_empty()
            && !only
                .iter()
                .any(|s| crate::engine::selector_matches(s, rule))
        {
            continue;
        }
        report.rules += 1;
        if rule.examples.matching.is_empty() {
            report.without_match.push(rule.id.clone());
        }
        if rule.examples.not_matching.is_empty() {
            report.without_no_match.push(rule.id.clone());
        }
        let limited;
        let config = if rule.examples.limits.is_some() || rule.examples.sending.is_some() {
            limited = Config {
                limits: rule
                    .examples
                    .limits
                    .clone()
                    .unwrap_or_else(|| config.limits.clone()),
                sending: rule
                    .examples
                    .sending
                    .clone()
                    .unwrap_or_else(|| config.sending.clone()),
                ..config.clone()
            };
            &limited
        } else {
            config
        };
        let lists = [
            (Expect::Match, &rule.examples.matching),
            (Expect::NoMatch, &rule.examples.not_matching),
        ];
        for (expect, list) in lists {
            for (index, example) in list.iter().enumerate() {
                let (envelope, text) = if rule.pattern.is_none() {
                    split_transcript(example)
                } else {
                    (Envelope::default(), example.as_str())
                };
                let raw = example_message(rule, text);
                let (fired, detail, error) =
                    match fires(rule, &raw, &envelope, config, now, &code_rules, &whole) {
                        Ok((fired, detail)) => (fired, detail, None),
                        Err(e) => (false, None, Some(e)),
                    };
                report.outcomes.push(ExampleOutcome {
                    id: rule.id.clone(),
                    origin: rule.origin.to_string(),
                    expect,
                    index,
                    example: example.clone(),
                    fired,
                    detail,
                    error,
                });
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(yaml: &str) -> RuleSet {
        RuleSet::from_sources(&[("t.yaml".into(), yaml.into())]).unwrap()
    }

    const PATTERNS: &str = r#"
rules:
  - id: CNT900
    name: test-subject
    family: content
    summary: s
    why: w
    fix: f
    score: 1
    predicts: ["554 5.7.1 x"]
    literals: ["free money"]
    target: subject
    examples:
      match: ["Get FREE money", "ＦＲＥＥ money ünïcode"]
      no_match: ["carefree moneyless", "free money"]
  - id: CNT901
    name: test-header
    family: content
    summary: s
    why: w
    fix: f
    score: 0
    predicts: ["554 5.7.1 x"]
    enabled: false
    regex: "bulk-mailer"
    target: header:x-mailer
    examples:
      match: ["Bulk-Mailer 2.0"]
      no_match: ["Thunderbird"]
  - id: CNT902
    name: test-body
    family: content
    summary: s
    why: w
    fix: f
    score: 1
    predicts: ["554 5.7.1 x"]
    literals: ["wire transfer"]
    target: body
    examples:
      match: ["Please send a wire transfer.\nThanks"]
"#;

    #[test]
    fn pattern_examples_are_wrapped_and_checked() {
        let r = run(&rules(PATTERNS), &Config::default(), &[]);
        assert_eq!(r.rules, 3);
        assert_eq!(r.without_no_match, vec!["CNT902"]);
        let failed: Vec<_> = r
            .failures()
            .map(|o| (o.id.as_str(), o.expect, o.index))
            .collect();
        // Only the deliberately wrong no_match example of CNT900 fails; the disabled,
        // zero-score CNT901 is still tested.
        assert_eq!(failed, vec![("CNT900", Expect::NoMatch, 1)]);
        assert!(!r.all_passed());
        let hit = r
            .outcomes
            .iter()
            .find(|o| o.id == "CNT901" && o.expect == Expect::Match)
            .unwrap();
        assert_eq!(
            hit.detail.as_deref(),
            Some("matched \u{201c}Bulk-Mailer\u{201d}")
        );
    }

    #[test]
    fn wrapper_message_shapes() {
        let set = rules(PATTERNS);
        let subject =
            String::from_utf8(example_message(set.get("CNT900").unwrap(), "ünïcode")).unwrap();
        assert!(
            subject.contains("Subject: =?UTF-8?B?w7xuw69jb2Rl?=\n"),
            "{subject}"
        );
        let header = String::from_utf8(example_message(set.get("CNT901").unwrap(), "X")).unwrap();
        assert!(
            header.contains("Content-Type: text/plain; charset=utf-8\nx-mailer: X\n\nHello.\n"),
            "{header}"
        );
        let body = String::from_utf8(example_message(set.get("CNT902").unwrap(), "café")).unwrap();
        assert!(
            body.ends_with("Content-Transfer-Encoding: 8bit\n\ncafé\n"),
            "{body}"
        );
        assert!(looks_parsed(&body));
    }

    fn looks_parsed(raw: &str) -> bool {
        let m = Message::parse(raw.as_bytes());
        m.facts.headers().len() >= 7 && m.facts.header_block.has_separator
    }

    #[test]
    fn long_subjects_fold_into_several_words() {
        let s = encode_words(&"é".repeat(40));
        assert_eq!(s.matches("=?UTF-8?B?").count(), 2);
        assert!(s.lines().all(|l| l.len() <= 76), "{s}");
    }

    #[test]
    fn selectors_restrict_the_run() {
        let r = run(&rules(PATTERNS), &Config::default(), &["CNT902".into()]);
        assert_eq!(r.rules, 1);
        assert!(r.all_passed());
    }

    /// Every example of every shipped rule behaves: `cargo test` fails on the first rule
    /// whose examples and code disagree.
    #[test]
    fn shipped_examples_behave() {
        let set = RuleSet::load(&[]).unwrap();
        let r = run(&set, &Config::default(), &[]);
        let failures: Vec<String> = r
            .failures()
            .map(|o| {
                format!(
                    "{} ({}) {} example #{}: fired={} {:?} {:?}\n{}",
                    o.id,
                    o.origin,
                    o.expect.as_str(),
                    o.index + 1,
                    o.fired,
                    o.detail,
                    o.error,
                    o.example
                )
            })
            .collect();
        assert!(
            failures.is_empty(),
            "{} example(s) misbehave:\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    }

    /// Every shipped rule documents itself with at least one example of each kind.
    #[test]
    fn shipped_rules_have_both_kinds_of_examples() {
        let set = RuleSet::load(&[]).unwrap();
        let r = run(&set, &Config::default(), &[]);
        // MDL002 fires only with a site model that has learnt 200 messages of each class;
        // tests/it/learn.rs teaches one and checks it.
        let without_match: Vec<&String> = r
            .without_match
            .iter()
            .filter(|id| *id != "MDL002")
            .collect();
        assert!(
            without_match.is_empty(),
            "rules without a `match` example: {:?}",
            without_match
        );
        assert!(
            r.without_no_match.is_empty(),
            "rules without a `no_match` example: {:?}",
            r.without_no_match
        );
    }
}
