//! The `preflight` command line.
//!
//! ```text
//! preflight check [OPTIONS] FILE...      check messages ("-" reads standard input)
//! preflight rules list                   list the rules in force
//! preflight rules explain ID             a rule's full documentation
//! preflight rules test                   check every rule against its own examples
//! preflight scan [OPTIONS] PATH...       check directories, mbox files, Maildir folders
//! preflight milter --listen SOCKET       run as a milter
//! preflight train --labels TSV --out F   train a content model from a labelled corpus
//! preflight learn --ham P --spam P       teach the site model a site's own mail
//! ```
//!
//! Exit status of `check`: 0 every message passes, 1 at least one is flagged, 2 at least
//! one would be refused. Errors use sysexits(3): 64 usage, 65 an input is not a mail
//! message, 66 an input cannot be opened, 74 a read error, 78 a configuration or rule pack
//! error. When some inputs fail and others are checked, every report is printed and the
//! status follows one precedence, the same for `scan` ([`crate::scan::exit_status`]): a
//! refusal (2) first, then the highest error status, then a flag (1).

use std::io::{IsTerminal, Read, Write};
use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Config, SizeProfile};
use crate::engine::{Engine, selector_matches};
use crate::envelope::Envelope;
use crate::error::{Error, ErrorKind};
use crate::render::{self, HumanOptions};
use crate::report::Verdict;
use crate::rules::RuleSet;

mod learn;

/// Exit status: usage error.
pub const EX_USAGE: i32 = 64;
/// Exit status: an input is not a mail message.
pub const EX_DATAERR: i32 = 65;
/// Exit status: an input cannot be opened.
pub const EX_NOINPUT: i32 = 66;
/// Exit status: read or write error.
pub const EX_IOERR: i32 = 74;
/// Exit status: configuration or rule pack error.
pub const EX_CONFIG: i32 = 78;

#[derive(Parser, Debug)]
#[command(
    name = "preflight",
    version,
    about = "Predicts whether receiving mail servers will refuse a message (554/550/552), and says why and how to fix it."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check messages and report what a receiver would refuse.
    ///
    /// An mbox gives a report per message (`file#3`). Exit status: 0 pass, 1 flag,
    /// 2 reject (the worst over all inputs); 64 usage, 65 not a mail message, 66 cannot
    /// open, 74 read error, 78 configuration error. A reject wins over an input error,
    /// and an input error over a flag, as in `scan`.
    Check(CheckArgs),
    /// List, explain and test the rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Check whole collections of drafts: directories, mbox files, Maildir folders.
    ///
    /// Prints a line per draft that is not clean and a summary (or JSON Lines, CSV, or a
    /// self-contained HTML page). Exit status: the worst verdict (0 pass, 1 flag,
    /// 2 reject); when some input could not be read (74) or is not mail (65), that status
    /// unless a draft would be refused.
    Scan(ScanArgs),
    /// Run as a milter: Postfix (or Sendmail) hands every message over at end of DATA.
    ///
    /// Mail that would bounce is refused with 554 5.7.1, the rest goes on with a verdict
    /// header (see the `milter:` section of the configuration). SIGHUP reloads the
    /// configuration and rules; SIGTERM finishes open connections and exits.
    Milter(MilterArgs),
    /// Train a content model from a labelled corpus (the shipped one is trained so, from
    /// ../shared/corpus): use it with `--model FILE` or `model.content`.
    Train(learn::TrainArgs),
    /// Teach the site model this site's own ham and spam (rule MDL002), or show what it
    /// has learnt (`--status`).
    ///
    /// The site model is kept apart from the shipped content model, in the file
    /// `model.site` of the configuration names (or `--model`). A message learnt twice
    /// counts once; learnt as the other class, it moves. MDL002 counts once the model
    /// has learnt `model.site_min` (200) messages of each class. Exit status 65 when
    /// some input was not mail (the rest is learnt).
    Learn(learn::LearnArgs),
}

#[derive(Args, Debug)]
struct MilterArgs {
    /// Where to listen, as Postfix writes it: inet:127.0.0.1:8891 or unix:/path/to/socket.
    #[arg(long, value_name = "SOCKET")]
    listen: String,
    /// Configuration file (YAML; see packaging/preflight.example.yaml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A directory of local rule packs (*.yaml). Repeatable.
    #[arg(long = "rules-dir", value_name = "DIR")]
    rules_dirs: Vec<PathBuf>,
    /// Log lines on standard error: `text` (key=value) or `json` (one object per line).
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Args, Debug)]
struct ScanArgs {
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
    /// Colour in human output.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum ScanFormat {
    Human,
    Jsonl,
    Csv,
    Html,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum RulesCommand {
    /// List every rule with its action and summary.
    List {
        #[command(flatten)]
        common: Common,
        /// Only these rules: ids, id prefixes, families or names (comma-separated), as
        /// `check --select` takes them.
        // `--only`, the old name, stays as a hidden alias for existing scripts.
        #[arg(
            long = "select",
            alias = "only",
            value_delimiter = ',',
            value_name = "RULES"
        )]
        only: Vec<String>,
    },
    /// Show a rule's documentation: why receivers refuse, how to fix, examples.
    Explain {
        #[command(flatten)]
        common: Common,
        /// Rule id or name (HDR004 or duplicate-single-header).
        rule: String,
    },
    /// Check every rule against its own `match` and `no_match` examples.
    Test {
        #[command(flatten)]
        common: Common,
        /// Only these rules: ids, id prefixes, families or names (comma-separated), as
        /// `check --select` takes them.
        // `--only`, the old name, stays as a hidden alias for existing scripts.
        #[arg(
            long = "select",
            alias = "only",
            value_delimiter = ',',
            value_name = "RULES"
        )]
        only: Vec<String>,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Profile {
    Postfix,
    Gmail,
    Microsoft,
}

/// Options every subcommand shares: where the rules and configuration come from and how
/// to print.
#[derive(Args, Debug)]
struct Common {
    /// Configuration file (YAML; see packaging/preflight.example.yaml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A directory of local rule packs (*.yaml): new rules and overrides. Repeatable.
    #[arg(long = "rules-dir", value_name = "DIR")]
    rules_dirs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Colour in human output (auto: when standard output is a terminal and NO_COLOR is
    /// unset).
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
}

/// Which rules run and how: shared by `check` and `scan`.
#[derive(Args, Debug)]
struct Selection {
    /// Only run these rules: ids, id prefixes, families or names (comma-separated); one
    /// that names no rule is a usage error.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    select: Vec<String>,
    /// Never run these rules: ids, id prefixes, families or names (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    ignore: Vec<String>,
    /// Receiver whose message size limit applies (postfix 10,240,000 bytes, gmail 25 MB,
    /// microsoft 35 MB).
    #[arg(long, value_enum)]
    profile: Option<Profile>,
    /// Reference time for the Date checks: Unix seconds, a date (2026-11-23: the end of
    /// that day, UTC), a time (2026-11-23T10:00:00Z; UTC unless it has an offset) or an
    /// RFC 5322 date. Default: now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// A content model file (`preflight train`) in place of the shipped one.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
}

impl Selection {
    /// Applies the options to `config`.
    fn apply(&self, config: &mut Config) -> Result<(), Error> {
        if let Some(m) = &self.model {
            config.model.content = Some(m.clone());
        }
        config.select.extend(self.select.iter().cloned());
        config.ignore.extend(self.ignore.iter().cloned());
        if let Some(p) = self.profile {
            config.limits.profile = match p {
                Profile::Postfix => SizeProfile::Postfix,
                Profile::Gmail => SizeProfile::Gmail,
                Profile::Microsoft => SizeProfile::Microsoft,
            };
        }
        if let Some(n) = &self.now {
            config.now = Some(parse_now(n)?);
        }
        Ok(())
    }
}

#[derive(Args, Debug)]
struct CheckArgs {
    #[command(flatten)]
    common: Common,
    /// Messages to check (RFC 5322 files, LF or CRLF); "-" reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// One line per finding: no evidence, why or fix.
    #[arg(long)]
    brief: bool,
    #[command(flatten)]
    selection: Selection,
    /// Envelope sender (MAIL FROM); "" for the null sender. Checked against From
    /// (AUTH002) and the login (AUTH001).
    #[arg(long, value_name = "ADDR")]
    mail_from: Option<String>,
    /// Envelope recipient (RCPT TO), repeatable: syntax and count (RCPT001, RCPT002).
    #[arg(long = "rcpt", value_name = "ADDR")]
    rcpt_to: Vec<String>,
    /// SMTP client IP address (kept in the envelope for the DNS checks; no check reads it
    /// yet).
    #[arg(long, value_name = "IP")]
    ip: Option<IpAddr>,
    /// HELO/EHLO name of the client (kept for the DNS checks; no check reads it yet).
    #[arg(long, value_name = "NAME")]
    helo: Option<String>,
    /// SMTP AUTH login: the addresses it may send as are `senders.logins` (AUTH001).
    #[arg(long, value_name = "USER")]
    auth_user: Option<String>,
}

/// Runs the CLI with the process arguments and returns the exit status.
pub fn main() -> i32 {
    // Standard output is line-buffered; reports are many lines each.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let code = run(std::env::args_os(), &mut out, &mut std::io::stderr());
    match out.flush() {
        Ok(()) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            eprintln!("preflight: cannot write output: {e}");
            EX_IOERR
        }
    }
}

/// Runs the CLI with `args` (the first is the program name), writing to `out` and `err`,
/// and returns the exit status.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind as K;
            let code = match e.kind() {
                K::DisplayHelp
                | K::DisplayVersion
                | K::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => EX_USAGE,
            };
            // Styled only on a terminal: `preflight scan --help | less` stays plain.
            let terminal = if code == 0 {
                std::io::stdout().is_terminal()
            } else {
                std::io::stderr().is_terminal()
            };
            let styled = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let text = if styled {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            let _ = if code == 0 {
                write!(out, "{text}")
            } else {
                write!(err, "{text}")
            };
            return code;
        }
    };
    let result = match cli.command {
        Command::Check(a) => check(a, out, err),
        Command::Rules(RulesCommand::List { common, only }) => rules_list(&common, &only, out),
        Command::Rules(RulesCommand::Explain { common, rule }) => {
            rules_explain(&common, &rule, out)
        }
        Command::Rules(RulesCommand::Test { common, only }) => rules_test(&common, &only, out),
        Command::Milter(a) => milter(a),
        Command::Scan(a) => scan(a, out, err),
        Command::Train(a) => learn::train(a, out),
        Command::Learn(a) => learn::learn(a, out, err),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`preflight scan | head`): stop quietly, as other tools do.
        Err(e) if broken_pipe(&e) => 0,
        Err(e) => {
            let _ = writeln!(err, "preflight: {e}");
            e.exit_code()
        }
    }
}

fn human_options(c: &Common, brief: bool) -> HumanOptions {
    options_for(c.color, brief)
}

fn options_for(color: ColorChoice, brief: bool) -> HumanOptions {
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .map_or(88, |w| w.clamp(60, 160));
    HumanOptions {
        color,
        width,
        brief,
    }
}

fn milter(a: MilterArgs) -> Result<i32, Error> {
    let listen: crate::milter::server::Listen = a
        .listen
        .parse()
        .map_err(|why: String| Error::new(ErrorKind::Usage, format!("--listen {why}")))?;
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(false);
    // A subscriber may already be set (the CLI run twice in one process, in tests).
    let _ = match a.log_format {
        LogFormat::Json => tracing::subscriber::set_global_default(logs.json().finish()),
        LogFormat::Text => tracing::subscriber::set_global_default(logs.finish()),
    };
    let load =
        move || -> Result<Engine, Error> { Engine::new(load_config(&a.config, &a.rules_dirs)?) };
    let engine = load()?;
    crate::milter::server::run(&listen, engine, load)?;
    Ok(0)
}

/// The configuration file (or the defaults) with `--rules-dir` directories added.
fn load_config(file: &Option<PathBuf>, rules_dirs: &[PathBuf]) -> Result<Config, Error> {
    let mut config = match file {
        Some(p) => Config::from_file(p)?,
        None => Config::default(),
    };
    config.rules_dirs.extend(rules_dirs.iter().cloned());
    Ok(config)
}

/// The forms `--now` takes, as its error names them.
const NOW_FORMS: &str = "Unix seconds (1795435200), a date (2026-11-23: the end of that day, 23:59:59 UTC), a time (2026-11-23T10:00:00Z or 2026-11-23 10:00, UTC unless it ends in an offset such as +01:00) or an RFC 5322 date (Mon, 23 Nov 2026 10:00:00 +0000)";

/// Parses `--now`: Unix seconds, `YYYY-MM-DD` (the end of that day, UTC),
/// `YYYY-MM-DD[T ]HH:MM[:SS]` with `Z`, an offset or nothing (UTC), or an RFC 5322 date.
fn parse_now(s: &str) -> Result<i64, Error> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    if let Some(t) = parse_iso(s) {
        return Ok(t);
    }
    crate::message::date::parse(s).map_err(|_| {
        Error::new(
            ErrorKind::Usage,
            format!("--now {s:?}: not a time; expected {NOW_FORMS}"),
        )
    })
}

fn parse_iso(s: &str) -> Option<i64> {
    let (date, time) = match s.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [y, m, day] = d[..] else { return None };
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let midnight = crate::message::date::days_from_civil(y, m, day) * 86_400;
    let Some(time) = time else {
        // A bare date is the whole of that day: a draft written that morning is not "in
        // the future" (midnight would make it so).
        return Some(midnight + 86_399);
    };
    // The offset: `Z`, `+HH:MM`, `-HH:MM`, `+HHMM` or none (UTC).
    let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(at) = time.rfind(['+', '-']) {
        let (c, o) = time.split_at(at);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let digits: String = o[1..].chars().filter(|&ch| ch != ':').collect();
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (oh, om): (i64, i64) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
        if oh > 23 || om > 59 {
            return None;
        }
        (c, sign * (oh * 3600 + om * 60))
    } else {
        (time, 0)
    };
    let t: Vec<i64> = clock
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if !(2..=3).contains(&t.len()) {
        return None;
    }
    let (h, mi, sec) = (t[0], t[1], t.get(2).copied().unwrap_or(0));
    if !(0..=23).contains(&h) || !(0..=59).contains(&mi) || !(0..=60).contains(&sec) {
        return None;
    }
    Some(midnight + h * 3600 + mi * 60 + sec - offset)
}

fn read_input(name: &str) -> Result<Vec<u8>, (i32, String)> {
    let mut buf = Vec::new();
    if name == "-" {
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .map_err(|e| (EX_IOERR, format!("standard input: {e}")))?;
        return Ok(buf);
    }
    let mut f =
        std::fs::File::open(name).map_err(|e| (EX_NOINPUT, format!("{name}: cannot open: {e}")))?;
    if f.metadata().is_ok_and(|m| m.is_dir()) {
        let path = std::path::Path::new(name);
        let what = if path.join("cur").is_dir() && path.join("new").is_dir() {
            "a Maildir folder"
        } else {
            "a directory"
        };
        return Err((
            EX_NOINPUT,
            format!("{name}: is {what}; check the drafts in it with `preflight scan {name}`"),
        ));
    }
    f.read_to_end(&mut buf)
        .map_err(|e| (EX_IOERR, format!("{name}: read error: {e}")))?;
    Ok(buf)
}

/// Loads the rules and builds the engine; a `--select` or `--ignore` on the command line
/// that names no rule is a usage error (64), not a rule-pack error.
fn engine_for(config: Config, selection: &Selection) -> Result<Engine, Error> {
    let rules = RuleSet::load(&config.rules_dirs)?;
    for (option, list) in [
        ("--select", &selection.select),
        ("--ignore", &selection.ignore),
    ] {
        for sel in list {
            if !rules.rules().iter().any(|r| selector_matches(sel, r)) {
                return Err(Error::new(
                    ErrorKind::Usage,
                    format!(
                        "{option} {sel}: matches no rule id, id prefix, family or name (see `preflight rules list`)"
                    ),
                ));
            }
        }
    }
    Engine::with_rules(config, rules)
}

/// What `check` has printed and seen so far, over every input.
struct CheckRun<'a> {
    engine: &'a Engine,
    envelope: Envelope,
    format: Format,
    opts: HumanOptions,
    /// Several reports (several inputs, or an mbox): an array, or a summary line.
    many: bool,
    counts: [usize; 3],
    errors: usize,
    worst: Verdict,
    worst_error: i32,
    array: render::json::ArrayWriter,
    single: Option<String>,
}

impl CheckRun<'_> {
    fn error(&mut self, err: &mut dyn Write, code: i32, msg: &str) {
        let _ = writeln!(err, "preflight: {msg}");
        self.errors += 1;
        self.worst_error = self.worst_error.max(code);
    }

    /// Checks one draft and prints its report (or why it is not mail).
    fn draft(
        &mut self,
        shown: &str,
        raw: &[u8],
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<(), Error> {
        let report = match self.engine.try_check(raw, &self.envelope) {
            Ok(r) => r,
            Err(e) => {
                self.error(err, e.exit_code(), &format!("{shown}: {e}"));
                return Ok(());
            }
        };
        self.counts[report.verdict.exit_code() as usize] += 1;
        self.worst = self.worst.max(report.verdict);
        match self.format {
            Format::Json if self.many => self
                .array
                .element(out, &render::json::report_text(&report, Some(shown)))
                .map_err(io_err)?,
            Format::Json => self.single = Some(render::json::report_text(&report, None)),
            Format::Human => {
                let text = render::human::report(shown, &report, &self.opts);
                if self.many && self.counts.iter().sum::<usize>() > 1 {
                    writeln!(out).map_err(io_err)?;
                }
                out.write_all(text.as_bytes()).map_err(io_err)?;
            }
        }
        Ok(())
    }

    /// Checks every message of an mbox, each shown as `file#N`.
    fn mbox(
        &mut self,
        shown: &str,
        raw: &[u8],
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<(), Error> {
        let mut n = 0;
        for m in crate::scan::MboxReader::new(raw) {
            n += 1;
            self.draft(&format!("{shown}#{n}"), &m, out, err)?;
        }
        if n == 0 {
            self.error(
                err,
                EX_DATAERR,
                &format!("{shown}: not an mbox: no message starts with a `From ` line"),
            );
        }
        Ok(())
    }
}

fn check(a: CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, Error> {
    let mut config = load_config(&a.common.config, &a.common.rules_dirs)?;
    a.selection.apply(&mut config)?;
    if a.files.iter().filter(|f| *f == "-").count() > 1 {
        return Err(Error::new(
            ErrorKind::Usage,
            "standard input (\"-\") can be read only once",
        ));
    }
    let engine = engine_for(config, &a.selection)?;
    let mut run = CheckRun {
        engine: &engine,
        envelope: Envelope {
            mail_from: a.mail_from.clone(),
            rcpt_to: a.rcpt_to.clone(),
            client_ip: a.ip,
            helo: a.helo.clone(),
            auth_user: a.auth_user.clone(),
            queue_id: None,
        },
        format: a.common.format,
        opts: human_options(&a.common, a.brief),
        many: a.files.len() > 1,
        counts: [0; 3],
        errors: 0,
        worst: Verdict::Pass,
        worst_error: 0,
        array: render::json::ArrayWriter::default(),
        single: None,
    };
    for name in &a.files {
        let shown = if name == "-" {
            "<stdin>"
        } else {
            name.as_str()
        };
        let raw = match read_input(name) {
            Ok(r) => r,
            Err((code, msg)) => {
                run.error(err, code, &msg);
                continue;
            }
        };
        // An mbox (named so, or several messages after `From ` lines): every message.
        let named = name != "-" && crate::scan::is_mbox_name(std::path::Path::new(name));
        if named || crate::scan::holds_several_messages(&raw) {
            run.many = true;
            run.mbox(shown, &raw, out, err)?;
        } else {
            run.draft(shown, &raw, out, err)?;
        }
    }
    match run.format {
        Format::Json if run.many => std::mem::take(&mut run.array).finish(out).map_err(io_err)?,
        Format::Json => {
            if let Some(text) = &run.single {
                out.write_all(text.as_bytes()).map_err(io_err)?;
                out.write_all(b"\n").map_err(io_err)?;
            }
        }
        Format::Human if run.many => {
            let text = render::human::summary(run.counts, run.errors, &run.opts);
            out.write_all(format!("\n{text}").as_bytes())
                .map_err(io_err)?;
        }
        Format::Human => {}
    }
    out.flush().map_err(io_err)?;
    Ok(crate::scan::exit_status(run.worst, run.worst_error))
}

fn scan(a: ScanArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, Error> {
    use crate::render::scan as r;
    use crate::scan::{Labels, Outcome, Summary};
    let mut config = load_config(&a.config, &a.rules_dirs)?;
    a.selection.apply(&mut config)?;
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
fn list_paths(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
}

/// A warning when fewer than half of the drafts found a label in `--labels FILE` (none
/// matching is nearly always paths written relative to another folder).
fn labels_warning(
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

fn broken_pipe(e: &Error) -> bool {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

fn io_err(e: std::io::Error) -> Error {
    Error::with_source(ErrorKind::Io, format!("cannot write output: {e}"), e)
}

fn load_rules(c: &Common) -> Result<(Config, RuleSet, Engine), Error> {
    let config = load_config(&c.config, &c.rules_dirs)?;
    let rules = RuleSet::load(&config.rules_dirs)?;
    let engine = Engine::with_rules(config.clone(), rules.clone())?;
    Ok((config, rules, engine))
}

fn rules_list(c: &Common, only: &[String], out: &mut dyn Write) -> Result<i32, Error> {
    let (_, rules, engine) = load_rules(c)?;
    let chosen: Vec<_> = rules
        .rules()
        .iter()
        .filter(|r| only.is_empty() || only.iter().any(|s| selector_matches(s, r)))
        .map(|r| (r, engine.is_enabled(&r.id)))
        .collect();
    if chosen.is_empty() {
        return Err(Error::new(
            ErrorKind::Usage,
            format!("--select {}: matches no rule", only.join(",")),
        ));
    }
    let text = match c.format {
        Format::Json => render::json::to_text(&serde_json::Value::Array(
            chosen
                .iter()
                .map(|(r, on)| render::json::rule_value(r, *on))
                .collect(),
        )),
        Format::Human => render::human::rule_list(&chosen, &human_options(c, false)),
    };
    out.write_all(text.as_bytes()).map_err(io_err)?;
    Ok(0)
}

fn rules_explain(c: &Common, id: &str, out: &mut dyn Write) -> Result<i32, Error> {
    let (_, rules, engine) = load_rules(c)?;
    let rule = rules
        .rules()
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(id) || r.name == id)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Usage,
                format!("no rule {id:?} (see `preflight rules list`)"),
            )
        })?;
    let on = engine.is_enabled(&rule.id);
    let text = match c.format {
        Format::Json => render::json::to_text(&render::json::rule_value(rule, on)),
        Format::Human => render::human::rule_doc(rule, on, &human_options(c, false)),
    };
    out.write_all(text.as_bytes()).map_err(io_err)?;
    Ok(0)
}

fn rules_test(c: &Common, only: &[String], out: &mut dyn Write) -> Result<i32, Error> {
    let (config, rules, _) = load_rules(c)?;
    for s in only {
        if !rules.rules().iter().any(|r| selector_matches(s, r)) {
            return Err(Error::new(
                ErrorKind::Usage,
                format!("--select {s}: matches no rule"),
            ));
        }
    }
    let report = crate::engine::examples::run(&rules, &config, only);
    let text = match c.format {
        Format::Json => render::json::to_text(&render::json::examples_value(&report)),
        Format::Human => render::human::examples(&report, &human_options(c, false)),
    };
    out.write_all(text.as_bytes()).map_err(io_err)?;
    Ok(if report.all_passed() { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_accepts_unix_iso_and_rfc5322() {
        assert_eq!(parse_now("1795392000").unwrap(), 1_795_392_000);
        assert_eq!(parse_now("2026-11-23T00:00:00Z").unwrap(), 1_795_392_000);
        assert_eq!(parse_now("2026-11-23 01:00").unwrap(), 1_795_395_600);
        assert_eq!(
            parse_now("2026-11-23T01:00:00+01:00").unwrap(),
            1_795_392_000
        );
        assert_eq!(parse_now("2026-11-23T00:00-0130").unwrap(), 1_795_397_400);
        assert_eq!(
            parse_now("Mon, 23 Nov 2026 00:00:00 +0000").unwrap(),
            1_795_392_000
        );
        for bad in [
            "2026-11-23T25:00Z",
            "2026-13-01",
            "2026-11-23T10:00+5",
            "23/11/2026",
        ] {
            assert!(parse_now(bad).is_err(), "{bad}");
        }
    }

    /// A bare date is the end of that day (UTC), so a draft dated that morning is not in
    /// the future; the error for a word names every accepted form.
    #[test]
    fn now_takes_a_bare_date_as_the_end_of_the_day() {
        assert_eq!(parse_now("2026-11-23").unwrap(), 1_795_392_000 + 86_399);
        assert_eq!(parse_now("2026-12-02").unwrap(), 1_796_255_999);
        let e = parse_now("yesterday").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Usage);
        let text = e.to_string();
        for form in [
            "Unix seconds",
            "2026-11-23",
            "end of that day",
            "T10:00:00Z",
            "+01:00",
            "RFC 5322",
        ] {
            assert!(text.contains(form), "{form}: {text}");
        }
    }

    #[test]
    fn files_from_skips_blank_and_comment_lines() {
        let list = "# drafts for the spring campaign\na.eml\n\n  # indented comment\r\nb.eml\r\n./#c.eml\n   \n";
        assert_eq!(
            list_paths(list).collect::<Vec<_>>(),
            ["a.eml", "b.eml", "./#c.eml"]
        );
    }
}
