//! `preflight milter`: run as a milter.

use super::*;
use crate::config::MilterConfig;
use crate::daemon::Loaded;

#[derive(Args, Debug)]
pub(super) struct MilterArgs {
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

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum LogFormat {
    Text,
    Json,
}

pub(super) fn milter(a: MilterArgs) -> Result<i32, Error> {
    let listen: crate::daemon::Listen = a
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
    // The engine and the milter's settings, from one file, in force together.
    let load = move || -> Result<Loaded<MilterConfig>, Error> {
        let settings = load_settings(&a.config, &a.rules_dirs)?;
        Ok(Loaded {
            engine: Engine::new(settings.engine)?,
            settings: settings.milter,
        })
    };
    let loaded = load()?;
    crate::milter::server::run(&listen, loaded, load)?;
    Ok(0)
}
