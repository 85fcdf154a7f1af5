//! The shipped content model: logistic regression over hashed token features, trained by
//! `preflight train` and stored with 16-bit weights.
//!
//! File format (little-endian): `PFLM`, a version byte, the bucket bits, the set of
//! languages the model judges (u16, bits of [`Lang::bit`]; version 1 wrote zero there
//! and judged every language), the bias (f32), the weight scale (f32), then one i16 per
//! bucket (weight = i16 * scale).

use super::lang::Lang;
use super::tokens::BITS;

const MAGIC: &[u8; 4] = b"PFLM";

/// A linear model over feature buckets.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearModel {
    bias: f32,
    weights: Vec<f32>,
    langs: u16,
}

/// Every language: what a model judges that was not told otherwise.
const EVERY_LANGUAGE: u16 = u16::MAX;

/// How a model is trained. The defaults are what the shipped model was trained with.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// Passes over the examples.
    pub epochs: usize,
    /// AdaGrad learning rate.
    pub rate: f64,
    /// L2 penalty per update of a weight.
    pub l2: f64,
    /// Seed of the order examples are visited in.
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 12,
            rate: 0.2,
            l2: 1e-5,
            seed: 1,
        }
    }
}

/// The value of each present feature: 1/sqrt(n), so a long message does not outweigh a
/// short one by its length alone.
fn scale(n: usize) -> f64 {
    1.0 / (n.max(1) as f64).sqrt()
}

/// A small deterministic generator (SplitMix64) for the visiting order.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl LinearModel {
    /// Reads a model file.
    pub fn from_bytes(b: &[u8]) -> Result<LinearModel, String> {
        let n = 1usize << BITS;
        if b.len() < 16 || &b[..4] != MAGIC {
            return Err("not a preflight content model (no PFLM header)".into());
        }
        if b[4] != 1 && b[4] != 2 {
            return Err(format!("content model version {} is not supported", b[4]));
        }
        if u32::from(b[5]) != BITS {
            return Err(format!(
                "content model has {} bucket bits, this build reads {BITS}",
                b[5]
            ));
        }
        if b.len() != 16 + 2 * n {
            return Err(format!(
                "content model is {} bytes, expected {}",
                b.len(),
                16 + 2 * n
            ));
        }
        let f = |i: usize| f32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let (bias, step) = (f(8), f(12));
        if !bias.is_finite() || !step.is_finite() {
            return Err("content model has a bias or scale that is not a number".into());
        }
        let weights = b[16..]
            .chunks_exact(2)
            .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])) * step)
            .collect();
        let langs = match b[4] {
            1 => EVERY_LANGUAGE,
            _ => u16::from_le_bytes([b[6], b[7]]),
        };
        Ok(LinearModel {
            bias,
            weights,
            langs,
        })
    }

    /// The same model, judging only the languages of `set` (bits of [`Lang::bit`]).
    pub fn with_languages(mut self, set: u16) -> LinearModel {
        self.langs = set;
        self
    }

    /// The languages the model judges (bits of [`Lang::bit`]).
    pub fn languages(&self) -> u16 {
        self.langs
    }

    /// Whether the model judges text in `lang`: it learnt ham and spam in it.
    pub fn judges(&self, lang: Lang) -> bool {
        self.langs & lang.bit() != 0
    }

    /// The model file: the weights rounded to 16 bits.
    pub fn to_bytes(&self) -> Vec<u8> {
        let max = self.weights.iter().fold(0f32, |m, w| m.max(w.abs()));
        let step = if max > 0.0 { max / 32767.0 } else { 1.0 };
        let mut out = Vec::with_capacity(16 + 2 * self.weights.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[2, BITS as u8]);
        out.extend_from_slice(&self.langs.to_le_bytes());
        out.extend_from_slice(&self.bias.to_le_bytes());
        out.extend_from_slice(&step.to_le_bytes());
        for w in &self.weights {
            let q = (w / step).round().clamp(-32767.0, 32767.0) as i16;
            out.extend_from_slice(&q.to_le_bytes());
        }
        out
    }

    /// The log-odds that a message with these (sorted, distinct) feature buckets is spam.
    pub fn logit(&self, features: &[u32]) -> f64 {
        let x = scale(features.len());
        f64::from(self.bias)
            + features
                .iter()
                .map(|&f| f64::from(self.weights[f as usize]))
                .sum::<f64>()
                * x
    }

    /// The probability that a message with these feature buckets is spam.
    pub fn probability(&self, features: &[u32]) -> f64 {
        sigmoid(self.logit(features))
    }

    /// What one feature adds to the log-odds of a message with `n` features.
    pub fn contribution(&self, feature: u32, n: usize) -> f64 {
        f64::from(self.weights[feature as usize]) * scale(n)
    }

    /// Trains on `(features, is_spam)` examples. Deterministic: the same examples in the
    /// same order and options give the same bytes. Each class weighs as much in total as
    /// the other, whatever their counts. The model returned is the one its file holds
    /// (weights rounded to 16 bits).
    pub fn train(examples: &[(Vec<u32>, bool)], opt: &TrainOptions) -> LinearModel {
        let n = 1usize << BITS;
        let mut w = vec![0f64; n];
        let mut g2 = vec![0f64; n];
        let (mut bias, mut bias_g2) = (0f64, 0f64);
        let spam = examples.iter().filter(|e| e.1).count().max(1) as f64;
        let ham = (examples.len() as f64 - spam).max(1.0);
        let total = examples.len().max(1) as f64;
        let (w_spam, w_ham) = (total / (2.0 * spam), total / (2.0 * ham));
        let mut order: Vec<usize> = (0..examples.len()).collect();
        let mut rng = opt.seed;
        for _ in 0..opt.epochs {
            // Fisher-Yates with the seeded generator.
            for i in (1..order.len()).rev() {
                let j = (splitmix(&mut rng) % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
            for &i in &order {
                let (feats, is_spam) = (&examples[i].0, examples[i].1);
                let x = scale(feats.len());
                let z = bias + feats.iter().map(|&f| w[f as usize]).sum::<f64>() * x;
                let y = if is_spam { 1.0 } else { 0.0 };
                let cw = if is_spam { w_spam } else { w_ham };
                let g = (sigmoid(z) - y) * cw;
                bias_g2 += g * g;
                bias -= opt.rate * g / (bias_g2.sqrt() + 1e-9);
                for &f in feats {
                    let f = f as usize;
                    let gf = g * x + opt.l2 * w[f];
                    g2[f] += gf * gf;
                    w[f] -= opt.rate * gf / (g2[f].sqrt() + 1e-9);
                }
            }
        }
        let m = LinearModel {
            bias: bias as f32,
            weights: w.iter().map(|&v| v as f32).collect(),
            langs: EVERY_LANGUAGE,
        };
        LinearModel::from_bytes(&m.to_bytes()).expect("a model reads its own file")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Vec<(Vec<u32>, bool)> {
        // Feature 1 means spam, feature 2 ham, feature 3 both.
        (0..40)
            .map(|i| {
                if i % 2 == 0 {
                    (vec![1, 3, 10 + i], true)
                } else {
                    (vec![2, 3, 10 + i], false)
                }
            })
            .collect()
    }

    #[test]
    fn learns_and_round_trips() {
        let m = LinearModel::train(&toy(), &TrainOptions::default());
        assert!(m.probability(&[1, 3]) > 0.8, "{}", m.probability(&[1, 3]));
        assert!(m.probability(&[2, 3]) < 0.2);
        let b = m.to_bytes();
        assert_eq!(b.len(), 16 + 2 * (1 << BITS));
        assert_eq!(LinearModel::from_bytes(&b).unwrap(), m);
        assert!(m.judges(Lang::De));
        // The languages travel in the file; a version 1 file judges every language.
        let en = m
            .clone()
            .with_languages(Lang::En.bit() | Lang::Unknown.bit());
        let b2 = en.to_bytes();
        assert_eq!(LinearModel::from_bytes(&b2).unwrap(), en);
        assert!(en.judges(Lang::En) && !en.judges(Lang::De));
        let mut v1 = b2.clone();
        (v1[4], v1[6], v1[7]) = (1, 0, 0);
        assert!(LinearModel::from_bytes(&v1).unwrap().judges(Lang::De));
        // Deterministic: the same bytes again.
        assert_eq!(
            LinearModel::train(&toy(), &TrainOptions::default()).to_bytes(),
            b
        );
    }

    #[test]
    fn bad_files_are_errors() {
        assert!(LinearModel::from_bytes(b"").is_err());
        assert!(LinearModel::from_bytes(b"PFLM\x01\x12\0\0\0\0\0\0\0\0\0\0").is_err());
        let mut b = LinearModel::train(&toy(), &TrainOptions::default()).to_bytes();
        b[4] = 9;
        assert!(
            LinearModel::from_bytes(&b)
                .unwrap_err()
                .contains("version 9")
        );
    }
}
