//! Human-readable text: a report per message, rule documentation, example runs.
//!
//! A report reads top-down: the verdict and the reply a receiver would give (worded as a
//! refusal on a reject, as a risk on a flag: "risk: a receiver may answer ..."), then each
//! finding with what was seen, where, why receivers refuse it, and how to fix it, then how
//! the score adds up. Colour (ANSI) is optional and carries no information of its own.

use std::fmt::Write as _;

use super::num;
use crate::engine::examples::ExampleReport;
use crate::report::{Action, Evidence, Frame, ReplyLikelihood, Report, Verdict};
use crate::rules::Rule;

/// How to render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HumanOptions {
    /// Use ANSI colours.
    pub color: bool,
    /// Wrap prose at this many columns.
    pub width: usize,
    /// One line per finding: no why, fix or evidence.
    pub brief: bool,
}

impl Default for HumanOptions {
    fn default() -> Self {
        HumanOptions {
            color: false,
            width: 88,
            brief: false,
        }
    }
}

pub(crate) struct Paint(pub(crate) bool);

impl Paint {
    pub(crate) fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub(crate) fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    pub(crate) fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    pub(crate) fn verdict(&self, v: Verdict, s: &str) -> String {
        match v {
            Verdict::Pass => self.wrap("1;32", s),
            Verdict::Flag => self.wrap("1;33", s),
            Verdict::Reject => self.wrap("1;31", s),
        }
    }
}

/// Makes a snippet printable on one line: control characters become escapes, and long
/// text is cut with an ellipsis, at a space when there is one in the last half (so no
/// word or address is cut in two).
pub fn printable(s: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == max_chars {
            let keep = out.char_indices().nth(max_chars / 2).map_or(0, |(i, _)| i);
            if let Some(sp) = out[keep..].rfind(' ') {
                out.truncate(keep + sp + 1);
            }
            out.push('…');
            break;
        }
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Wraps `text` at `width` columns, each line starting with `indent`.
fn wrap(text: &str, indent: &str, first: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::from(first);
    let mut empty = true;
    let limit = width.max(indent.len() + 20);
    // Colour codes in `first` take no columns.
    let mut extra = first.len() - strip_ansi(first).len();
    for word in text.split_whitespace() {
        if !empty && line.chars().count() - extra + 1 + word.chars().count() > limit {
            out.push_str(&line);
            out.push('\n');
            line = String::from(indent);
            extra = 0;
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut esc = false;
    for c in s.chars() {
        match (esc, c) {
            (false, '\x1b') => esc = true,
            (true, 'm') => esc = false,
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    out
}

fn where_(e: &Evidence) -> String {
    let mut s = match e.frame {
        Frame::Raw => String::new(),
        Frame::Decoded => "decoded text".to_string(),
        Frame::Subject => "decoded Subject".to_string(),
    };
    // Texts taken from a header field (`header:from`) are named by the field.
    if let Some(h) = e.part.as_deref().and_then(|p| p.strip_prefix("header:")) {
        s = format!("decoded {} header", header_label(h));
    } else if let Some(p) = e.part.as_deref().filter(|p| !p.is_empty()) {
        if !s.is_empty() {
            s.push_str(" of ");
        }
        let _ = write!(s, "part {p}");
    }
    if let Some(l) = e.line {
        if !s.is_empty() {
            s.push_str(", ");
        }
        let _ = write!(s, "line {l}");
    }
    if s.is_empty() {
        s = format!("bytes {}..{}", e.span.start, e.span.end);
    }
    s
}

/// `from` -> `From`, `list-unsubscribe` -> `List-Unsubscribe`.
fn header_label(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

const INDENT: &str = "           ";

/// Renders one report. `name` is the file name shown in the heading.
pub fn report(name: &str, r: &Report, o: &HumanOptions) -> String {
    let p = Paint(o.color);
    let mut out = String::new();
    let label = r.verdict.as_str().to_ascii_uppercase();
    let n = r.findings.len();
    let _ = writeln!(
        out,
        "{}: {}  score {} (flag at {}, reject at {}), {} finding{}",
        p.bold(name),
        p.verdict(r.verdict, &label),
        num(r.score),
        num(r.thresholds.flag),
        num(r.thresholds.reject),
        n,
        if n == 1 { "" } else { "s" }
    );
    if let Some(reply) = &r.reply {
        let lead = r
            .reply_likelihood
            .or(ReplyLikelihood::of(r.verdict, false))
            .map_or("predicted reply:", ReplyLikelihood::lead);
        let _ = writeln!(out, "  {lead} {}", p.bold(&reply.to_line()));
    }
    for e in &r.internal_errors {
        let _ = writeln!(
            out,
            "  {} {e}",
            p.verdict(Verdict::Reject, "internal error:")
        );
    }
    for f in &r.findings {
        let tag = match f.action {
            Action::Reject => p.verdict(Verdict::Reject, "reject"),
            Action::Score => format!("{:<6}", format!("+{}", num(f.score))),
        };
        if o.brief {
            let _ = writeln!(out, "  {tag} {} {}: {}", p.bold(&f.id), f.name, f.message);
            continue;
        }
        let _ = writeln!(
            out,
            "\n  {tag} {} {} {}",
            p.bold(&f.id),
            f.name,
            p.dim(&format!("[{}]", f.family))
        );
        out.push_str(&wrap(&f.message, "    ", "    ", o.width));
        for e in &f.evidence {
            // Link evidence shows its URLs defanged, so the report is safe to click through.
            let shown = e.snippet.display();
            let shown = if f.family == "links" {
                crate::util::defang_text(&shown)
            } else {
                shown.to_string()
            };
            let _ = writeln!(
                out,
                "    {} {}: {}",
                p.dim("-->"),
                where_(e),
                printable(&shown, o.width.max(60))
            );
        }
        // A hard rule's reply is the refusal a receiver gives; a scored finding's is a
        // risk it adds to.
        if let Some(first) = f.predicts.first() {
            let label = match f.action {
                Action::Reject => "reply: ",
                Action::Score => "risk:  ",
            };
            out.push_str(&wrap(
                first,
                INDENT,
                &format!("    {}", p.dim(label)),
                o.width,
            ));
        }
        out.push_str(&wrap(
            &f.why,
            INDENT,
            &format!("    {}", p.dim("why:   ")),
            o.width,
        ));
        out.push_str(&wrap(
            &f.fix,
            INDENT,
            &format!("    {}", p.dim("fix:   ")),
            o.width,
        ));
    }
    if r.families.iter().any(|f| f.raw != 0.0) {
        let parts: Vec<String> = r
            .families
            .iter()
            .filter(|f| f.raw != 0.0)
            .map(|f| {
                if f.uncapped {
                    format!(
                        "{} {} (over its cap of {}: strong evidence in several families)",
                        f.family,
                        num(f.contributed),
                        num(f.cap.unwrap_or(f.raw))
                    )
                } else if f.contributed < f.raw {
                    format!(
                        "{} {} (capped from {})",
                        f.family,
                        num(f.contributed),
                        num(f.raw)
                    )
                } else {
                    format!("{} {}", f.family, num(f.contributed))
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "{}  score: {} = {}",
            if o.brief { "" } else { "\n" },
            parts.join(" + "),
            num(r.score)
        );
    }
    for n in &r.not_checked {
        let line = format!("not checked: {} ({})", n.rules.join(", "), n.why);
        out.push_str(&p.dim(&wrap(&line, "    ", "  ", o.width)));
    }
    out
}

/// A one-line summary for several messages: counts per verdict.
pub fn summary(counts: [usize; 3], errors: usize, o: &HumanOptions) -> String {
    let p = Paint(o.color);
    let mut s = format!(
        "{} checked: {} pass, {} flag, {} reject",
        counts.iter().sum::<usize>(),
        p.verdict(Verdict::Pass, &counts[0].to_string()),
        p.verdict(Verdict::Flag, &counts[1].to_string()),
        p.verdict(Verdict::Reject, &counts[2].to_string()),
    );
    if errors > 0 {
        let _ = write!(s, ", {errors} not checked (errors above)");
    }
    s.push('\n');
    s
}

fn action_text(rule: &Rule) -> String {
    match rule.action {
        Action::Reject => "reject".into(),
        Action::Score => format!("+{}", num(rule.score)),
    }
}

/// One line per rule: id, action, name, family, summary, in columns as wide as their
/// longest entry.
pub fn rule_list(rules: &[(&Rule, bool)], o: &HumanOptions) -> String {
    let p = Paint(o.color);
    let width = |f: &dyn Fn(&Rule) -> usize| rules.iter().map(|(r, _)| f(r)).max().unwrap_or(0);
    let id_w = width(&|r| r.id.chars().count());
    let action_w = width(&|r| action_text(r).chars().count());
    let name_w = width(&|r| r.name.chars().count());
    let family_w = width(&|r| r.family.chars().count());
    let mut out = String::new();
    for (r, enabled) in rules {
        let off = if *enabled { "" } else { " (off)" };
        let _ = writeln!(
            out,
            "{} {:<action_w$} {:<name_w$} {:<family_w$} {}{}",
            p.bold(&format!("{:<id_w$}", r.id)),
            action_text(r),
            r.name,
            r.family,
            r.summary,
            p.dim(off)
        );
    }
    out
}

/// A rule's full documentation.
pub fn rule_doc(r: &Rule, enabled: bool, o: &HumanOptions) -> String {
    let p = Paint(o.color);
    let mut out = String::new();
    let _ = writeln!(out, "{} {} [{}]", p.bold(&r.id), r.name, r.family);
    out.push_str(&wrap(&r.summary, "  ", "  ", o.width));
    let _ = writeln!(
        out,
        "\n  action:  {}{}",
        action_text(r),
        if enabled { "" } else { " (disabled)" }
    );
    match &r.pattern {
        Some(spec) => {
            let _ = writeln!(out, "  kind:    pattern on {}", spec.target.label());
        }
        None => {
            let _ = writeln!(out, "  kind:    code");
        }
    }
    if !r.curve.is_empty() {
        let points: Vec<String> = r
            .curve
            .iter()
            .map(|(p, f)| format!("{p} -> {}", f * r.score))
            .collect();
        let _ = writeln!(out, "  curve:   {}", points.join(", "));
    }
    if let Some(c) = &r.corroboration {
        let line = format!(
            "counts only beside a finding of {} or more in {}",
            c.score,
            c.families.join(", ")
        );
        out.push_str(&wrap(&line, "           ", "  needs:   ", o.width));
    }
    let _ = writeln!(out, "  defined: {}", r.origin);
    if let Some(o) = &r.overridden_at {
        let _ = writeln!(out, "  overridden at: {o}");
    }
    for reply in &r.predicts {
        out.push_str(&wrap(reply, "           ", "  reply:  ", o.width));
    }
    // Each text under its own heading line, wrapped at the full width.
    let mut texts = vec![("why".to_string(), &r.why), ("fix".to_string(), &r.fix)];
    texts.extend(
        r.fixes
            .iter()
            .map(|(place, fix)| (format!("fix in a {place}"), fix)),
    );
    for (label, text) in texts {
        let _ = writeln!(out, "\n  {}", p.dim(&label));
        out.push_str(&wrap(text, "  ", "  ", o.width));
    }
    for (label, list) in [
        ("fires on", &r.examples.matching),
        ("does not fire on", &r.examples.not_matching),
    ] {
        for ex in list.iter() {
            let _ = writeln!(out, "\n  {}", p.dim(label));
            for line in ex.lines().take(12) {
                let _ = writeln!(out, "    | {}", printable(line, o.width.saturating_sub(8)));
            }
            if ex.lines().count() > 12 {
                let _ = writeln!(out, "    | …");
            }
        }
    }
    out
}

/// The result of `preflight rules test`.
pub fn examples(r: &ExampleReport, o: &HumanOptions) -> String {
    let p = Paint(o.color);
    let mut out = String::new();
    let failures: Vec<_> = r.failures().collect();
    for f in &failures {
        let what = match (&f.error, f.fired) {
            (Some(e), _) => format!("could not be checked: {e}"),
            (None, true) => format!(
                "fired but must not{}",
                f.detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
            (None, false) => "did not fire but must".to_string(),
        };
        let _ = writeln!(
            out,
            "{} {} {} example #{} {what}",
            p.verdict(Verdict::Reject, "FAIL"),
            p.bold(&f.id),
            f.expect.as_str(),
            f.index + 1
        );
        let _ = writeln!(out, "     at {}", f.origin);
        for line in f.example.lines().take(8) {
            let _ = writeln!(out, "     | {}", printable(line, 100));
        }
    }
    for (what, ids) in [
        ("no `match` example", &r.without_match),
        ("no `no_match` example", &r.without_no_match),
    ] {
        if !ids.is_empty() {
            let _ = writeln!(out, "warning: {what}: {}", ids.join(", "));
        }
    }
    let verdict = if failures.is_empty() {
        p.verdict(Verdict::Pass, "ok")
    } else {
        p.verdict(Verdict::Reject, "FAILED")
    };
    let _ = writeln!(
        out,
        "{verdict}: {} rules, {} examples, {} failed",
        r.rules,
        r.outcomes.len(),
        failures.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_controls_and_cuts() {
        assert_eq!(printable("a\r\nb\t\0", 80), "a\\r\\nb\\t\\x00");
        assert_eq!(printable("abcdef", 3), "abc…");
        // Cut after a whole word, not inside one.
        assert_eq!(printable("one two three four", 12), "one two …");
        assert_eq!(
            printable("<a@example.com> <a@example.com>", 24),
            "<a@example.com> …"
        );
    }

    /// The summaries line up however long a rule's name or id is.
    #[test]
    fn rule_list_columns_line_up() {
        let set = crate::rules::RuleSet::load(&[]).unwrap();
        let mut long = set.rules()[0].clone();
        long.id = "CNT999".into();
        long.name = "a-rule-name-far-longer-than-any-shipped-rule-has".into();
        long.summary = "SUMMARY".into();
        let mut rules: Vec<(&Rule, bool)> = set.rules().iter().map(|r| (r, true)).collect();
        rules.push((&long, false));
        let text = rule_list(&rules, &HumanOptions::default());
        let columns: Vec<usize> = text
            .lines()
            .zip(&rules)
            .map(|(line, (r, _))| line.find(&r.summary).unwrap())
            .collect();
        assert!(columns.iter().all(|&c| c == columns[0]), "{text}");
        assert!(text.lines().last().unwrap().ends_with("SUMMARY (off)"));
    }

    /// A flag words its reply as a risk, a reject as a refusal; scored findings show
    /// their reply as a risk, hard ones as the reply; a lifted cap says why.
    #[test]
    fn replies_read_as_risk_or_refusal() {
        let engine = crate::Engine::new(crate::Config {
            now: Some(1_795_392_000),
            ..crate::Config::default()
        })
        .unwrap();
        let check = |raw: &str| {
            let r = engine.check(raw.as_bytes(), &crate::Envelope::default());
            (r.verdict, report("m.eml", &r, &HumanOptions::default()))
        };
        let base = "From: a@example.com\nTo: b@example.org\nDate: Sun, 22 Nov 2026 10:00:00 +0000\nMessage-ID: <1@example.com>\n";
        // Flag: an invalid Date and an ASCII text in base64.
        let (v, text) = check(
            "From: a@example.com\nTo: b@example.org\nDate: 2026-11-22\nMessage-ID: <1@example.com>\nSubject: x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: base64\n\nSGVsbG8sIHRoaXMgaXMgcGxhaW4gdGV4dC4K\n",
        );
        assert_eq!(v, Verdict::Flag, "{text}");
        assert!(text.contains("\n  risk: a receiver may answer 5"), "{text}");
        assert!(
            !text.contains("will be refused") && text.contains("    risk:  "),
            "{text}"
        );
        // Hard reject.
        let (v, text) = check(&format!("{base}Subject: one\nSubject: two\n\nbody\n"));
        assert_eq!(v, Verdict::Reject);
        assert!(text.contains("\n  will be refused: 550 5.7.1"), "{text}");
        assert!(text.contains("    reply: 550 5.7.1"), "{text}");
        // Strong evidence in two families: the content cap is lifted and said so.
        let (v, text) = check(&format!(
            "{base}Subject: V1agra and C1alis - no prescription needed\n\nBuy V.I.A.G.R.A online, no prescription needed!\nCheap v1agra, 80% off.\nOrder now: http://203.0.113.7/shop\n"
        ));
        assert_eq!(v, Verdict::Reject, "{text}");
        assert!(text.contains("\n  likely to be refused: 550"), "{text}");
        assert!(
            text.contains("(over its cap of 5: strong evidence in several families)"),
            "{text}"
        );
    }

    #[test]
    fn wrap_keeps_width() {
        let w = wrap(&"word ".repeat(40), "  ", "  ", 30);
        assert!(w.lines().all(|l| l.chars().count() <= 30), "{w}");
        assert_eq!(w.split_whitespace().count(), 40);
    }
}
