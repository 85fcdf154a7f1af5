//! Rules implemented in code, one module per family.
//!
//! A [`Check`] looks at a parsed [`Message`] and reports hits by rule id through
//! [`Ctx::hit`]. Everything else about a rule (name, score, why, fix, predicted reply) is
//! in its YAML entry; the engine joins the two. A test checks that the ids declared here
//! and the YAML rules without a pattern agree both ways.

pub(crate) mod attachments;
pub(crate) mod auth;
pub(crate) mod bulk;
pub(crate) mod content;
pub(crate) mod encoding;
pub(crate) mod headers;
pub(crate) mod html;
pub(crate) mod impersonation;
pub(crate) mod links;
pub(crate) mod mime;
pub(crate) mod model;
pub(crate) mod recipients;
pub(crate) mod reputation;
pub(crate) mod size;

use crate::config::Config;
use crate::dns::{Answers, Query};
use crate::envelope::Envelope;
use crate::message::Message;
use crate::report::Evidence;
use crate::rules::lists::Lists;

/// One rule firing, as reported by a check.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Hit {
    /// Rule id.
    pub id: &'static str,
    /// What was seen in this message (one sentence, no trailing period needed), at most
    /// [`crate::report::MESSAGE_MAX`] bytes.
    pub message: String,
    /// Where it was seen (no entry twice).
    pub evidence: Vec<Evidence>,
    /// A score for this hit in place of the rule's (a weight from a data list, such as
    /// the attachment extension weights); `None`: the rule's own score or action.
    pub score: Option<f64>,
    /// How many times the check reported this same message (1 for most hits).
    pub times: usize,
    /// Hits of the same rule reported after this one that were only counted: past
    /// [`Ctx::kept_per_rule`] hits a rule keeps no more messages or evidence.
    pub more: usize,
    /// Where the defect is, when that changes the fix (`header`): the finding shows the
    /// rule's `fixes` entry for it instead of its `fix`.
    pub place: Option<&'static str>,
}

/// What a check can see and where it reports.
pub(crate) struct Ctx<'a> {
    /// The configuration in force.
    pub config: &'a Config,
    /// The SMTP envelope.
    pub envelope: &'a Envelope,
    /// Reference time, Unix seconds.
    pub now: i64,
    /// The data lists (brands, abused TLDs).
    pub lists: &'a Lists,
    enabled: &'a dyn Fn(&str) -> bool,
    probe: Option<&'a Probe<'a>>,
    models: Option<&'a crate::model::Models>,
    answers: Option<&'a Answers>,
    hits: Vec<Hit>,
    /// Rules that could not decide for want of a DNS answer, with why.
    not_checked: Vec<(&'static str, String)>,
    /// Per rule that fired: its id, the hits kept and the index of the last one kept.
    tally: Vec<(&'static str, usize, usize)>,
}

/// Runs the content family's scoring phrase rules over a text that is not one of the
/// message's own: `(rule id, what matched)` per rule that fires.
pub(crate) type Probe<'a> = dyn Fn(&crate::message::text::TextPart) -> Vec<(String, String)> + 'a;

impl<'a> Ctx<'a> {
    /// A context; `enabled` says whether a rule id runs.
    pub(crate) fn new(
        config: &'a Config,
        envelope: &'a Envelope,
        now: i64,
        lists: &'a Lists,
        enabled: &'a dyn Fn(&str) -> bool,
    ) -> Ctx<'a> {
        Ctx {
            config,
            envelope,
            now,
            lists,
            enabled,
            probe: None,
            models: None,
            answers: None,
            hits: Vec::new(),
            not_checked: Vec::new(),
            tally: Vec::new(),
        }
    }
    /// The same context with a content phrase probe (see [`Ctx::content_phrases`]).
    pub(crate) fn with_probe(mut self, probe: &'a Probe<'a>) -> Ctx<'a> {
        self.probe = Some(probe);
        self
    }
    /// The same context with the learned models (see [`crate::model`]).
    pub(crate) fn with_models(mut self, models: &'a crate::model::Models) -> Ctx<'a> {
        self.models = Some(models);
        self
    }
    /// The same context with DNS answers (the online path).
    pub(crate) fn with_answers(mut self, answers: &'a Answers) -> Ctx<'a> {
        self.answers = Some(answers);
        self
    }
    /// The DNS answers gathered for this message; `None` offline.
    pub(crate) fn answers(&self) -> Option<&'a Answers> {
        self.answers
    }
    /// The learned models, when the engine gave them.
    pub(crate) fn models(&self) -> Option<&'a crate::model::Models> {
        self.models
    }
    /// The content rules (phrase lists) that fire on `text`, as `(rule id, matched)`;
    /// empty when the engine gave no probe or the content rules are off.
    pub(crate) fn content_phrases(
        &self,
        text: &crate::message::text::TextPart,
    ) -> Vec<(String, String)> {
        self.probe.map(|p| p(text)).unwrap_or_default()
    }
    /// Whether rule `id` is enabled. Checks ask before any work done only for that rule
    /// (finding candidates, building messages or evidence), so a disabled rule costs
    /// nothing.
    pub(crate) fn on(&self, id: &str) -> bool {
        (self.enabled)(id)
    }
    /// How many hits of one rule keep their message and evidence (`max_evidence`, at
    /// least one); later ones only add to the count the finding's message ends with
    /// ("and N more").
    pub(crate) fn kept_per_rule(&self) -> usize {
        self.config.max_evidence.max(1)
    }
    /// Whether a hit of rule `id` reported now would keep its message and evidence:
    /// the rule is on and has kept fewer than [`Ctx::kept_per_rule`] distinct hits.
    /// [`Ctx::hit_with`] asks this before it builds anything.
    pub(crate) fn wants(&self, id: &str) -> bool {
        self.on(id) && self.kept(id) < self.kept_per_rule()
    }
    fn kept(&self, id: &str) -> usize {
        self.tally.iter().find(|t| t.0 == id).map_or(0, |t| t.1)
    }
    /// Reports that rule `id` fired. Ignored when the rule is disabled; past
    /// [`Ctx::kept_per_rule`] hits of the rule it is only counted. Messages are cut to
    /// [`crate::report::MESSAGE_MAX`] bytes and snippets to
    /// [`crate::message::SNIPPET_MAX`]. Build costly messages or evidence with
    /// [`Ctx::hit_with`] instead, which builds them only when they are kept.
    pub(crate) fn hit(
        &mut self,
        id: &'static str,
        message: impl Into<String>,
        evidence: Vec<Evidence>,
    ) {
        self.hit_weighted(id, None, message, evidence);
    }
    /// Like [`Ctx::hit`] for a defect at `place` (`header`), whose fix the rule's
    /// `fixes:` gives for that place.
    pub(crate) fn hit_at(
        &mut self,
        id: &'static str,
        place: &'static str,
        message: impl Into<String>,
        evidence: Vec<Evidence>,
    ) {
        if self.on(id) {
            let message = message.into();
            self.record(id, None, Some(place), Some((message, evidence)));
        }
    }
    /// Like [`Ctx::hit`], with a score from a data list in place of the rule's own score
    /// or action. When one rule fires several times, any hit without a weight keeps the
    /// rule's own action; otherwise the highest weight counts.
    pub(crate) fn hit_weighted(
        &mut self,
        id: &'static str,
        score: Option<f64>,
        message: impl Into<String>,
        evidence: Vec<Evidence>,
    ) {
        if self.on(id) {
            let message = message.into();
            self.record(id, score, None, Some((message, evidence)));
        }
    }
    /// Reports that rule `id` fired, with a score from a data list or `None` (see
    /// [`Ctx::hit_weighted`]); `detail` builds the message and evidence and is called
    /// only when the hit keeps them ([`Ctx::wants`]). Ignored when the rule is disabled.
    pub(crate) fn hit_with(
        &mut self,
        id: &'static str,
        score: Option<f64>,
        detail: impl FnOnce() -> (String, Vec<Evidence>),
    ) {
        if !self.on(id) {
            return;
        }
        let detail = self.wants(id).then(detail);
        self.record(id, score, None, detail);
    }
    /// Keeps a hit or counts it: a message already kept for the rule counts as a repeat
    /// (its new evidence joins the old), a new one is kept while the rule has room.
    fn record(
        &mut self,
        id: &'static str,
        score: Option<f64>,
        place: Option<&'static str>,
        detail: Option<(String, Vec<Evidence>)>,
    ) {
        let cap = self.kept_per_rule();
        let t = match self.tally.iter().position(|t| t.0 == id) {
            Some(t) => t,
            None => {
                self.tally.push((id, 0, 0));
                self.tally.len() - 1
            }
        };
        let (_, kept, last) = self.tally[t];
        let Some((mut message, evidence)) = detail else {
            self.count_more(t, score, place);
            return;
        };
        crate::report::cut_message(&mut message);
        if kept > 0 {
            let from = self.hits.iter().position(|h| h.id == id).unwrap_or(last);
            if let Some(h) = self.hits[from..=last]
                .iter_mut()
                .find(|h| h.id == id && h.message == message)
            {
                h.times += 1;
                h.score = join_weights(h.score, score);
                add_evidence(&mut h.evidence, evidence, cap);
                return;
            }
        }
        if kept >= cap {
            self.count_more(t, score, place);
            return;
        }
        let mut ev = Vec::with_capacity(evidence.len().min(cap));
        add_evidence(&mut ev, evidence, cap);
        self.hits.push(Hit {
            id,
            message,
            evidence: ev,
            score,
            times: 1,
            more: 0,
            place,
        });
        self.tally[t] = (id, kept + 1, self.hits.len() - 1);
    }
    /// Counts a hit that keeps nothing on the last hit the rule kept (or keeps a bare
    /// first hit, when a rule's first hit came without detail).
    fn count_more(&mut self, t: usize, score: Option<f64>, place: Option<&'static str>) {
        let (id, kept, last) = self.tally[t];
        if kept == 0 {
            self.hits.push(Hit {
                id,
                message: String::new(),
                evidence: Vec::new(),
                score,
                times: 1,
                more: 0,
                place,
            });
            self.tally[t] = (id, 1, self.hits.len() - 1);
            return;
        }
        let h = &mut self.hits[last];
        h.more += 1;
        h.score = join_weights(h.score, score);
    }
    /// The hits so far.
    pub(crate) fn into_hits(self) -> Vec<Hit> {
        self.hits
    }
    /// Says that rule `id` could not decide because a DNS answer it needs did not come
    /// (a timeout, a server failure, the lookup bound): the report lists it as not
    /// checked, never as failed. Ignored when the rule is disabled.
    pub(crate) fn not_checked(&mut self, id: &'static str, why: impl Into<String>) {
        if self.on(id) {
            self.not_checked.push((id, why.into()));
        }
    }
    /// The hits, and the rules that could not decide ([`Ctx::not_checked`]).
    pub(crate) fn into_parts(self) -> (Vec<Hit>, Vec<(&'static str, String)>) {
        (self.hits, self.not_checked)
    }
}

/// Two hits' weights as one: the higher weight, or the rule's own score when either
/// has none.
pub(crate) fn join_weights(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    }
}

/// Adds `new` to `list`: entries already there are left out, snippets are cut to
/// [`crate::message::SNIPPET_MAX`] bytes, and the list stops at `cap` entries.
pub(crate) fn add_evidence(list: &mut Vec<Evidence>, new: Vec<Evidence>, cap: usize) {
    for mut e in new {
        if list.len() >= cap {
            return;
        }
        e.snippet.cut(crate::message::SNIPPET_MAX);
        if !list.contains(&e) {
            list.push(e);
        }
    }
}

/// A family's code rules.
pub(crate) trait Check: Send + Sync {
    /// The rule ids this check can report.
    fn ids(&self) -> &'static [&'static str];
    /// Looks at the message and reports hits.
    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>);
    /// Whether the check decides from DNS answers. Such a check runs only when the engine
    /// is given answers ([`crate::Engine::check_with`]); the offline
    /// [`crate::Engine::check`] leaves it out.
    fn online(&self) -> bool {
        false
    }
    /// The DNS questions the check still needs for `msg`, given the answers so far
    /// ([`Ctx::answers`]): asked round after round until it needs nothing new (see
    /// [`crate::dns::gather`]).
    fn lookups(&self, _msg: &Message<'_>, _cx: &Ctx<'_>) -> Vec<Query> {
        Vec::new()
    }
}

/// Every code check, in a fixed order.
pub(crate) fn all() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(size::SizeCheck),
        Box::new(headers::HeadersCheck),
        Box::new(encoding::EncodingCheck),
        Box::new(mime::MimeCheck),
        Box::new(bulk::BulkCheck),
        Box::new(content::ContentCheck),
        Box::new(attachments::AttachmentsCheck),
        Box::new(html::HtmlCheck),
        Box::new(links::LinksCheck),
        Box::new(auth::AuthCheck),
        Box::new(recipients::RecipientsCheck),
        Box::new(recipients::RecipientDomainsCheck),
        Box::new(reputation::ReputationCheck),
        Box::new(impersonation::ImpersonationCheck),
        Box::new(model::ContentModelCheck),
        Box::new(model::SiteModelCheck),
    ]
}

/// Test helper: the ids that fire on `raw` with only the rules `select` names switched on,
/// under `config` otherwise, in report order.
#[cfg(test)]
pub(crate) fn fired(select: &str, config: crate::Config, raw: &[u8]) -> Vec<String> {
    fired_with(select, config, &crate::Envelope::default(), raw)
}

/// Test helper: [`fired`] under an envelope.
#[cfg(test)]
pub(crate) fn fired_with(
    select: &str,
    mut config: crate::Config,
    envelope: &crate::Envelope,
    raw: &[u8],
) -> Vec<String> {
    config.select = vec![select.into()];
    crate::Engine::new(config)
        .expect("shipped rules load")
        .check(raw, envelope)
        .findings
        .into_iter()
        .map(|f| f.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Frame, Snippet, Span};

    fn ev(at: usize, snippet: &str) -> Evidence {
        Evidence {
            frame: Frame::Raw,
            part: None,
            span: Span {
                start: at,
                end: at + 1,
            },
            line: Some(1),
            snippet: Snippet::Text(snippet.to_string()),
        }
    }

    fn with_ctx(enabled: &dyn Fn(&str) -> bool, f: impl FnOnce(&mut Ctx<'_>)) -> Vec<Hit> {
        let config = Config::default();
        let envelope = Envelope::default();
        let lists = Lists::default();
        let mut cx = Ctx::new(&config, &envelope, 0, &lists, enabled);
        f(&mut cx);
        cx.into_hits()
    }

    #[test]
    fn a_rule_keeps_its_first_hits_and_counts_the_rest() {
        let built = std::cell::Cell::new(0);
        let hits = with_ctx(&|id| id != "OFF", |cx| {
            for i in 0..1000 {
                cx.hit_with("URL011", None, || {
                    built.set(built.get() + 1);
                    (format!("link {i}"), vec![ev(i, "x")])
                });
                cx.hit_with("OFF", None, || {
                    built.set(built.get() + 1000);
                    (String::new(), vec![])
                });
            }
        });
        // Five hits built and kept (max_evidence), 995 only counted, nothing for the
        // rule that is off.
        assert_eq!(built.get(), 5);
        assert_eq!(hits.len(), 5);
        assert_eq!(hits.iter().map(|h| h.more).sum::<usize>(), 995);
        assert!(hits.iter().all(|h| h.id == "URL011"));
    }

    #[test]
    fn repeats_are_counted_once_and_evidence_has_no_duplicates() {
        let hits = with_ctx(&|_| true, |cx| {
            for _ in 0..3 {
                cx.hit("CNT010", "same words", vec![ev(7, "here"), ev(7, "here")]);
            }
            cx.hit("CNT010", "other words", vec![ev(9, &"y".repeat(5000))]);
            cx.hit("CNT010", "x".repeat(100_000), vec![]);
        });
        assert_eq!(hits.len(), 3);
        assert_eq!((hits[0].message.as_str(), hits[0].times), ("same words", 3));
        assert_eq!(hits[0].evidence, vec![ev(7, "here")]);
        let Snippet::Text(t) = &hits[1].evidence[0].snippet else {
            panic!("text snippet")
        };
        assert_eq!(t.len(), crate::message::SNIPPET_MAX);
        assert!(hits[2].message.len() <= crate::report::MESSAGE_MAX);
        assert!(hits[2].message.ends_with('\u{2026}'));
    }

    #[test]
    fn weights_join_over_counted_hits() {
        let hits = with_ctx(&|_| true, |cx| {
            for i in 0..10 {
                let w = if i == 9 { None } else { Some(i as f64) };
                cx.hit_with("ATT002", w, || (format!("file {i}"), vec![]));
            }
        });
        // The last hit, counted only, had no weight: the rule's own action stands.
        assert_eq!(hits.iter().map(|h| h.more).sum::<usize>(), 5);
        assert_eq!(hits.last().map(|h| h.score), Some(None));
    }
}
