//! Throughput of `Engine::check` over the samples, the attachment fixtures (archives,
//! Office files, PDFs, HTML) and, when `../shared/corpus` is present, over a slice of the
//! dev corpus (every 10th message of the manifest), the last with every family on and
//! again with the `attachments` family off, to show what attachment inspection costs.
//!
//! `cargo bench --bench check`. The whole-corpus figure used in the closing notes comes from
//! `benches/peers.sh`, which also measures SpamAssassin and rspamd in the same run.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use preflight::{Config, Engine, Envelope};

mod common;

fn load_samples() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn load_attachment_fixtures() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "eml")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("ATT"))
        })
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn load_corpus_slice() -> Vec<Vec<u8>> {
    common::corpus_messages(10).unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let config = Config {
        now: Some(1_795_392_000),
        ..Config::default()
    };
    let engine = Engine::new(config.clone()).unwrap();
    let without_attachments = Engine::new(Config {
        ignore: vec!["attachments".into()],
        ..config
    })
    .unwrap();
    let env = Envelope::default();
    let slice = load_corpus_slice();
    for (name, engine, msgs) in [
        ("samples", &engine, load_samples()),
        ("attachment-fixtures", &engine, load_attachment_fixtures()),
        ("corpus-slice", &engine, slice.clone()),
        ("corpus-slice-no-attachments", &without_attachments, slice),
    ] {
        if msgs.is_empty() {
            eprintln!("skipping {name}: no messages (is ../shared/corpus there?)");
            continue;
        }
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(msgs.len() as u64));
        g.sample_size(20);
        g.bench_function("check", |b| {
            b.iter(|| {
                for m in &msgs {
                    std::hint::black_box(engine.check(m, &env));
                }
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
