//! The `preflight` binary as users run it: exit codes, JSON shape, standard input, errors,
//! local rule packs and the rules subcommands.

use std::process::Output;

use serde_json::Value;

use crate::support::binary::{code, run, run_stdin, stderr, stdout};
use crate::support::{read_text, sample, scratch};

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

const NOW: &str = "--now=2026-11-23";

#[test]
fn exit_codes_follow_the_verdict() {
    for (file, want) in [
        ("samples/good-newsletter.eml", 0),
        ("samples/good-receipt-with-pdf.eml", 0),
        ("samples/bad-mime.eml", 1),
        ("samples/bad-encoding.eml", 1),
        ("samples/bad-headers.eml", 2),
        ("samples/canary.eml", 2),
    ] {
        let o = run(&["check", NOW, file]);
        assert_eq!(code(&o), want, "{file}: {}{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).starts_with(file), "{}", stdout(&o));
    }
    // Several inputs: the worst verdict, and a summary line.
    let o = run(&[
        "check",
        NOW,
        "samples/good-newsletter.eml",
        "samples/bad-mime.eml",
    ]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("2 checked: 1 pass, 1 flag, 0 reject"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn human_report_explains_each_finding() {
    let o = run(&["check", NOW, "--color=never", "samples/bad-headers.eml"]);
    let text = stdout(&o);
    for want in [
        "REJECT",
        "will be refused: 550 5.7.1",
        "HDR004 duplicate-single-header",
        "--> line 5: Subject: Your account statement (corrected)",
        "why:",
        "fix:",
        "score: headers",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(!text.contains('\x1b'), "no colour when asked");
    let o = run(&["check", NOW, "--color=always", "samples/bad-headers.eml"]);
    assert!(stdout(&o).contains("\x1b[1;31mREJECT\x1b[0m"));
    let o = run(&["check", NOW, "--brief", "samples/bad-headers.eml"]);
    assert!(!stdout(&o).contains("why:"));
}

#[test]
fn json_report_has_the_documented_shape() {
    let o = run(&["check", NOW, "--format=json", "samples/canary.eml"]);
    assert_eq!(code(&o), 2);
    let v = json(&o);
    assert_eq!(v["verdict"], "reject");
    assert_eq!(v["reply"]["code"], 554);
    assert_eq!(v["reply"]["enhanced"], "5.7.1");
    assert_eq!(v["thresholds"]["reject"], 10.0);
    let f = &v["findings"][0];
    assert_eq!(f["id"], "CNT001");
    for key in [
        "name", "family", "action", "score", "message", "why", "fix", "predicts", "evidence",
    ] {
        assert!(!f[key].is_null(), "finding lacks {key}: {f}");
    }
    let ev = &f["evidence"][0];
    assert!(ev["span"]["start"].as_u64().unwrap() < ev["span"]["end"].as_u64().unwrap());
    assert!(ev["snippet"]["text"].as_str().unwrap().contains("GTUBE"));
    // Deterministic: the same bytes twice.
    assert_eq!(
        o.stdout,
        run(&["check", NOW, "--format=json", "samples/canary.eml"]).stdout
    );

    // Several inputs: an array, each object naming its input first, under the key
    // `scan --format jsonl` uses.
    let o = run(&[
        "check",
        NOW,
        "--format=json",
        "samples/canary.eml",
        "samples/good-newsletter.eml",
    ]);
    let v = json(&o);
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[1]["path"], "samples/good-newsletter.eml");
    assert!(arr[1].get("file").is_none());
    assert_eq!(arr[1]["verdict"], "pass");
    assert_eq!(arr[1]["reply"], Value::Null);
    assert!(stdout(&o).trim_start().starts_with("[\n  {\n    \"path\""));
    let o = run(&["scan", NOW, "--format=jsonl", "samples/canary.eml"]);
    let first: Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(first["path"], "samples/canary.eml");
    // A single-part message's body is part 1, never `""`.
    for f in json(&run(&["check", NOW, "--format=json", "samples/canary.eml"]))["findings"]
        .as_array()
        .unwrap()
    {
        for e in f["evidence"].as_array().unwrap() {
            assert_ne!(e["part"], "", "{e}");
        }
    }
}

#[test]
fn standard_input_is_read_with_a_dash() {
    let raw = sample("canary.eml");
    let o = run_stdin(&["check", NOW, "--format=json", "-"], &raw);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(json(&o)["findings"][0]["id"], "CNT001");
    let o = run_stdin(&["check", NOW, "-"], &raw);
    assert!(stdout(&o).starts_with("<stdin>: REJECT"), "{}", stdout(&o));
    let o = run(&["check", "-", "-"]);
    assert_eq!(code(&o), 64);
}

#[test]
fn inputs_that_are_not_mail_are_refused_with_65() {
    let d = scratch("cli-notmail");
    let cases: [(&str, &[u8]); 4] = [
        ("empty.eml", b""),
        ("blank.eml", b"\r\n\r\n  \n"),
        (
            "image.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x02\0\0\0",
        ),
        ("letter.txt", b"Dear Ann,\nsee you Monday.\n"),
    ];
    for (name, bytes) in cases {
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = run(&["check", p.to_str().unwrap()]);
        assert_eq!(code(&o), 65, "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains("not a mail message"), "{}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
    // A malformed message is still mail: it gets findings, not an error.
    let p = d.join("malformed.eml");
    std::fs::write(&p, b"Subject: x\r\nSubject: y\r\n\r\nbody\n").unwrap();
    assert_eq!(code(&run(&["check", NOW, p.to_str().unwrap()])), 2);
}

#[test]
fn errors_use_sysexits() {
    let o = run(&["check", "no/such/file.eml"]);
    assert_eq!(code(&o), 66);
    assert!(
        stderr(&o).contains("no/such/file.eml: cannot open"),
        "{}",
        stderr(&o)
    );
    // The other inputs are still checked and reported; the error status wins over a pass
    // or a flag (see `a_reject_is_not_hidden_by_an_input_error` for a reject).
    let o = run(&[
        "check",
        NOW,
        "samples/good-newsletter.eml",
        "no/such/file.eml",
    ]);
    assert_eq!(code(&o), 66);
    assert!(stdout(&o).contains("samples/good-newsletter.eml: PASS"));
    let o = run(&["check", "samples"]);
    assert_eq!(code(&o), 66);
    assert!(
        stderr(&o).contains(
            "samples: is a directory; check the drafts in it with `preflight scan samples`"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(code(&run(&["check", "--bogus", "samples/canary.eml"])), 64);
    assert_eq!(code(&run(&["check"])), 64);
    assert_eq!(
        code(&run(&["check", "--now=yesterday", "samples/canary.eml"])),
        64
    );
    assert_eq!(
        code(&run(&["check", "--ip=999.1.1.1", "samples/canary.eml"])),
        64
    );
    // A selector on the command line that names no rule is a usage error, as in the
    // configuration file it is a configuration error.
    for opt in ["--select=NOPE999", "--ignore=HDR,NOPE999"] {
        for cmd in ["check", "scan"] {
            let o = run(&[cmd, opt, "samples/canary.eml"]);
            assert_eq!(code(&o), 64, "{cmd} {opt}: {}", stderr(&o));
            assert!(
                stderr(&o).contains("NOPE999: matches no rule"),
                "{}",
                stderr(&o)
            );
        }
    }
    assert_eq!(code(&run(&["rules", "explain", "NOPE999"])), 64);
    let o = run(&["--help"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("check"));

    let d = scratch("cli-badconfig");
    let cfg = d.join("preflight.yaml");
    std::fs::write(&cfg, "thresholds: { flag: 5, reject: 10 }\nthreshold: 3\n").unwrap();
    let o = run(&[
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "samples/canary.eml",
    ]);
    assert_eq!(code(&o), 78);
    assert!(
        stderr(&o).contains("preflight.yaml:2"),
        "config errors name the line: {}",
        stderr(&o)
    );
    std::fs::write(&cfg, "select: [NOPE999]\n").unwrap();
    let o = run(&[
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "samples/canary.eml",
    ]);
    assert_eq!(code(&o), 78, "{}", stderr(&o));
}

/// `check` and `scan` share one precedence: a draft that would be refused gives 2 even
/// when another input cannot be opened or is not mail, and every readable input is
/// reported.
#[test]
fn a_reject_is_not_hidden_by_an_input_error() {
    let d = scratch("cli-precedence");
    let notmail = d.join("notes.eml");
    std::fs::write(&notmail, b"just some words\n").unwrap();
    let notmail = notmail.to_str().unwrap();
    for cmd in ["check", "scan"] {
        let o = run(&[cmd, NOW, "samples/canary.eml", "/nonexistent"]);
        assert_eq!(code(&o), 2, "{cmd}: {}", stderr(&o));
        // Both are reported (scan's human output lists the error among the drafts).
        let all = stdout(&o) + &stderr(&o);
        assert!(all.contains("samples/canary.eml"), "{all}");
        assert!(all.contains("/nonexistent: cannot open"), "{all}");
        assert_eq!(
            code(&run(&[cmd, NOW, notmail, "samples/canary.eml"])),
            2,
            "{cmd}"
        );
        // Without a reject the highest error status: 66 over 65, and over a flag.
        assert_eq!(
            code(&run(&[
                cmd,
                NOW,
                "samples/bad-mime.eml",
                notmail,
                "/nonexistent"
            ])),
            66,
            "{cmd}"
        );
        assert_eq!(code(&run(&[cmd, NOW, "samples/bad-mime.eml", notmail])), 65);
    }
    // The README's table says so.
    let readme = read_text("README.md");
    assert!(readme.contains("a draft that would be refused gives 2 even when"));
}

/// An mbox given to `check` is checked message by message, one report each (`file#N`),
/// and the status is the worst of them.
#[test]
fn check_reads_every_message_of_an_mbox() {
    let d = scratch("cli-mbox");
    let mut mbox = Vec::new();
    for (i, n) in ["good-personal-reply.eml", "canary.eml", "bad-mime.eml"]
        .iter()
        .enumerate()
    {
        mbox.extend_from_slice(
            format!("From a@example.com Mon Nov 23 10:00:0{i} 2026\n").as_bytes(),
        );
        mbox.extend_from_slice(&sample(n));
        mbox.extend_from_slice(b"\n");
    }
    // Not named .mbox: recognised by its `From ` lines.
    let p = d.join("export");
    std::fs::write(&p, &mbox).unwrap();
    let p = p.to_str().unwrap();
    let o = run(&["check", NOW, p]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let out = stdout(&o);
    for (i, verdict) in [(1, "PASS"), (2, "REJECT"), (3, "FLAG")] {
        assert!(out.contains(&format!("{p}#{i}: {verdict}")), "{out}");
    }
    assert!(out.contains("3 checked: 1 pass, 1 flag, 1 reject"), "{out}");
    let o = run(&["check", NOW, "--format=json", p]);
    let files: Vec<String> = json(&o)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        files,
        [format!("{p}#1"), format!("{p}#2"), format!("{p}#3")]
    );
    // One message in a file named .mbox is still message 1 of an mbox.
    let one = d.join("one.mbox");
    let mut m = b"From a@example.com Mon Nov 23 10:00:00 2026\n".to_vec();
    m.extend_from_slice(&sample("good-personal-reply.eml"));
    std::fs::write(&one, &m).unwrap();
    let o = run(&["check", NOW, "--format=json", one.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        json(&o)[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("one.mbox#1")
    );
    // A message of the mbox that is not mail is 65 for that message; the others are checked.
    let mut bad = b"From a@example.com Mon Nov 23 10:00:00 2026\n".to_vec();
    bad.extend_from_slice(&sample("good-personal-reply.eml"));
    bad.extend_from_slice(b"\nFrom b@example.com Mon Nov 23 10:00:01 2026\njust words\n");
    let badp = d.join("bad.mbox");
    std::fs::write(&badp, &bad).unwrap();
    let o = run(&["check", NOW, badp.to_str().unwrap()]);
    assert_eq!(code(&o), 65, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("bad.mbox#2: not a mail message"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("bad.mbox#1: PASS"), "{}", stdout(&o));
    // A Maildir is a folder: `check` says to scan it.
    std::fs::create_dir_all(d.join("Maildir/cur")).unwrap();
    std::fs::create_dir_all(d.join("Maildir/new")).unwrap();
    let md = d.join("Maildir");
    let o = run(&["check", md.to_str().unwrap()]);
    assert_eq!(code(&o), 66);
    assert!(
        stderr(&o).contains("is a Maildir folder; check the drafts in it with `preflight scan"),
        "{}",
        stderr(&o)
    );
}

/// A bare `--now` date is the end of that day: a draft dated that morning is not "in the
/// future"; a word is refused with the accepted forms named.
#[test]
fn now_as_a_bare_date_and_its_error() {
    let draft = b"From: Ann <ann@example.com>\nTo: bob@example.org\nSubject: Lunch\nDate: Wed, 02 Dec 2026 08:30:00 +0000\nMessage-ID: <a1@example.com>\n\nSee you at noon.\n";
    let o = run_stdin(&["check", "--now=2026-12-02", "--format=json", "-"], draft);
    let report = json(&o);
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"HDR008"), "{ids:?}");
    let o = run_stdin(
        &["check", "--now=2026-12-02T00:00:00Z", "--format=json", "-"],
        draft,
    );
    assert!(
        stdout(&o).contains("HDR008"),
        "midnight is explicit: {}",
        stdout(&o)
    );
    let o = run(&["check", "--now=yesterday", "samples/canary.eml"]);
    assert_eq!(code(&o), 64);
    let e = stderr(&o);
    assert!(
        e.contains("Unix seconds")
            && e.contains("2026-11-23: the end of that day")
            && e.contains("RFC 5322"),
        "{e}"
    );
}

/// An LF draft under the limit as a file but over it as sent (CR LF, plus what servers
/// add) is refused, and the report gives both sizes.
#[test]
fn size_is_measured_as_sent() {
    let d = scratch("cli-wire");
    let mut m = b"From: Ann <ann@example.com>\nTo: bob@example.org\nSubject: Report\nDate: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <r1@example.com>\n\n".to_vec();
    let line = [b"x".repeat(76), b"\n".to_vec()].concat();
    while m.len() + line.len() < 10_199_999 {
        m.extend_from_slice(&line);
    }
    m.resize(10_199_998, b'y');
    m.push(b'\n');
    let p = d.join("big.eml");
    std::fs::write(&p, &m).unwrap();
    let o = run(&["check", NOW, "--select=SIZE001", p.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    let out = stdout(&o)
        .replace('\n', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        out.contains("10,199,999 bytes (9.7 MiB) as a file and 10,33"),
        "{out}"
    );
    assert!(out.contains("on the wire"), "{out}");
}

#[test]
fn select_ignore_and_profile_change_what_runs() {
    // (The content model is left out too: it adds 1.84 on this phishing-like sample.)
    let o = run(&[
        "check",
        NOW,
        "--ignore=HDR004,MDL001",
        "samples/bad-headers.eml",
    ]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(!stdout(&o).contains("HDR004"));
    let o = run(&["check", NOW, "--select=mime", "samples/bad-headers.eml"]);
    assert_eq!(code(&o), 0);
    let o = run(&[
        "check",
        NOW,
        "--select=HDR012,HDR003",
        "--format=json",
        "samples/bad-headers.eml",
    ]);
    let ids: Vec<String> = json(&o)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["HDR012", "HDR003"]);
    // The 120-attachment sample: over Postfix's 100 by default, named limits otherwise.
    let d = scratch("cli-profile");
    let cfg = d.join("c.yaml");
    std::fs::write(&cfg, "limits: { max_attachments: 200 }\n").unwrap();
    let f = "samples/bad-size-too-many-attachments.eml";
    assert_eq!(code(&run(&["check", NOW, f])), 1);
    assert_eq!(
        code(&run(&["check", NOW, "--config", cfg.to_str().unwrap(), f])),
        0
    );
    std::fs::write(&cfg, "limits: { max_message_bytes: 1000 }\n").unwrap();
    let o = run(&[
        "check",
        NOW,
        "--config",
        cfg.to_str().unwrap(),
        "samples/good-newsletter.eml",
    ]);
    assert_eq!(
        code(&o),
        2,
        "SIZE001 rejects over the limit: {}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("552 5.3.4"));
}

#[test]
fn local_rule_packs_add_and_override_rules() {
    let d = scratch("cli-rulesdir");
    std::fs::write(
        d.join("local.yaml"),
        r#"
rules:
  - id: CNT900
    name: internal-project-codename
    family: content
    summary: The message names an internal project
    why: Our policy forbids project code names in outbound mail.
    fix: Remove the code name.
    score: 6
    predicts: ["554 5.7.1 Policy violation"]
    literals: ["winter gala"]
    target: subject
    examples:
      match: ["Your invitation to the Winter Gala"]
      no_match: ["Your invitation to the summer party"]
overrides:
  - { id: HDR004, score: 0.5 }
"#,
    )
    .unwrap();
    let dir = d.to_str().unwrap();
    // The override turns HDR004 from a hard reject into a score.
    let o = run(&[
        "check",
        NOW,
        "--rules-dir",
        dir,
        "--ignore=MDL001",
        "--format=json",
        "samples/bad-headers.eml",
    ]);
    let v = json(&o);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "HDR004")
        .unwrap()
        .clone();
    assert_eq!(
        (f["action"].as_str(), f["score"].as_f64()),
        (Some("score"), Some(0.5))
    );
    assert_eq!(code(&o), 0);
    // The new pattern rule fires on the gala invitation's Subject.
    let o = run(&["check", NOW, "--rules-dir", dir, "samples/bad-mime.eml"]);
    assert!(
        stdout(&o).contains("CNT900 internal-project-codename"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        code(&o),
        2,
        "mime 5 + content 6 reaches the reject threshold"
    );
    let o = run(&["rules", "explain", "CNT900", "--rules-dir", dir]);
    assert!(stdout(&o).contains("local.yaml:3"), "{}", stdout(&o));
    let o = run(&["rules", "test", "--rules-dir", dir, "--only=CNT900"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));

    // A wrong example makes `rules test` fail and say where.
    std::fs::write(
        d.join("local.yaml"),
        "rules:\n  - id: CNT901\n    name: wrong-example\n    family: content\n    summary: s\n    why: w\n    fix: f\n    score: 1\n    predicts: [\"554 5.7.1 x\"]\n    literals: [\"lottery\"]\n    target: body\n    examples:\n      match: [\"You won a prize\"]\n      no_match: [\"hello\"]\n",
    )
    .unwrap();
    let o = run(&["rules", "test", "--rules-dir", dir]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("FAIL CNT901 match example #1 did not fire"),
        "{}",
        stdout(&o)
    );

    // A broken pack is a configuration error with file and line.
    std::fs::write(
        d.join("local.yaml"),
        "rules:\n  - id: CNT902\n    name: x\n",
    )
    .unwrap();
    let o = run(&["check", "--rules-dir", dir, "samples/canary.eml"]);
    assert_eq!(code(&o), 78);
    assert!(stderr(&o).contains("local.yaml:2"), "{}", stderr(&o));
}

/// A rules directory with several broken files: one run lists every problem of every
/// file, sorted by place, each place once; nothing waits for another round.
#[test]
fn broken_rule_packs_list_every_problem_at_once() {
    let d = scratch("cli-broken-packs");
    let head =
        "rules:\n  - id: CNT900\n    name: first-rule\n    family: content\n    summary: s\n";
    std::fs::write(
        d.join("a.yaml"),
        format!("{head}    why: y\n    fix: f\n    score: 1\n    predicts: [\"554 5.7.1 x\"]\n    literals: [abc]\n    target: body\n"),
    )
    .unwrap();
    std::fs::write(
        d.join("b.yaml"),
        "rules:\n  - id: CNT900\n    name: second-rule\n    family: content\n    summary: s\n    why: w\n    fix: f\n    score: 1\n    predicts: [\"554 5.7.1 x\"]\n    regex: \"(\"\n    target: body\n",
    )
    .unwrap();
    std::fs::write(d.join("c.yaml"), "rules:\n  - id: [\n").unwrap();
    let o = run(&["rules", "test", "--rules-dir", d.to_str().unwrap()]);
    assert_eq!(code(&o), 78, "{}", stderr(&o));
    let err = stderr(&o);
    let at = |f: &str| format!("{}:", d.join(f).display());
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 5, "{err}");
    assert!(lines[0].ends_with("4 problem(s) in rule packs:"), "{err}");
    assert!(
        lines[1].starts_with(&format!("{}6:10: CNT900: `why` is a boolean", at("a.yaml")))
            && lines[1].contains("quote it"),
        "{err}"
    );
    assert!(
        lines[2].starts_with(&format!("{}2:5: CNT900: duplicate id", at("b.yaml"))),
        "{err}"
    );
    assert!(
        lines[3].starts_with(&format!("{}10:12: CNT900: invalid regex", at("b.yaml"))),
        "{err}"
    );
    assert_eq!(
        lines[4],
        format!("{}2:9: -: unclosed bracket '['", at("c.yaml")),
        "{err}"
    );
}

/// A config error names its place once: `file:line:column: problem`.
#[test]
fn config_errors_name_their_place_once() {
    let d = scratch("cli-config-place");
    let cfg = d.join("c2.yaml");
    std::fs::write(&cfg, "limitz: {}\n").unwrap();
    let o = run(&[
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "samples/canary.eml",
    ]);
    assert_eq!(code(&o), 78);
    let want = format!("preflight: {}:1:1: unknown field `limitz`", cfg.display());
    assert!(stderr(&o).starts_with(&want), "{}", stderr(&o));
    assert!(!stderr(&o).contains("line 1 column 1"), "{}", stderr(&o));
}

/// `rules list` and `rules test` choose rules with `--select`, as `check` does; `--only`
/// still works for the scripts that use it.
#[test]
fn rules_select_like_check() {
    let o = run(&["rules", "list", "--select=size"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), stdout(&run(&["rules", "list", "--only=size"])));
    let o = run(&["rules", "test", "--select=HDR004"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains(": 1 rules"), "{}", stdout(&o));
    let o = run(&["rules", "list", "--select=NOPE999"]);
    assert_eq!(code(&o), 64);
    assert!(
        stderr(&o).contains("--select NOPE999: matches no rule"),
        "{}",
        stderr(&o)
    );
    let help = stdout(&run(&["rules", "list", "--help"]));
    assert!(
        help.contains("--select") && !help.contains("--only"),
        "{help}"
    );
}

#[test]
fn rules_subcommands_document_every_rule() {
    let o = run(&["rules", "list", "--format=json"]);
    assert_eq!(code(&o), 0);
    let v = json(&o);
    let rules = v.as_array().unwrap();
    assert!(rules.len() >= 40);
    for r in rules {
        for key in ["id", "name", "family", "summary", "why", "fix", "predicts"] {
            assert!(
                r[key].as_str().is_some_and(|s| !s.is_empty())
                    || r[key].as_array().is_some_and(|a| !a.is_empty()),
                "{key} in {r}"
            );
        }
    }
    let o = run(&["rules", "list", "--only=size"]);
    assert_eq!(stdout(&o).lines().count(), 6);
    let o = run(&["rules", "explain", "duplicate-single-header"]);
    assert!(stdout(&o).starts_with("HDR004 duplicate-single-header [headers]"));
    let o = run(&["rules", "test"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains(" 0 failed"));
}

/// The report shown in the README is what the binary prints today.
#[test]
fn readme_report_is_current() {
    let readme = read_text("README.md");
    let start = "$ preflight check samples/bad-headers.eml\n";
    let from = readme.find(start).expect("README shows a report") + start.len();
    let to = from + readme[from..].find("$ echo $?").unwrap();
    let o = run(&["check", NOW, "--color=never", "samples/bad-headers.eml"]);
    assert_eq!(&readme[from..to], stdout(&o), "update the README's report");
}

/// The local rule pack shown in the README loads and its examples pass.
#[test]
fn readme_rule_pack_works() {
    let readme = read_text("README.md");
    let start = "```yaml\n# /etc/preflight/rules.d/local.yaml\n";
    let from = readme.find(start).expect("README shows a local pack") + start.len();
    let to = from + readme[from..].find("```").unwrap();
    let d = scratch("cli-readme-pack");
    std::fs::write(d.join("local.yaml"), &readme[from..to]).unwrap();
    let o = run(&[
        "rules",
        "test",
        "--rules-dir",
        d.to_str().unwrap(),
        "--only=CNT900,CNT901",
    ]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("2 rules"), "{}", stdout(&o));
}

/// The envelope options reach the checks that read them: the login, MAIL FROM and the
/// recipients each change the report.
#[test]
fn envelope_options_change_the_report() {
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["check", NOW, "--format", "json"];
        all.extend_from_slice(args);
        all.push("samples/good-personal-reply.eml");
        let o = run(&all);
        json(&o)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(ids(&[]).is_empty());
    assert!(ids(&["--auth-user", "mallory@elsewhere.example"]).contains(&"AUTH001".to_string()));
    assert!(ids(&["--mail-from", "bounce@esp.example.net"]).contains(&"AUTH002".to_string()));
    assert_eq!(ids(&["--rcpt", "bob@@example.org"]), ["RCPT001"]);
}

/// A draft that opens with a stray continuation line is mail with a finding, not "not mail".
#[test]
fn stray_continuation_first_is_checked() {
    let o = run(&[
        "check",
        NOW,
        "--format",
        "json",
        "tests/fixtures/rules/HDR019-message-starts-with-continuation.eml",
    ]);
    assert_ne!(code(&o), 65, "{}", stderr(&o));
    let report = json(&o);
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(ids.contains(&"HDR019"), "{ids:?}");
}

/// `--dns-answers` runs the checks that need DNS with fixed answers; without it they do
/// not run; a bad answers file is a configuration error with its line.
#[test]
fn dns_answers_run_the_online_checks() {
    let eml = "tests/fixtures/rules/RCPT004-null-mx-and-missing-domain.eml";
    let dns = "tests/fixtures/rules/RCPT004-null-mx-and-missing-domain.dns";
    let args = ["check", "--format", "json", "--rcpt", "bob@nullmx.example"];
    let offline = run(&[&args[..], &[eml]].concat());
    assert_eq!(code(&offline), 0, "{}", stderr(&offline));
    // Offline the rule does not run, and the report says so.
    let report = json(&offline);
    assert!(
        report["findings"].as_array().unwrap().is_empty(),
        "{report}"
    );
    let not_checked = &report["not_checked"][0];
    assert!(
        not_checked["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "RCPT004"),
        "{report}"
    );
    assert!(
        not_checked["why"].as_str().unwrap().contains("--online"),
        "{report}"
    );
    let online = run(&[&args[..], &["--dns-answers", dns, eml]].concat());
    assert_eq!(code(&online), 0, "{}", stderr(&online));
    let ids: Vec<String> = json(&online)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["RCPT004"]);
    // Every answer RCPT004 needs was there (the reputation rules lack `sending.ips`).
    let not_checked = json(&online)["not_checked"].to_string();
    assert!(!not_checked.contains("RCPT004"), "{not_checked}");
    let dir = scratch("dns-answers");
    let bad = dir.join("bad.dns");
    std::fs::write(&bad, "# fine\nexample.org MX ten mx.example.org\n").unwrap();
    let o = run(&["check", "--dns-answers", bad.to_str().unwrap(), eml]);
    assert_eq!(code(&o), 78, "{}", stderr(&o));
    assert!(stderr(&o).contains("bad.dns:2:"), "{}", stderr(&o));
}

/// `--profile` takes any profile by name, shipped or local; an unknown one is a
/// configuration error that names the known ones.
#[test]
fn profiles_are_chosen_by_name() {
    let o = run(&[
        "check",
        "--profile",
        "gmail",
        "samples/good-personal-reply.eml",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = run(&[
        "check",
        "--profile",
        "hotmail",
        "samples/good-personal-reply.eml",
    ]);
    assert_eq!(code(&o), 78, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown profile `hotmail` (known: gmail, microsoft, postfix)"),
        "{}",
        stderr(&o)
    );
}
