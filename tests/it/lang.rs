//! The non-English test set (`tests/fixtures/lang/`, 126 messages in seven languages,
//! written for the project from public examples; see its README): the whole engine over
//! every message, figures per language and label. Nothing is tuned on it message by
//! message: it measures how the rules written from each language's own spam wording,
//! and the model's abstention on languages it has not learnt, hold on mail they never
//! saw.
//!
//! Fails when a legitimate message is refused, when more than one is flagged, or when
//! fewer bad messages are caught than the floor below (the figures reached, less a
//! margin).

use std::collections::BTreeMap;

use preflight::{Envelope, Verdict};

use crate::support::{engine, path};

/// The share of spam and phishing flagged or refused, over all seven languages, that a
/// change must not fall below (reached: 42.9%, from 28.6% before the phrase lists).
const BAD_CAUGHT_FLOOR: f64 = 40.0;

#[test]
fn non_english_test_set() {
    let root = path("tests/fixtures/lang");
    let labels = std::fs::read_to_string(root.join("LABELS.tsv")).expect("LABELS.tsv");
    let engine = engine();
    // (language, good or bad) -> [pass, flag, reject]
    let mut table: BTreeMap<(String, &str), [u32; 3]> = BTreeMap::new();
    let mut refused_good = Vec::new();
    for line in labels.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [path, lang, label, ..] = cols[..] else {
            panic!("LABELS.tsv: bad line {line:?}");
        };
        let raw = std::fs::read(root.join(path)).expect("message file");
        let report = engine.check(&raw, &Envelope::default());
        assert!(
            report.internal_errors.is_empty(),
            "{path}: {:?}",
            report.internal_errors
        );
        let class = if matches!(label, "spam" | "phish") {
            "bad"
        } else {
            "good"
        };
        let k = match report.verdict {
            Verdict::Pass => 0,
            Verdict::Flag => 1,
            Verdict::Reject => 2,
        };
        if class == "good" && k > 0 {
            refused_good.push(format!("{path}: {:?}", report.verdict));
        }
        for key in [lang, "all"] {
            table.entry((key.to_string(), class)).or_default()[k] += 1;
        }
    }
    println!("\nnon-English test set: the whole engine");
    println!(
        "{:<5} {:<5} {:>4} {:>5} {:>5} {:>7} {:>8}",
        "lang", "class", "n", "pass", "flag", "reject", "caught"
    );
    for ((lang, class), [p, f, r]) in &table {
        let n = p + f + r;
        println!(
            "{lang:<5} {class:<5} {n:>4} {p:>5} {f:>5} {r:>7} {:>7.1}%",
            100.0 * f64::from(f + r) / f64::from(n.max(1))
        );
    }
    let [_, _, rejected] = table[&("all".to_string(), "good")];
    assert_eq!(rejected, 0, "legitimate mail refused: {refused_good:?}");
    assert!(
        refused_good.len() <= 1,
        "legitimate mail flagged: {refused_good:?}"
    );
    let [p, f, r] = table[&("all".to_string(), "bad")];
    let caught = 100.0 * f64::from(f + r) / f64::from(p + f + r);
    assert!(
        caught >= BAD_CAUGHT_FLOOR,
        "spam and phishing caught {caught:.1}% < {BAD_CAUGHT_FLOOR}%"
    );
}
