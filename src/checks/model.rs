//! The learned models as rules: MDL001 (the shipped content model) and MDL002 (the site
//! model learnt by `preflight learn`), one check each so that the engine can leave MDL001
//! out when nothing could corroborate it. Each turns its probability into a score along
//! its rule's `curve`; the finding names the tokens that weighed most.

use crate::checks::{Check, Ctx};
use crate::message::Message;
use crate::model::tokens;
use crate::util::round2;

/// The shipped content model (MDL001).
pub(crate) struct ContentModelCheck;

/// The site's own model (MDL002).
pub(crate) struct SiteModelCheck;

/// Fewer distinct features than this is too little text to judge.
const MIN_FEATURES: usize = 8;

/// How each bucket of `wanted` reads: the first token of `msg` that falls in it.
fn describe(msg: &Message<'_>, wanted: &[u32]) -> Vec<String> {
    let mut names: Vec<Option<String>> = vec![None; wanted.len()];
    let done = std::cell::Cell::new(wanted.is_empty());
    let mut left = wanted.len();
    tokens::for_each_until(msg, &done, &mut |t| {
        let b = t.bucket();
        for (i, w) in wanted.iter().enumerate() {
            if *w == b && names[i].is_none() {
                names[i] = Some(t.describe());
                left -= 1;
                done.set(left == 0);
            }
        }
    });
    names.into_iter().flatten().collect()
}

impl Check for ContentModelCheck {
    fn ids(&self) -> &'static [&'static str] {
        &["MDL001"]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let Some(models) = cx.models() else { return };
        let Some(m) = models.content.as_ref().filter(|_| cx.on("MDL001")) else {
            return;
        };
        let analysis = tokens::analyse(msg);
        let feats = analysis.buckets;
        // The shipped model judges only the languages it learnt ham and spam of.
        if feats.len() < MIN_FEATURES || !m.judges(analysis.lang) {
            return;
        }
        let p = m.probability(&feats);
        let score = round2(models.content_curve.at(p));
        if score > 0.0 {
            cx.hit_with("MDL001", Some(score), || {
                let mut top: Vec<(f64, u32)> = feats
                    .iter()
                    .map(|&f| (m.contribution(f, feats.len()), f))
                    .filter(|c| c.0 > 0.0)
                    .collect();
                top.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let wanted: Vec<u32> = top.iter().take(6).map(|t| t.1).collect();
                (
                    format!(
                        "the content model rates the text {:.1}% like the spam and phishing it learnt from; weighed most: {}",
                        100.0 * p,
                        describe(msg, &wanted).join(", ")
                    ),
                    Vec::new(),
                )
            });
        }
    }
}

impl Check for SiteModelCheck {
    fn ids(&self) -> &'static [&'static str] {
        &["MDL002"]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let Some(models) = cx.models() else { return };
        let Some(m) = models.site.as_ref().filter(|_| cx.on("MDL002")) else {
            return;
        };
        let feats = tokens::features(msg);
        if feats.len() < MIN_FEATURES {
            return;
        }
        if let Some((p, top)) = m.probability(&feats) {
            let score = round2(models.site_curve.at(p));
            if score > 0.0 {
                cx.hit_with("MDL002", Some(score), || {
                    let (ham, spam) = m.counts();
                    (
                        format!(
                            "this site's model (learnt from {ham} ham and {spam} spam messages) rates the text {:.1}% like its spam; weighed most: {}",
                            100.0 * p,
                            describe(msg, &top).join(", ")
                        ),
                        Vec::new(),
                    )
                });
            }
        }
    }
}
