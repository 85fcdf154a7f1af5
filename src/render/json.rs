//! JSON output: reports (documented in [`crate::report`]), rule documentation and example
//! runs. Pretty-printed, keys in a fixed order, so the output is deterministic.

use serde_json::{Value, json};

use crate::report::Report;
use crate::rules::Rule;
use crate::rules::examples::ExampleReport;

/// One report as a JSON object; `file` is added first when given (several inputs).
pub fn report_value(report: &Report, file: Option<&str>) -> Value {
    let v = serde_json::to_value(report).unwrap_or(Value::Null);
    match (file, v) {
        (Some(f), Value::Object(m)) => {
            let mut out = serde_json::Map::new();
            out.insert("file".into(), Value::String(f.to_string()));
            out.extend(m);
            Value::Object(out)
        }
        (_, v) => v,
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
    json!({
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
    })
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
