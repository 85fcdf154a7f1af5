//! Bounded cost on hostile input: every kind of generated hostile message
//! (`tests/support/hostile.rs`) must cost time linear in its size, carry bounded findings,
//! and be parsed only as far as the strict MIME tree goes.
//!
//! The fast tests run in `cargo test` on small sizes and compare the time of a check at
//! `n` and `4n` bytes (the quickest of a few runs each, interleaved, with a wide margin: a
//! quadratic path gives 16, a linear one about 4). The full-size test is `#[ignore]`d and
//! run by `.ci/run` on a release build: each message up to 35 MB checked by the binary in
//! under 0.1 s per MB and under 10 times its size + 50 MB of peak memory.

use std::time::{Duration, Instant};

use preflight::message::html::MAX_ITEMS;
use preflight::message::mime::HARD_MAX_PARTS;
use preflight::message::raw::HARD_MAX_FIELDS;
use preflight::message::{Message, SNIPPET_MAX};
use preflight::report::{MESSAGE_MAX, Snippet};
use preflight::{Config, Engine, Envelope, Report};

use crate::support::binary::BIN;
use crate::support::{hostile, measure, scratch};

/// The tests of this module run one at a time: the timing comparisons must not share the
/// machine's two cores with each other. Tests of other modules may run beside them in
/// `cargo test` (one binary), which the interleaved runs and the wide margin absorb;
/// `.ci/run` runs the full-size test alone (`--test-threads=1`).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const KIB: usize = 1024;
const MB: usize = 1024 * 1024;

fn engine(ignore: &[&str]) -> Engine {
    Engine::new(Config {
        now: Some(1_780_000_000),
        ignore: ignore.iter().map(|s| s.to_string()).collect(),
        ..Config::default()
    })
    .expect("shipped rules load")
}

/// The quickest of `runs` checks of each message, run in turns.
fn quickest(e: &Engine, msgs: &[&[u8]], runs: usize) -> Vec<Duration> {
    let mut best = vec![Duration::MAX; msgs.len()];
    for _ in 0..runs {
        for (b, m) in best.iter_mut().zip(msgs) {
            let t = Instant::now();
            std::hint::black_box(e.check(m, &Envelope::default()));
            *b = (*b).min(t.elapsed());
        }
    }
    best
}

/// Every finding's message, evidence count, snippets and duplicates within bounds.
fn assert_bounded(kind: &str, r: &Report, max_evidence: usize) {
    assert!(
        r.internal_errors.is_empty(),
        "{kind}: {:?}",
        r.internal_errors
    );
    for f in &r.findings {
        assert!(
            f.message.len() <= MESSAGE_MAX,
            "{kind}: {} message is {} bytes",
            f.id,
            f.message.len()
        );
        assert!(
            f.evidence.len() <= max_evidence,
            "{kind}: {} has {} evidence entries",
            f.id,
            f.evidence.len()
        );
        for (i, e) in f.evidence.iter().enumerate() {
            let shown = match &e.snippet {
                Snippet::Text(t) => t.len(),
                Snippet::Bytes(b) => b.len() / 4 * 3,
            };
            assert!(
                shown <= SNIPPET_MAX,
                "{kind}: {} snippet of {shown} bytes",
                f.id
            );
            assert!(
                !f.evidence[..i].contains(e),
                "{kind}: {} carries the same evidence twice",
                f.id
            );
        }
    }
}

#[test]
fn every_kind_costs_time_linear_in_its_size() {
    let _serial = serial();
    let e = engine(&[]);
    let mut slow = Vec::new();
    for k in hostile::kinds() {
        let small = (k.build)(256 * KIB);
        let large = (k.build)(1024 * KIB);
        let t = quickest(&e, &[&small, &large], 3);
        let ratio = t[1].as_secs_f64() / t[0].as_secs_f64().max(1e-6);
        let per_size = ratio * small.len() as f64 / large.len() as f64;
        eprintln!(
            "{:<20} {:>8.1} ms {:>8.1} ms  x{ratio:.1}",
            k.name,
            t[0].as_secs_f64() * 1e3,
            t[1].as_secs_f64() * 1e3
        );
        // Four times the bytes: about 4 when linear, 16 when quadratic. Only a large
        // message that takes a while is judged (a tiny time is all noise).
        if per_size > 2.5 && t[1] > Duration::from_millis(20) {
            slow.push(format!("{} (x{ratio:.1})", k.name));
        }
    }
    assert!(slow.is_empty(), "super-linear: {}", slow.join(", "));
}

#[test]
fn findings_stay_bounded_on_every_kind() {
    let _serial = serial();
    let config = Config::default();
    let e = engine(&[]);
    for k in hostile::kinds() {
        let raw = (k.build)(MB);
        let r = e.check(&raw, &Envelope::default());
        assert_bounded(k.name, &r, config.max_evidence);
    }
}

#[test]
fn many_hits_of_one_rule_end_with_how_many_more() {
    let _serial = serial();
    let raw = (hostile::kind("links-shown-domain").build)(MB);
    let r = engine(&[]).check(&raw, &Envelope::default());
    let links = memchr::memmem::find_iter(&raw, b"<a href").count();
    for id in ["URL011", "URL012"] {
        let f = r.findings.iter().find(|f| f.id == id).expect(id);
        // Each link is its own hit; five are quoted and the rest counted.
        let quoted = f.message.matches("A link in").count();
        assert!((1..=5).contains(&quoted), "{id}: {}", f.message);
        let more = format!("; and {} more", links - quoted);
        assert!(f.message.ends_with(&more), "{id}: {}", f.message);
        assert_eq!(f.evidence.len(), 5, "{id}");
    }
}

#[test]
fn work_for_rules_that_are_off_is_skipped() {
    let _serial = serial();
    // With URL011 and URL012 off, links whose text shows another domain cost what
    // ordinary links cost (before, the evidence was built anyway: quadratic).
    let e = engine(&["URL011", "URL012"]);
    let shown = (hostile::kind("links-shown-domain").build)(MB);
    let plain = (hostile::kind("links-plain").build)(MB);
    let t = quickest(&e, &[&shown, &plain], 3);
    let ratio = t[0].as_secs_f64() / t[1].as_secs_f64().max(1e-6);
    // The anchor texts are URLs too, so there are twice the links: a ratio of about 2.
    assert!(ratio < 5.0, "ignored URL011/URL012 still cost x{ratio:.1}");
    let r = e.check(&shown, &Envelope::default());
    assert!(
        !r.findings
            .iter()
            .any(|f| f.id == "URL011" || f.id == "URL012")
    );
}

#[test]
fn only_what_the_tree_recorded_is_parsed() {
    let _serial = serial();
    // 24,000 parts: the tree stops at its cap and the decoder gets no more.
    let raw = (hostile::kind("mime-parts").build)(MB);
    let msg = Message::parse(&raw);
    assert!(msg.mime.truncated);
    let parsed = msg.parsed.as_ref().expect("parsed");
    assert!(
        parsed.parts.len() <= HARD_MAX_PARTS + 1,
        "mail-parser kept {} parts",
        parsed.parts.len()
    );
    let r = engine(&[]).check(&raw, &Envelope::default());
    let f = r
        .findings
        .iter()
        .find(|f| f.id == "SIZE005")
        .expect("SIZE005");
    assert!(
        f.message.contains("inspection stopped there"),
        "{}",
        f.message
    );
}

#[test]
fn header_fields_past_the_cap_are_not_parsed() {
    let _serial = serial();
    // 350,000 fields of three bytes.
    let raw = (hostile::kind("headers-tiny").build)(MB);
    let msg = Message::parse(&raw);
    let parsed = msg.parsed.as_ref().expect("parsed");
    let fields = parsed.parts.first().map_or(0, |p| p.headers.len());
    assert!(
        fields <= HARD_MAX_FIELDS,
        "mail-parser kept {fields} fields"
    );
    assert_eq!(msg.facts.headers().len(), HARD_MAX_FIELDS);
    let r = engine(&[]).check(&raw, &Envelope::default());
    let f = r
        .findings
        .iter()
        .find(|f| f.id == "SIZE002")
        .expect("SIZE002");
    assert!(
        f.message.contains("inspection stopped after 10000 fields"),
        "{}",
        f.message
    );
}

#[test]
fn links_are_read_up_to_a_cap() {
    let _serial = serial();
    // 80,000 links and images of a dozen bytes each.
    let raw = (hostile::kind("links-tiny").build)(MB);
    let msg = Message::parse(&raw);
    let (links, images) = msg.html_facts().iter().fold((0, 0), |(l, i), (_, f)| {
        (l + f.links.len(), i + f.images.len())
    });
    assert_eq!((links, images), (MAX_ITEMS, MAX_ITEMS));
    let n = msg.links().len();
    assert!(n <= 3 * MAX_ITEMS, "{n} links");
    // What was not read is counted, and reported.
    assert!(msg.links_not_read() > 0);
    let report = preflight::Engine::new(preflight::Config::default())
        .unwrap()
        .check(&raw, &preflight::Envelope::default());
    assert!(
        report.findings.iter().any(|f| f.id == "URL017"),
        "{:?}",
        report.rule_ids()
    );
    // Three HTML parts of 8,000 links each: the parts keep 20,000 together.
    let mut raw = b"From: a@example.com\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n".to_vec();
    for _ in 0..3 {
        raw.extend(b"--b\nContent-Type: text/html\n\n");
        raw.extend("<a href=x>y</a>".repeat(8000).as_bytes());
        raw.extend(b"\n");
    }
    raw.extend(b"--b--\n");
    let msg = Message::parse(&raw);
    let kept: Vec<usize> = msg
        .html_facts()
        .iter()
        .map(|(_, f)| f.links.len())
        .collect();
    assert_eq!(kept, [8000, 8000, 4000]);
    assert_eq!(msg.links_not_read(), 4000);
}

/// How deep attached messages nest in mail-parser's parse.
fn nested_depth(m: &mail_parser::Message<'_>) -> usize {
    m.parts
        .iter()
        .filter_map(|p| match &p.body {
            mail_parser::PartType::Message(inner) => Some(1 + nested_depth(inner)),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn nested_messages_are_parsed_only_as_deep_as_the_tree() {
    let _serial = serial();
    // 30,000 attached messages nested in each other: dropping mail-parser's parse of all
    // of them recursed once per level, which overflowed a small stack (and the 8 MB main
    // stack at 500,000 levels). On a 1 MiB stack the whole check must go through.
    let raw = (hostile::kind("rfc822-nesting").build)(2 * MB);
    let depth = std::thread::Builder::new()
        .stack_size(MB)
        .spawn(move || {
            let msg = Message::parse(&raw);
            let depth = msg.parsed.as_ref().map_or(0, nested_depth);
            drop(msg);
            let r = engine(&[]).check(&raw, &Envelope::default());
            assert!(r.internal_errors.is_empty(), "{:?}", r.internal_errors);
            depth
        })
        .expect("thread")
        .join()
        .expect("the check went through");
    assert!(depth <= 70, "mail-parser nested {depth} messages");
}

/// The release binary on each hostile message up to 35 MB: under 0.1 s per MB and under
/// 10 times the message's size + 50 MB of peak memory (GNU time reads the child's maximum
/// resident set size). A row over the budget is measured twice more and its best counts
/// (the machine is shared).
#[test]
#[ignore = "release build, about a gigabyte of generated mail; run by .ci/run"]
fn full_size_messages_meet_the_budget() {
    let _serial = serial();
    assert!(
        measure::have_time(),
        "{} is needed to measure peak memory (apt-get install time)",
        measure::TIME
    );
    let bin = std::path::Path::new(BIN);
    let dir = scratch("hostile-full");
    let mut over = Vec::new();
    for k in hostile::kinds() {
        for size in [8 * MB, 35 * MB] {
            let raw = (k.build)(size);
            let file = dir.join(format!("{}.eml", k.name));
            std::fs::write(&file, &raw).expect("write");
            let mb = raw.len() as f64 / MB as f64;
            let (max_secs, max_rss) = (0.1 * mb, 10.0 * raw.len() as f64 + 50.0 * MB as f64);
            // The quickest time and the smallest peak of up to three runs.
            let mut r = measure::run(bin, &file, &[])
                .unwrap_or_else(|e| panic!("{} at {mb:.1} MB: {e}", k.name));
            for _ in 0..2 {
                if r.secs < max_secs && (r.peak_rss as f64) < max_rss {
                    break;
                }
                let again = measure::run(bin, &file, &[])
                    .unwrap_or_else(|e| panic!("{} at {mb:.1} MB: {e}", k.name));
                r.secs = r.secs.min(again.secs);
                r.peak_rss = r.peak_rss.min(again.peak_rss);
            }
            eprintln!(
                "{:<20} {:>6.1} MB {:>6.2} s {:>6.3} s/MB {:>7.1} MB peak {:>3} findings",
                k.name,
                mb,
                r.secs,
                r.secs / mb,
                r.peak_rss as f64 / MB as f64,
                r.findings
            );
            assert_eq!(r.internal_errors, 0, "{}", k.name);
            assert!(r.largest_message <= MESSAGE_MAX, "{}", k.name);
            if r.secs >= max_secs || r.peak_rss as f64 >= max_rss {
                over.push(format!(
                    "{} at {mb:.1} MB: {:.2} s, {:.0} MB peak",
                    k.name,
                    r.secs,
                    r.peak_rss as f64 / MB as f64
                ));
            }
        }
        let _ = std::fs::remove_file(dir.join(format!("{}.eml", k.name)));
    }
    assert!(over.is_empty(), "over the budget: {}", over.join("; "));
}
