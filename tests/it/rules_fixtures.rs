//! Fixture messages per rule, checked by the whole engine with every rule on.
//!
//! `tests/fixtures/rules/<ID>-<what>.eml` must make rule `<ID>` fire; `<what>` says in a
//! few lowercase words what the case is (`ATT010-exe-inside-zip`). A fixture named
//! `<ID>-no-match-<what>.eml` is a case the rule must leave alone (real domains next to
//! the ones RCPT005 takes typos of). Its full JSON report is compared
//! with `<ID>-<what>.json` (evidence spans, messages, the other rules that fire too). An
//! optional `<ID>-<what>.yaml` is the configuration to check it under (size limits), and
//! an optional `<ID>-<what>.smtp` the envelope, as an SMTP transcript ended by `DATA`
//! (`XCLIENT LOGIN=...`, `MAIL FROM:<...>`, `RCPT TO:<...>`, as rule examples write it).
//! With an optional `<ID>-<what>.dns` (fixed DNS answers, `preflight::dns::fixed`'s
//! format) the fixture is checked online, as `check --dns-answers` does.
//! After an intended change, regenerate the expected reports with
//! `PREFLIGHT_BLESS=1 cargo test --test tests it::rules_fixtures::` and review the diff.

use std::collections::BTreeSet;
use std::path::Path;

use preflight::{Config, Engine, Envelope};

use crate::support::{NOW, read_text, rule_fixtures};

fn rule_of(p: &Path) -> String {
    let stem = p.file_stem().unwrap().to_str().unwrap();
    stem.split('-').next().unwrap().to_string()
}

/// Whether fixture `p` is a case its rule must not fire on (`<ID>-no-match-<what>`).
fn no_match(p: &Path) -> bool {
    let stem = p.file_stem().unwrap().to_str().unwrap();
    stem.split_once('-')
        .is_some_and(|(_, what)| what.starts_with("no-match-"))
}

fn envelope_for(p: &Path) -> Envelope {
    std::fs::read_to_string(p.with_extension("smtp"))
        .map(|t| preflight::engine::examples::split_transcript(&t).0)
        .unwrap_or_default()
}

fn engine_for(p: &Path) -> Engine {
    let cfg = p.with_extension("yaml");
    let mut config = if cfg.exists() {
        Config::from_file(&cfg).unwrap()
    } else {
        Config::default()
    };
    config.now = Some(NOW);
    Engine::new(config).unwrap()
}

/// The report on `raw` (fixture `p` or a variant of it): online with the fixture's DNS
/// answers when it has them.
fn check(engine: &Engine, p: &Path, raw: &[u8]) -> preflight::Report {
    let dns = p.with_extension("dns");
    if dns.exists() {
        let zone = preflight::dns::Fixed::from_file(&dns).unwrap();
        engine.check_online(raw, &envelope_for(p), &zone)
    } else {
        engine.check(raw, &envelope_for(p))
    }
}

#[test]
fn fixtures_match_their_expected_reports() {
    let bless = std::env::var_os("PREFLIGHT_BLESS").is_some();
    let mut failures = Vec::new();
    for p in rule_fixtures() {
        let raw = std::fs::read(&p).unwrap();
        let report = check(&engine_for(&p), &p, &raw);
        let id = rule_of(&p);
        if report.findings.iter().any(|f| f.id == id) == no_match(&p) {
            let does = if no_match(&p) {
                "fires"
            } else {
                "does not fire"
            };
            failures.push(format!(
                "{}: {id} {does} (got {:?})",
                p.display(),
                report.rule_ids()
            ));
            continue;
        }
        let got = serde_json::to_string_pretty(&report).unwrap() + "\n";
        let want_path = p.with_extension("json");
        if bless {
            std::fs::write(&want_path, &got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&want_path) {
            Ok(want) if want == got => {}
            Ok(_) => {
                std::fs::write(p.with_extension("actual.json"), &got).unwrap();
                failures.push(format!(
                    "{}: report differs from {} (see the .actual.json beside it; PREFLIGHT_BLESS=1 to accept)",
                    p.display(),
                    want_path.display()
                ));
            }
            Err(_) => failures.push(format!(
                "{}: no expected report (run with PREFLIGHT_BLESS=1)",
                p.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Line endings do not change the findings: a fixture written with LF and the same
/// message with CRLF give the same rules, except for the rules about line endings.
#[test]
fn fixtures_give_the_same_rules_with_lf_and_crlf() {
    for p in rule_fixtures() {
        let id = rule_of(&p);
        if ["ENC002", "ENC003"].contains(&id.as_str()) {
            continue;
        }
        let raw = std::fs::read(&p).unwrap();
        let lf: Vec<u8> = String::from_utf8_lossy(&raw)
            .replace("\r\n", "\n")
            .into_bytes();
        if String::from_utf8(raw.clone()).is_err() || lf.contains(&b'\r') {
            continue; // binary or bare-CR fixtures: no lossless conversion
        }
        let crlf = String::from_utf8(lf.clone())
            .unwrap()
            .replace('\n', "\r\n")
            .into_bytes();
        let e = engine_for(&p);
        let a = check(&e, &p, &lf);
        let b = check(&e, &p, &crlf);
        let ids = |r: &preflight::Report| {
            r.findings
                .iter()
                .map(|f| f.id.clone())
                .collect::<BTreeSet<_>>()
        };
        // Size limits count bytes, so CRLF may add a size finding; nothing else may differ.
        let strip = |s: BTreeSet<String>| {
            s.into_iter()
                .filter(|i| !i.starts_with("SIZE"))
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(strip(ids(&a)), strip(ids(&b)), "{}", p.display());
        assert_eq!(
            ids(&b).contains(&id),
            !no_match(&p),
            "{}: {id} must do with CRLF what it does with LF",
            p.display()
        );
    }
}

/// Every rule implemented in code has at least one fixture.
#[test]
fn every_code_rule_has_a_fixture() {
    let engine = Engine::new(Config::default()).unwrap();
    let have: BTreeSet<String> = rule_fixtures()
        .iter()
        .filter(|p| !no_match(p))
        .map(|p| rule_of(p))
        .collect();
    let missing: Vec<&str> = engine
        .rules()
        .rules()
        .iter()
        .filter(|r| r.pattern.is_none() && r.meta.is_none() && !have.contains(&r.id))
        // MDL002 needs a site model that has learnt 200 messages of each class:
        // tests/it/learn.rs teaches one and checks the rule.
        .filter(|r| r.id != "MDL002")
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "code rules without a fixture in tests/fixtures/rules: {missing:?}"
    );
}

/// The engine refuses to start when the ids implemented in code and the YAML entries
/// without a pattern disagree (that they agree for the shipped rules is a unit test of the
/// engine, where the checks are visible).
#[test]
fn code_and_yaml_ids_must_agree() {
    // A YAML code rule that nothing implements is an error naming it.
    let orphan = "rules:\n  - id: HDR099\n    name: orphan\n    family: headers\n    summary: s\n    why: w\n    fix: f\n    score: 1\n    predicts: [\"554 5.7.1 x\"]\n    examples: { match: [\"x\"], no_match: [\"y\"] }\n";
    let mut sources = vec![("orphan.yaml".to_string(), orphan.to_string())];
    for f in [
        "size", "headers", "encoding", "mime", "bulk", "content", "html", "links",
    ] {
        let rel = format!("rules/{f}.yaml");
        let text = read_text(&rel);
        sources.push((rel, text));
    }
    let set = preflight::rules::RuleSet::from_sources(&sources).unwrap();
    let err = Engine::with_rules(Config::default(), set)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HDR099") && err.contains("no code implements it"),
        "{err}"
    );

    // A code rule whose YAML entry is missing is an error too.
    let without: Vec<(String, String)> = sources[1..]
        .iter()
        .filter(|(n, _)| !n.ends_with("size.yaml"))
        .cloned()
        .collect();
    let set = preflight::rules::RuleSet::from_sources(&without).unwrap();
    let err = Engine::with_rules(Config::default(), set)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("SIZE001: implemented in code but has no YAML entry"),
        "{err}"
    );
}
