//! Runs the `preflight` binary on one message file as a child process and measures it:
//! wall time, and peak resident memory from GNU time (`/usr/bin/time -f %M`, the child's
//! `ru_maxrss`), plus the sizes of what the JSON report carries.
//!
//! Shared by `tests/it/hostile.rs` (the ignored full-size test, as `support::measure`) and
//! `benches/hostile.rs` (`#[path]`, so it uses nothing else of `support`).

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// GNU time, which reads the child's `ru_maxrss` for us (no `unsafe` here).
pub const TIME: &str = "/usr/bin/time";

/// One run of `preflight check --format json FILE`.
#[derive(Clone, Debug)]
pub struct Run {
    /// Wall time of the whole process, seconds.
    pub secs: f64,
    /// Peak resident set size, bytes.
    pub peak_rss: u64,
    /// Findings in the report.
    pub findings: usize,
    /// Bytes of the longest finding `message`.
    pub largest_message: usize,
    /// Most evidence entries on one finding.
    pub most_evidence: usize,
    /// Bytes of the longest evidence snippet text.
    pub largest_snippet: usize,
    /// Internal errors in the report.
    pub internal_errors: usize,
    /// Bytes of the JSON report.
    pub report_bytes: usize,
}

/// Whether GNU time is there to measure peak memory.
pub fn have_time() -> bool {
    Path::new(TIME).exists()
}

/// Runs `bin check --format json [extra...] file` once under GNU time; `Err` says how
/// the process failed (a crash, an exit status that is not a verdict).
pub fn run(bin: &Path, file: &Path, extra: &[&str]) -> Result<Run, String> {
    let rss_file = file.with_extension("rss");
    let start = Instant::now();
    let out = Command::new(TIME)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(bin)
        .args(["check", "--format", "json", "--now", "2026-06-01"])
        .args(extra)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {TIME} {}: {e}", bin.display()));
    let secs = start.elapsed().as_secs_f64();
    // Exit status 0, 1 or 2 is a verdict; anything else is a failure.
    let code = out.status.code();
    if !matches!(code, Some(0..=2)) {
        let _ = std::fs::remove_file(&rss_file);
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(format!("exit {code:?} after {secs:.1} s: {first}"));
    }
    let rss_text = std::fs::read_to_string(&rss_file).expect("GNU time wrote its output");
    let _ = std::fs::remove_file(&rss_file);
    // The last line is %M (earlier lines may say the command exited non-zero).
    let kb: u64 = rss_text
        .lines()
        .rev()
        .find_map(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no max RSS in {rss_text:?}"));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the JSON report parses");
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let str_len = |v: &serde_json::Value| v.as_str().map_or(0, str::len);
    Ok(Run {
        secs,
        peak_rss: kb * 1024,
        findings: findings.len(),
        largest_message: findings
            .iter()
            .map(|f| str_len(&f["message"]))
            .max()
            .unwrap_or(0),
        most_evidence: findings
            .iter()
            .map(|f| f["evidence"].as_array().map_or(0, Vec::len))
            .max()
            .unwrap_or(0),
        largest_snippet: findings
            .iter()
            .flat_map(|f| f["evidence"].as_array().cloned().unwrap_or_default())
            .map(|e| str_len(&e["snippet"]["text"]).max(str_len(&e["snippet"]["bytes"])))
            .max()
            .unwrap_or(0),
        internal_errors: report["internal_errors"].as_array().map_or(0, Vec::len),
        report_bytes: out.stdout.len(),
    })
}

/// The run with the median time of `n` runs (its peak memory is that run's).
pub fn median_run(bin: &Path, file: &Path, extra: &[&str], n: usize) -> Result<Run, String> {
    let mut runs = (0..n.max(1))
        .map(|_| run(bin, file, extra))
        .collect::<Result<Vec<Run>, String>>()?;
    runs.sort_by(|a, b| a.secs.total_cmp(&b.secs));
    Ok(runs.swap_remove(runs.len() / 2))
}
