//! The learned content model measured like someone who cannot see the test (run by
//! `.ci/run`, not by `cargo test` on a fresh clone, which has no corpus):
//!
//! ```text
//! cargo test --release --test tests -- --ignored --nocapture it::model_sweep::
//! ```
//!
//! * **Source held out**: for each source of `../shared/corpus`, a model trained without
//!   any of its messages (and without the validation slice), then the whole engine with
//!   that model over every ham, ham-bulk, spam and phish message of the source.
//! * **Out of fold** (the tuning part only): five models, each trained without one fifth
//!   of the tuning part, each judging the fifth it never saw. With
//!   `PREFLIGHT_MODEL_GRID=1` it also prints what other MDL001 curves would give there:
//!   the curve is chosen on these figures, never on the validation slice. With
//!   `PREFLIGHT_SWEEP_FP=1` it lists the ham and ham-bulk it flags or refuses (here and
//!   held out by source, the tuning part only).
//!
//! The shipped model's own figures on the validation slice are in the corpus sweep.
//! Fails when a held-out source's ham or ham-bulk is rejected more than 0.3%, or its
//! figures fall behind those reached (`REACHED`).

use std::collections::BTreeMap;
use std::path::Path;

use preflight::model::corpus::{self, Row, Selection};
use preflight::model::{Curve, LinearModel, TrainOptions, tokens};
use preflight::{Config, Engine, Envelope, Verdict};

use crate::support::{NOW, corpus_dir, path};

/// An engine whose content model is `model` (written to a file, as users give one).
fn engine_with(model: &LinearModel, name: &str, ignore: &[&str]) -> Engine {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("model-sweep-{name}.model"));
    std::fs::write(&path, model.to_bytes()).unwrap();
    let mut config = Config {
        now: Some(NOW),
        ignore: ignore.iter().map(|s| s.to_string()).collect(),
        ..Config::default()
    };
    config.model.content = Some(path);
    Engine::new(config).expect("engine builds")
}

/// [pass, flag, reject] counts by key.
type Table = BTreeMap<(String, String), [u64; 3]>;

fn count(table: &mut Table, key: (String, String), v: Verdict) {
    let k = match v {
        Verdict::Pass => 0,
        Verdict::Flag => 1,
        Verdict::Reject => 2,
    };
    table.entry(key).or_default()[k] += 1;
}

fn print(title: &str, table: &Table) {
    println!("\n{title}");
    println!(
        "{:<22} {:<9} {:>6} {:>8} {:>8} {:>8} {:>9}",
        "source", "label", "n", "pass", "flag", "reject", "caught"
    );
    for ((src, label), [p, f, r]) in table {
        let n = (p + f + r).max(1) as f64;
        let pct = |x: u64| 100.0 * x as f64 / n;
        println!(
            "{src:<22} {label:<9} {:>6} {:>7.2}% {:>7.2}% {:>7.2}% {:>8.2}%",
            p + f + r,
            pct(*p),
            pct(*f),
            pct(*r),
            pct(f + r)
        );
    }
}

/// MDL001's probability for `raw` and what the engine without MDL001 makes of it.
fn judged(model: &LinearModel, rest: &Engine, raw: &[u8], r: &Row) -> Judged {
    let msg = preflight::message::Message::parse_with(raw, 10_000);
    let a = tokens::analyse(&msg);
    let p = if model.judges(a.lang) {
        model.probability(&a.buckets)
    } else {
        0.0
    };
    let o = rest.check(raw, &Envelope::default());
    let hard = o
        .findings
        .iter()
        .any(|f| f.action == preflight::Action::Reject);
    // What could corroborate MDL001: its families' strongest finding and their sum.
    let families = rest
        .rules()
        .rules()
        .iter()
        .find(|r| r.id == "MDL001")
        .and_then(|r| r.corroboration.as_ref())
        .map(|c| c.families.clone())
        .unwrap_or_default();
    let (mut best, mut sum) = (0.0f64, 0.0f64);
    for f in o.findings.iter().filter(|f| families.contains(&f.family)) {
        let s = if f.action == preflight::Action::Reject {
            f64::INFINITY
        } else {
            f.score
        };
        best = best.max(s);
        sum += s;
    }
    Judged {
        label: r.label.clone(),
        source: r.source.clone(),
        p,
        rest: o.score,
        hard,
        best,
        sum,
    }
}

/// One message as the grid sees it: label, source, MDL001's probability, the rest of
/// the engine's score, whether the rest rejects on its own, and the strongest finding and
/// the sum of findings in the families that corroborate MDL001.
struct Judged {
    label: String,
    source: String,
    p: f64,
    rest: f64,
    hard: bool,
    best: f64,
    sum: f64,
}

fn read(dir: &Path, r: &Row) -> Vec<u8> {
    std::fs::read(dir.join(&r.path)).unwrap()
}

/// Source-held-out figures reached (flagged-or-rejected %, by source and label): a
/// regression past them fails. Ham may be flagged at most 1 point more, spam and
/// phishing caught at most 2 points less; ham is never rejected more than 0.3%. The
/// issue's target (ham flagged <= 1%) is not reached for every source: see DESIGN.md.
const REACHED: &[(&str, &str, f64)] = &[
    ("csdmc2010", "ham", 0.0),
    ("csdmc2010", "spam", 79.59),
    ("foff-milter", "ham-bulk", 2.05),
    ("foff-milter", "spam", 73.71),
    ("mlist-openbmc", "ham", 0.0),
    ("mlist-usrp", "ham", 0.0),
    ("phishing-pot-dev", "phish", 80.40),
    ("sa-public", "ham", 0.96),
    ("sa-public", "spam", 88.17),
    ("sa-tdata", "ham-bulk", 10.0),
];

/// The problems of a table: ham over the figures reached, spam under them.
fn problems(table: &Table) -> Vec<String> {
    let mut out = Vec::new();
    for ((src, label), [p, f, r]) in table {
        let n = (p + f + r).max(1) as f64;
        let (rej, caught) = (100.0 * *r as f64 / n, 100.0 * (f + r) as f64 / n);
        let reached = REACHED
            .iter()
            .find(|(s, l, _)| s == src && l == label)
            .map(|t| t.2);
        match label.as_str() {
            "ham" | "ham-bulk" => {
                if rej > 0.3 {
                    out.push(format!("{src} {label}: rejected {rej:.2}% > 0.3%"));
                }
                if let Some(x) = reached
                    && caught > x + 1.0
                {
                    out.push(format!("{src} {label}: flagged {caught:.2}% > {x:.2}% + 1"));
                }
            }
            _ => {
                if let Some(x) = reached
                    && caught < x - 2.0
                {
                    out.push(format!("{src} {label}: caught {caught:.2}% < {x:.2}% - 2"));
                }
            }
        }
    }
    out
}

type Seen = Vec<Judged>;

/// What other MDL001 curves and corroboration bars would give on `seen`
/// (PREFLIGHT_MODEL_GRID=1).
fn print_grid(title: &str, seen: &Seen) {
    let config = Config::default();
    let (flag, reject) = (config.thresholds.flag, config.thresholds.reject);
    println!(
        "\nMDL001 curves [p0, p1, p2] -> [0, top/2, top] and corroboration bars, {title}; flagged/rejected, caught:"
    );
    // A bar: one finding of that score (`one`), or the family sum of that score (`sum`).
    let bars: [(&str, f64); 7] = [
        ("none", 0.0),
        ("one", 1.5),
        ("one", 2.0),
        ("one", 2.5),
        ("sum", 2.0),
        ("sum", 2.5),
        ("sum", 3.0),
    ];
    for (a, b, c) in [
        (0.9, 0.97, 0.995),
        (0.95, 0.99, 0.999),
        (0.97, 0.995, 0.9995),
    ] {
        for top in [3.0, 4.0, 5.0, 6.0] {
            for (kind, bar) in bars {
                let curve = Curve(vec![(a, 0.0), (b, top / 2.0), (c, top)]);
                let mut t = Table::new();
                for j in seen {
                    let held = match kind {
                        "one" => j.best >= bar,
                        "sum" => j.sum >= bar,
                        _ => true,
                    };
                    let s = j.rest + if held { curve.at(j.p) } else { 0.0 };
                    let v = if j.hard || s >= reject {
                        Verdict::Reject
                    } else if s >= flag {
                        Verdict::Flag
                    } else {
                        Verdict::Pass
                    };
                    count(&mut t, ("all".into(), j.label.clone()), v);
                    count(&mut t, (j.source.clone(), j.label.clone()), v);
                }
                let cell = |src: &str, l: &str| {
                    let [p, f, r] = t
                        .get(&(src.to_string(), l.to_string()))
                        .copied()
                        .unwrap_or_default();
                    let n = (p + f + r).max(1) as f64;
                    (100.0 * f as f64 / n, 100.0 * r as f64 / n)
                };
                let (hf, hr) = cell("all", "ham");
                let (bf, br) = cell("all", "ham-bulk");
                let (sf, sr) = cell("all", "spam");
                let (pf, pr) = cell("all", "phish");
                let (ff, fr) = cell("foff-milter", "ham-bulk");
                println!(
                    "  [{a}, {b}, {c}] top {top} {kind} {bar}: ham {hf:.2}/{hr:.2}  ham-bulk {bf:.2}/{br:.2} (foff {ff:.2}/{fr:.2})  spam {:.2}  phish {:.2}",
                    sf + sr,
                    pf + pr
                );
            }
        }
    }
}

#[test]
#[ignore = "needs ../shared/corpus; run by .ci/run"]
fn source_held_out() {
    let Some(dir) = corpus_dir() else {
        panic!("no corpus at ../shared/corpus (set PREFLIGHT_CORPUS)");
    };
    let rows = corpus::read_manifest(&std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap());
    let mut sources: Vec<&str> = rows
        .iter()
        .filter(|r| r.is_spam().is_some())
        .map(|r| r.source.as_str())
        .collect();
    sources.sort_unstable();
    sources.dedup();
    let env = Envelope::default();
    let grid = std::env::var_os("PREFLIGHT_MODEL_GRID").is_some();
    let show_fp = std::env::var_os("PREFLIGHT_SWEEP_FP").is_some();
    let slice = corpus::validation_slice(&rows);
    let mut seen = Seen::new();
    let mut table = Table::new();
    for src in sources {
        let sel = Selection {
            exclude_sources: vec![src.to_string()],
            include_validation: false,
        };
        let train = corpus::training_rows(&rows, &sel);
        let model = corpus::train(&dir, &train, &TrainOptions::default())
            .unwrap()
            .model;
        let engine = engine_with(&model, src, &[]);
        let rest = grid.then(|| engine_with(&model, &format!("{src}-rest"), &["MDL001"]));
        for r in rows
            .iter()
            .filter(|r| r.source == src && r.is_spam().is_some())
        {
            let raw = read(&dir, r);
            let rep = engine.check(&raw, &env);
            count(&mut table, (src.to_string(), r.label.clone()), rep.verdict);
            if show_fp
                && !slice.contains(&r.path)
                && r.is_spam() == Some(false)
                && rep.verdict != Verdict::Pass
            {
                let ids: Vec<&str> = rep.findings.iter().map(|f| f.id.as_str()).collect();
                println!(
                    "  {:?} {} {}: {} {ids:?}",
                    rep.verdict, r.label, r.path, rep.score
                );
            }
            // Curves are compared on the tuning part only.
            if let Some(rest) = rest.as_ref().filter(|_| !slice.contains(&r.path)) {
                seen.push(judged(&model, rest, &raw, r));
            }
        }
    }
    if grid {
        print_grid("sources held out (their tuning part)", &seen);
    }
    print(
        "source held out: the whole engine, its content model trained without the source",
        &table,
    );
    let p = problems(&table);
    assert!(p.is_empty(), "held-out sources out of bounds: {p:?}");
}

#[test]
#[ignore = "needs ../shared/corpus; run by .ci/run"]
fn out_of_fold_on_the_tuning_part() {
    let Some(dir) = corpus_dir() else {
        panic!("no corpus at ../shared/corpus (set PREFLIGHT_CORPUS)");
    };
    let rows = corpus::read_manifest(&std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap());
    let tuning = corpus::training_rows(&rows, &Selection::default());
    let fold = |r: &Row| corpus::seeded_hash("preflight-fold-1", &r.path) % 5;
    // The tuning part's ham that does not pass, listed (never the validation slice).
    let show_fp = std::env::var_os("PREFLIGHT_SWEEP_FP").is_some();
    let env = Envelope::default();
    let grid = std::env::var_os("PREFLIGHT_MODEL_GRID").is_some();
    let mut table = Table::new();
    // Per message: label, source, probability, the rest of the engine's score and
    // whether it rejects on its own.
    let mut seen = Seen::new();
    for k in 0..5 {
        let train: Vec<Row> = tuning.iter().filter(|r| fold(r) != k).cloned().collect();
        let model = corpus::train(&dir, &train, &TrainOptions::default())
            .unwrap()
            .model;
        let engine = engine_with(&model, &format!("fold{k}"), &[]);
        let rest = grid.then(|| engine_with(&model, &format!("fold{k}-rest"), &["MDL001"]));
        for r in tuning.iter().filter(|r| fold(r) == k) {
            let raw = read(&dir, r);
            let rep = engine.check(&raw, &env);
            if show_fp && r.is_spam() == Some(false) && rep.verdict != Verdict::Pass {
                let ids: Vec<&str> = rep.findings.iter().map(|f| f.id.as_str()).collect();
                println!(
                    "  {:?} {} {}: {} {ids:?}",
                    rep.verdict, r.label, r.path, rep.score
                );
            }
            count(&mut table, ("all".into(), r.label.clone()), rep.verdict);
            count(&mut table, (r.source.clone(), r.label.clone()), rep.verdict);
            if let Some(rest) = &rest {
                seen.push(judged(&model, rest, &raw, r));
            }
        }
    }
    print(
        "out of fold (tuning part, five folds): the whole engine, each fold judged by a model that never saw it",
        &table,
    );
    if grid {
        print_grid("out-of-fold tuning part", &seen);
    }
}

/// The content model alone, each source held out: the share of each label above a few
/// probabilities (for comparing tokenisations and training options; prints only).
#[test]
#[ignore = "needs ../shared/corpus; run by hand"]
fn model_alone_per_source_held_out() {
    let Some(dir) = corpus_dir() else {
        panic!("no corpus at ../shared/corpus (set PREFLIGHT_CORPUS)");
    };
    let rows = corpus::read_manifest(&std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap());
    let slice = corpus::validation_slice(&rows);
    let opt = TrainOptions {
        epochs: std::env::var("PM_EPOCHS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(12),
        l2: std::env::var("PM_L2")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1e-5),
        ..TrainOptions::default()
    };
    for src in [
        "foff-milter",
        "phishing-pot-dev",
        "csdmc2010",
        "sa-public",
        "mlist-openbmc",
    ] {
        let sel = Selection {
            exclude_sources: vec![src.to_string()],
            include_validation: false,
        };
        let model = corpus::train(&dir, &corpus::training_rows(&rows, &sel), &opt)
            .unwrap()
            .model;
        let mut by: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for r in rows
            .iter()
            .filter(|r| r.source == src && r.is_spam().is_some() && !slice.contains(&r.path))
        {
            let a = corpus::file_features(&dir.join(&r.path), 10_000).unwrap();
            if model.judges(a.lang) {
                by.entry(r.label.clone())
                    .or_default()
                    .push(model.probability(&a.buckets));
            }
        }
        for (label, ps) in by {
            let above =
                |t: f64| 100.0 * ps.iter().filter(|p| **p >= t).count() as f64 / ps.len() as f64;
            println!(
                "held out {src:<18} {label:<9} n {:>5}  >=0.5 {:>6.2}%  >=0.9 {:>6.2}%  >=0.95 {:>6.2}%  >=0.99 {:>6.2}%",
                ps.len(),
                above(0.5),
                above(0.9),
                above(0.95),
                above(0.99)
            );
        }
    }
}

/// The shipped model is what `preflight train` makes of the corpus: the same bytes (the
/// training is deterministic), trained on exactly the messages TRAINED.tsv lists.
#[test]
#[ignore = "needs ../shared/corpus; run by .ci/run"]
fn the_shipped_model_is_reproducible() {
    let Some(dir) = corpus_dir() else {
        panic!("no corpus at ../shared/corpus (set PREFLIGHT_CORPUS)");
    };
    let rows = corpus::read_manifest(&std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap());
    let train = corpus::training_rows(&rows, &Selection::default());
    let trained = corpus::train(&dir, &train, &TrainOptions::default()).unwrap();
    assert!(
        trained.model.to_bytes() == preflight::model::SHIPPED_MODEL,
        "rules/model/content.model is not what the corpus trains: retrain it (see DESIGN.md)"
    );
    let listed = std::fs::read_to_string(path("rules/model/TRAINED.tsv")).unwrap();
    let listed: Vec<&str> = listed
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .collect();
    let trained: Vec<&str> = trained.rows.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(listed, trained, "rules/model/TRAINED.tsv is out of date");
    println!(
        "rules/model/content.model: {} bytes, trained on {} messages, reproduced byte for byte",
        preflight::model::SHIPPED_MODEL.len(),
        trained.len()
    );
}
