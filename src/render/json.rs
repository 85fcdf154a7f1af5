//! JSON output: reports (documented in [`crate::report`]), rule documentation and example
//! runs. Pretty-printed, keys in a fixed order, so the output is deterministic.

use serde_json::{Value, json};

use crate::engine::examples::ExampleReport;
use crate::report::Report;
use crate::rules::Rule;

/// A report with the input it is about, `path` first (the key `scan --format jsonl`
/// uses too).
#[derive(serde::Serialize)]
struct Named<'a> {
    path: &'a str,
    #[serde(flatten)]
    report: &'a Report,
}

/// One report as pretty JSON text (no trailing newline); `path` is added first when given
/// (several inputs). Serialised directly, without an intermediate value tree.
pub fn report_text(report: &Report, path: Option<&str>) -> String {
    let s = match path {
        Some(path) => serde_json::to_string_pretty(&Named { path, report }),
        None => serde_json::to_string_pretty(report),
    };
    s.unwrap_or_else(|_| "null".into())
}

/// Writes pretty JSON objects as the elements of one pretty JSON array, as they come, so
/// memory stays flat however many reports there are. The text is what
/// `serde_json::to_string_pretty` prints for the whole array.
#[derive(Default)]
pub struct ArrayWriter {
    started: bool,
}

impl ArrayWriter {
    /// Writes one element (`object`, pretty text at depth 0).
    pub fn element(&mut self, out: &mut dyn std::io::Write, object: &str) -> std::io::Result<()> {
        // One write per element: standard output may be line-buffered.
        let mut text = String::with_capacity(object.len() + object.len() / 8 + 4);
        text.push_str(if self.started { ",\n" } else { "[\n" });
        self.started = true;
        for (i, line) in object.lines().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            text.push_str("  ");
            text.push_str(line);
        }
        out.write_all(text.as_bytes())
    }

    /// Closes the array (`[]` when it is empty), with a trailing newline.
    pub fn finish(self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(if self.started { b"\n]\n" } else { b"[]\n" })
    }
}

/// Pretty JSON text of a value, with a trailing newline.
pub fn to_text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into());
    s.push('\n');
    s
}

/// A rule's documentation as JSON (what `preflight rules list --format json` prints).
pub fn rule_value(rule: &Rule, enabled: bool) -> Value {
    let pattern = rule.pattern.as_ref().map(|p| p.target.label());
    let mut v = json!({
        "id": rule.id,
        "name": rule.name,
        "family": rule.family,
        "action": rule.action,
        "score": rule.score,
        "enabled": enabled,
        "summary": rule.summary,
        "why": rule.why,
        "fix": rule.fix,
        "predicts": rule.predicts,
        "kind": if pattern.is_some() { "pattern" } else { "code" },
        "target": pattern,
        "origin": rule.origin.to_string(),
        "overridden_at": rule.overridden_at.as_ref().map(|o| o.to_string()),
        "examples": { "match": rule.examples.matching, "no_match": rule.examples.not_matching },
    });
    // Fixes by place (`header`), after `fix`, only for the rules that have them.
    if !rule.fixes.is_empty()
        && let Value::Object(m) = &mut v
    {
        let mut with = serde_json::Map::new();
        for (k, x) in std::mem::take(m) {
            let after_fix = k == "fix";
            with.insert(k, x);
            if after_fix {
                with.insert("fixes".into(), json!(rule.fixes));
            }
        }
        *m = with;
    }
    v
}

/// An example run as JSON.
pub fn examples_value(report: &ExampleReport) -> Value {
    let failures: Vec<&_> = report.failures().collect();
    json!({
        "rules": report.rules,
        "examples": report.outcomes.len(),
        "failed": failures.len(),
        "without_match": report.without_match,
        "without_no_match": report.without_no_match,
        "failures": failures,
    })
}
