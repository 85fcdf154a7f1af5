//! Scores, family caps, strong evidence across families, hard rejects and thresholds ->
//! pass, flag or reject, and how sure the predicted reply is.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Config;
use crate::report::{
    Action, FamilyScore, Finding, Reply, ReplyLikelihood, Report, Thresholds, Verdict,
};
use crate::util::round2;

/// The reply when no finding predicts one.
pub(crate) const DEFAULT_REPLY: &str = "554 5.7.1 Message refused by policy";

/// The verdict of scores against thresholds `t`: reject when a hard rule counts towards
/// rejecting or `reject_score` reaches the reject threshold, else flag when a hard rule
/// counts towards flagging or `flag_score` reaches the flag threshold. [`decide`] passes
/// one score and the hard rules for both; the milter's per-family modes pass what each
/// mode lets count (a dry-run family counts for neither, flag-only only for flagging).
pub(crate) fn judge(
    t: Thresholds,
    reject_score: f64,
    hard_reject: bool,
    flag_score: f64,
    hard_flag: bool,
) -> Verdict {
    if hard_reject || reject_score >= t.reject {
        Verdict::Reject
    } else if hard_flag || flag_score >= t.flag {
        Verdict::Flag
    } else {
        Verdict::Pass
    }
}

/// Sorts findings strongest first and decides the verdict.
pub(crate) fn decide(
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
    // Families with strong evidence: a finding that alone scores at least
    // `strong_evidence.score`.
    let mut strong: BTreeSet<&str> = BTreeSet::new();
    let se = config.strong_evidence;
    for f in &findings {
        if f.action == Action::Score {
            *raw.entry(f.family.as_str()).or_default() += f.score;
            if f.score >= se.score {
                strong.insert(f.family.as_str());
            }
        }
    }
    // Strong evidence in enough families lifts those families' caps: the caps stop one
    // family from rejecting on its own, not independent evidence from adding up.
    let lift = se.families >= 2 && strong.len() >= se.families;
    let families: Vec<FamilyScore> = raw
        .iter()
        .map(|(fam, &sum)| {
            let cap = config.family_caps.get(*fam).copied();
            let uncapped = lift && strong.contains(fam) && cap.is_some_and(|c| sum > c);
            let contributed = if uncapped {
                sum
            } else {
                cap.map_or(sum, |c| sum.min(c))
            };
            FamilyScore {
                family: fam.to_string(),
                raw: round2(sum),
                cap,
                contributed: round2(contributed),
                uncapped,
            }
        })
        .collect();
    let score = round2(families.iter().map(|f| f.contributed).sum());
    let hard = findings.iter().any(|f| f.action == Action::Reject);
    let t = config.thresholds;
    let verdict = judge(t, score, hard, score, hard);
    let reply = (verdict != Verdict::Pass).then(|| {
        findings
            .iter()
            .find_map(|f| f.predicts.first().and_then(|p| Reply::parse(p)))
            .unwrap_or_else(|| Reply::parse(DEFAULT_REPLY).expect("default reply parses"))
    });
    let reply_likelihood = ReplyLikelihood::of(verdict, hard);
    Report {
        verdict,
        score,
        thresholds: t,
        reply,
        reply_likelihood,
        size,
        families,
        findings,
        internal_errors,
        unchecked: Vec::new(),
        not_checked: Vec::new(),
        link_domains: Vec::new(),
        not_mail: None,
    }
}

/// The report for a message the engine could not check at all.
pub(crate) fn internal_error(config: &Config, size: usize, what: &str) -> Report {
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

    /// A report without scored findings says 0, not -0 (the JSON printed `-0.0`).
    #[test]
    fn no_findings_score_a_positive_zero() {
        let r = decide(&Config::default(), 1, vec![], vec![]);
        assert!(r.score == 0.0 && r.score.is_sign_positive(), "{}", r.score);
        let hard = decide(
            &Config::default(),
            1,
            vec![f("HDR005", "headers", Action::Reject, 0.0)],
            vec![],
        );
        assert!(hard.score.is_sign_positive());
        assert!(
            serde_json::to_string(&hard)
                .unwrap()
                .contains("\"score\":0.0")
        );
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
        assert_eq!(r.reply_likelihood, None);
    }

    /// Strong findings (2.5 or more) in two families lift those families' caps; strong
    /// evidence in one family, or a second family with weak findings only, does not.
    #[test]
    fn strong_evidence_across_families_lifts_the_caps() {
        let c = Config::default();
        let pharmacy = || {
            vec![
                f("CNT035", "content", Action::Score, 3.0),
                f("CNT027", "content", Action::Score, 2.5),
                f("CNT068", "content", Action::Score, 2.0),
            ]
        };
        // Wording alone stops at its cap.
        let r = decide(&c, 1, pharmacy(), vec![]);
        assert_eq!((r.verdict, r.score), (Verdict::Flag, 5.0));
        assert!(!r.families[0].uncapped);
        // With a weak finding elsewhere, still capped.
        let mut v = pharmacy();
        v.push(f("URL004", "links", Action::Score, 1.0));
        let r = decide(&c, 1, v, vec![]);
        assert_eq!((r.verdict, r.score), (Verdict::Flag, 6.0));
        // With strong evidence in a second family (a link to a bare IP address), the
        // content family adds its whole score.
        let mut v = pharmacy();
        v.push(f("URL001", "links", Action::Score, 2.5));
        let r = decide(&c, 1, v.clone(), vec![]);
        assert_eq!((r.verdict, r.score), (Verdict::Reject, 10.0));
        let content = r.families.iter().find(|x| x.family == "content").unwrap();
        assert!(content.uncapped && content.contributed == 7.5 && content.cap == Some(5.0));
        // Under its cap a family is not marked, even when strong.
        let links = r.families.iter().find(|x| x.family == "links").unwrap();
        assert!(!links.uncapped && links.contributed == 2.5);
        assert_eq!(r.reply_likelihood, Some(ReplyLikelihood::Likely));
        // JSON: `uncapped` only where it is true.
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(j["families"][0]["uncapped"], true);
        assert!(j["families"][1].get("uncapped").is_none());
        // Turned off, or asking for three families: capped again.
        for families in [0, 3] {
            let mut c = Config::default();
            c.strong_evidence.families = families;
            let r = decide(&c, 1, v.clone(), vec![]);
            assert_eq!((r.verdict, r.score), (Verdict::Flag, 7.5), "{families}");
        }
        // A higher bar for "strong".
        let mut c = Config::default();
        c.strong_evidence.score = 3.0;
        assert_eq!(decide(&c, 1, v, vec![]).verdict, Verdict::Flag);
    }

    /// The reply is certain for a hard reject, likely for a reject on score, possible
    /// (a risk) for a flag.
    #[test]
    fn reply_likelihood_follows_the_verdict() {
        let c = Config::default();
        let cases = [
            (
                vec![f("HDR001", "headers", Action::Reject, 0.0)],
                Verdict::Reject,
                Some(ReplyLikelihood::Certain),
            ),
            (
                vec![
                    f("CNT101", "content", Action::Score, 5.0),
                    f("HDR007", "headers", Action::Score, 5.0),
                ],
                Verdict::Reject,
                Some(ReplyLikelihood::Likely),
            ),
            (
                vec![f("HDR007", "headers", Action::Score, 5.0)],
                Verdict::Flag,
                Some(ReplyLikelihood::Possible),
            ),
            (
                vec![f("HDR007", "headers", Action::Score, 1.0)],
                Verdict::Pass,
                None,
            ),
        ];
        for (findings, verdict, likelihood) in cases {
            let r = decide(&c, 1, findings, vec![]);
            assert_eq!((r.verdict, r.reply_likelihood), (verdict, likelihood));
            assert_eq!(r.reply.is_some(), likelihood.is_some());
            let j = serde_json::to_value(&r).unwrap();
            assert_eq!(
                j.get("reply_likelihood").and_then(|v| v.as_str()),
                likelihood.map(ReplyLikelihood::as_str)
            );
        }
    }
}
