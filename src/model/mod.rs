//! The learned content models: the shipped one (logistic regression over hashed tokens,
//! trained from a labelled corpus by `preflight train`, stored in `rules/model/`) and a
//! site's own (token counts learnt by `preflight learn`). Rules MDL001 and MDL002 turn
//! their probabilities into scores along each rule's `curve`.

#[cfg(feature = "scan")]
pub mod corpus;
pub mod lang;
pub mod linear;
pub mod site;
pub mod tokens;

use std::sync::{Arc, OnceLock};

pub use linear::{LinearModel, TrainOptions};
pub use site::SiteModel;

/// The shipped content model's file, compiled into the binary.
pub const SHIPPED_MODEL: &[u8] = include_bytes!("../../rules/model/content.model");

/// The shipped content model, read once.
pub fn shipped() -> Result<Arc<LinearModel>, String> {
    static MODEL: OnceLock<Result<Arc<LinearModel>, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| LinearModel::from_bytes(SHIPPED_MODEL).map(Arc::new))
        .clone()
}

/// A piecewise-linear map from a probability to a score: below the first point 0, above
/// the last the last score.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Curve(pub Vec<(f64, f64)>);

impl Curve {
    /// The score at probability `p`.
    pub fn at(&self, p: f64) -> f64 {
        let pts = &self.0;
        let Some(first) = pts.first() else { return 0.0 };
        if p < first.0 {
            return 0.0;
        }
        for w in pts.windows(2) {
            let ((p0, s0), (p1, s1)) = (w[0], w[1]);
            if p < p1 {
                return s0 + (s1 - s0) * (p - p0) / (p1 - p0);
            }
        }
        pts[pts.len() - 1].1
    }
}

/// The models a message is scored with, and the score curves of their rules.
#[derive(Clone, Debug, Default)]
pub struct Models {
    /// The content model (the shipped one or the one configured in its place).
    pub content: Option<Arc<LinearModel>>,
    /// The site model, once it has learnt enough of each class.
    pub site: Option<Arc<SiteModel>>,
    /// MDL001's curve, in score points.
    pub content_curve: Curve,
    /// MDL002's curve, in score points.
    pub site_curve: Curve,
}

impl Models {
    /// The models `config` names (the shipped content model unless `model.content` names
    /// another; the site model when `model.site` names one that has learnt `site_min`
    /// messages of each class), with the curves of rules MDL001 and MDL002 in `rules`.
    pub fn build(rules: &crate::rules::RuleSet, config: &crate::Config) -> Result<Models, String> {
        let content = match &config.model.content {
            Some(p) => {
                let b = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
                Arc::new(LinearModel::from_bytes(&b).map_err(|e| format!("{}: {e}", p.display()))?)
            }
            None => shipped()?,
        };
        let site = match &config.model.site {
            Some(p) => Some(SiteModel::load(p)?)
                .filter(|m| m.ready(config.model.site_min))
                .map(Arc::new),
            None => None,
        };
        let curve = |id: &str| {
            rules
                .index(id)
                .map(|i| &rules.rules()[i])
                .map(|r| Curve(r.curve.iter().map(|&(p, f)| (p, f * r.score)).collect()))
                .unwrap_or_default()
        };
        Ok(Models {
            content: Some(content),
            site,
            content_curve: curve("MDL001"),
            site_curve: curve("MDL002"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_interpolates() {
        let c = Curve(vec![(0.8, 0.0), (0.9, 2.0), (0.99, 4.0)]);
        assert_eq!(c.at(0.5), 0.0);
        assert_eq!(c.at(0.8), 0.0);
        assert!((c.at(0.85) - 1.0).abs() < 1e-9);
        assert_eq!(c.at(0.995), 4.0);
        assert_eq!(Curve::default().at(0.99), 0.0);
    }

    #[test]
    fn the_shipped_model_loads() {
        assert!(shipped().is_ok());
    }
}
