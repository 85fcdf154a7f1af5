//! Mutation test: real messages mutated at the byte level must never make a check fail
//! internally (a panic caught by the engine, which the milter answers with a temporary
//! failure on every retry, so the mail waits in the queue until Postfix bounces it).
//!
//! Each mutant is a message with one to five mutations applied in turn: bit flips, byte
//! replacements, MIME tokens (boundary lines, multipart and transfer-encoding fields,
//! encoded words, header-like lines) and HTML tokens (tags, attributes left open, comments,
//! character references, multi-byte UTF-8 characters, lone continuation bytes) inserted,
//! truncation (also inside a multi-byte character), a slice repeated, runs of random
//! bytes, line endings changed, a range deleted. Every mutant is derived from its own seed
//! (`mutant(raw, seed)` is a pure function), so a failure names the file, the seed and the
//! mutations, and the first panic's place, and is reproduced from those alone. Besides
//! `Engine::check` (shipped configuration, fixed `now`), each report is rendered as human
//! text and JSON, since the renderers quote message text too.
//!
//! * `mutated_samples_never_fail_internally` (plain `cargo test`): the repository's
//!   `samples/*.eml` and `tests/fixtures/**/*.eml`, three mutants each (540).
//! * `mutated_corpus_never_fails_internally` (`--ignored`, run by `.ci/run`): every 2nd
//!   message of each source and label in `../shared/corpus/MANIFEST.tsv` (4,176
//!   messages), 8 mutants each:
//!
//! ```text
//! cargo test --release --test tests -- --ignored --nocapture it::mutation::
//! ```
//!
//! `PREFLIGHT_MUTATION_SEED` (decimal or `0x` hex) changes the base seed of both,
//! `PREFLIGHT_MUTANTS` the mutants per corpus message, `PREFLIGHT_CORPUS` the corpus.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use preflight::render::{HumanOptions, human, json};
use preflight::{Engine, Envelope};

use crate::support::{Rng, corpus_dir, engine, files_under, path, root};

/// The seed of mutant `n` of message `i` under base seed `base`.
fn seed_of(base: u64, i: usize, n: usize) -> u64 {
    Rng(base ^ ((i as u64) << 20) ^ n as u64).next()
}

const MIME_TOKENS: &[&str] = &[
    "--xyz\r\n",
    "--xyz--\r\n",
    "\n--xyz\n",
    "\n--xyz--\n",
    "--",
    "\r\n\r\n",
    "\n\n",
    "Content-Type: multipart/mixed; boundary=xyz\r\n",
    "Content-Type: multipart/alternative; boundary=\"xyz\"\n\n--xyz\n",
    "Content-Type: multipart/mixed; boundary=\n",
    "Content-Type: message/rfc822\n\n",
    "Content-Type: text/html; charset=utf-8\n\n",
    "Content-Type: text/plain; charset=\"iso-2022-jp\"\n",
    "Content-Transfer-Encoding: base64\r\n",
    "Content-Transfer-Encoding: quoted-printable\n",
    "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.exe\n",
    "=?utf-8?b?4oKsIMOp8J+YgA==?=",
    "=?utf-8?q?=E2=82=AC_=C3?=",
    "=?utf-8?b?",
    "=?",
    "?=",
    "=C3",
    "=\n",
    "Subject: =?utf-8?b?8J+YgA?=\n",
    "From: \"\u{e9}\u{20ac}\" <a@\u{e9}.example>\n",
    "List-Unsubscribe: <https:/\u{e9}x>, <mailto:\u{20ac}@x>\n",
    "List-Unsubscribe: <https://\u{1f600}\u{1f600}>\n",
    "X-H: v\n",
    "X:\n",
    "\n\t",
    " ",
    ": ",
    "\n From: x\n",
];

const HTML_TOKENS: &[&str] = &[
    "<a href=",
    "<a href=\"",
    "<a href='https://\u{e9}.example/'>",
    "<a href=https://x.example/\u{20ac}>\u{1f600}</a>",
    "<",
    "</",
    ">",
    "<b>",
    "</b>",
    "<img src=\"data:",
    "<font size=7 color=red>",
    "<div style=\"display:none\">",
    "<p =\"x\"\u{e9}>",
    "<a ='\u{1f600}'\u{20ac}>",
    "=\"",
    "\"",
    "'",
    "&#x",
    "&#x20AC;",
    "&#128512;",
    "&eacute;",
    "&",
    "<!--",
    "-->",
    "<!",
    "<?",
    "<script>",
    "</script",
    "<meta http-equiv=refresh content=\"0;url=",
    "<form action=",
    "<input type=password>",
    "\u{e9}",
    "\u{20ac}",
    "\u{1f600}",
    "\u{200b}",
    "\u{202e}",
];

/// Bytes that are not whole UTF-8 characters.
const BROKEN_UTF8: &[&[u8]] = &[
    b"\x80",
    b"\xbf",
    b"\xc3",
    b"\xe2\x82",
    b"\xf0\x9f\x98",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xff",
    b"\xfe\xff",
];

/// A position to insert at: anywhere, or just after a byte that matters to a parser
/// (`<`, `=`, `"`, `:`, a line end), found from a random start.
fn spot(rng: &mut Rng, m: &[u8]) -> usize {
    let at = rng.below(m.len() + 1);
    if rng.below(2) == 0 {
        return at;
    }
    let want = *rng.pick(b"<=\":\n>&");
    m[at..]
        .iter()
        .position(|&c| c == want)
        .map_or(at, |p| at + p + 1)
}

/// One mutation of `m`; returns what it did.
fn mutate(rng: &mut Rng, m: &mut Vec<u8>) -> String {
    if m.is_empty() {
        let t = *rng.pick(MIME_TOKENS);
        m.extend_from_slice(t.as_bytes());
        return format!("insert {t:?} into the empty message");
    }
    match rng.below(12) {
        0 => {
            let i = rng.below(m.len());
            let bit = rng.below(8);
            m[i] ^= 1 << bit;
            format!("flip bit {bit} at {i}")
        }
        1 => {
            let i = rng.below(m.len());
            let b = rng.next() as u8;
            m[i] = b;
            format!("byte {b:#04x} at {i}")
        }
        2 | 3 => {
            let t = *rng.pick(MIME_TOKENS);
            // Boundaries and fields mostly at a line start.
            let i = if rng.below(4) == 0 {
                rng.below(m.len() + 1)
            } else {
                let from = rng.below(m.len() + 1);
                m[from..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(m.len(), |p| from + p + 1)
            };
            m.splice(i..i, t.bytes());
            format!("insert {t:?} at {i}")
        }
        4 | 5 => {
            let i = spot(rng, m);
            let t = *rng.pick(HTML_TOKENS);
            m.splice(i..i, t.bytes());
            format!("insert {t:?} at {i}")
        }
        6 => {
            let i = spot(rng, m);
            let t = *rng.pick(BROKEN_UTF8);
            m.splice(i..i, t.iter().copied());
            format!("insert {t:?} at {i}")
        }
        7 => {
            // Inside a multi-byte character when there is one after a random point.
            let from = rng.below(m.len());
            let i = match m[from..].iter().position(|&c| (0x80..0xc0).contains(&c)) {
                Some(p) if rng.below(2) == 0 => from + p,
                _ => from,
            };
            m.truncate(i);
            format!("truncate at {i}")
        }
        8 => {
            let i = rng.below(m.len());
            let len = 1 + rng.below(256.min(m.len() - i));
            let times = 1 + rng.below(if len < 16 { 64 } else { 8 });
            let piece = m[i..i + len].to_vec();
            let at = i + len;
            m.splice(at..at, piece.iter().copied().cycle().take(len * times));
            format!("repeat {i}..{} {times} times", i + len)
        }
        9 => {
            let i = rng.below(m.len() + 1);
            let n = 1 + rng.below(32);
            let run: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            m.splice(i..i, run);
            format!("{n} random bytes at {i}")
        }
        10 => match rng.below(4) {
            0 => {
                let mut out = Vec::with_capacity(m.len());
                for (k, &c) in m.iter().enumerate() {
                    if c == b'\n' && (k == 0 || m[k - 1] != b'\r') {
                        out.push(b'\r');
                    }
                    out.push(c);
                }
                *m = out;
                "LF to CRLF everywhere".into()
            }
            1 => {
                m.retain(|&c| c != b'\r');
                "CR removed everywhere".into()
            }
            2 => {
                for c in m.iter_mut() {
                    if *c == b'\n' {
                        *c = b'\r';
                    }
                }
                "LF to CR everywhere".into()
            }
            _ => {
                let from = rng.below(m.len());
                match m[from..].iter().position(|&c| c == b'\n') {
                    Some(p) => {
                        let i = from + p;
                        const ENDINGS: &[&[u8]] = &[b"\r", b"\r\n", b"\n\r", b"\n\n"];
                        let to = *rng.pick(ENDINGS);
                        m.splice(i..=i, to.iter().copied());
                        format!("LF at {i} to {to:?}")
                    }
                    None => "no LF to change".into(),
                }
            }
        },
        _ => {
            let i = rng.below(m.len());
            let j = (i + 1 + rng.below(128)).min(m.len());
            m.drain(i..j);
            format!("delete {i}..{j}")
        }
    }
}

/// The mutant of `raw` for `seed`, and its mutations in order.
fn mutant(raw: &[u8], seed: u64) -> (Vec<u8>, String) {
    let mut rng = Rng(seed);
    let mut m = raw.to_vec();
    let n = 1 + rng.below(5);
    let done: Vec<String> = (0..n).map(|_| mutate(&mut rng, &mut m)).collect();
    (m, done.join("; "))
}

thread_local! {
    /// Where the last panic on this thread happened, while a check is being watched.
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that records the place and message of a panic on a
/// thread watching a check, instead of printing it, and leaves every other panic (a
/// failing assertion) to the default hook.
fn watch_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let watched = PANIC.with(|p| {
                let mut p = p.borrow_mut();
                if let Some(slot) = p.as_mut().filter(|s| s.is_empty()) {
                    let at = info
                        .location()
                        .map(|l| format!("{}:{}", l.file(), l.line()))
                        .unwrap_or_default();
                    let what = info
                        .payload()
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| info.payload().downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    // The message may quote the mutant: keep it short.
                    let what: String = what.chars().take(160).collect();
                    *slot = format!("{at}: {what}");
                }
                p.is_some()
            });
            if !watched {
                default(info);
            }
        }));
    });
}

/// Checks one mutant and renders its report; the internal errors (with the first panic's
/// place), if any.
fn failures(engine: &Engine, raw: &[u8]) -> Option<String> {
    PANIC.with(|p| *p.borrow_mut() = Some(String::new()));
    let mut errors = Vec::new();
    match catch_unwind(AssertUnwindSafe(|| engine.check(raw, &Envelope::default()))) {
        Ok(r) => {
            errors.extend(r.internal_errors.iter().cloned());
            let rendered = catch_unwind(AssertUnwindSafe(|| {
                human::report("mutant.eml", &r, &HumanOptions::default());
                json::report_text(&r, Some("mutant.eml"));
            }));
            if rendered.is_err() {
                errors.push("rendering the report panicked".into());
            }
        }
        Err(_) => errors.push("Engine::check panicked".into()),
    }
    let panic = PANIC.with(|p| p.borrow_mut().take()).unwrap_or_default();
    if errors.is_empty() {
        None
    } else {
        Some(format!("{} ({panic})", errors.join(", ")))
    }
}

fn base_seed(default: u64) -> u64 {
    match std::env::var("PREFLIGHT_MUTATION_SEED") {
        Ok(s) => s
            .strip_prefix("0x")
            .map_or_else(|| s.parse(), |h| u64::from_str_radix(h, 16))
            .expect("PREFLIGHT_MUTATION_SEED is a number"),
        Err(_) => default,
    }
}

/// Mutates each message `per` times (message `i`, mutant `n` from `seed_of(base, i, n)`)
/// on `threads` threads; returns the number of mutants and one line per failure.
fn check_mutants(
    engine: &Engine,
    messages: &[(String, Vec<u8>)],
    per: usize,
    base: u64,
    threads: usize,
) -> (usize, Vec<String>) {
    watch_panics();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut failed: Vec<(usize, String)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((path, raw)) = messages.get(i) else {
                            break;
                        };
                        for n in 0..per {
                            let seed = seed_of(base, i, n);
                            let (m, what) = mutant(raw, seed);
                            if let Some(e) = failures(engine, &m) {
                                out.push((i, format!("{path} seed={seed:#018x} [{what}]: {e}")));
                            }
                        }
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    failed.sort();
    (
        messages.len() * per,
        failed.into_iter().map(|(_, l)| l).collect(),
    )
}

#[test]
fn mutants_are_deterministic_and_mutated() {
    let raw = b"From: a@example.com\nSubject: caf\xc3\xa9\n\n<p>\xe2\x82\xac</p>\n";
    let mut differ = 0;
    for n in 0..200 {
        let seed = seed_of(7, 0, n);
        let (a, what) = mutant(raw, seed);
        assert_eq!(mutant(raw, seed), (a.clone(), what));
        differ += usize::from(a != raw);
    }
    assert!(differ > 180, "only {differ} of 200 mutants differ");
}

#[test]
fn mutated_samples_never_fail_internally() {
    let mut files = files_under(&path("samples"), "eml");
    files.extend(files_under(&path("tests/fixtures"), "eml"));
    files.sort();
    assert!(files.len() > 100, "samples and fixtures found");
    let messages: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| {
            let name = p.strip_prefix(root()).unwrap_or(p).display().to_string();
            (name, std::fs::read(p).expect("readable fixture"))
        })
        .collect();
    let (count, failed) = check_mutants(&engine(), &messages, 3, base_seed(0x5eed_0001), 2);
    assert!(
        failed.is_empty(),
        "{} of {count} mutants failed internally:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
#[ignore = "needs ../shared/corpus; run by .ci/run"]
fn mutated_corpus_never_fails_internally() {
    let dir = corpus_dir().expect("../shared/corpus/MANIFEST.tsv (set PREFLIGHT_CORPUS)");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    // Every 2nd message of each (source, label), in manifest order, so every source and
    // label is in.
    let mut seen = std::collections::HashMap::new();
    let mut messages = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [path, source, _, label, ..] = cols[..] else {
            continue;
        };
        let k = seen.entry((source, label)).or_insert(0usize);
        if *k % 2 == 0 {
            let raw = std::fs::read(dir.join(path)).expect("corpus message");
            messages.push((path.to_string(), raw));
        }
        *k += 1;
    }
    assert!(messages.len() > 2000, "{} messages", messages.len());
    let t = std::time::Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let per = std::env::var("PREFLIGHT_MUTANTS")
        .map_or(Ok(8), |n| n.parse())
        .expect("PREFLIGHT_MUTANTS is a number");
    let (count, failed) = check_mutants(&engine(), &messages, per, base_seed(0x5eed_c0de), threads);
    println!(
        "{count} mutants of {} corpus messages checked in {:.1} s on {threads} threads: {} failed internally",
        messages.len(),
        t.elapsed().as_secs_f64(),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {count} mutants failed internally:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
