//! Rules implemented in code, one module per family.
//!
//! A [`Check`] looks at a parsed [`Message`] and reports hits by rule id through
//! [`Ctx::hit`]. Everything else about a rule (name, score, why, fix, predicted reply) is
//! in its YAML entry; the engine joins the two. A test checks that the ids declared here
//! and the YAML rules without a pattern agree both ways.

pub mod attachments;
pub mod auth;
pub mod bulk;
pub mod content;
pub mod encoding;
pub mod headers;
pub mod html;
pub mod links;
pub mod mime;
pub mod recipients;
pub mod size;

use crate::config::Config;
use crate::envelope::Envelope;
use crate::message::Message;
use crate::report::Evidence;
use crate::rules::lists::Lists;

/// One rule firing, as reported by a check.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// Rule id.
    pub id: &'static str,
    /// What was seen in this message (one sentence, no trailing period needed).
    pub message: String,
    /// Where it was seen.
    pub evidence: Vec<Evidence>,
    /// A score for this hit in place of the rule's (a weight from a data list, such as
    /// the attachment extension weights); `None`: the rule's own score or action.
    pub score: Option<f64>,
    /// Where the defect is, when that changes the fix (`header`): the finding shows the
    /// rule's `fixes` entry for it instead of its `fix`.
    pub place: Option<&'static str>,
}

/// What a check can see and where it reports.
pub struct Ctx<'a> {
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
    hits: Vec<Hit>,
}

/// Runs the content family's scoring phrase rules over a text that is not one of the
/// message's own: `(rule id, what matched)` per rule that fires.
pub type Probe<'a> = dyn Fn(&crate::message::text::TextPart) -> Vec<(String, String)> + 'a;

impl<'a> Ctx<'a> {
    /// A context; `enabled` says whether a rule id runs.
    pub fn new(
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
            hits: Vec::new(),
        }
    }
    /// The same context with a content phrase probe (see [`Ctx::content_phrases`]).
    pub fn with_probe(mut self, probe: &'a Probe<'a>) -> Ctx<'a> {
        self.probe = Some(probe);
        self
    }
    /// The content rules (phrase lists) that fire on `text`, as `(rule id, matched)`;
    /// empty when the engine gave no probe or the content rules are off.
    pub fn content_phrases(&self, text: &crate::message::text::TextPart) -> Vec<(String, String)> {
        self.probe.map(|p| p(text)).unwrap_or_default()
    }
    /// Whether rule `id` is enabled (skip expensive work when it is not).
    pub fn on(&self, id: &str) -> bool {
        (self.enabled)(id)
    }
    /// Reports that rule `id` fired. Ignored when the rule is disabled.
    pub fn hit(&mut self, id: &'static str, message: impl Into<String>, evidence: Vec<Evidence>) {
        if self.on(id) {
            self.hits.push(Hit {
                id,
                message: message.into(),
                evidence,
                score: None,
                place: None,
            });
        }
    }
    /// Like [`Ctx::hit`] for a defect at `place` (`header`), whose fix the rule's
    /// `fixes:` gives for that place.
    pub fn hit_at(
        &mut self,
        id: &'static str,
        place: &'static str,
        message: impl Into<String>,
        evidence: Vec<Evidence>,
    ) {
        if self.on(id) {
            self.hits.push(Hit {
                id,
                message: message.into(),
                evidence,
                score: None,
                place: Some(place),
            });
        }
    }
    /// Like [`Ctx::hit`], with a score from a data list in place of the rule's own score
    /// or action. When one rule fires several times, any hit without a weight keeps the
    /// rule's own action; otherwise the highest weight counts.
    pub fn hit_weighted(
        &mut self,
        id: &'static str,
        score: Option<f64>,
        message: impl Into<String>,
        evidence: Vec<Evidence>,
    ) {
        if self.on(id) {
            self.hits.push(Hit {
                id,
                message: message.into(),
                evidence,
                score,
                place: None,
            });
        }
    }
    /// The hits so far.
    pub fn into_hits(self) -> Vec<Hit> {
        self.hits
    }
}

/// A family's code rules.
pub trait Check: Send + Sync {
    /// The rule ids this check can report.
    fn ids(&self) -> &'static [&'static str];
    /// Looks at the message and reports hits.
    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>);
}

/// Every code check, in a fixed order.
pub fn all() -> Vec<Box<dyn Check>> {
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
    ]
}

/// Test helper: the ids that fire on `raw` with only the rules `select` names switched on,
/// under `config` otherwise, in report order.
#[cfg(test)]
pub(crate) fn fired(select: &str, mut config: crate::Config, raw: &[u8]) -> Vec<String> {
    config.select = vec![select.into()];
    crate::Engine::new(config)
        .expect("shipped rules load")
        .check(raw, &crate::Envelope::default())
        .findings
        .into_iter()
        .map(|f| f.id)
        .collect()
}
