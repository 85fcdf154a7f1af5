//! Rule packs: the YAML schema, loading with every problem reported at once, operator
//! overrides, and the compiled set the engine runs.
//!
//! A rule pack is a YAML file with a `rules:` list and/or an `overrides:` list:
//!
//! ```yaml
//! rules:
//!   - id: HDR001                       # family prefix + three digits, never reused
//!     name: missing-from-header        # kebab-case
//!     family: headers
//!     summary: The message has no From header
//!     why: RFC 5322 §3.6 requires exactly one From; Gmail refuses mail without one.
//!     fix: Add a From header with the sender's address.
//!     action: reject                   # or `score: 2.5`
//!     predicts: ["550 5.7.1 Messages missing a valid address in the From: header ..."]
//!     examples:                        # code rules: whole messages; pattern rules: text
//!       match: ["Subject: hi\n\nbody\n"]
//!       no_match: ["From: a@example.com\nSubject: hi\n\nbody\n"]
//!       # limits: { max_attachments: 2 }  # optional: limits the examples are checked under
//!       # answers: "example.org MX 0 ."     # optional: DNS answers for a rule that needs them
//!       # sending: { ips: [192.0.2.25] }    # optional: this MTA's addresses for the examples
//! overrides:
//!   - { id: HDR012, score: 0.5 }       # change a shipped rule without editing it
//!   - { id: HDR013, enabled: false }
//! ```
//!
//! Pattern rules add `literals` (a list of phrases) and/or `literals_file` (a phrase list,
//! one per line, relative to the pack's directory: shipped lists live in `rules/lists/`),
//! or `regex`; a `target` (`subject`, `body`, `any` for both, `header:NAME`) and `case`
//! (`insensitive`, the default, matches the normalised text and its de-obfuscated
//! form; `sensitive` matches the decoded text as written).
//!
//! A rule whose fix depends on where the defect is adds `fixes:`, a map from a place a
//! check names (`header`) to the fix for it (`fixes: { header: "Fold the field ..." }`);
//! `fix` stays the fix everywhere else.
//!
//! Meta rules combine other rules: `all_of`, `any_of` and `none_of` lists of ids. Helper
//! rules with `score: 0` can feed them without appearing in reports.

pub mod lists;
mod load;
mod meta;
pub mod pattern;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use serde_saphyr::Spanned;

use crate::error::{Error, ErrorKind};
use crate::report::Action;

use load::{Loader, problems_error, yaml_files};
pub use meta::MetaSpec;
pub use pattern::{Case, PatternSet, PatternSpec, Target};

/// The shipped rule packs and lists, compiled into the binary so it works from any
/// directory (written by `build.rs` from `rules/`).
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The shipped rule packs (`rules/*.yaml`), by path in the repository.
pub const SHIPPED: &[(&str, &str)] = embedded::PACKS;

/// Where a rule was defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// File path (shipped packs use their path in the repository).
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Examples that must and must not make the rule fire.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Examples {
    /// Inputs the rule must fire on.
    pub matching: Vec<String>,
    /// Inputs the rule must not fire on.
    pub not_matching: Vec<String>,
    /// Limits the examples are checked under instead of the configured ones, so a size
    /// rule can show a 2 KB message over a 1 KB limit rather than a 25 MB one.
    pub limits: Option<crate::config::Limits>,
    /// This MTA's addresses and EHLO name for the examples of a reputation or
    /// authentication rule (`sending:` of the configuration).
    pub sending: Option<crate::config::Sending>,
    /// DNS answers for the examples of a rule that needs the network, in the fixed-answer
    /// format of [`crate::dns::fixed`] (a name not listed does not exist).
    pub answers: Option<String>,
}

/// Phrase and data lists shipped with the rule packs (`literals_file: lists/NAME.txt`),
/// compiled into the binary like the packs.
pub const SHIPPED_LISTS: &[(&str, &str)] = embedded::LISTS;

/// Reads a phrase list: one phrase per line, `#` comments and blank lines ignored.
pub fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The text of list `rel` named by rule pack `file`: shipped lists from the binary, others
/// from disk relative to the pack's directory.
fn read_list(file: &str, rel: &str) -> Result<String, String> {
    if rel.contains("..") || rel.starts_with('/') {
        return Err(format!(
            "`literals_file` must be a relative path inside the pack's directory, not {rel:?}"
        ));
    }
    let dir = std::path::Path::new(file)
        .parent()
        .unwrap_or(std::path::Path::new(""));
    let path = dir.join(rel);
    let key = path.to_string_lossy().replace('\\', "/");
    if let Some((_, t)) = SHIPPED_LISTS.iter().find(|(n, _)| *n == key) {
        return Ok((*t).to_string());
    }
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read list {}: {e}", path.display()))
}

/// One rule with its documentation, as loaded (after overrides).
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Stable id (`HDR003`).
    pub id: String,
    /// Kebab-case name.
    pub name: String,
    /// Family name.
    pub family: String,
    /// One line.
    pub summary: String,
    /// The receiver behaviour that refuses it.
    pub why: String,
    /// What to change.
    pub fix: String,
    /// What to change when the defect is in a particular place (`header`), by the place
    /// a check names with `Ctx::hit_at` (in the crate's `checks`); `fix` everywhere else. Most
    /// rules have none.
    pub fixes: BTreeMap<String, String>,
    /// Score added when it fires (ignored for hard rejects).
    pub score: f64,
    /// Score or hard reject.
    pub action: Action,
    /// The replies it leads to.
    pub predicts: Vec<String>,
    /// The pattern, for pattern rules; `None` for rules implemented in code.
    pub pattern: Option<PatternSpec>,
    /// The combination, for meta rules.
    pub meta: Option<MetaSpec>,
    /// For a rule that scores a probability (the learned models): `(probability,
    /// fraction of score)` points, rising; the hit scores `score` times the fraction
    /// interpolated at its probability. Empty for every other rule.
    pub curve: Vec<(f64, f64)>,
    /// The evidence of other kinds the rule needs beside it to count (`corroboration:`),
    /// if any.
    pub corroboration: Option<Corroboration>,
    /// Examples.
    pub examples: Examples,
    /// Whether the rule runs.
    pub enabled: bool,
    /// Where it was defined.
    pub origin: Origin,
    /// Where it was last overridden, if it was.
    pub overridden_at: Option<Origin>,
}

/// What a rule needs beside it to count: a finding of at least `score` from a rule of
/// one of `families` (not the rule's own). A learned model's opinion alone does not make
/// a verdict; beside strong evidence of another kind it does.
#[derive(Clone, Debug, PartialEq)]
pub struct Corroboration {
    /// The smallest score of a corroborating finding.
    pub score: f64,
    /// The families whose findings corroborate.
    pub families: Vec<String>,
}

/// A problem found while loading rules, with its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadProblem {
    /// `file:line:column`.
    pub origin: Origin,
    /// The rule id concerned, or `-`.
    pub id: String,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.origin, self.id, self.problem)
    }
}

/// The loaded rules, in id order.
#[derive(Clone, Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    by_id: HashMap<String, usize>,
    lists: lists::Lists,
}

impl RuleSet {
    /// Loads the shipped packs, then every `.yaml` file of each local directory in order
    /// (new rules and overrides). All problems are collected and returned together.
    pub fn load(local_dirs: &[PathBuf]) -> Result<RuleSet, Error> {
        Self::load_with_profile(local_dirs, None)
    }

    /// The rules as `config` has them: its profile's overrides
    /// ([`crate::config::profile`]) and its rule directories.
    pub fn for_config(config: &crate::config::Config) -> Result<RuleSet, Error> {
        let profile = crate::config::Profile::find(&config.limits.profile, &config.rules_dirs)?;
        Self::load_with_profile(&config.rules_dirs, Some(&profile.source))
    }

    /// Loads the shipped packs, then the overrides of a receiver profile (`(file, text)`),
    /// then the local directories.
    pub fn load_with_profile(
        local_dirs: &[PathBuf],
        profile: Option<&(String, String)>,
    ) -> Result<RuleSet, Error> {
        let mut sources: Vec<(String, String)> = SHIPPED
            .iter()
            .map(|(f, t)| (f.to_string(), t.to_string()))
            .collect();
        let profile_at = profile.map(|p| {
            sources.push(p.clone());
            sources.len() - 1
        });
        let mut unreadable = Vec::new();
        for dir in local_dirs {
            for f in yaml_files(dir)? {
                match std::fs::read_to_string(&f) {
                    Ok(text) => sources.push((f.display().to_string(), text)),
                    Err(e) => unreadable.push(LoadProblem {
                        origin: Origin {
                            file: f.display().to_string(),
                            line: 1,
                            column: 1,
                        },
                        id: "-".into(),
                        problem: format!("cannot read: {e}"),
                    }),
                }
            }
        }
        // The packs and the data lists are both checked before anything is refused, so
        // one run shows every problem.
        let set = Self::collect(&sources, unreadable, profile_at);
        let lists = lists::Lists::load(local_dirs);
        match (set, lists) {
            (Ok(mut set), Ok(lists)) => {
                set.lists = lists;
                Ok(set)
            }
            (Ok(_), Err(e)) => Err(e),
            (Err(problems), Ok(_)) => Err(problems_error(&problems, None)),
            (Err(problems), Err(e)) => Err(problems_error(&problems, Some(&e))),
        }
    }

    /// Loads rule packs from `(file name, YAML text)` pairs, in order. Every problem of
    /// every pack is collected; the error lists them all, sorted by file, line and
    /// column.
    pub fn from_sources(sources: &[(String, String)]) -> Result<RuleSet, Error> {
        Self::collect(sources, Vec::new(), None).map_err(|p| problems_error(&p, None))
    }

    fn collect(
        sources: &[(String, String)],
        problems: Vec<LoadProblem>,
        profile_at: Option<usize>,
    ) -> Result<RuleSet, Vec<LoadProblem>> {
        let mut l = Loader {
            problems,
            rules: Vec::new(),
            by_id: HashMap::new(),
            defined: HashMap::new(),
            names: HashMap::new(),
        };
        for (i, (f, t)) in sources.iter().enumerate() {
            if Some(i) == profile_at {
                l.load_profile(f, t);
            } else {
                l.load_file(f, t);
            }
        }
        let meta_problems = meta::problems(&l.rules, &l.defined);
        l.problems.extend(meta_problems);
        // Regexes were compiled with the rest of each rule's fields.
        if !l.problems.is_empty() {
            let mut problems = l.problems;
            problems.sort_by(|a, b| {
                (&a.origin.file, a.origin.line, a.origin.column).cmp(&(
                    &b.origin.file,
                    b.origin.line,
                    b.origin.column,
                ))
            });
            return Err(problems);
        }
        let mut rules = l.rules;
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        let by_id = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        Ok(RuleSet {
            rules,
            by_id,
            lists: lists::Lists::shipped(),
        })
    }

    /// The data lists code rules read (brands, abused TLDs).
    pub fn lists(&self) -> &lists::Lists {
        &self.lists
    }

    /// All rules, in id order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// A rule by id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.by_id.get(id).map(|&i| &self.rules[i])
    }

    /// Index of a rule by id.
    pub fn index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Ids of rules that have no pattern (their logic is in code).
    pub fn code_rule_ids(&self) -> HashSet<&str> {
        self.rules
            .iter()
            .filter(|r| r.pattern.is_none())
            .map(|r| r.id.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `build.rs` embeds every file under `rules/` and `rules/lists/`; each pack is a
    /// family's, and each family but the network ones has its pack.
    #[test]
    fn the_embedded_packs_are_the_families() {
        let stems: Vec<&str> = SHIPPED
            .iter()
            .map(|(p, _)| {
                p.strip_prefix("rules/")
                    .and_then(|p| p.strip_suffix(".yaml"))
                    .unwrap()
            })
            .collect();
        for s in &stems {
            assert!(crate::family::named(s).is_some(), "pack {s} is no family");
        }
        for f in crate::family::FAMILIES.iter().filter(|f| !f.network) {
            assert!(stems.contains(&f.name), "family {} has no pack", f.name);
        }
        assert!(SHIPPED_LISTS.len() >= 30);
        assert!(
            SHIPPED_LISTS
                .iter()
                .all(|(p, t)| p.starts_with("rules/lists/") && !t.is_empty())
        );
    }

    fn load(y: &str) -> Result<RuleSet, Error> {
        RuleSet::from_sources(&[("t.yaml".into(), y.into())])
    }

    const GOOD: &str = "rules:\n  - id: HDR900\n    name: test-rule\n    family: headers\n    summary: s\n    why: w\n    fix: f\n    score: 1.5\n    predicts: \"550 5.7.1 no\"\n";

    #[test]
    fn loads_a_good_rule() {
        let s = load(GOOD).unwrap();
        let r = s.get("HDR900").unwrap();
        assert_eq!(r.score, 1.5);
        assert_eq!(r.predicts, vec!["550 5.7.1 no"]);
        assert_eq!(r.origin.line, 2);
    }

    #[test]
    fn corroboration_is_read_and_checked() {
        let s = load(&format!(
            "{GOOD}    corroboration: {{score: 2.5, families: [content, links]}}\n"
        ))
        .unwrap();
        assert_eq!(
            s.get("HDR900").unwrap().corroboration,
            Some(Corroboration {
                score: 2.5,
                families: vec!["content".into(), "links".into()]
            })
        );
        for bad in [
            "{score: 0, families: [content]}",
            "{score: 2, families: [contents]}",
            "{score: 2}",
            "{score: 2, families: [content], extra: 1}",
        ] {
            let e = load(&format!("{GOOD}    corroboration: {bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("`corroboration` must be"), "{bad}: {e}");
        }
    }

    #[test]
    fn reports_every_problem_with_places() {
        let y = "rules:\n  - id: HDR9\n    name: Bad_Name\n    family: headers\n    summary: s\n    why: w\n    fix: f\n    score: 1\n    predicts: [\"550 5.7.1 x\"]\n    colour: red\n  - id: CNT900\n    name: bad-regex\n    family: content\n    summary: s\n    why: w\n    fix: f\n    score: 1\n    predicts: [\"554 5.7.1\"]\n    regex: \"(\"\n    target: body\n";
        let e = load(y).unwrap_err().to_string();
        assert!(e.contains("t.yaml:2:"), "{e}");
        assert!(e.contains("HDR9: id must be"), "{e}");
        assert!(e.contains("not kebab-case"), "{e}");
        assert!(
            e.contains("t.yaml:10:") && e.contains("unknown field `colour`"),
            "{e}"
        );
        assert!(e.contains("CNT900: invalid regex"), "{e}");
    }

    fn meta_pack(extra: &str) -> String {
        let rule = |id: &str, name: &str, body: &str| {
            format!(
                "  - id: {id}\n    name: {name}\n    family: content\n    summary: {name}\n    why: w\n    fix: f\n    predicts: [\"554 5.7.1 x\"]\n{body}"
            )
        };
        let mut y = String::from("rules:\n");
        y += &rule(
            "CNT900",
            "urgent-words",
            "    score: 0\n    literals: [\"act now\"]\n    target: body\n",
        );
        y += &rule(
            "CNT901",
            "password-words",
            "    score: 0\n    literals: [\"your password\"]\n    target: body\n",
        );
        y += &rule(
            "CNT902",
            "urgent-password",
            "    score: 4\n    all_of: [CNT900, CNT901]\n    none_of: [CNT903]\n",
        );
        y += &rule(
            "CNT903",
            "receipt-words",
            "    score: 0\n    literals: [\"order number\"]\n    target: body\n",
        );
        y += extra;
        y
    }

    #[test]
    fn meta_rules_combine_helpers() {
        let mut sources: Vec<(String, String)> = SHIPPED
            .iter()
            .map(|(f, t)| (f.to_string(), t.to_string()))
            .collect();
        sources.push(("t.yaml".into(), meta_pack("")));
        let set = RuleSet::from_sources(&sources).unwrap();
        assert_eq!(
            set.get("CNT902").unwrap().meta.as_ref().unwrap().all_of,
            ["CNT900", "CNT901"]
        );
        let engine = crate::Engine::with_rules(
            crate::Config {
                select: vec!["CNT902".into()],
                ..Default::default()
            },
            set,
        )
        .unwrap();
        let check = |body: &str| {
            let raw = format!("From: a@example.com\nSubject: x\n\n{body}\n");
            engine
                .check(raw.as_bytes(), &crate::Envelope::default())
                .rule_ids()
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        };
        // Helpers run for the selected meta rule but, with score 0, stay out of the report.
        assert_eq!(check("Act now: confirm your password."), ["CNT902"]);
        assert!(check("Act now!").is_empty());
        assert!(
            check("Act now: your password for order number 5.").is_empty(),
            "none_of vetoes"
        );
        let e = load(&meta_pack("  - id: CNT904\n    name: broken\n    family: content\n    summary: s\n    why: w\n    fix: f\n    score: 1\n    predicts: [\"554 5.7.1 x\"]\n    all_of: [CNT999, CNT904]\n")).unwrap_err().to_string();
        assert!(
            e.contains("CNT904: meta rule refers to unknown rule `CNT999`"),
            "{e}"
        );
        assert!(e.contains("CNT904: meta rule depends on itself"), "{e}");
    }

    #[test]
    fn duplicate_ids_and_overrides() {
        let dup = RuleSet::from_sources(&[
            ("a.yaml".into(), GOOD.into()),
            ("b.yaml".into(), GOOD.into()),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            dup.contains("b.yaml:2:") && dup.contains("duplicate id (first defined at a.yaml:2:"),
            "{dup}"
        );
        let ov = "overrides:\n  - { id: HDR900, action: reject }\n  - { id: HDR999, score: 1 }\n";
        let e =
            RuleSet::from_sources(&[("a.yaml".into(), GOOD.into()), ("o.yaml".into(), ov.into())])
                .unwrap_err()
                .to_string();
        assert!(
            e.contains("o.yaml:3:")
                && e.contains("HDR999: override for a rule that does not exist"),
            "{e}"
        );
        let ov = "overrides:\n  - { id: HDR900, action: reject }\n";
        let s =
            RuleSet::from_sources(&[("a.yaml".into(), GOOD.into()), ("o.yaml".into(), ov.into())])
                .unwrap();
        assert_eq!(s.get("HDR900").unwrap().action, Action::Reject);
    }

    /// Every problem of every pack in one run, sorted by place: a broken rule still
    /// claims its id (so its duplicate shows now, not after the fix), a regex is compiled
    /// alongside the rule's other problems, a syntax error in one file hides nothing of
    /// the others, and a value YAML reads as a boolean is named as one.
    #[test]
    fn every_problem_of_every_pack_at_once() {
        let rule = |id: &str, name: &str, body: &str| {
            format!(
                "  - id: {id}\n    name: {name}\n    family: content\n    summary: s\n    score: 1\n    predicts: [\"554 5.7.1 x\"]\n{body}"
            )
        };
        let a = format!(
            "rules:\n{}{}",
            rule(
                "CNT900",
                "first",
                "    why: y\n    fix: f\n    literals: [abc]\n    target: body\n"
            ),
            rule(
                "CNT901",
                "bad-regex",
                "    why: w\n    regex: \"(\"\n    target: bodyy\n"
            ),
        );
        let b = format!(
            "rules:\n{}{}{}overrides:\n  - {{ id: CNT900, score: lots }}\n  - {{ id: CNT999, score: 1 }}\n",
            rule(
                "CNT900",
                "second",
                "    why: w\n    fix: f\n    literals: [abc]\n    target: body\n"
            ),
            rule(
                "CNT902",
                "meta",
                "    why: w\n    fix: f\n    any_of: [CNT901]\n"
            ),
            rule(
                "CNT903",
                "quoted",
                "    why: w\n    fix: f\n    literals: [abc, no]\n    target: body\n"
            ),
        );
        let e = RuleSet::from_sources(&[
            ("a.yaml".into(), a),
            ("b.yaml".into(), b),
            ("c.yaml".into(), "rules:\n  - id: [\n".into()),
        ])
        .unwrap_err()
        .to_string();
        let lines: Vec<&str> = e.lines().skip(1).collect();
        let want = [
            "a.yaml:8:10: CNT900: `why` is a boolean (y reads as true in YAML), quote it: why: \"y\"",
            "a.yaml:12:5: CNT901: missing required field `fix`",
            "a.yaml:19:12: CNT901: invalid regex: unclosed group",
            "a.yaml:20:13: CNT901: `target` must be",
            "b.yaml:2:5: CNT900: duplicate id (first defined at a.yaml:2:5)",
            // CNT902 is a meta rule on CNT901: the broken rule exists, so no problem.
            "b.yaml:29:15: CNT903: `literals` holds a boolean",
            "b.yaml:32:26: CNT900: `score` must be a number",
            "b.yaml:33:5: CNT999: override for a rule that does not exist",
            "c.yaml:2:9: -: unclosed bracket '['",
        ];
        assert_eq!(lines.len(), want.len(), "{e}");
        for (got, want) in lines.iter().zip(want) {
            assert!(
                got.starts_with(want),
                "expected {want:?}, got {got:?} in:\n{e}"
            );
        }
        assert!(e.starts_with("9 problem(s) in rule packs:\n"), "{e}");
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let e = load("rules:\n  - id: [\n").unwrap_err().to_string();
        assert!(e.contains("t.yaml:"), "{e}");
    }

    #[test]
    fn shipped_packs_load() {
        let s = RuleSet::load(&[]).unwrap();
        assert!(s.get("CNT001").is_some());
    }
}
