//! `preflight scan` as users run it, on a tree built from the samples: directories,
//! mbox, Maildir, non-mail files, unreadable and broken inputs, duplicates, every output
//! format, `--files-from`, `-j`, `--labels` and the exit status. The HTML page is checked
//! in headless Chromium by an ignored test that `.ci/run` runs after installing it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::binary::{bin, code, run, stdout, text};
use crate::support::{sample, scratch};

/// drafts/: two good drafts (one a copy), a flagged one, the canary, a 3-message mbox,
/// a Maildir with a subfolder, notes that are not mail, a broken draft.
fn campaign(name: &str) -> PathBuf {
    let dir = scratch(name);
    let w = |p: &str, b: &[u8]| {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b).unwrap();
    };
    w("spring/newsletter.eml", &sample("good-newsletter.eml"));
    w("spring/newsletter-copy.eml", &sample("good-newsletter.eml"));
    w(
        "spring/attachments.eml",
        &sample("bad-size-too-many-attachments.eml"),
    );
    w("spring/README.md", b"# drafts for spring\n");
    w("spring/logo.png", b"\x89PNG\r\n\x1a\n");
    w("spring/broken", b"this is not a message at all\n");
    w("spring/.hidden.eml", &sample("canary.eml"));
    let mut mbox = Vec::new();
    for s in [
        "good-personal-reply.eml",
        "canary.eml",
        "good-receipt-with-pdf.eml",
    ] {
        mbox.extend_from_slice(b"From drafts@example.com Mon Nov 23 10:00:00 2026\n");
        mbox.extend_from_slice(&sample(s));
        mbox.extend_from_slice(b"\n");
    }
    w("export.mbox", &mbox);
    w(
        "Maildir/cur/1700000000.M1P1.host:2,S",
        &sample("bad-headers.eml"),
    );
    w(
        "Maildir/new/1700000001.M2P1.host",
        &sample("good-personal-reply.eml"),
    );
    w("Maildir/tmp/1700000002.M3P1.host", &sample("canary.eml"));
    w(
        "Maildir/.Sent/cur/1700000003.M4P1.host:2,S",
        &sample("bad-encoding.eml"),
    );
    std::fs::create_dir_all(dir.join("Maildir/.Sent/new")).unwrap();
    dir
}

fn jsonl(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn walks_a_campaign_tree_in_every_format() {
    let dir = campaign("scan-campaign");
    let d = dir.to_str().unwrap();
    let o = run(&["scan", "--now", "2026-11-23", "--format", "jsonl", d]);
    let records = jsonl(&o);
    let (summary, drafts) = records.split_last().unwrap();
    assert_eq!(summary["type"], "summary");
    let shown: Vec<String> = drafts
        .iter()
        .map(|r| {
            let path = r["path"].as_str().unwrap();
            let rel = &path[d.len() + 1..];
            match r["index"].as_u64() {
                Some(i) => format!("{rel}#{i} {}", r["verdict"].as_str().unwrap_or("?")),
                None => format!(
                    "{rel} {}",
                    r["verdict"].as_str().unwrap_or(r["type"].as_str().unwrap())
                ),
            }
        })
        .collect();
    assert_eq!(
        shown,
        [
            "Maildir/cur/1700000000.M1P1.host:2,S reject",
            "Maildir/new/1700000001.M2P1.host pass",
            "Maildir/.Sent/cur/1700000003.M4P1.host:2,S flag",
            "export.mbox#1 pass",
            "export.mbox#2 reject",
            "export.mbox#3 pass",
            "spring/attachments.eml flag",
            "spring/broken error",
            "spring/newsletter-copy.eml pass",
            "spring/newsletter.eml pass",
        ],
        "{}",
        stdout(&o)
    );
    // The report object is the one `check --format json` prints, plus path and index.
    let canary = &drafts[4];
    assert_eq!(canary["findings"][0]["id"], "CNT001");
    assert!(canary["reply"].is_object() && canary["families"].is_array());
    // Duplicates: the second copy names the first (input order, not finishing order).
    assert_eq!(
        drafts[8]["duplicate_of"],
        Value::Null,
        "newsletter-copy.eml comes first by name"
    );
    assert!(
        drafts[9]["duplicate_of"]
            .as_str()
            .unwrap()
            .ends_with("spring/newsletter-copy.eml")
    );
    assert_eq!(drafts[7]["code"], 65);
    assert_eq!(summary["drafts"], 9);
    assert_eq!(summary["reject"], 2);
    assert_eq!(summary["pass"], 5);
    // The copy, and mbox message 1 (the same bytes as the Maildir draft in new/).
    assert_eq!(summary["duplicates"], 2);
    assert!(
        drafts[3]["duplicate_of"]
            .as_str()
            .unwrap()
            .ends_with("1700000001.M2P1.host")
    );
    assert_eq!(summary["not_mail"], 1);
    assert_eq!(summary["skipped"], 2, "README.md and logo.png");
    assert_eq!(summary["rules"]["CNT001"]["drafts"], 1);
    assert_eq!(summary["exit"], 2);
    assert_eq!(code(&o), 2, "a draft would be refused");
    let err = text(&o.stderr);
    assert!(
        err.contains("skipped") && err.contains("README.md"),
        "{err}"
    );
    assert!(err.contains("spring/broken: not a mail message"), "{err}");

    // Human: a line per draft that is not clean, then the summary table.
    let o = run(&["scan", "--now", "2026-11-23", d]);
    let out = stdout(&o);
    assert!(
        !out.contains("newsletter.eml"),
        "clean drafts get no line:\n{out}"
    );
    assert!(out.contains("export.mbox#2  CNT001"), "{out}");
    assert!(out.contains("spring/broken: not a mail message"), "{out}");
    assert!(out.contains("9 drafts checked"), "{out}");
    assert!(
        out.contains("most frequent rules") && out.contains("families"),
        "{out}"
    );
    assert!(!out.contains('\x1b'), "no colour on a pipe");
    assert_eq!(code(&o), 2);

    // CSV: a header and a row per draft, quoted where needed.
    let o = run(&["scan", "--now", "2026-11-23", "--format", "csv", d]);
    let out = stdout(&o);
    let rows: Vec<&str> = out.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 11, "{out}");
    assert!(rows[0].starts_with("path,index,verdict,score,reply,rules"));
    assert!(
        rows.iter().any(|r| r.contains("export.mbox,2,reject,")),
        "{out}"
    );

    // One worker gives the same output as two.
    let a = run(&[
        "scan",
        "--now",
        "2026-11-23",
        "--format",
        "csv",
        "-j",
        "1",
        d,
    ]);
    assert_eq!(a.stdout, o.stdout);
}

#[test]
fn exit_status_is_the_worst_verdict_then_errors() {
    let dir = scratch("scan-exit");
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    std::fs::write(dir.join("good.eml"), sample("good-personal-reply.eml")).unwrap();
    std::fs::write(
        dir.join("flag.eml"),
        sample("bad-size-too-many-attachments.eml"),
    )
    .unwrap();
    std::fs::write(dir.join("canary.eml"), sample("canary.eml")).unwrap();
    std::fs::write(dir.join("notmail.eml"), b"hello\n").unwrap();
    let scan = |args: &[String]| {
        let mut a = vec![
            "scan".to_string(),
            "-q".into(),
            "--now".into(),
            "2026-11-23".into(),
        ];
        a.extend_from_slice(args);
        code(&bin().args(&a).output().unwrap())
    };
    assert_eq!(scan(&[p("good.eml")]), 0);
    assert_eq!(scan(&[p("good.eml"), p("flag.eml")]), 1);
    assert_eq!(scan(&[p("flag.eml"), p("notmail.eml")]), 65);
    assert_eq!(scan(&[p("flag.eml"), p("missing.eml")]), 66);
    assert_eq!(scan(&[p("canary.eml"), p("notmail.eml")]), 2);
    // A file found in a folder that cannot be read (a broken link here) is 74.
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        sub.join("flag.eml"),
        sample("bad-size-too-many-attachments.eml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.join("gone.eml"), sub.join("link.eml")).unwrap();
    assert_eq!(scan(&[sub.to_str().unwrap().to_string()]), 74);
    assert_eq!(
        scan(&[sub.to_str().unwrap().to_string(), p("canary.eml")]),
        2
    );
    // Nothing to scan is a usage error.
    assert_eq!(code(&run(&["scan"])), 64);
}

#[test]
fn files_from_and_labels_evaluate_per_label() {
    let dir = campaign("scan-labels");
    let list = dir.join("list.txt");
    let labels = dir.join("labels.tsv");
    std::fs::write(
        &list,
        format!(
            "{}\n\n{}\n{}\n",
            dir.join("spring/newsletter.eml").display(),
            dir.join("spring/attachments.eml").display(),
            dir.join("export.mbox").display()
        ),
    )
    .unwrap();
    // Relative to the labels file, with a header naming the columns.
    std::fs::write(
        &labels,
        "label\tpath\nham-bulk\tspring/newsletter.eml\nham\tspring/attachments.eml\nham\t./export.mbox\n",
    )
    .unwrap();
    let o = run(&[
        "scan",
        "--now",
        "2026-11-23",
        "--format",
        "jsonl",
        "--files-from",
        list.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
    ]);
    let records = jsonl(&o);
    let summary = records.last().unwrap();
    assert_eq!(records.len(), 6, "5 drafts and the summary");
    let ham = &summary["labels"]["ham"];
    assert_eq!(ham["drafts"], 4, "attachments.eml and the mbox's three");
    assert_eq!(ham["pass"], 2);
    assert_eq!(ham["flag"], 1);
    assert_eq!(ham["reject"], 1);
    assert_eq!(ham["rules"]["CNT001"], 1);
    assert_eq!(summary["labels"]["ham-bulk"]["pass"], 1);
    assert!(records[0]["label"] == "ham-bulk");
    // The human summary has the evaluation tables.
    let o = run(&[
        "scan",
        "--now",
        "2026-11-23",
        "--labels",
        labels.to_str().unwrap(),
        dir.join("spring").to_str().unwrap(),
        dir.join("export.mbox").to_str().unwrap(),
    ]);
    let out = stdout(&o);
    assert!(
        out.contains("by label") && out.contains("rules by label"),
        "{out}"
    );
    assert!(
        out.contains("(unlabelled)"),
        "drafts missing from the labels: {out}"
    );
    // --files-from - reads standard input.
    let mut child = bin()
        .args(["scan", "-q", "--format", "csv", "--files-from", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(std::fs::read(&list).unwrap().as_slice())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(stdout(&o).matches("\r\n").count(), 6, "header and 5 rows");
}

/// `--files-from` leaves out blank lines and `#` comments; `--labels` whose paths do not
/// match the drafts (written relative to another folder) says so and names the folder
/// they are read from.
#[test]
fn files_from_comments_and_labels_that_do_not_match() {
    let dir = campaign("scan-comments");
    let list = dir.join("list.txt");
    std::fs::write(
        &list,
        format!(
            "# spring campaign\n\n{}\n   # the receipts are not ready yet\n{}\n",
            dir.join("spring/newsletter.eml").display(),
            dir.join("spring/attachments.eml").display(),
        ),
    )
    .unwrap();
    let o = run(&[
        "scan",
        "-q",
        "--now",
        "2026-11-23",
        "--format",
        "jsonl",
        "--files-from",
        list.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert_eq!(jsonl(&o).len(), 3, "2 drafts and the summary");
    // Labels written relative to the campaign folder, but the file lives in labels/.
    std::fs::create_dir_all(dir.join("labels")).unwrap();
    let labels = dir.join("labels/labels.tsv");
    std::fs::write(
        &labels,
        "spring/newsletter.eml\tham-bulk\nspring/attachments.eml\tham\n",
    )
    .unwrap();
    let scan_with = |labels: &Path| {
        run(&[
            "scan",
            "-q",
            "--now",
            "2026-11-23",
            "--labels",
            labels.to_str().unwrap(),
            dir.join("spring/newsletter.eml").to_str().unwrap(),
            dir.join("spring/attachments.eml").to_str().unwrap(),
        ])
    };
    let o = scan_with(&labels);
    let err = text(&o.stderr);
    assert!(
        err.contains("warning: --labels") && err.contains("none of the drafts have a label"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}", dir.join("labels").display())),
        "names the folder: {err}"
    );
    assert!(stdout(&o).contains("(unlabelled)"));
    // The same file in the campaign folder matches every draft: no warning.
    let labels = dir.join("labels.tsv");
    std::fs::write(
        &labels,
        "spring/newsletter.eml\tham-bulk\nspring/attachments.eml\tham\n",
    )
    .unwrap();
    let o = scan_with(&labels);
    assert!(!text(&o.stderr).contains("warning"), "{}", text(&o.stderr));
    assert!(!stdout(&o).contains("(unlabelled)"));
}

/// The HTML page in headless Chromium: it loads without a console message or error and
/// shows the counts of the scan. Needs Debian's chromium (`.ci/run` installs it).
#[test]
#[ignore = "needs chromium; run by .ci/run"]
fn html_page_loads_in_headless_chromium() {
    let dir = campaign("scan-html");
    let o = run(&[
        "scan",
        "-q",
        "--now",
        "2026-11-23",
        "--format",
        "html",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    let page = dir.join("report.html");
    std::fs::write(&page, &o.stdout).unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let dom = text(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(!dom.contains("data-errors"), "script errors in {dom}");
    assert!(
        dom.contains("data-ready=\"1\""),
        "the script did not finish: {dom}"
    );
    for (id, n) in [
        ("drafts", 9),
        ("pass", 5),
        ("flag", 2),
        ("reject", 2),
        ("error", 1),
    ] {
        let want = format!("id=\"count-{id}\">{n}<");
        assert!(dom.contains(&want), "{want} not in the page");
    }
    // Every draft has a row; the chart has a bar per rule that fired.
    assert_eq!(dom.matches("<tr class=\"draft\"").count(), 10);
    assert!(dom.contains("<span class=\"id\">CNT001</span>"));
    assert!(dom.contains("10 of 10 drafts shown"), "{dom}");

    // Interaction: the first row (the worst draft) opens to its findings with evidence,
    // why and fix; filtering by a rule id leaves the drafts it fired on.
    let html = stdout(&o);
    let probe = r#"<script>
document.querySelector("tr.draft").click();
var d = document.querySelector("tr.details");
document.body.dataset.opened = d ? d.textContent : "none";
var f = document.getElementById("filter");
f.value = "CNT001";
f.dispatchEvent(new Event("input"));
document.body.dataset.filtered = String(document.querySelectorAll("tr.draft").length);
</script></body>"#;
    let at = html.rfind("</body>").unwrap();
    let probed = format!("{}{probe}{}", &html[..at], &html[at + "</body>".len()..]);
    let page = dir.join("probe.html");
    std::fs::write(&page, probed).unwrap();
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let dom = text(&out.stdout);
    let opened = dom
        .split("data-opened=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("");
    assert!(
        opened.contains("Why: ") && opened.contains("Fix: ") && opened.contains("line "),
        "the first row did not open to its findings: {opened}"
    );
    assert!(
        dom.contains("data-filtered=\"1\""),
        "filter by CNT001: {dom}"
    );
}

#[test]
fn a_reader_that_goes_away_stops_the_scan_quietly() {
    let dir = campaign("scan-pipe");
    let mut child = bin()
        .args(["scan", "-q", "--format", "jsonl", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read nothing: close the pipe at once, as `| head -0` would.
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(
        !text(&o.stderr).contains("Broken pipe"),
        "{}",
        text(&o.stderr)
    );
}
