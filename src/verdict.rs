//! Scores, family caps, hard rejects and thresholds -> pass, flag or reject.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::report::{Action, FamilyScore, Finding, Reply, Report, Verdict};

/// The reply when no finding predicts one.
pub const DEFAULT_REPLY: &str = "554 5.7.1 Message refused by policy";

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Sorts findings strongest first and decides the verdict.
pub fn decide(
    config: &Config,
    size: usize,
    mut findings: Vec<Finding>,
    internal_errors: Vec<String>,
) -> Report {
    // Helper rules with score 0 stay out of the report.
    findings.retain(|f| f.action == Action::Reject || f.score != 0.0);
    findings.sort_by(|a, b| {
        let ra = a.action == Action::Reject;
        let rb = b.action == Action::Reject;
        rb.cmp(&ra)
            .then(b.score.total_cmp(&a.score))
            .then(a.id.cmp(&b.id))
    });
    let mut raw: BTreeMap<&str, f64> = BTreeMap::new();
    for f in &findings {
        if f.action == Action::Score {
            *raw.entry(f.family.as_str()).or_default() += f.score;
        }
    }
    let families: Vec<FamilyScore> = raw
        .iter()
        .map(|(fam, &sum)| {
            let cap = config.family_caps.get(*fam).copied();
            let contributed = cap.map_or(sum, |c| sum.min(c));
            FamilyScore {
                family: fam.to_string(),
                raw: round2(sum),
                cap,
                contributed: round2(contributed),
            }
        })
        .collect();
    let score = round2(families.iter().map(|f| f.contributed).sum());
    let hard = findings.iter().any(|f| f.action == Action::Reject);
    let t = config.thresholds;
    let verdict = if hard || score >= t.reject {
        Verdict::Reject
    } else if score >= t.flag {
        Verdict::Flag
    } else {
        Verdict::Pass
    };
    let reply = (verdict != Verdict::Pass).then(|| {
        findings
            .iter()
            .find_map(|f| f.predicts.first().and_then(|p| Reply::parse(p)))
            .unwrap_or_else(|| Reply::parse(DEFAULT_REPLY).expect("default reply parses"))
    });
    let _ = internal_errors.len();
    Report {
        verdict,
        score,
        thresholds: t,
        reply,
        size,
        families,
        findings,
        internal_errors,
        unchecked: Vec::new(),
        link_domains: Vec::new(),
        not_mail: None,
    }
}

/// The report for a message the engine could not check at all.
pub fn internal_error(config: &Config, size: usize, what: &str) -> Report {
    let mut r = decide(config, size, Vec::new(), vec![what.to_string()]);
    r.unchecked = vec!["all".to_string()];
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &str, family: &str, action: Action, score: f64) -> Finding {
        Finding {
            id: id.into(),
            name: id.to_lowercase(),
            family: family.into(),
            action,
            score,
            message: String::new(),
            why: String::new(),
            fix: String::new(),
            predicts: vec![format!("550 5.7.1 {id}")],
            evidence: vec![],
        }
    }

    #[test]
    fn caps_thresholds_and_hard_rejects() {
        let c = Config::default();
        // content capped at 5: flag, not reject.
        let r = decide(
            &c,
            1,
            vec![
                f("CNT101", "content", Action::Score, 5.0),
                f("CNT102", "content", Action::Score, 5.0),
            ],
            vec![],
        );
        assert_eq!((r.verdict, r.score), (Verdict::Flag, 5.0));
        assert_eq!(r.families[0].raw, 10.0);
        // Two families add up to a reject.
        let r = decide(
            &c,
            1,
            vec![
                f("CNT101", "content", Action::Score, 6.0),
                f("HDR001", "headers", Action::Score, 5.5),
            ],
            vec![],
        );
        assert_eq!(r.verdict, Verdict::Reject);
        assert_eq!(r.reply.unwrap().text, "CNT101");
        // A hard rule rejects whatever the score and predicts the reply.
        let r = decide(
            &c,
            1,
            vec![
                f("CNT101", "content", Action::Score, 1.0),
                f("ENC001", "encoding", Action::Reject, 0.0),
            ],
            vec![],
        );
        assert_eq!(r.verdict, Verdict::Reject);
        assert_eq!(r.findings[0].id, "ENC001");
        assert_eq!(r.reply.unwrap().to_line(), "550 5.7.1 ENC001");
        // Zero-score helpers are dropped; nothing left is a pass with no reply.
        let r = decide(
            &c,
            1,
            vec![f("CNT900", "content", Action::Score, 0.0)],
            vec![],
        );
        assert!(r.findings.is_empty() && r.reply.is_none() && r.verdict == Verdict::Pass);
    }
}
