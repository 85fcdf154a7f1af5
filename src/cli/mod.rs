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

use crate::config::{Config, Settings};
use crate::engine::{Engine, selector_matches};
use crate::envelope::Envelope;
use crate::error::{Error, ErrorKind};
use crate::render::{self, HumanOptions};
use crate::report::Verdict;
use crate::rules::RuleSet;

mod check;
mod learn;
mod milter;
mod rules;
mod scan;

use check::{CheckArgs, check};
use milter::{MilterArgs, milter};
use rules::{RulesCommand, rules_explain, rules_list, rules_test};
use scan::{ScanArgs, scan};

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
    /// Receiver profile: its size and recipient limits, reply texts and rule overrides
    /// (shipped: postfix 10,240,000 bytes, gmail 25 MB, microsoft 35 MB; more in a rules
    /// directory's `profiles/`).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
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
        if let Some(p) = &self.profile {
            // Known or not is the engine's to say, with the known names.
            config.limits.profile = p.clone();
        }
        if let Some(n) = &self.now {
            config.now = Some(parse_now(n)?);
        }
        Ok(())
    }
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
        Command::Rules(RulesCommand::List { common, only }) => rules_list(&common, &only.only, out),
        Command::Rules(RulesCommand::Explain { common, rule }) => {
            rules_explain(&common, &rule, out)
        }
        Command::Rules(RulesCommand::Test { common, only }) => rules_test(&common, &only.only, out),
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

/// The engine's settings from the configuration file (or the defaults) with
/// `--rules-dir` directories added.
fn load_config(file: &Option<PathBuf>, rules_dirs: &[PathBuf]) -> Result<Config, Error> {
    load_settings(file, rules_dirs).map(|s| s.engine)
}

/// Where the checks that need DNS get their answers (`check` and `scan`).
#[derive(Args, Debug)]
pub(super) struct DnsArgs {
    /// Run the checks that need DNS with the answers in FILE, one record per line as a
    /// zone file writes it (`example.org MX 10 mx.example.org`; a name not listed does
    /// not exist): for tests and reproducible reports. Nothing leaves the machine.
    #[arg(long, value_name = "FILE", conflicts_with = "online")]
    dns_answers: Option<PathBuf>,
    /// Run the checks that need DNS, asking the resolvers of `dns.nameservers` (the
    /// system's by default) within `dns.timeout_ms` per message (`dns.enabled: true`
    /// in the configuration does the same). Without it, or --dns-answers, those checks
    /// do not run and the report lists them as not checked.
    #[arg(long)]
    online: bool,
}

impl DnsArgs {
    /// The answers' source: the file, real DNS (`--online` or `dns.enabled`), or none.
    fn source(
        &self,
        dns: &crate::dns::DnsConfig,
    ) -> Result<Option<std::sync::Arc<dyn crate::dns::Source>>, Error> {
        Ok(match &self.dns_answers {
            Some(file) => Some(std::sync::Arc::new(crate::dns::Fixed::from_file(file)?)),
            None if self.online || dns.enabled => {
                Some(std::sync::Arc::new(crate::dns::live::Live::new(dns)?))
            }
            None => None,
        })
    }
}

/// Every section of the configuration file (or the defaults), with `--rules-dir`
/// directories added to the engine's.
fn load_settings(file: &Option<PathBuf>, rules_dirs: &[PathBuf]) -> Result<Settings, Error> {
    let mut settings = match file {
        Some(p) => Settings::from_file(p)?,
        None => Settings::default(),
    };
    settings
        .engine
        .rules_dirs
        .extend(rules_dirs.iter().cloned());
    Ok(settings)
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
    let rules = RuleSet::for_config(&config)?;
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

fn broken_pipe(e: &Error) -> bool {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

fn io_err(e: std::io::Error) -> Error {
    Error::with_source(ErrorKind::Io, format!("cannot write output: {e}"), e)
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
}
