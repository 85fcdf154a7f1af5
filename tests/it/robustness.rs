//! Hostile and mangled input never panics and never produces an internal error: every
//! sample (and every attachment fixture) is truncated at many points, has bytes flipped, CR/LF/NUL/8-bit bytes and
//! boundary lines spliced in, and the engine must answer each with a report.

use preflight::{Config, Engine, Envelope};

use crate::support::{Rng, path, rule_fixtures};

/// The samples, and the attachment fixtures (archives, Office files, PDFs), whose mangled
/// base64 feeds damaged containers to the parsers.
fn samples() -> Vec<Vec<u8>> {
    let fixtures = rule_fixtures().into_iter().filter(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("ATT"))
    });
    let mut v: Vec<_> = std::fs::read_dir(path("samples"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .chain(fixtures)
        .collect();
    v.sort();
    v.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn check_ok(engine: &Engine, raw: &[u8]) {
    let r = engine.check(raw, &Envelope::default());
    assert!(
        r.internal_errors.is_empty(),
        "internal error {:?} on input {:?}",
        r.internal_errors,
        String::from_utf8_lossy(&raw[..raw.len().min(300)])
    );
    for f in &r.findings {
        for e in &f.evidence {
            assert!(e.span.start <= e.span.end, "{}: bad span", f.id);
            if e.frame == preflight::report::Frame::Raw {
                assert!(e.span.end <= raw.len(), "{}: span past the end", f.id);
            }
        }
    }
}

#[test]
fn truncations_never_panic() {
    let engine = Engine::new(Config::default()).unwrap();
    for s in samples() {
        let step = (s.len() / 97).max(1);
        for cut in (0..=s.len()).step_by(step) {
            check_ok(&engine, &s[..cut]);
        }
    }
}

#[test]
fn mutations_never_panic() {
    let engine = Engine::new(Config::default()).unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let inserts: &[&[u8]] = &[
        b"\r",
        b"\n",
        b"\0",
        b"\xff\xfe",
        b"\r\n\r\n",
        b"\n--",
        b"--\n",
        b"=?utf-8?b?",
        b"=?",
        b"\t",
        b": ",
        b"\nContent-Type: multipart/mixed; boundary=x\n\n--x\n",
        b"\xe2\x80\xae",
    ];
    for s in samples() {
        for _ in 0..300 {
            let mut m = s.clone();
            for _ in 0..1 + rng.below(6) {
                match rng.below(3) {
                    0 if !m.is_empty() => {
                        let i = rng.below(m.len());
                        m[i] = rng.next() as u8;
                    }
                    1 => {
                        let i = rng.below(m.len() + 1);
                        let ins = inserts[rng.below(inserts.len())];
                        m.splice(i..i, ins.iter().copied());
                    }
                    _ if !m.is_empty() => {
                        let i = rng.below(m.len());
                        let j = (i + rng.below(64)).min(m.len());
                        m.drain(i..j);
                    }
                    _ => {}
                }
            }
            check_ok(&engine, &m);
        }
    }
}

#[test]
fn pathological_shapes_never_panic() {
    let engine = Engine::new(Config::default()).unwrap();
    let mut cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\n".to_vec(),
        b"\r".to_vec(),
        b"\r\n\r\n".to_vec(),
        b":".to_vec(),
        b"From:".to_vec(),
        b"From: <>\n\n".to_vec(),
        b"Subject: =?utf-8?q?=\n\n".to_vec(),
        b"Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n".to_vec(),
        b"Content-Type: message/rfc822\n\n".to_vec(),
        vec![0u8; 4096],
        vec![b'a'; 100_000],
        vec![0xffu8; 4096],
    ];
    // 1,000 nested multiparts and 20,000 parts.
    let mut deep = Vec::new();
    for i in 0..1000 {
        deep.extend(format!("Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n").as_bytes());
    }
    cases.push(deep);
    let mut wide = b"Content-Type: multipart/mixed; boundary=w\n\n".to_vec();
    for _ in 0..20_000 {
        wide.extend(b"--w\n\nx\n");
    }
    cases.push(wide);
    // 50,000 header fields.
    let mut many = Vec::new();
    for i in 0..50_000 {
        many.extend(format!("X-H{i}: v\n").as_bytes());
    }
    many.extend(b"\nbody\n");
    cases.push(many);
    for c in &cases {
        check_ok(&engine, c);
    }
}
