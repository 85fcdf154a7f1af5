//! `preflight learn` (the site model, rule MDL002) and `preflight train` (a content model
//! used with `--model`, rule MDL001), run as users run them, on messages written here.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::binary::{output, run};
use crate::support::scratch;

const HAM_WORDS: &[&str] = &[
    "meeting",
    "agenda",
    "project",
    "budget",
    "review",
    "thursday",
    "draft",
    "minutes",
    "schedule",
    "team",
    "report",
    "quarter",
    "notes",
    "slides",
    "deadline",
    "colleagues",
];
const SPAM_WORDS: &[&str] = &[
    "replica",
    "watches",
    "luxury",
    "discount",
    "rolex",
    "cheapest",
    "bargain",
    "swiss",
    "authentic",
    "wholesale",
    "warehouse",
    "clearance",
    "designer",
    "handbags",
    "outlet",
];

/// A message of `n` words picked from `words` by a seeded walk.
fn message(words: &[&str], seed: usize, subject: &str) -> String {
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    let mut body = String::new();
    for i in 0..60 {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        body.push_str(words[(s >> 33) % words.len()]);
        body.push(if i % 12 == 11 { '\n' } else { ' ' });
    }
    format!(
        "From: Sender {seed} <s{seed}@example.com>\nTo: r@example.org\nDate: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <{seed}.{subject_len}@example.com>\nSubject: {subject} {seed}\n\n{body}\n",
        subject_len = subject.len()
    )
}

/// A Maildir of `n` ham messages and an mbox of `n` spam messages.
fn mail(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    let maildir = dir.join("Sent");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    for i in 0..n {
        std::fs::write(
            maildir.join("cur").join(format!("{i}.host:2,S")),
            message(HAM_WORDS, i, "Project notes"),
        )
        .unwrap();
    }
    let mut mbox = String::new();
    for i in 0..n {
        mbox.push_str("From spam@example.net Mon Nov 23 10:00:00 2026\n");
        mbox.push_str(&message(SPAM_WORDS, 1000 + i, "Great offer"));
        mbox.push('\n');
    }
    let spam = dir.join("spam.mbox");
    std::fs::write(&spam, mbox).unwrap();
    (maildir, spam)
}

fn ids(o: &Output) -> Vec<String> {
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_site_model_learns_counts_and_judges() {
    let d = scratch("learn-site");
    let (ham, spam) = mail(&d, 30);
    let model = d.join("site.model");
    let config = d.join("preflight.yaml");
    std::fs::write(
        &config,
        format!("model: {{ site: {}, site_min: 25 }}\n", model.display()),
    )
    .unwrap();
    let c = config.to_str().unwrap();
    let o = run(&["learn", "--config", c, "--status"]);
    assert_eq!(o.status.code(), Some(0), "{}", output(&o));
    assert!(output(&o).contains("0 ham, 0 spam"), "{}", output(&o));
    assert!(output(&o).contains("not used yet"), "{}", output(&o));
    // Twenty of each: below site_min, the model does not count yet.
    let few = scratch("learn-site-few");
    let (ham20, spam20) = mail(&few, 20);
    let o = run(&[
        "learn",
        "--config",
        c,
        "--ham",
        ham20.to_str().unwrap(),
        "--spam",
        spam20.to_str().unwrap(),
    ]);
    assert!(
        output(&o).contains("learnt 40 new messages"),
        "{}",
        output(&o)
    );
    let probe = d.join("probe-spam.eml");
    std::fs::write(&probe, message(SPAM_WORDS, 5000, "Great offer")).unwrap();
    let probe_ham = d.join("probe-ham.eml");
    std::fs::write(&probe_ham, message(HAM_WORDS, 5001, "Project notes")).unwrap();
    let check = |f: &Path| {
        run(&[
            "check",
            "--config",
            c,
            "--format",
            "json",
            f.to_str().unwrap(),
        ])
    };
    assert!(!ids(&check(&probe)).contains(&"MDL002".to_string()));
    // Thirty of each (the twenty learnt already count once).
    let o = run(&[
        "learn",
        "--config",
        c,
        "--ham",
        ham.to_str().unwrap(),
        "--spam",
        spam.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", output(&o));
    let t = output(&o);
    assert!(
        t.contains("learnt 20 new messages, 0 moved to the other class, 40 already known"),
        "{t}"
    );
    assert!(
        t.contains("30 ham, 30 spam") && t.contains("in use (MDL002)"),
        "{t}"
    );
    let o = check(&probe);
    assert!(ids(&o).contains(&"MDL002".to_string()), "{}", output(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "MDL002")
        .unwrap();
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("30 ham and 30 spam"), "{msg}");
    assert!(
        SPAM_WORDS.iter().any(|w| msg.contains(w)),
        "names the tokens: {msg}"
    );
    assert!(!ids(&check(&probe_ham)).contains(&"MDL002".to_string()));
    // The same spam learnt as ham moves to the other class.
    let one = d.join("one.eml");
    std::fs::write(&one, message(SPAM_WORDS, 1000, "Great offer")).unwrap();
    let o = run(&["learn", "--config", c, "--ham", one.to_str().unwrap()]);
    assert!(
        output(&o).contains("1 moved to the other class"),
        "{}",
        output(&o)
    );
    assert!(output(&o).contains("31 ham, 29 spam"), "{}", output(&o));
    // Not mail: reported, the rest learnt, exit 65.
    let junk = d.join("junk.bin");
    std::fs::write(&junk, [0u8, 1, 2, 3, 255]).unwrap();
    let o = run(&["learn", "--config", c, "--spam", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(65), "{}", output(&o));
    assert!(
        output(&o).contains("not learnt: not a mail message"),
        "{}",
        output(&o)
    );
    // A damaged model file is a configuration error for learn and check alike.
    std::fs::write(&model, b"PFSM\x01\0\0\0garbage").unwrap();
    let o = run(&["learn", "--config", c, "--status"]);
    assert_eq!(o.status.code(), Some(78), "{}", output(&o));
    assert!(output(&o).contains("site.model"), "{}", output(&o));
    assert_eq!(check(&probe).status.code(), Some(78));
}

#[test]
fn learn_needs_a_model_file_and_something_to_do() {
    let o = run(&["learn", "--status"]);
    assert_eq!(o.status.code(), Some(64), "{}", output(&o));
    assert!(output(&o).contains("--model FILE"), "{}", output(&o));
    let o = run(&["learn", "--model", "/nonexistent/x.model"]);
    assert_eq!(o.status.code(), Some(64), "{}", output(&o));
}

#[test]
fn train_writes_a_model_that_check_uses() {
    let d = scratch("learn-train");
    let mut manifest = String::from("path\tsource\tsubset\tlabel\tbytes\tsha256\n");
    for i in 0..40 {
        let (words, label, subject) = if i % 2 == 0 {
            (HAM_WORDS, "ham", "Project notes")
        } else {
            (SPAM_WORDS, "spam", "Great offer")
        };
        let name = format!("m{i}.eml");
        std::fs::write(d.join(&name), message(words, i, subject)).unwrap();
        manifest.push_str(&format!("{name}\tgen\tx\t{label}\t0\t-\n"));
    }
    manifest.push_str("edge.eml\tgen-edge\tx\tedge\t0\t-\n");
    let labels = d.join("MANIFEST.tsv");
    std::fs::write(&labels, manifest).unwrap();
    let out = d.join("a.model");
    let list = d.join("TRAINED.tsv");
    let o = run(&[
        "train",
        "--labels",
        labels.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--trained-list",
        list.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", output(&o));
    // 30% of the source is the validation slice, held out: 28 of 40.
    assert!(output(&o).contains("trained on"), "{}", output(&o));
    let trained = std::fs::read_to_string(&list).unwrap();
    assert_eq!(trained.lines().filter(|l| l.starts_with('m')).count(), 28);
    assert!(!trained.contains("edge.eml"));
    // Deterministic: the same bytes again.
    let again = d.join("b.model");
    run(&[
        "train",
        "--labels",
        labels.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());
    let probe = d.join("probe.eml");
    std::fs::write(&probe, message(SPAM_WORDS, 777, "Great offer")).unwrap();
    // The model alone (it counts only beside strong findings of other families, which
    // this probe has none of).
    let o = run(&[
        "check",
        "--format",
        "json",
        "--select",
        "MDL001",
        "--model",
        out.to_str().unwrap(),
        probe.to_str().unwrap(),
    ]);
    assert!(ids(&o).contains(&"MDL001".to_string()), "{}", output(&o));
    let o = run(&[
        "check",
        "--model",
        labels.to_str().unwrap(),
        probe.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(78), "{}", output(&o));
    assert!(
        output(&o).contains("not a preflight content model"),
        "{}",
        output(&o)
    );
    // Only one class: a usage error.
    std::fs::write(
        &labels,
        "path\tsource\tsubset\tlabel\nm0.eml\tgen\tx\tham\n",
    )
    .unwrap();
    let o = run(&[
        "train",
        "--labels",
        labels.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(64), "{}", output(&o));
}
