//! `preflight train` (the content model, from a labelled corpus) and `preflight learn`
//! (the site model, from a site's own mail).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::{Error, ErrorKind};
use crate::model::corpus::{self, Selection};
use crate::model::site::{self, Learnt, SiteModel};
use crate::model::{TrainOptions, lang, tokens};

/// Arguments of `preflight train`.
#[derive(Args, Debug)]
pub(super) struct TrainArgs {
    /// The labelled corpus: a TSV of path, source, subset, label (and sha256), paths
    /// relative to its directory, like ../shared/corpus/MANIFEST.tsv. `ham` and
    /// `ham-bulk` are ham, `spam` and `phish` spam; other labels are left out.
    #[arg(long, value_name = "MANIFEST")]
    labels: PathBuf,
    /// The model file to write (the shipped one is rules/model/content.model).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Leave out every message of this source (for source-held-out figures). Repeatable.
    #[arg(long = "exclude-source", value_name = "SOURCE")]
    exclude_sources: Vec<String>,
    /// Train on the validation slice too (30% of each source, held out by default).
    #[arg(long)]
    include_validation: bool,
    /// Also write the list of messages trained on (path, source, label, sha256).
    #[arg(long, value_name = "FILE")]
    trained_list: Option<PathBuf>,
    /// Seed of the order examples are visited in.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn io_error(what: &Path, e: std::io::Error) -> Error {
    Error::with_source(ErrorKind::Io, format!("{}: {e}", what.display()), e)
}

pub(super) fn train(a: TrainArgs, out: &mut dyn Write) -> Result<i32, Error> {
    let text = std::fs::read_to_string(&a.labels).map_err(|e| io_error(&a.labels, e))?;
    let rows = corpus::read_manifest(&text);
    let dir = a.labels.parent().unwrap_or(Path::new("."));
    let sel = Selection {
        exclude_sources: a.exclude_sources.clone(),
        include_validation: a.include_validation,
    };
    let chosen = corpus::training_rows(&rows, &sel);
    let spam = chosen.iter().filter(|r| r.is_spam() == Some(true)).count();
    let ham = chosen.len() - spam;
    if spam == 0 || ham == 0 {
        return Err(Error::new(
            ErrorKind::Usage,
            format!(
                "{}: training needs ham and spam; this selection has {ham} ham and {spam} spam",
                a.labels.display()
            ),
        ));
    }
    let opt = TrainOptions {
        seed: a.seed,
        ..TrainOptions::default()
    };
    let trained = corpus::train(dir, &chosen, &opt).map_err(|e| Error::new(ErrorKind::Io, e))?;
    std::fs::write(&a.out, trained.model.to_bytes()).map_err(|e| io_error(&a.out, e))?;
    let spam = trained
        .rows
        .iter()
        .filter(|r| r.is_spam() == Some(true))
        .count();
    let ham = trained.rows.len() - spam;
    let judged = lang::set_codes(trained.model.languages()).join(", ");
    let offered: Vec<String> = trained
        .languages
        .iter()
        .map(|(l, (h, s))| format!("{} {h}/{s}", l.code()))
        .collect();
    if let Some(list) = &a.trained_list {
        let mut t = format!(
            "# The messages rules/model/content.model was trained on ({ham} ham, {spam} spam), by\n\
             # preflight train --labels MANIFEST.tsv --out rules/model/content.model --trained-list rules/model/TRAINED.tsv{}\n\
             # (seed {}, {} epochs, rate {}, l2 {}, 2^{} buckets). The validation slice is {}.\n\
             # Languages offered (ham/spam): {}. Learnt and judged, with at least {} of each: {judged}.\n\
             path\tsource\tlabel\tsha256\n",
            sel.exclude_sources
                .iter()
                .map(|s| format!(" --exclude-source {s}"))
                .collect::<String>(),
            opt.seed,
            opt.epochs,
            opt.rate,
            opt.l2,
            tokens::BITS,
            if sel.include_validation {
                "included"
            } else {
                "held out"
            },
            offered.join(", "),
            corpus::LANGUAGE_MIN,
        );
        for r in &trained.rows {
            t.push_str(&format!(
                "{}\t{}\t{}\t{}\n",
                r.path, r.source, r.label, r.sha256
            ));
        }
        std::fs::write(list, t).map_err(|e| io_error(list, e))?;
    }
    writeln!(
        out,
        "trained on {ham} ham and {spam} spam messages in the languages it judges ({judged}); offered (ham/spam): {}; wrote {}",
        offered.join(", "),
        a.out.display()
    )
    .map_err(|e| io_error(&a.out, e))?;
    Ok(0)
}

/// Arguments of `preflight learn`.
#[derive(Args, Debug)]
pub(super) struct LearnArgs {
    /// Legitimate mail: message files, directories (recursive), mbox files, Maildir
    /// folders. Repeatable.
    #[arg(long, value_name = "PATH")]
    ham: Vec<PathBuf>,
    /// Spam: the same kinds of paths. Repeatable.
    #[arg(long, value_name = "PATH")]
    spam: Vec<PathBuf>,
    /// Print what the site model has learnt, and whether it counts yet.
    #[arg(long)]
    status: bool,
    /// The site model file (default: `model.site` of the configuration).
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Configuration file (YAML; see packaging/preflight.example.yaml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Every message under `path`: a message file, an mbox (each message), or a directory
/// (every file below it, Maildir folders included, in name order).
fn messages(path: &Path, f: &mut dyn FnMut(&Path, &[u8])) -> Result<(), Error> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| io_error(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            let hidden = e
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if !hidden {
                messages(&e, f)?;
            }
        }
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    if crate::scan::is_mbox_name(path) || crate::scan::holds_several_messages(&bytes) {
        let mut reader = crate::scan::mbox::MboxReader::new(&bytes[..]);
        for m in reader.by_ref() {
            f(path, &m);
        }
        if let Some(e) = reader.error() {
            return Err(Error::new(
                ErrorKind::Io,
                format!("{}: {e}", path.display()),
            ));
        }
    } else {
        f(path, &bytes);
    }
    Ok(())
}

pub(super) fn learn(a: LearnArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, Error> {
    let config = super::load_config(&a.config, &[])?;
    let Some(path) = a.model.clone().or(config.model.site.clone()) else {
        return Err(Error::new(
            ErrorKind::Usage,
            "no site model file: give --model FILE or set model.site in the configuration",
        ));
    };
    if a.ham.is_empty() && a.spam.is_empty() && !a.status {
        return Err(Error::new(
            ErrorKind::Usage,
            "nothing to do: give --ham PATH, --spam PATH or --status",
        ));
    }
    let mut m = SiteModel::load(&path).map_err(|e| Error::new(ErrorKind::Config, e))?;
    let max_links = config.limits.max_links;
    let (mut new, mut relearnt, mut known, mut skipped) = (0usize, 0usize, 0usize, 0usize);
    for (paths, spam) in [(&a.ham, false), (&a.spam, true)] {
        for p in paths {
            messages(p, &mut |file, raw| {
                if let Err(why) = crate::message::looks_like_mail(raw) {
                    let _ = writeln!(
                        err,
                        "preflight: {}: not learnt: not a mail message: {why}",
                        file.display()
                    );
                    skipped += 1;
                    return;
                }
                let msg = crate::message::Message::parse_with(raw, max_links);
                match m.learn(site::digest(raw), &tokens::features(&msg), spam) {
                    Learnt::New => new += 1,
                    Learnt::Relearnt => relearnt += 1,
                    Learnt::Known => known += 1,
                }
            })?;
        }
    }
    if new + relearnt > 0 {
        m.save(&path).map_err(|e| Error::new(ErrorKind::Io, e))?;
    }
    let w = |out: &mut dyn Write, s: String| writeln!(out, "{s}").map_err(|e| io_error(&path, e));
    if !a.ham.is_empty() || !a.spam.is_empty() {
        w(
            out,
            format!(
                "learnt {new} new messages, {relearnt} moved to the other class, {known} already known, {skipped} not mail"
            ),
        )?;
    }
    let (ham, spam) = m.counts();
    let min = config.model.site_min;
    w(
        out,
        format!(
            "site model {}: {ham} ham, {spam} spam, {} tokens; {}",
            path.display(),
            m.tokens(),
            if m.ready(min) {
                "in use (MDL002)".to_string()
            } else {
                format!(
                    "not used yet: MDL002 counts once it has learnt {min} of each (model.site_min)"
                )
            }
        ),
    )?;
    Ok(if skipped > 0 { super::EX_DATAERR } else { 0 })
}
