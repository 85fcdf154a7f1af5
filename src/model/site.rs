//! The site model: token counts learnt from a site's own ham and spam by
//! `preflight learn`, kept apart from the shipped model, and combined per message with
//! Robinson's token probabilities and Fisher's chi-square method (as SpamBayes and
//! SpamAssassin's Bayes do).
//!
//! File format (little-endian): `PFSM`, version byte 1, three zero bytes; ham and spam
//! message counts (u32 each); the number of messages learnt (u32) and for each its digest
//! (u64) and class (u8, 1 for spam); the number of buckets (u32) and for each the bucket,
//! its ham count and its spam count (u32 each). Entries are sorted, so the same learning
//! gives the same bytes.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

const MAGIC: &[u8; 4] = b"PFSM";

/// Robinson's strength of the prior (how many messages a token needs to move away from
/// the unknown probability) and the unknown probability itself.
const PRIOR_STRENGTH: f64 = 0.45;
const PRIOR: f64 = 0.5;
/// Tokens whose probability is this close to 0.5 say nothing and are left out.
const MIN_STRENGTH: f64 = 0.1;
/// The most tokens combined per message (the strongest).
const MAX_COMBINED: usize = 150;

/// What learning one message did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Learnt {
    /// A message not seen before.
    New,
    /// A message learnt before as the other class: counted again as this one.
    Relearnt,
    /// Already learnt as this class: nothing changed.
    Known,
}

/// Token counts per class.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SiteModel {
    ham: u32,
    spam: u32,
    /// Message digest -> learnt as spam.
    learnt: HashMap<u64, bool>,
    /// Bucket -> [ham count, spam count].
    counts: HashMap<u32, [u32; 2]>,
}

/// The digest a learnt message is remembered by: FNV-1a 64 of its bytes with line ends
/// made alike, so the same message from an mbox and from a CRLF file is one message.
pub fn digest(raw: &[u8]) -> u64 {
    raw.iter()
        .filter(|&&b| b != b'\r')
        .fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// Fisher's chi-square survival function for `v` (even) degrees of freedom.
fn chi2q(x2: f64, v: usize) -> f64 {
    let m = x2 / 2.0;
    let mut term = (-m).exp();
    let mut sum = term;
    for i in 1..v / 2 {
        term *= m / i as f64;
        sum += term;
    }
    sum.min(1.0)
}

impl SiteModel {
    /// An empty model.
    pub fn new() -> SiteModel {
        SiteModel::default()
    }

    /// Reads the model at `path`; a file that does not exist yet is an empty model.
    pub fn load(path: &Path) -> Result<SiteModel, String> {
        match std::fs::read(path) {
            Ok(b) => SiteModel::from_bytes(&b).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SiteModel::new()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes the model to `path` (a new file renamed over the old one, so a reader never
    /// sees half a model).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.to_bytes())
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Messages learnt as ham and as spam.
    pub fn counts(&self) -> (u32, u32) {
        (self.ham, self.spam)
    }

    /// Distinct tokens (buckets) seen.
    pub fn tokens(&self) -> usize {
        self.counts.len()
    }

    /// Whether it has learnt at least `min` messages of each class.
    pub fn ready(&self, min: u32) -> bool {
        self.ham >= min && self.spam >= min
    }

    fn add(&mut self, features: &[u32], spam: bool, up: bool) {
        let k = usize::from(spam);
        for f in features {
            let c = self.counts.entry(*f).or_default();
            c[k] = if up { c[k] + 1 } else { c[k].saturating_sub(1) };
            if *c == [0, 0] {
                self.counts.remove(f);
            }
        }
        let n = if spam { &mut self.spam } else { &mut self.ham };
        *n = if up { *n + 1 } else { n.saturating_sub(1) };
    }

    /// Learns one message (its digest and distinct feature buckets) as spam or ham.
    pub fn learn(&mut self, digest: u64, features: &[u32], spam: bool) -> Learnt {
        match self.learnt.get(&digest).copied() {
            Some(s) if s == spam => Learnt::Known,
            Some(s) => {
                self.add(features, s, false);
                self.add(features, spam, true);
                self.learnt.insert(digest, spam);
                Learnt::Relearnt
            }
            None => {
                self.add(features, spam, true);
                self.learnt.insert(digest, spam);
                Learnt::New
            }
        }
    }

    /// Robinson's probability that a message with this token is spam.
    fn token_probability(&self, c: [u32; 2]) -> f64 {
        let ph = f64::from(c[0]) / f64::from(self.ham.max(1));
        let ps = f64::from(c[1]) / f64::from(self.spam.max(1));
        let p = if ph + ps > 0.0 { ps / (ph + ps) } else { PRIOR };
        let n = f64::from(c[0] + c[1]);
        (PRIOR_STRENGTH * PRIOR + n * p) / (PRIOR_STRENGTH + n)
    }

    /// The probability that a message with these feature buckets is spam, and the
    /// buckets that weighed most towards spam (strongest first, at most 5); `None` when
    /// no known token says anything.
    pub fn probability(&self, features: &[u32]) -> Option<(f64, Vec<u32>)> {
        let mut probs: Vec<(f64, u32)> = features
            .iter()
            .filter_map(|f| self.counts.get(f).map(|c| (self.token_probability(*c), *f)))
            .filter(|(p, _)| (p - 0.5).abs() >= MIN_STRENGTH)
            .collect();
        if probs.is_empty() {
            return None;
        }
        probs.sort_by(|a, b| {
            (b.0 - 0.5)
                .abs()
                .total_cmp(&(a.0 - 0.5).abs())
                .then(a.1.cmp(&b.1))
        });
        probs.truncate(MAX_COMBINED);
        let n = probs.len();
        let clamp = |p: f64| p.clamp(1e-6, 1.0 - 1e-6);
        let ln_spam: f64 = probs.iter().map(|(p, _)| (1.0 - clamp(*p)).ln()).sum();
        let ln_ham: f64 = probs.iter().map(|(p, _)| clamp(*p).ln()).sum();
        let s = 1.0 - chi2q(-2.0 * ln_spam, 2 * n);
        let h = 1.0 - chi2q(-2.0 * ln_ham, 2 * n);
        let mut top: Vec<(f64, u32)> = probs.into_iter().filter(|(p, _)| *p > 0.5).collect();
        top.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        Some((
            (s - h + 1.0) / 2.0,
            top.iter().take(5).map(|t| t.1).collect(),
        ))
    }

    /// The model file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[1, 0, 0, 0]);
        out.extend_from_slice(&self.ham.to_le_bytes());
        out.extend_from_slice(&self.spam.to_le_bytes());
        let learnt: BTreeMap<u64, bool> = self.learnt.iter().map(|(k, v)| (*k, *v)).collect();
        out.extend_from_slice(&(learnt.len() as u32).to_le_bytes());
        for (d, s) in learnt {
            out.extend_from_slice(&d.to_le_bytes());
            out.push(u8::from(s));
        }
        let counts: BTreeMap<u32, [u32; 2]> = self.counts.iter().map(|(k, v)| (*k, *v)).collect();
        out.extend_from_slice(&(counts.len() as u32).to_le_bytes());
        for (b, [h, s]) in counts {
            out.extend_from_slice(&b.to_le_bytes());
            out.extend_from_slice(&h.to_le_bytes());
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    /// Reads a model file.
    pub fn from_bytes(b: &[u8]) -> Result<SiteModel, String> {
        let bad = || "not a preflight site model, or a damaged one".to_string();
        if b.len() < 8 || &b[..4] != MAGIC {
            return Err(bad());
        }
        if b[4] != 1 {
            return Err(format!("site model version {} is not supported", b[4]));
        }
        let mut at = 8usize;
        let mut take = |n: usize| -> Result<&[u8], String> {
            let s = b
                .get(at..at.checked_add(n).ok_or_else(bad)?)
                .ok_or_else(bad)?;
            at += n;
            Ok(s)
        };
        let u32_ = |s: &[u8]| u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        let mut m = SiteModel::new();
        m.ham = u32_(take(4)?);
        m.spam = u32_(take(4)?);
        let n = u32_(take(4)?) as usize;
        for _ in 0..n {
            let d = take(9)?;
            let digest = u64::from_le_bytes(d[..8].try_into().expect("8 bytes"));
            m.learnt.insert(digest, d[8] == 1);
        }
        let n = u32_(take(4)?) as usize;
        for _ in 0..n {
            let e = take(12)?;
            m.counts
                .insert(u32_(&e[..4]), [u32_(&e[4..8]), u32_(&e[8..12])]);
        }
        if take(1).is_ok() {
            return Err(bad());
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_relearns_and_scores() {
        let mut m = SiteModel::new();
        for i in 0..30u64 {
            assert_eq!(m.learn(i, &[1, 3, 100 + i as u32], true), Learnt::New);
            assert_eq!(
                m.learn(1000 + i, &[2, 3, 200 + i as u32], false),
                Learnt::New
            );
        }
        assert_eq!(m.learn(0, &[1, 3, 100], true), Learnt::Known);
        assert_eq!(m.counts(), (30, 30));
        let (p, top) = m.probability(&[1, 3]).unwrap();
        assert!(p > 0.9, "{p}");
        assert_eq!(top, [1]);
        assert!(m.probability(&[2, 3]).unwrap().0 < 0.1);
        // Token 3 is in every message: it says nothing on its own.
        assert!(m.probability(&[3]).is_none());
        // A message learnt as the other class moves.
        assert_eq!(m.learn(0, &[1, 3, 100], false), Learnt::Relearnt);
        assert_eq!(m.counts(), (31, 29));
        assert!(m.ready(29) && !m.ready(30));
    }

    #[test]
    fn file_round_trip_and_damage() {
        let mut m = SiteModel::new();
        m.learn(7, &[1, 2], true);
        m.learn(8, &[2, 5], false);
        let b = m.to_bytes();
        assert_eq!(SiteModel::from_bytes(&b).unwrap(), m);
        for cut in 0..b.len() {
            assert!(SiteModel::from_bytes(&b[..cut]).is_err());
        }
        let mut longer = b.clone();
        longer.push(0);
        assert!(SiteModel::from_bytes(&longer).is_err());
    }

    #[test]
    fn digest_ignores_line_ends() {
        assert_eq!(digest(b"a\r\nb\r\n"), digest(b"a\nb\n"));
        assert_ne!(digest(b"a\nb\n"), digest(b"a\nc\n"));
    }
}
