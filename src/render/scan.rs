//! Output of `preflight scan`: human lines and summary, JSON Lines, CSV. (The HTML page
//! is in [`super::scan_html`].)

use std::fmt::Write as _;

use serde::Serialize;

use super::human::Paint;
use super::{HumanOptions, num};
use crate::report::{Report, Verdict};
use crate::scan::{Item, Outcome, Summary};

/// `12345` as `12,345`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The line for a draft that is not clean (flag, reject, error); `None` for a pass.
/// Skipped files are notices for standard error, see [`notice`].
pub fn human_line(item: &Item, o: &HumanOptions) -> Option<String> {
    let p = Paint(o.color);
    let shown = item.draft.display();
    match &item.outcome {
        Outcome::Checked { report, .. } if report.verdict == Verdict::Pass => None,
        Outcome::Checked {
            report,
            duplicate_of,
            ..
        } => {
            let tag = format!("{:<6}", report.verdict.as_str());
            let mut line = format!(
                "{} {:>6}  {}",
                p.verdict(report.verdict, &tag),
                num(report.score),
                shown
            );
            let rules: Vec<String> = report
                .findings
                .iter()
                .take(3)
                .map(|f| format!("{} {}", p.bold(&f.id), f.name))
                .collect();
            if !rules.is_empty() {
                line.push_str("  ");
                line.push_str(&rules.join(", "));
                if report.findings.len() > 3 {
                    let _ = write!(line, " +{} more", report.findings.len() - 3);
                }
            }
            if let Some(d) = duplicate_of {
                let _ = write!(line, "  {}", p.dim(&format!("(same bytes as {d})")));
            }
            line.push('\n');
            Some(line)
        }
        Outcome::Error { code, message } => Some(format!(
            "{} {:>6}  {shown}: {message}\n",
            p.verdict(Verdict::Reject, "error "),
            format!("({code})")
        )),
        Outcome::Skipped { .. } => None,
    }
}

/// The notice for a skipped file.
pub fn notice(item: &Item) -> Option<String> {
    match &item.outcome {
        Outcome::Skipped { reason } => Some(format!(
            "preflight: skipped {}: {reason}\n",
            item.draft.display()
        )),
        _ => None,
    }
}

fn pct(k: usize, n: usize) -> String {
    format!("{:.1}%", 100.0 * k as f64 / n.max(1) as f64)
}

/// The summary after the lines: drafts by verdict, errors, the rules that fired most,
/// the families, and with labels the evaluation tables.
pub fn human_summary(s: &Summary, seconds: f64, o: &HumanOptions) -> String {
    let p = Paint(o.color);
    let mut out = String::new();
    let n = s.drafts;
    let _ = writeln!(
        out,
        "\n{} {} checked in {:.2} s ({} drafts/s, {:.1} MB)",
        p.bold(&thousands(n)),
        if n == 1 { "draft" } else { "drafts" },
        seconds,
        thousands((n as f64 / seconds.max(1e-6)) as usize),
        s.bytes as f64 / 1e6
    );
    for (v, k) in [
        (Verdict::Pass, s.pass),
        (Verdict::Flag, s.flag),
        (Verdict::Reject, s.reject),
    ] {
        let _ = writeln!(
            out,
            "  {} {:>8}  {:>6}",
            p.verdict(v, &format!("{:<7}", v.as_str())),
            thousands(k),
            pct(k, n)
        );
    }
    let mut notes = Vec::new();
    if s.duplicates > 0 {
        notes.push(format!(
            "{} duplicates (same bytes, checked once)",
            thousands(s.duplicates)
        ));
    }
    if s.not_mail > 0 {
        notes.push(format!("{} not mail", thousands(s.not_mail)));
    }
    if s.unreadable > 0 {
        notes.push(format!("{} unreadable", thousands(s.unreadable)));
    }
    if s.skipped > 0 {
        notes.push(format!("{} other files skipped", thousands(s.skipped)));
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "  {}", notes.join("; "));
    }
    let top = s.top_rules();
    if !top.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("most frequent rules"));
        let width = top
            .iter()
            .take(15)
            .map(|(_, t)| t.name.len())
            .max()
            .unwrap_or(0);
        let most = top[0].1.drafts.max(1);
        for (id, t) in top.iter().take(15) {
            let bar = "█".repeat((24 * t.drafts).div_ceil(most));
            let _ = writeln!(
                out,
                "  {:<7} {:<width$}  {:>7}  {:>6}  {}",
                p.bold(id),
                t.name,
                thousands(t.drafts),
                pct(t.drafts, n),
                p.dim(&bar)
            );
        }
        if top.len() > 15 {
            let _ = writeln!(out, "  ... and {} more rules", top.len() - 15);
        }
    }
    if !s.families.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("families (drafts with a finding)"));
        let mut fams: Vec<(&String, &usize)> = s.families.iter().collect();
        fams.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (f, k) in fams {
            let _ = writeln!(out, "  {:<12} {:>7}  {:>6}", f, thousands(*k), pct(*k, n));
        }
    }
    if let Some(labels) = &s.labels {
        let _ = writeln!(out, "\n{}", p.bold("by label"));
        let _ = writeln!(
            out,
            "  {:<14} {:>7} {:>8} {:>8} {:>8} {:>7}",
            "label", "drafts", "pass", "flag", "reject", "errors"
        );
        for (label, t) in labels {
            let _ = writeln!(
                out,
                "  {:<14} {:>7} {:>7.2}% {:>7.2}% {:>7.2}% {:>7}",
                label,
                thousands(t.drafts),
                t.share(Verdict::Pass),
                t.share(Verdict::Flag),
                t.share(Verdict::Reject),
                t.errors
            );
        }
        let _ = writeln!(out, "\n{}", p.bold("rules by label (drafts it fired on)"));
        let names: Vec<&String> = labels.keys().collect();
        let mut head = format!("  {:<7}", "rule");
        for l in &names {
            let _ = write!(head, " {:>w$}", l, w = l.len().max(6));
        }
        let _ = writeln!(out, "{head}");
        for (id, _) in &top {
            let mut row = format!("  {:<7}", id);
            for l in &names {
                let k = labels[*l].rules.get(*id).copied().unwrap_or(0);
                let _ = write!(row, " {:>w$}", k, w = l.len().max(6));
            }
            let _ = writeln!(out, "{row}");
        }
    }
    out
}

#[derive(Serialize)]
struct JsonItem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate_of: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    report: Option<&'a Report>,
}

/// One JSON Lines record: `{"type":"report","path":...,<the report>}` for a checked
/// draft (the same object `preflight check --format json` prints, with `path`, `index`
/// for mbox messages, `label` and `duplicate_of` first), `{"type":"error",...}` for one
/// that could not be checked. `None` for skipped files.
pub fn jsonl_item(item: &Item, label: Option<&str>) -> Option<String> {
    let mut j = JsonItem {
        kind: "report",
        path: &item.draft.path,
        index: item.draft.index,
        label,
        duplicate_of: None,
        code: None,
        error: None,
        report: None,
    };
    match &item.outcome {
        Outcome::Checked {
            report,
            duplicate_of,
            ..
        } => {
            j.report = Some(report);
            j.duplicate_of = duplicate_of.as_deref();
        }
        Outcome::Error { code, message } => {
            j.kind = "error";
            j.code = Some(*code);
            j.error = Some(message);
        }
        Outcome::Skipped { .. } => return None,
    }
    let mut s = serde_json::to_string(&j).unwrap_or_else(|_| "null".into());
    s.push('\n');
    Some(s)
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    summary: &'a Summary,
    exit: i32,
    seconds: f64,
}

/// The final JSON Lines record: `{"type":"summary",...}` with the totals, the rules
/// (`{"CNT001":{"name":...,"family":...,"drafts":3}}`), the families, per label the
/// verdicts and rules in evaluation mode, the exit status and the seconds taken.
pub fn jsonl_summary(s: &Summary, seconds: f64) -> String {
    let j = JsonSummary {
        kind: "summary",
        summary: s,
        exit: s.exit_code(),
        seconds: (seconds * 1000.0).round() / 1000.0,
    };
    let mut out = serde_json::to_string(&j).unwrap_or_else(|_| "null".into());
    out.push('\n');
    out
}

/// The CSV header row (with a `label` column in evaluation mode).
pub fn csv_header(labels: bool) -> String {
    let mut cols = vec!["path", "index"];
    if labels {
        cols.push("label");
    }
    cols.extend([
        "verdict",
        "score",
        "reply",
        "rules",
        "top_rule",
        "top_message",
        "duplicate_of",
        "error",
    ]);
    let mut s = cols.join(",");
    s.push_str("\r\n");
    s
}

/// A CSV field, quoted when it needs to be (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One CSV row per draft (`None` for skipped files); rows end in CRLF (RFC 4180).
pub fn csv_row(item: &Item, label: Option<&str>) -> Option<String> {
    let index = item.draft.index.map(|i| i.to_string()).unwrap_or_default();
    let mut cols: Vec<String> = vec![field(&item.draft.path), index];
    if let Some(l) = label {
        cols.push(field(l));
    }
    match &item.outcome {
        Outcome::Checked {
            report,
            duplicate_of,
            ..
        } => {
            let top = report.findings.first();
            cols.extend([
                report.verdict.as_str().to_string(),
                num(report.score),
                field(
                    &report
                        .reply
                        .as_ref()
                        .map(|r| r.to_line())
                        .unwrap_or_default(),
                ),
                field(&report.rule_ids().join(" ")),
                field(top.map_or("", |f| f.id.as_str())),
                field(top.map_or("", |f| f.message.as_str())),
                field(duplicate_of.as_deref().unwrap_or("")),
                String::new(),
            ]);
        }
        Outcome::Error { message, .. } => {
            cols.extend([
                "error".to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                field(message),
            ]);
        }
        Outcome::Skipped { .. } => return None,
    }
    let mut s = cols.join(",");
    s.push_str("\r\n");
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_csv_fields() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(6739), "6,739");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }
}
