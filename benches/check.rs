//! Throughput of `Engine::check` over the samples and, when `../shared/corpus` is present,
//! over a slice of the dev corpus (every 10th message of the manifest).
//!
//! `cargo bench --bench check`. The whole-corpus figure used in the closing notes comes from
//! `benches/peers.sh`, which also measures SpamAssassin and rspamd in the same run.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use preflight::{Config, Engine, Envelope};

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

fn load_corpus_slice() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let Ok(manifest) = std::fs::read_to_string(dir.join("MANIFEST.tsv")) else {
        return Vec::new();
    };
    manifest
        .lines()
        .skip(1)
        .step_by(10)
        .filter_map(|l| l.split('\t').next())
        .filter_map(|p| std::fs::read(dir.join(p)).ok())
        .collect()
}

fn bench(c: &mut Criterion) {
    let engine = Engine::new(Config {
        now: Some(1_795_392_000),
        ..Config::default()
    })
    .unwrap();
    let env = Envelope::default();
    for (name, msgs) in [
        ("samples", load_samples()),
        ("corpus-slice", load_corpus_slice()),
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
