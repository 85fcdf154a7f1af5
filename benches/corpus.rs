//! Single-core throughput of `Engine::check` over the whole dev corpus (every message of
//! `../shared/corpus/MANIFEST.tsv`, read into memory first), the figure issue 5's target
//! (5,000 messages per second per core) is about. Each pass checks every message once on
//! one thread; the best and the median of the passes are printed, since this shared
//! machine's neighbours only ever make a pass slower.
//!
//! `cargo bench --bench corpus [-- PASSES]` (default 7 passes).

use std::time::Instant;

use preflight::{Config, Engine, Envelope};

mod common;

fn main() {
    let passes: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(7);
    let Some(msgs) = common::corpus_messages(1) else {
        eprintln!("skipping: no ../shared/corpus/MANIFEST.tsv");
        return;
    };
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let engine = Engine::new(Config {
        now: Some(1_795_392_000),
        ..Config::default()
    })
    .expect("shipped rules load");
    // The same engine without the learned models, timed in the same run, pass for pass:
    // what the content model costs.
    let no_model = Engine::new(Config {
        now: Some(1_795_392_000),
        ignore: vec!["MDL".into()],
        ..Config::default()
    })
    .expect("shipped rules load");
    let env = Envelope::default();
    // One warm-up pass: lazily compiled patterns, page faults, caches.
    for m in &msgs {
        std::hint::black_box(engine.check(m, &env));
        std::hint::black_box(no_model.check(m, &env));
    }
    let pass = |e: &Engine| {
        let t = Instant::now();
        for m in &msgs {
            std::hint::black_box(e.check(m, &env));
        }
        msgs.len() as f64 / t.elapsed().as_secs_f64()
    };
    let (mut rates, mut without): (Vec<f64>, Vec<f64>) = (0..passes)
        .map(|_| (pass(&engine), pass(&no_model)))
        .unzip();
    rates.sort_by(f64::total_cmp);
    without.sort_by(f64::total_cmp);
    println!(
        "corpus: {} messages, {:.1} MB; one core, {} passes: best {:.0} msgs/s, median {:.0} msgs/s, worst {:.0} msgs/s",
        msgs.len(),
        bytes as f64 / 1e6,
        passes,
        rates[rates.len() - 1],
        rates[rates.len() / 2],
        rates[0]
    );
    println!(
        "without the learned models (MDL ignored), interleaved: best {:.0} msgs/s, median {:.0} msgs/s; the models cost {:.1}% of the median rate",
        without[without.len() - 1],
        without[without.len() / 2],
        100.0 * (1.0 - rates[rates.len() / 2] / without[without.len() / 2])
    );
}
