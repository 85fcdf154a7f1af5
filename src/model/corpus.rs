//! Training from a labelled corpus (a TSV of path, source, subset, label, like the dev
//! corpus's MANIFEST.tsv), and the validation slice held out of training and tuning.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::lang::Lang;
use super::linear::{LinearModel, TrainOptions};
use super::tokens;
use crate::message::Message;

/// Words the corpus's own collection or sanitising wrote into its messages, left out of
/// training (`rules/model/corpus-artifacts.txt`).
pub const ARTIFACTS: &str = include_str!("../../rules/model/corpus-artifacts.txt");

/// The words of [`ARTIFACTS`].
pub fn artifacts() -> Vec<&'static str> {
    ARTIFACTS
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The fewest ham and the fewest spam messages of a language for the model to learn and
/// judge it: below that it would learn the language itself as a class.
pub const LANGUAGE_MIN: usize = 100;

/// The seed of the validation slice's hash.
pub const VALIDATION_SEED: &str = "preflight-validation-1";

/// FNV-1a, 64 bits, of `seed` then `s`.
pub fn seeded_hash(seed: &str, s: &str) -> u64 {
    seed.bytes()
        .chain(s.bytes())
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// One row of a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Path relative to the manifest's directory.
    pub path: String,
    /// Where the message comes from.
    pub source: String,
    /// Its label (`ham`, `ham-bulk`, `spam`, `phish`, `test:*`, `edge`).
    pub label: String,
    /// The SHA-256 of the file, when the manifest gives it (sixth column).
    pub sha256: String,
}

impl Row {
    /// Whether the label is spam (`spam`, `phish`), ham (`ham`, `ham-bulk`), or neither
    /// (test fixtures and malformed MIME, which teach nothing about content).
    pub fn is_spam(&self) -> Option<bool> {
        match self.label.as_str() {
            "spam" | "phish" => Some(true),
            "ham" | "ham-bulk" => Some(false),
            _ => None,
        }
    }
}

/// Reads a manifest: a header line, then `path, source, subset, label, ...` per line.
pub fn read_manifest(text: &str) -> Vec<Row> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            match c[..] {
                [path, source, _, label, ..] => Some(Row {
                    path: path.into(),
                    source: source.into(),
                    label: label.into(),
                    sha256: c.get(5).map_or_else(String::new, |s| s.to_string()),
                }),
                _ => None,
            }
        })
        .collect()
}

/// The validation slice: 30% of each source, the paths with the lowest seeded hashes.
/// Held out of training and tuning; its figures are reported, its messages never read
/// one by one.
pub fn validation_slice(rows: &[Row]) -> BTreeSet<String> {
    let mut by_source: BTreeMap<&str, Vec<(u64, &str)>> = BTreeMap::new();
    for r in rows {
        by_source
            .entry(&r.source)
            .or_default()
            .push((seeded_hash(VALIDATION_SEED, &r.path), &r.path));
    }
    let mut slice = BTreeSet::new();
    for paths in by_source.values_mut() {
        paths.sort_unstable();
        let take = (paths.len() * 3).div_ceil(10);
        slice.extend(paths.iter().take(take).map(|(_, p)| p.to_string()));
    }
    slice
}

/// Which rows to train on.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Sources left out entirely (for source-held-out figures).
    pub exclude_sources: Vec<String>,
    /// Train on the validation slice too (never, for figures that are reported).
    pub include_validation: bool,
}

/// The rows of `rows` to train on: spam or ham, not excluded, not in the validation
/// slice unless asked.
pub fn training_rows(rows: &[Row], sel: &Selection) -> Vec<Row> {
    let slice = validation_slice(rows);
    rows.iter()
        .filter(|r| r.is_spam().is_some())
        .filter(|r| !sel.exclude_sources.contains(&r.source))
        .filter(|r| sel.include_validation || !slice.contains(&r.path))
        .cloned()
        .collect()
}

/// The feature buckets and language of one message file, as the model reads it when it
/// checks.
pub fn file_features(path: &Path, max_links: usize) -> Result<tokens::Analysis, String> {
    let raw = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let msg = Message::parse_with(&raw, max_links);
    Ok(tokens::analyse(&msg))
}

/// A trained model and what it was trained on.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The model, judging the languages it learnt.
    pub model: LinearModel,
    /// The rows it learnt from (in manifest order): those in a language it judges.
    pub rows: Vec<Row>,
    /// Per language of the rows offered: (ham, spam) messages.
    pub languages: BTreeMap<Lang, (usize, usize)>,
}

/// Trains a content model on `rows` (paths under `dir`), reading the files on every core
/// (the examples keep the manifest's order, so the model is the same). The model learns
/// and judges only the languages with at least [`LANGUAGE_MIN`] ham and spam messages
/// among `rows`, and text too short to tell; the words of [`ARTIFACTS`] are left out.
pub fn train(dir: &Path, rows: &[Row], opt: &TrainOptions) -> Result<Trained, String> {
    let max_links = crate::config::Limits::default().max_links;
    let drop = artifacts();
    let read: Result<Vec<(tokens::Analysis, bool)>, String> = rows
        .par_iter()
        .map(|r| {
            let p: PathBuf = dir.join(&r.path);
            let raw = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let msg = Message::parse_with(&raw, max_links);
            Ok((
                tokens::analyse_skipping(&msg, &drop),
                r.is_spam() == Some(true),
            ))
        })
        .collect();
    let read = read?;
    let mut languages: BTreeMap<Lang, (usize, usize)> = BTreeMap::new();
    for (a, spam) in &read {
        let e = languages.entry(a.lang).or_default();
        if *spam {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    let judged = languages
        .iter()
        .filter(|(l, (h, s))| **l == Lang::Unknown || (*h >= LANGUAGE_MIN && *s >= LANGUAGE_MIN))
        .fold(0u16, |set, (l, _)| set | l.bit())
        | Lang::Unknown.bit();
    let mut kept = Vec::new();
    let mut examples = Vec::new();
    for (r, (a, spam)) in rows.iter().zip(read) {
        if judged & a.lang.bit() != 0 {
            kept.push(r.clone());
            examples.push((a.buckets, spam));
        }
    }
    Ok(Trained {
        model: LinearModel::train(&examples, opt).with_languages(judged),
        rows: kept,
        languages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slice_takes_30_percent_of_each_source() {
        let mut text = String::from("path\tsource\tsubset\tlabel\n");
        for i in 0..20 {
            text.push_str(&format!("a/{i}\ta\tx\tham\n"));
        }
        for i in 0..7 {
            text.push_str(&format!("b/{i}\tb\tx\tspam\n"));
        }
        text.push_str("c/0\tc\tx\tedge\n");
        let rows = read_manifest(&text);
        let slice = validation_slice(&rows);
        assert_eq!(slice.iter().filter(|p| p.starts_with("a/")).count(), 6);
        assert_eq!(slice.iter().filter(|p| p.starts_with("b/")).count(), 3);
        let train = training_rows(&rows, &Selection::default());
        assert_eq!(train.len(), 20 - 6 + 7 - 3);
        assert!(train.iter().all(|r| !slice.contains(&r.path)));
        let held = training_rows(
            &rows,
            &Selection {
                exclude_sources: vec!["b".into()],
                include_validation: true,
            },
        );
        assert_eq!(held.len(), 20);
        // The same hash as the corpus sweep prints its slice with.
        assert_eq!(seeded_hash("", ""), 0xcbf2_9ce4_8422_2325);
    }
}
