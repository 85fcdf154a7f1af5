//! Corpus sweep over `../shared/corpus/MANIFEST.tsv` (run by `.ci/run`, not by `cargo test`
//! on a fresh clone, which has no corpus):
//!
//! ```text
//! cargo test --release --test corpus_sweep -- --ignored --nocapture
//! ```
//!
//! Checks every message, asserts none panics and that two runs give the same bytes, prints
//! per label the share of pass, flag and reject and, for the labels that must pass, which
//! rules fire most, and the spam detection rate (flagged or rejected; reported, not
//! enforced). Fails when, with every family on, more than 0.3% of `ham` or of `ham-bulk`
//! is rejected or more than 2% flagged. Set `PREFLIGHT_SWEEP_SHOW=ID` to list the messages a
//! rule fires on, and `PREFLIGHT_SWEEP_FP=1` to list the `ham` and `ham-bulk` messages
//! that do not pass.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use preflight::{Config, Engine, Envelope, Verdict};

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PREFLIGHT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    dir.join("MANIFEST.tsv").is_file().then_some(dir)
}

#[derive(Default)]
struct Tally {
    n: usize,
    verdicts: [usize; 3],
    rules: BTreeMap<String, usize>,
}

#[test]
#[ignore = "needs ../shared/corpus; run by .ci/run"]
fn corpus_sweep() {
    let Some(dir) = corpus() else {
        panic!("no corpus at ../shared/corpus (set PREFLIGHT_CORPUS)");
    };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    // A fixed reference time keeps the Date checks reproducible.
    let config = Config {
        now: Some(1_795_392_000),
        ..Config::default()
    };
    let engine = Engine::new(config).unwrap();
    let show = std::env::var("PREFLIGHT_SWEEP_SHOW").ok();
    let show_fp = std::env::var_os("PREFLIGHT_SWEEP_FP").is_some();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut bytes = 0usize;
    let start = std::time::Instant::now();
    let mut count = 0;
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (path, label) = (cols[0], cols[3]);
        let raw = std::fs::read(dir.join(path)).unwrap();
        bytes += raw.len();
        let r1 = engine.check(&raw, &Envelope::default());
        let r2 = engine.check(&raw, &Envelope::default());
        let (j1, j2) = (
            serde_json::to_string(&r1).unwrap(),
            serde_json::to_string(&r2).unwrap(),
        );
        assert_eq!(j1, j2, "non-deterministic report for {path}");
        assert!(
            r1.internal_errors.is_empty(),
            "internal error on {path}: {:?}",
            r1.internal_errors
        );
        count += 1;
        if show_fp && matches!(label, "ham" | "ham-bulk") && r1.verdict != Verdict::Pass {
            println!(
                "  {} {label} {path}: {} {:?}",
                r1.verdict.as_str(),
                r1.score,
                r1.rule_ids()
            );
        }
        let t = tallies.entry(label.to_string()).or_default();
        t.n += 1;
        t.verdicts[r1.verdict as usize] += 1;
        for f in &r1.findings {
            *t.rules.entry(f.id.clone()).or_default() += 1;
            if show.as_deref() == Some(f.id.as_str()) {
                println!("  {} {label} {path}: {}", f.id, f.message);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "\ncorpus sweep: {count} messages, {:.1} MB, checked twice in {secs:.2} s ({:.0} messages/s single-threaded)",
        bytes as f64 / 1e6,
        2.0 * count as f64 / secs
    );
    println!(
        "{:<14} {:>6} {:>8} {:>8} {:>8}",
        "label", "n", "pass", "flag", "reject"
    );
    let pct = |a: usize, n: usize| 100.0 * a as f64 / n.max(1) as f64;
    for (label, t) in &tallies {
        println!(
            "{label:<14} {:>6} {:>7.2}% {:>7.2}% {:>7.2}%",
            t.n,
            pct(t.verdicts[Verdict::Pass as usize], t.n),
            pct(t.verdicts[Verdict::Flag as usize], t.n),
            pct(t.verdicts[Verdict::Reject as usize], t.n)
        );
    }
    for label in ["ham", "ham-bulk", "spam"] {
        if let Some(t) = tallies.get(label) {
            let mut top: Vec<_> = t.rules.iter().collect();
            top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let s: Vec<String> = top
                .iter()
                .take(12)
                .map(|(id, c)| format!("{id}:{c}"))
                .collect();
            println!("top rules on {label}: {}", s.join(" "));
        }
    }
    if let Some(t) = tallies.get("spam") {
        let caught = t.verdicts[Verdict::Flag as usize] + t.verdicts[Verdict::Reject as usize];
        println!(
            "spam detection (flagged or rejected): {:.2}% of {}",
            pct(caught, t.n),
            t.n
        );
    }
    let mut failed = Vec::new();
    for label in ["ham", "ham-bulk"] {
        let Some(t) = tallies.get(label) else {
            continue;
        };
        let rej = pct(t.verdicts[Verdict::Reject as usize], t.n);
        let flag = pct(t.verdicts[Verdict::Flag as usize], t.n);
        if rej > 0.3 {
            failed.push(format!("{label}: rejected {rej:.2}% > 0.3%"));
        }
        if flag > 2.0 {
            failed.push(format!("{label}: flagged {flag:.2}% > 2%"));
        }
    }
    assert!(
        failed.is_empty(),
        "false-positive limits exceeded: {failed:?}"
    );
}

/// Attachment features `FEATURES.tsv` records, and the rules that report each.
const FEATURE_RULES: &[(&str, &[&str])] = &[
    ("eicar", &["ATT001"]),
    ("att_dangerous_ext", &["ATT002", "ATT003", "ATT010"]),
    ("att_double_ext", &["ATT004"]),
    ("att_rtlo_name", &["ATT005"]),
    ("att_exe_magic", &["ATT007", "ATT002", "ATT010"]),
    ("att_nested_archive", &["ATT012", "ATT015"]),
    ("att_zip_encrypted", &["ATT013", "ATT017"]),
    ("att_office_encrypted", &["ATT021"]),
    ("att_zip_unreadable", &["ATT014"]),
    ("att_archive_member_dangerous", &["ATT010"]),
    ("att_office_macro", &["ATT020"]),
    ("att_html", &["ATT040"]),
    ("att_pdf_js", &["ATT030"]),
    ("att_pdf_encrypted", &["ATT033"]),
];

/// Rows where FEATURES.tsv's simpler reading and preflight's differ on purpose.
const FEATURE_EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "attach-fuglu/unit/nestedarchive.eml",
        "att_double_ext",
        ".tar.gz is one compound extension, not a disguise",
    ),
    (
        "mime-edge/flanker/bz2-attachment.eml",
        "att_double_ext",
        ".txt.bz2 is a compressed text file, not a disguise",
    ),
    (
        "rspamd-functional/f.zip.001.eml",
        "att_double_ext",
        ".zip.001 numbers the volumes of a split archive",
    ),
    (
        "sa-public/easy_ham/00775.0e012f373467846510d9db297e99a008",
        "att_dangerous_ext",
        ".url shortcuts are not in the blocked set (this one is ham)",
    ),
    (
        "sa-tdata/spam/hashbl",
        "att_dangerous_ext",
        ".xlsm is judged by its content: ATT020 reports the macros",
    ),
    (
        "sa-tdata/spam/olevbmacro/malicemacro.eml",
        "att_dangerous_ext",
        ".xlsm is judged by its content: ATT020 reports the macros",
    ),
    (
        "sa-tdata/spam/olevbmacro/zippwmacro.eml",
        "att_archive_member_dangerous",
        "the member is a macro document inside a password-protected zip: ATT013",
    ),
];

/// Every corpus message with an attachment feature in `FEATURES.tsv` (attach-fuglu,
/// rspamd-functional, SpamAssassin's test data, ...) gets the rule for that feature, or
/// is a listed exception with its reason.
#[test]
#[ignore = "needs ../shared/corpus; run by .ci/run"]
fn attachment_features_are_found() {
    let Some(dir) = corpus() else {
        panic!("no corpus at ../shared/corpus (set PREFLIGHT_CORPUS)");
    };
    let features = std::fs::read_to_string(dir.join("FEATURES.tsv")).unwrap();
    let mut lines = features.lines();
    let head: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let engine = Engine::new(Config {
        now: Some(1_795_392_000),
        ..Config::default()
    })
    .unwrap();
    let (mut checked, mut found, mut excepted) = (0, 0, 0);
    let mut missed = Vec::new();
    for line in lines {
        let cols: Vec<&str> = line.split('\t').collect();
        let set: Vec<&(&str, &[&str])> = FEATURE_RULES
            .iter()
            .filter(|(f, _)| cols.get(col(f)).is_some_and(|v| !v.is_empty() && *v != "0"))
            .collect();
        if set.is_empty() {
            continue;
        }
        let path = cols[0];
        let raw = std::fs::read(dir.join(path)).unwrap();
        let r = engine.check(&raw, &Envelope::default());
        let ids = r.rule_ids();
        for (feature, rules) in set {
            checked += 1;
            if rules.iter().any(|id| ids.iter().any(|i| i == id)) {
                found += 1;
            } else if let Some((_, _, why)) = FEATURE_EXCEPTIONS
                .iter()
                .find(|(p, f, _)| *p == path && f == feature)
            {
                excepted += 1;
                println!("  exception {path} {feature}: {why}");
            } else {
                missed.push(format!(
                    "{path}: {feature} (names: {}) got {ids:?}",
                    cols[col("attachment_names")]
                ));
            }
        }
    }
    println!(
        "attachment features: {checked} checked, {found} found by the expected rule, {excepted} listed exceptions, {} missed",
        missed.len()
    );
    assert!(
        missed.is_empty(),
        "attachment features missed:\n{}",
        missed.join("\n")
    );
}
