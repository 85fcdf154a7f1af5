//! `preflight scan`: check whole collections of drafts.

use super::*;

#[derive(Args, Debug)]
pub(super) struct ScanArgs {
    /// Directories (recursive), mbox files, Maildir folders and message files.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Read more paths, one per line, from FILE ("-" for standard input); blank lines
    /// and lines starting with `#` are left out.
    #[arg(long, value_name = "FILE")]
    files_from: Option<String>,
    /// Worker threads (default: every core).
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    jobs: Option<usize>,
    /// Output: `human` (lines for drafts that are not clean, then a summary), `jsonl`
    /// (a report per draft, then `{"type":"summary",...}`), `csv`, or `html` (one
    /// self-contained page).
    #[arg(long, value_enum, default_value = "human")]
    format: ScanFormat,
    /// Evaluation mode: a TSV of path and label (like MANIFEST.tsv); the summary gives per
    /// label the share of pass, flag and reject, and per rule how often it fires on each.
    /// Relative paths in FILE are read from FILE's own folder; a warning says so when
    /// fewer than half of the drafts find a label.
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// No progress bar and no notices about skipped files.
    #[arg(short, long)]
    quiet: bool,
    /// Configuration file (YAML; see packaging/preflight.example.yaml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A directory of local rule packs (*.yaml). Repeatable.
    #[arg(long = "rules-dir", value_name = "DIR")]
    rules_dirs: Vec<PathBuf>,
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    dns: DnsArgs,
    /// Colour in human output.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum ScanFormat {
    Human,
    Jsonl,
    Csv,
    Html,
}

pub(super) fn scan(a: ScanArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, Error> {
    use crate::render::scan as r;
    use crate::scan::{Labels, Outcome, Summary};
    let settings = load_settings(&a.config, &a.rules_dirs)?;
    let mut config = settings.engine;
    a.selection.apply(&mut config)?;
    let dns = a.dns.source(&settings.dns)?;
    let mut paths = a.paths.clone();
    if let Some(list) = &a.files_from {
        let text = if list == "-" {
            let mut s = String::new();
            std::io::stdin()
                .lock()
                .read_to_string(&mut s)
                .map_err(|e| {
                    Error::with_source(ErrorKind::Io, format!("--files-from -: {e}"), e)
                })?;
            s
        } else {
            std::fs::read_to_string(list).map_err(|e| {
                Error::with_source(ErrorKind::Io, format!("--files-from {list}: {e}"), e)
            })?
        };
        paths.extend(list_paths(&text).map(PathBuf::from));
    }
    if paths.is_empty() {
        return Err(Error::new(
            ErrorKind::Usage,
            "nothing to scan: give paths or --files-from",
        ));
    }
    if a.jobs == Some(0) {
        return Err(Error::new(ErrorKind::Usage, "-j/--jobs must be at least 1"));
    }
    let labels = a
        .labels
        .as_deref()
        .map(Labels::load)
        .transpose()?
        .map(std::sync::Arc::new);
    let engine = engine_for(config, &a.selection)?;
    let opts = options_for(a.color, false);
    let bar = (!a.quiet && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new(0);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {human_pos}/{human_len} drafts  {rate}  eta {eta}  [{wide_bar}]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .with_key(
                "rate",
                |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}/s", s.per_sec());
                },
            )
            .progress_chars("=> "),
        );
        pb
    });
    let mut summary = if labels.is_some() {
        Summary::with_labels()
    } else {
        Summary::default()
    };
    let mut html = crate::render::scan_html::HtmlReport::default();
    let start = std::time::Instant::now();
    if a.format == ScanFormat::Csv {
        out.write_all(r::csv_header(labels.is_some()).as_bytes())
            .map_err(io_err)?;
    }
    let found_bar = bar.clone();
    let options = crate::scan::Options {
        threads: a.jobs.unwrap_or(0),
        labels: labels.clone(),
        dns,
    };
    let mut write_err: Option<std::io::Error> = None;
    // Drafts counted in the evaluation, and how many of them have a label.
    let (mut counted, mut labelled) = (0usize, 0usize);
    let result = crate::scan::scan(
        &engine,
        &paths,
        &options,
        move |n| {
            if let Some(b) = &found_bar {
                b.inc_length(n);
            }
        },
        |item| {
            let label = labels.as_ref().and_then(|l| l.get(&item.draft.path));
            if !matches!(item.outcome, Outcome::Skipped { .. }) {
                counted += 1;
                labelled += usize::from(label.is_some());
            }
            summary.add(&item, label);
            let text = match a.format {
                ScanFormat::Human => r::human_line(&item, &opts),
                ScanFormat::Jsonl => r::jsonl_item(&item, label),
                ScanFormat::Csv => r::csv_row(&item, label),
                ScanFormat::Html => {
                    html.push(&item, label);
                    None
                }
            };
            let mut notice = if a.quiet { None } else { r::notice(&item) };
            if a.format != ScanFormat::Human
                && let Outcome::Error { message, .. } = &item.outcome
            {
                notice = Some(format!("preflight: {}: {message}\n", item.draft.display()));
            }
            let mut emit = || -> std::io::Result<()> {
                if let Some(n) = &notice {
                    err.write_all(n.as_bytes())?;
                }
                if let Some(t) = &text {
                    out.write_all(t.as_bytes())?;
                    if bar.is_some() {
                        out.flush()?;
                    }
                }
                Ok(())
            };
            let written = match &bar {
                Some(b) if notice.is_some() || text.is_some() => b.suspend(emit),
                _ => emit(),
            };
            if let Some(b) = &bar {
                b.inc(1);
            }
            written.inspect_err(|e| {
                write_err.get_or_insert(std::io::Error::new(e.kind(), e.to_string()));
            })
        },
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Err(e) = result {
        return Err(io_err(write_err.unwrap_or(e)));
    }
    if let (Some(file), Some(l)) = (&a.labels, &labels)
        && let Some(warning) = labels_warning(file, l, counted, labelled)
    {
        let _ = err.write_all(warning.as_bytes());
    }
    let seconds = start.elapsed().as_secs_f64();
    let tail = match a.format {
        ScanFormat::Human => r::human_summary(&summary, seconds, &opts),
        ScanFormat::Jsonl => r::jsonl_summary(&summary, seconds),
        ScanFormat::Csv => String::new(),
        ScanFormat::Html => {
            let title: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            html.finish(&summary, seconds, &title.join(" "))
        }
    };
    out.write_all(tail.as_bytes()).map_err(io_err)?;
    out.flush().map_err(io_err)?;
    Ok(summary.exit_code())
}

/// The paths of a `--files-from` list: one a line; blank lines and lines that start with
/// `#` (after white space) are left out, so a list can carry comments (a file whose name
/// starts with `#` is given as `./#name`).
pub(super) fn list_paths(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
}

/// A warning when fewer than half of the drafts found a label in `--labels FILE` (none
/// matching is nearly always paths written relative to another folder).
pub(super) fn labels_warning(
    file: &std::path::Path,
    labels: &crate::scan::Labels,
    counted: usize,
    labelled: usize,
) -> Option<String> {
    if counted == 0 || labelled * 2 >= counted {
        return None;
    }
    let base = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let base = std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf());
    let how = if labelled == 0 {
        "none of the".to_string()
    } else {
        format!("only {labelled} of {counted}")
    };
    Some(format!(
        "preflight: warning: --labels {}: {how} drafts have a label there ({} paths are labelled); drafts without one are counted as \"(unlabelled)\". Relative paths in a labels file are read from its own folder, {}, not from the current directory.\n",
        file.display(),
        labels.len(),
        base.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_from_skips_blank_and_comment_lines() {
        let list = "# drafts for the spring campaign\na.eml\n\n  # indented comment\r\nb.eml\r\n./#c.eml\n   \n";
        assert_eq!(
            list_paths(list).collect::<Vec<_>>(),
            ["a.eml", "b.eml", "./#c.eml"]
        );
    }
}
