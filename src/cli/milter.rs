//! `preflight milter`: run as a milter.

use super::*;
use std::sync::Arc;

use crate::config::{DnsConfig, MilterConfig};
use crate::daemon::Loaded;
use crate::dns::live::Live;

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
    // The engine, the milter's settings and the resolver, from one file, in force
    // together. A reload that leaves `dns:` as it was keeps the resolver and its cache.
    let resolvers: std::sync::Mutex<Option<(DnsConfig, Arc<Live>)>> = Default::default();
    let load = move || -> Result<Loaded<MilterConfig>, Error> {
        let settings = load_settings(&a.config, &a.rules_dirs)?;
        let resolver = if settings.dns.enabled {
            let mut kept = resolvers.lock().unwrap_or_else(|p| p.into_inner());
            match &*kept {
                Some((c, live)) if *c == settings.dns => Some(Arc::clone(live)),
                _ => {
                    let live = Arc::new(Live::new(&settings.dns)?);
                    *kept = Some((settings.dns.clone(), Arc::clone(&live)));
                    Some(live)
                }
            }
        } else {
            None
        };
        Ok(Loaded {
            engine: Engine::new(settings.engine)?,
            settings: settings.milter,
            resolver,
        })
    };
    let loaded = load()?;
    crate::milter::server::run(&listen, loaded, load)?;
    Ok(0)
}
