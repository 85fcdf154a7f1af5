//! What a scan adds up to: drafts by verdict, the rules that fired most, families, errors,
//! and with `--labels` the evaluation per label.

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use super::{EX_DATAERR, Item, Outcome};
use crate::error::{Error, ErrorKind};
use crate::report::Verdict;

/// How often one rule fired (once per draft).
#[derive(Clone, Debug, Default, Serialize)]
pub struct RuleTally {
    /// Rule name.
    pub name: String,
    /// Rule family.
    pub family: String,
    /// Drafts it fired on.
    pub drafts: usize,
}

/// Verdicts and rules for the drafts of one label.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LabelTally {
    /// Drafts with this label (checked or not).
    pub drafts: usize,
    /// Passed.
    pub pass: usize,
    /// Flagged.
    pub flag: usize,
    /// Would be refused.
    pub reject: usize,
    /// Not checked (unreadable or not mail).
    pub errors: usize,
    /// Per rule, the drafts of this label it fired on.
    pub rules: BTreeMap<String, usize>,
}

impl LabelTally {
    /// Share of the checked drafts with `verdict`, in percent.
    pub fn share(&self, verdict: Verdict) -> f64 {
        let n = self.pass + self.flag + self.reject;
        let k = match verdict {
            Verdict::Pass => self.pass,
            Verdict::Flag => self.flag,
            Verdict::Reject => self.reject,
        };
        100.0 * k as f64 / n.max(1) as f64
    }
}

/// The totals of a scan.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Drafts checked (duplicates included).
    pub drafts: usize,
    /// Drafts that pass.
    pub pass: usize,
    /// Drafts flagged.
    pub flag: usize,
    /// Drafts that would be refused.
    pub reject: usize,
    /// Drafts with the same bytes as an earlier one (checked once).
    pub duplicates: usize,
    /// Inputs that could not be read or checked (sysexits 66, 70, 74).
    pub unreadable: usize,
    /// Inputs meant as mail that are not mail (sysexits 65).
    pub not_mail: usize,
    /// Files found in directories that are not mail, left out.
    pub skipped: usize,
    /// Bytes of the drafts checked.
    pub bytes: u64,
    /// Per rule id, how many drafts it fired on.
    pub rules: BTreeMap<String, RuleTally>,
    /// Per family, how many drafts had a finding of it.
    pub families: BTreeMap<String, usize>,
    /// With `--labels`: per label, verdicts and rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, LabelTally>>,
    #[serde(skip)]
    worst_error: i32,
}

impl Summary {
    /// A summary that tallies labels too.
    pub fn with_labels() -> Summary {
        Summary {
            labels: Some(BTreeMap::new()),
            ..Summary::default()
        }
    }

    /// Counts one item; `label` is its label in evaluation mode.
    pub fn add(&mut self, item: &Item, label: Option<&str>) {
        let counted = !matches!(item.outcome, Outcome::Skipped { .. });
        let mut tally = self.labels.as_mut().filter(|_| counted).map(|l| {
            l.entry(label.unwrap_or("(unlabelled)").to_string())
                .or_default()
        });
        match &item.outcome {
            Outcome::Skipped { .. } => {
                self.skipped += 1;
            }
            Outcome::Error { code, .. } => {
                if *code == EX_DATAERR {
                    self.not_mail += 1;
                } else {
                    self.unreadable += 1;
                }
                self.worst_error = self.worst_error.max(*code);
                if let Some(t) = tally.as_mut() {
                    t.drafts += 1;
                    t.errors += 1;
                }
            }
            Outcome::Checked {
                report,
                duplicate_of,
                bytes,
            } => {
                self.drafts += 1;
                self.bytes += *bytes as u64;
                if duplicate_of.is_some() {
                    self.duplicates += 1;
                }
                match report.verdict {
                    Verdict::Pass => self.pass += 1,
                    Verdict::Flag => self.flag += 1,
                    Verdict::Reject => self.reject += 1,
                }
                if let Some(t) = tally.as_mut() {
                    t.drafts += 1;
                    match report.verdict {
                        Verdict::Pass => t.pass += 1,
                        Verdict::Flag => t.flag += 1,
                        Verdict::Reject => t.reject += 1,
                    }
                }
                let mut families: Vec<&str> = Vec::new();
                for f in &report.findings {
                    let r = self.rules.entry(f.id.clone()).or_insert_with(|| RuleTally {
                        name: f.name.clone(),
                        family: f.family.clone(),
                        drafts: 0,
                    });
                    r.drafts += 1;
                    if let Some(t) = tally.as_mut() {
                        *t.rules.entry(f.id.clone()).or_default() += 1;
                    }
                    if !families.contains(&f.family.as_str()) {
                        families.push(&f.family);
                    }
                }
                for fam in families {
                    *self.families.entry(fam.to_string()).or_default() += 1;
                }
            }
        }
    }

    /// The rules by how many drafts they fired on, most first (ties by id).
    pub fn top_rules(&self) -> Vec<(&str, &RuleTally)> {
        let mut v: Vec<(&str, &RuleTally)> =
            self.rules.iter().map(|(k, t)| (k.as_str(), t)).collect();
        v.sort_by(|a, b| b.1.drafts.cmp(&a.1.drafts).then(a.0.cmp(b.0)));
        v
    }

    /// The exit status: see [`exit_status`].
    pub fn exit_code(&self) -> i32 {
        let worst = if self.reject > 0 {
            Verdict::Reject
        } else if self.flag > 0 {
            Verdict::Flag
        } else {
            Verdict::Pass
        };
        exit_status(worst, self.worst_error)
    }
}

/// The exit status of `preflight check` and `preflight scan` over all their drafts, the
/// same for both: 2 when a draft would be refused, even if other inputs could not be
/// read or are not mail (a refusal is what a pre-send check must not hide); else the
/// highest error status (74 cannot read, 70 internal error, 66 a given path does not
/// exist, 65 not mail); else 1 when a draft is flagged; else 0. `worst` is the worst
/// verdict of the drafts that were checked (`Pass` when none was), `worst_error` the
/// highest error status (0 for none).
pub fn exit_status(worst: Verdict, worst_error: i32) -> i32 {
    match worst {
        Verdict::Reject => Verdict::Reject.exit_code(),
        _ if worst_error > 0 => worst_error,
        v => v.exit_code(),
    }
}

/// Labels for evaluation: a TSV of path and label. With a header row naming `path` and
/// `label` columns (as `MANIFEST.tsv` has), those columns; otherwise the first two.
/// Relative paths are relative to the TSV's folder.
#[derive(Debug, Default)]
pub struct Labels {
    map: HashMap<PathBuf, String>,
}

impl Labels {
    /// Reads a labels file.
    pub fn load(path: &Path) -> Result<Labels, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::with_source(
                ErrorKind::Io,
                format!("{}: cannot read labels: {e}", path.display()),
                e,
            )
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Labels::parse(&text, base)
            .map_err(|why| Error::new(ErrorKind::Usage, format!("{}: {why}", path.display())))
    }

    /// Parses labels text; relative paths are taken from `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Labels, String> {
        let mut lines = text.lines().enumerate().peekable();
        let (mut pcol, mut lcol) = (0, 1);
        if let Some((_, head)) = lines.peek() {
            let cols: Vec<&str> = head.split('\t').collect();
            if let (Some(p), Some(l)) = (
                cols.iter().position(|c| c.trim() == "path"),
                cols.iter().position(|c| c.trim() == "label"),
            ) {
                (pcol, lcol) = (p, l);
                lines.next();
            }
        }
        let mut map = HashMap::new();
        for (n, line) in lines {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let (Some(p), Some(l)) = (cols.get(pcol), cols.get(lcol)) else {
                return Err(format!(
                    "line {}: expected a path and a label separated by a tab",
                    n + 1
                ));
            };
            map.insert(normal(&base.join(p)), l.trim().to_string());
        }
        Ok(Labels { map })
    }

    /// The label of a draft at `path`, if the file names it.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.map.get(&normal(Path::new(path))).map(String::as_str)
    }

    /// How many paths have a label.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no path has a label.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// An absolute path with `.` and `..` resolved by the names alone (no file system
/// access, so it is cheap for thousands of drafts).
fn normal(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_from_a_manifest_or_two_columns() {
        let m = Labels::parse(
            "path\tsource\tlabel\nsub/a.eml\tx\tham\n./b\ty\tspam\n",
            Path::new("/corpus"),
        )
        .unwrap();
        assert_eq!(m.get("/corpus/sub/a.eml"), Some("ham"));
        assert_eq!(m.get("/corpus/sub/../b"), Some("spam"));
        assert_eq!(m.get("/corpus/c"), None);
        let t = Labels::parse("x.eml\tham\n# comment\n\n", Path::new("/d")).unwrap();
        assert_eq!(t.get("/d/x.eml"), Some("ham"));
        assert!(Labels::parse("only-a-path\n", Path::new("/d")).is_err());
    }
}
