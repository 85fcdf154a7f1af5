//! The worst-case table: every kind of generated hostile message (`tests/support/hostile.rs`)
//! at several sizes, checked by the release `preflight` binary as a child process, median
//! of three runs: bytes, seconds, seconds per MB, peak RSS, findings, the largest finding
//! message and the most evidence entries on one finding.
//!
//! `cargo bench --bench hostile`. Environment:
//! - `HOSTILE_MB`: sizes in MB, comma-separated (default `1,8,35`);
//! - `HOSTILE_KINDS`: only these kinds, comma-separated (default all);
//! - `HOSTILE_RUNS`: runs per row, the median is shown (default 3);
//! - `HOSTILE_ARGS`: more arguments for `preflight check` (`--ignore URL011,URL012`);
//! - `HOSTILE_KEEP`: a directory to write the messages to and leave them (for profiling);
//! - `HOSTILE_BIN`: another `preflight` binary to measure (an older build, to compare).
//!
//! Peak memory comes from GNU time (`/usr/bin/time`, Debian package `time`).

use std::path::PathBuf;

#[path = "../tests/support/hostile.rs"]
mod hostile;
#[path = "../tests/support/measure.rs"]
mod measure;

const MB: usize = 1024 * 1024;

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_string())
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn main() {
    if !measure::have_time() {
        eprintln!("{} is missing (apt-get install time)", measure::TIME);
        std::process::exit(1);
    }
    let bin = std::env::var_os("HOSTILE_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_preflight")),
        PathBuf::from,
    );
    let keep = std::env::var_os("HOSTILE_KEEP").map(PathBuf::from);
    let dir = keep
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile-bench"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let sizes: Vec<f64> = env_list("HOSTILE_MB", "1,8,35")
        .iter()
        .map(|s| s.parse().expect("HOSTILE_MB: numbers"))
        .collect();
    let only = env_list("HOSTILE_KINDS", "");
    let runs: usize = std::env::var("HOSTILE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let extra_s = std::env::var("HOSTILE_ARGS").unwrap_or_default();
    let extra: Vec<&str> = extra_s.split_whitespace().collect();
    println!(
        "preflight check on generated hostile messages, median of {runs} (peak RSS by {}){}",
        measure::TIME,
        if extra.is_empty() {
            String::new()
        } else {
            format!(", with {extra_s}")
        }
    );
    println!(
        "{:<20} {:>11} {:>8} {:>7} {:>9} {:>8} {:>9} {:>8} {:>9}",
        "kind", "bytes", "s", "s/MB", "peak MB", "x size", "findings", "evid.", "msg max"
    );
    let mut worst_s_per_mb: (f64, String) = (0.0, String::new());
    let mut worst_mem: (f64, String) = (0.0, String::new());
    let mut failed = 0;
    for k in hostile::kinds() {
        if !only.is_empty() && !only.iter().any(|o| o == k.name) {
            continue;
        }
        for &mb in &sizes {
            let raw = (k.build)((mb * MB as f64) as usize);
            let file = dir.join(format!("{}-{mb}.eml", k.name));
            std::fs::write(&file, &raw).expect("write message");
            let r = measure::median_run(&bin, &file, &extra, runs);
            if keep.is_none() {
                let _ = std::fs::remove_file(&file);
            }
            let r = match r {
                Ok(r) => r,
                Err(e) => {
                    println!("{:<20} {:>11} FAILED: {e}", k.name, raw.len());
                    failed += 1;
                    continue;
                }
            };
            let size_mb = raw.len() as f64 / MB as f64;
            let s_per_mb = r.secs / size_mb;
            let peak_mb = r.peak_rss as f64 / MB as f64;
            // Memory over the budget's fixed 50 MB, as a multiple of the size.
            let x = (peak_mb - 50.0).max(0.0) / size_mb;
            println!(
                "{:<20} {:>11} {:>8.3} {:>7.3} {:>9.1} {:>8.2} {:>9} {:>8} {:>9}{}",
                k.name,
                raw.len(),
                r.secs,
                s_per_mb,
                peak_mb,
                x,
                r.findings,
                r.most_evidence,
                r.largest_message,
                if r.internal_errors > 0 {
                    "  INTERNAL ERROR"
                } else {
                    ""
                }
            );
            if size_mb >= 1.0 && s_per_mb > worst_s_per_mb.0 {
                worst_s_per_mb = (s_per_mb, format!("{} at {mb} MB", k.name));
            }
            if x > worst_mem.0 {
                worst_mem = (x, format!("{} at {mb} MB", k.name));
            }
        }
    }
    println!(
        "worst: {:.3} s/MB ({}); memory {:.2} x size + 50 MB ({})",
        worst_s_per_mb.0, worst_s_per_mb.1, worst_mem.0, worst_mem.1
    );
    if failed > 0 {
        println!("{failed} run(s) FAILED");
        std::process::exit(1);
    }
}
