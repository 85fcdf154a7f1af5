//! What the milter answers at end of message: the reply policy, from a report (or an
//! oversize message, or a failed check) and the milter settings to the replies the MTA
//! gets.
//!
//! Every answer is one final reply (continue, a reply code, tempfail) after any number of
//! header and quarantine actions, each only if negotiation allowed it. The policy is pure:
//! no I/O, so the property tests drive it with every combination of negotiated flags.

use crate::config::{CheckErrorAction, FlagAction, MilterConfig, MilterMode, OversizeAction};
use crate::report::{Action, Report, Verdict};

use super::protocol::{Response, action, step};

/// What negotiation settled: the actions the milter may take ([`action`]) and the protocol
/// flags ([`step`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// Action flags agreed.
    pub actions: u32,
    /// Protocol flags agreed.
    pub steps: u32,
}

impl Negotiated {
    /// Everything allowed, no protocol flags (what a caller without a session assumes).
    pub const ALL: Negotiated = Negotiated {
        actions: u32::MAX,
        steps: 0,
    };

    fn may(&self, flag: u32) -> bool {
        self.actions & flag != 0
    }
}

/// How the message came out before the reply is chosen.
#[derive(Clone, Copy, Debug)]
pub enum Outcome<'a> {
    /// The engine checked it (possibly with internal errors, see [`Report::unchecked`]).
    Checked(&'a Report),
    /// It was larger than `limits.max_message_bytes`, so it was not buffered or checked.
    TooLarge {
        /// Bytes the MTA sent (at least the limit).
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The check itself failed outside the engine's guards (a panic on the way).
    Failed,
}

/// The replies for one end of message and the action name for the log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Modifications first, the final reply last.
    pub replies: Vec<Response>,
    /// `reject`, `header`, `quarantine`, `continue`, `tempfail`, `dry-run-...`.
    pub action: &'static str,
}

/// The temporary failure answered when a message cannot be judged.
pub const TEMPFAIL_TEXT: &str = "451 4.3.0 preflight: temporary failure, try again later";

/// The ids of the findings that count (a score or a hard reject), strongest first.
pub fn scoring_ids(report: &Report) -> Vec<&str> {
    report
        .findings
        .iter()
        .filter(|f| f.score > 0.0 || f.action == Action::Reject)
        .map(|f| f.id.as_str())
        .collect()
}

/// The verdict header's value: `flag; score=7.5; rules=CNT101,URL004`, with
/// `; unchecked=html` when a check failed and the message was judged without it.
/// It carries the rules' verdict even where a mode softened what the milter did.
pub fn header_value(report: &Report) -> String {
    let verdict = report.verdict;
    let mut v = format!(
        "{}; score={}",
        verdict.as_str(),
        crate::util::round2(report.score)
    );
    let ids = scoring_ids(report);
    if !ids.is_empty() && verdict != Verdict::Pass {
        v.push_str("; rules=");
        v.push_str(&ids.iter().take(10).copied().collect::<Vec<_>>().join(","));
    }
    if !report.unchecked.is_empty() {
        v.push_str("; unchecked=");
        v.push_str(&report.unchecked.join(","));
    }
    v
}

/// The verdict the milter acts on: the report's, with the findings of `dry-run`
/// families left out and those of `flag-only` families unable to reject; the global
/// `flag-only` mode turns a reject into a flag.
pub fn live_verdict(settings: &MilterConfig, report: &Report) -> Verdict {
    let mode = |family: &str| settings.family_mode(family);
    let mut verdict = if settings.family_modes.is_empty() {
        report.verdict
    } else {
        let (mut enforce, mut live) = (0.0, 0.0);
        for f in &report.families {
            match mode(&f.family) {
                MilterMode::Enforce => {
                    enforce += f.contributed;
                    live += f.contributed;
                }
                MilterMode::FlagOnly => live += f.contributed,
                MilterMode::DryRun => {}
            }
        }
        let hard = |pass: &dyn Fn(MilterMode) -> bool| {
            report
                .findings
                .iter()
                .any(|f| f.action == Action::Reject && pass(mode(&f.family)))
        };
        crate::verdict::judge(
            report.thresholds,
            enforce,
            hard(&|m| m == MilterMode::Enforce),
            live,
            hard(&|m| m != MilterMode::DryRun),
        )
    };
    if settings.mode == MilterMode::FlagOnly && verdict == Verdict::Reject {
        verdict = Verdict::Flag;
    }
    verdict
}

/// A reply text on one line (an SMTP reply cannot hold line breaks here).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// What to do, before the negotiated actions narrow it.
struct Plan {
    /// The final reply.
    last: Response,
    /// The verdict header's value, when one is added.
    header: Option<String>,
    /// Quarantine with this reason.
    quarantine: Option<String>,
    action: &'static str,
}

impl Plan {
    fn only(last: Response, action: &'static str) -> Plan {
        Plan {
            last,
            header: None,
            quarantine: None,
            action,
        }
    }
}

fn plan_checked(settings: &MilterConfig, report: &Report) -> Plan {
    let verdict = live_verdict(settings, report);
    // A message judged without some of its checks always says so.
    let header = (verdict != Verdict::Pass || settings.pass_header || !report.unchecked.is_empty())
        .then(|| header_value(report));
    match verdict {
        Verdict::Reject => {
            let text = match &settings.reject_text {
                Some(t) => format!("554 5.7.1 {}", one_line(t)),
                None => {
                    // The strongest finding of a family that may reject.
                    let top = report
                        .findings
                        .iter()
                        .find(|f| settings.family_mode(&f.family) == MilterMode::Enforce);
                    format!(
                        "554 5.7.1 preflight: rejected by {} {}",
                        top.map_or("-", |f| f.id.as_str()),
                        top.map_or("", |f| f.name.as_str())
                    )
                }
            };
            Plan::only(Response::ReplyCode(one_line(text.trim())), "reject")
        }
        Verdict::Flag => {
            let quarantine = (settings.flag_action == FlagAction::Quarantine
                && settings.mode == MilterMode::Enforce)
                .then(|| format!("preflight: {}", header_value(report)));
            Plan {
                action: if quarantine.is_some() {
                    "quarantine"
                } else {
                    "header"
                },
                last: Response::Continue,
                header,
                quarantine,
            }
        }
        Verdict::Pass => Plan {
            action: if header.is_some() {
                "header"
            } else {
                "continue"
            },
            last: Response::Continue,
            header,
            quarantine: None,
        },
    }
}

fn plan(settings: &MilterConfig, outcome: Outcome<'_>) -> Plan {
    let tempfail = || Plan::only(Response::ReplyCode(TEMPFAIL_TEXT.into()), "tempfail");
    match outcome {
        Outcome::Failed => tempfail(),
        Outcome::Checked(report) if settings.mode == MilterMode::DryRun => Plan::only(
            Response::Continue,
            match report.verdict {
                Verdict::Reject => "dry-run-would-reject",
                Verdict::Flag => "dry-run-would-flag",
                Verdict::Pass => "dry-run-pass",
            },
        ),
        Outcome::Checked(report)
            if !report.internal_errors.is_empty()
                && (settings.on_check_error == CheckErrorAction::Tempfail
                    || report.unchecked.iter().any(|u| u == "all")) =>
        {
            tempfail()
        }
        Outcome::Checked(report) => plan_checked(settings, report),
        Outcome::TooLarge { limit, .. } => match settings.mode {
            MilterMode::DryRun => Plan::only(Response::Continue, "dry-run-would-reject"),
            MilterMode::FlagOnly => Plan {
                last: Response::Continue,
                header: Some("reject; rules=SIZE001; unchecked=all".into()),
                quarantine: None,
                action: "header",
            },
            MilterMode::Enforce => {
                let (code, action) = match settings.oversize_action {
                    OversizeAction::Reject => ("552 5.3.4", "reject"),
                    OversizeAction::Tempfail => ("452 4.3.4", "tempfail"),
                };
                Plan::only(
                    Response::ReplyCode(format!(
                        "{code} preflight: message size exceeds the limit of {limit} bytes"
                    )),
                    action,
                )
            }
        },
    }
}

/// The replies for one end of message: `existing` is how many header fields named like
/// the verdict header the message already carries (a sender may forge one; they are
/// deleted before ours is added, whenever the message goes on with any change of ours).
pub fn answer(
    settings: &MilterConfig,
    negotiated: Negotiated,
    outcome: Outcome<'_>,
    existing: u32,
) -> Answer {
    let plan = plan(settings, outcome);
    let mut replies = Vec::new();
    let goes_on = plan.last == Response::Continue;
    // Dry-run changes nothing; a refused or deferred message needs no changes.
    let changes = goes_on && settings.mode != MilterMode::DryRun;
    if changes && negotiated.may(action::CHANGE_HEADERS) {
        // From the last to the first, so no deletion renumbers the ones still to come.
        for index in (1..=existing).rev() {
            replies.push(Response::ChangeHeader {
                index,
                name: settings.header.clone(),
                value: String::new(),
            });
        }
    }
    if changes
        && negotiated.may(action::ADD_HEADERS)
        && let Some(value) = plan.header
    {
        replies.push(Response::AddHeader {
            name: settings.header.clone(),
            value,
        });
    }
    if changes
        && negotiated.may(action::QUARANTINE)
        && let Some(reason) = plan.quarantine
    {
        replies.push(Response::Quarantine(reason));
    }
    if negotiated.steps & step::HEADER_LEADING_SPACE != 0 {
        // Values go both ways with their leading space under this flag; an empty value
        // deletes the field and must stay empty.
        for r in &mut replies {
            if let Response::AddHeader { value, .. }
            | Response::InsertHeader { value, .. }
            | Response::ChangeHeader { value, .. } = r
                && !value.is_empty()
            {
                value.insert(0, ' ');
            }
        }
    }
    replies.push(plan.last);
    Answer {
        replies,
        action: plan.action,
    }
}

/// The replies for a checked message under `settings`, everything allowed, and the
/// action name for the log.
pub fn decide(settings: &MilterConfig, report: &Report) -> (Vec<Response>, &'static str) {
    let a = answer(settings, Negotiated::ALL, Outcome::Checked(report), 0);
    (a.replies, a.action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Envelope};

    fn engine() -> Engine {
        Engine::new(crate::Config::default()).unwrap()
    }

    #[test]
    fn replies_by_verdict_and_mode() {
        let engine = engine();
        let canary = engine.check(
            include_bytes!("../../samples/canary.eml"),
            &Envelope::default(),
        );
        let mut s = MilterConfig::default();
        let (r, action) = decide(&s, &canary);
        assert_eq!(action, "reject");
        let Response::ReplyCode(text) = &r[0] else {
            panic!("{r:?}")
        };
        assert!(
            text.starts_with("554 5.7.1 preflight: rejected by CNT001"),
            "{text}"
        );
        s.reject_text = Some("Message refused by policy".into());
        assert_eq!(
            decide(&s, &canary).0,
            [Response::ReplyCode(
                "554 5.7.1 Message refused by policy".into()
            )]
        );
        s.mode = MilterMode::FlagOnly;
        let (r, action) = decide(&s, &canary);
        assert_eq!(action, "header");
        assert!(
            matches!(&r[0], Response::AddHeader { value, .. } if value.starts_with("reject; score="))
        );
        assert_eq!(r.last(), Some(&Response::Continue));
        s.mode = MilterMode::DryRun;
        assert_eq!(decide(&s, &canary).0, [Response::Continue]);
        let good = engine.check(
            include_bytes!("../../samples/good-newsletter.eml"),
            &Envelope::default(),
        );
        s.mode = MilterMode::Enforce;
        let (r, _) = decide(&s, &good);
        assert_eq!(
            r,
            [
                Response::AddHeader {
                    name: "X-Preflight-Verdict".into(),
                    value: "pass; score=0".into()
                },
                Response::Continue
            ]
        );
        s.pass_header = false;
        assert_eq!(decide(&s, &good).0, [Response::Continue]);
    }

    #[test]
    fn family_modes_soften_only_their_families() {
        let engine = engine();
        // The canary rejects on CNT001 (content, a hard reject).
        let canary = engine.check(
            include_bytes!("../../samples/canary.eml"),
            &Envelope::default(),
        );
        assert!(canary.findings.iter().any(|f| f.family == "content"));
        let mut s = MilterConfig::default();
        s.family_modes
            .insert("content".into(), MilterMode::FlagOnly);
        let flagged = live_verdict(&s, &canary);
        s.family_modes.insert("content".into(), MilterMode::DryRun);
        let dry = live_verdict(&s, &canary);
        s.family_modes.insert("content".into(), MilterMode::Enforce);
        s.family_modes.insert("html".into(), MilterMode::DryRun);
        assert_eq!(live_verdict(&s, &canary), Verdict::Reject);
        // Without content, what is left of the canary decides.
        let rest: f64 = canary
            .families
            .iter()
            .filter(|f| f.family != "content")
            .map(|f| f.contributed)
            .sum();
        let hard_elsewhere = canary
            .findings
            .iter()
            .any(|f| f.family != "content" && f.action == Action::Reject);
        assert!(
            !hard_elsewhere && rest < canary.thresholds.reject,
            "{canary:?}"
        );
        assert_eq!(flagged, Verdict::Flag);
        let expect_dry = if rest >= canary.thresholds.flag {
            Verdict::Flag
        } else {
            Verdict::Pass
        };
        assert_eq!(dry, expect_dry);
        // And the replies follow: flag-only content puts a header on instead of a 554,
        // one that still carries the rules' verdict.
        s.family_modes.clear();
        s.family_modes
            .insert("content".into(), MilterMode::FlagOnly);
        let (r, action) = decide(&s, &canary);
        assert_eq!(action, "header");
        assert!(
            matches!(&r[0], Response::AddHeader { value, .. } if value.starts_with("reject; ")),
            "{r:?}"
        );
    }

    #[test]
    fn forged_verdict_headers_are_deleted_last_first_before_ours() {
        let engine = engine();
        let good = engine.check(
            include_bytes!("../../samples/good-newsletter.eml"),
            &Envelope::default(),
        );
        let s = MilterConfig::default();
        let all = Negotiated {
            actions: action::ADD_HEADERS | action::CHANGE_HEADERS,
            steps: step::HEADER_LEADING_SPACE,
        };
        let a = answer(&s, all, Outcome::Checked(&good), 2);
        let del = |index| Response::ChangeHeader {
            index,
            name: "X-Preflight-Verdict".into(),
            value: String::new(),
        };
        assert_eq!(
            a.replies,
            [
                del(2),
                del(1),
                Response::AddHeader {
                    name: "X-Preflight-Verdict".into(),
                    value: " pass; score=0".into()
                },
                Response::Continue
            ]
        );
        // Without pass headers the forged ones still go.
        let quiet = MilterConfig {
            pass_header: false,
            ..MilterConfig::default()
        };
        assert_eq!(
            answer(&quiet, all, Outcome::Checked(&good), 1).replies,
            [del(1), Response::Continue]
        );
        // Dry-run changes nothing; an MTA that did not allow changes gets none.
        let dry = MilterConfig {
            mode: MilterMode::DryRun,
            ..MilterConfig::default()
        };
        assert_eq!(
            answer(&dry, all, Outcome::Checked(&good), 1).replies,
            [Response::Continue]
        );
        let add_only = Negotiated {
            actions: action::ADD_HEADERS,
            steps: 0,
        };
        assert_eq!(
            answer(&s, add_only, Outcome::Checked(&good), 1)
                .replies
                .len(),
            2
        );
        let nothing = Negotiated {
            actions: 0,
            steps: 0,
        };
        assert_eq!(
            answer(&s, nothing, Outcome::Checked(&good), 1).replies,
            [Response::Continue]
        );
    }

    #[test]
    fn oversize_and_failed_checks() {
        let mut s = MilterConfig::default();
        let big = Outcome::TooLarge {
            size: 60_000,
            limit: 50_000,
        };
        let a = answer(&s, Negotiated::ALL, big, 0);
        assert_eq!(
            a.replies,
            [Response::ReplyCode(
                "552 5.3.4 preflight: message size exceeds the limit of 50000 bytes".into()
            )]
        );
        s.oversize_action = OversizeAction::Tempfail;
        let a = answer(&s, Negotiated::ALL, big, 0);
        assert!(
            matches!(&a.replies[..], [Response::ReplyCode(t)] if t.starts_with("452 4.3.4")),
            "{a:?}"
        );
        s.mode = MilterMode::FlagOnly;
        let a = answer(&s, Negotiated::ALL, big, 1);
        assert_eq!(a.replies.len(), 3, "{a:?}");
        assert!(
            matches!(&a.replies[1], Response::AddHeader { value, .. } if value == "reject; rules=SIZE001; unchecked=all")
        );
        let a = answer(
            &MilterConfig::default(),
            Negotiated::ALL,
            Outcome::Failed,
            0,
        );
        assert_eq!(a.replies, [Response::ReplyCode(TEMPFAIL_TEXT.into())]);
    }

    #[test]
    fn a_failed_check_is_judged_by_the_others_or_tempfails() {
        let engine = engine();
        let mut report = engine.check(
            include_bytes!("../../samples/good-newsletter.eml"),
            &Envelope::default(),
        );
        report.internal_errors = vec!["the html check panicked".into()];
        report.unchecked = vec!["html".into()];
        let mut s = MilterConfig {
            pass_header: false,
            ..MilterConfig::default()
        };
        let a = answer(&s, Negotiated::ALL, Outcome::Checked(&report), 0);
        assert_eq!(
            a.replies,
            [
                Response::AddHeader {
                    name: "X-Preflight-Verdict".into(),
                    value: "pass; score=0; unchecked=html".into()
                },
                Response::Continue
            ]
        );
        s.on_check_error = CheckErrorAction::Tempfail;
        let a = answer(&s, Negotiated::ALL, Outcome::Checked(&report), 0);
        assert_eq!(a.replies, [Response::ReplyCode(TEMPFAIL_TEXT.into())]);
        // Nothing checked at all: no judgement to make.
        s.on_check_error = CheckErrorAction::Judge;
        report.unchecked = vec!["all".into()];
        let a = answer(&s, Negotiated::ALL, Outcome::Checked(&report), 0);
        assert_eq!(a.action, "tempfail");
    }
}
