//! One configuration file, several readers: the engine's settings at the top level and
//! each daemon's in a section of its own (`milter:` now). The file is parsed once, with
//! every key checked, and split into separate types: [`Config`] for the engine and
//! [`MilterConfig`] for the milter daemon.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::milter::{MAX_WORKERS, MilterConfig, parse_socket_mode};
use super::{Config, Limits, ModelConfig, Reputation, Senders, Sending, StrongEvidence};
use crate::dns::DnsConfig;
use crate::error::{Error, ErrorKind};
use crate::report::Thresholds;

/// Everything one configuration file sets, split by who reads it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// The engine's settings (the top-level keys).
    pub engine: Config,
    /// The milter's settings (the `milter:` section).
    pub milter: MilterConfig,
    /// How the checks that need DNS run (the `dns:` section).
    pub dns: DnsConfig,
}

/// The file as written: every top-level key, so that an unknown one is an error with its
/// line and column. (serde's `flatten` would keep [`Config`] in one piece here, but loses
/// both the unknown-key check and the error places.) `the_file_has_every_engine_key`
/// keeps the engine's keys here and in [`Config`] the same.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct File {
    thresholds: Thresholds,
    family_caps: BTreeMap<String, f64>,
    strong_evidence: StrongEvidence,
    limits: Limits,
    rules_dirs: Vec<PathBuf>,
    select: Vec<String>,
    ignore: Vec<String>,
    max_evidence: usize,
    now: Option<i64>,
    senders: Senders,
    model: ModelConfig,
    sending: Sending,
    reputation: Reputation,
    milter: MilterConfig,
    dns: DnsConfig,
}

impl Default for File {
    fn default() -> Self {
        let c = Config::default();
        File {
            thresholds: c.thresholds,
            family_caps: c.family_caps,
            strong_evidence: c.strong_evidence,
            limits: c.limits,
            rules_dirs: c.rules_dirs,
            select: c.select,
            ignore: c.ignore,
            max_evidence: c.max_evidence,
            now: c.now,
            senders: c.senders,
            model: c.model,
            sending: c.sending,
            reputation: c.reputation,
            milter: MilterConfig::default(),
            dns: DnsConfig::default(),
        }
    }
}

impl Settings {
    /// Reads a YAML config file; errors carry `file:line:column`.
    pub fn from_file(path: &Path) -> Result<Settings, Error> {
        let text = Error::read_config_text(path, "config")?;
        Self::from_yaml(&text, &path.display().to_string())
    }

    /// Parses YAML config text (`file` names it in errors).
    pub fn from_yaml(text: &str, file: &str) -> Result<Settings, Error> {
        let f: File = serde_saphyr::from_str(text).map_err(|e| {
            let (l, col, msg) = crate::util::yaml_error(&e);
            Error::new(ErrorKind::Config, format!("{file}:{l}:{col}: {msg}"))
        })?;
        let engine = Config {
            thresholds: f.thresholds,
            family_caps: f.family_caps,
            strong_evidence: f.strong_evidence,
            limits: f.limits,
            rules_dirs: f.rules_dirs,
            select: f.select,
            ignore: f.ignore,
            max_evidence: f.max_evidence,
            now: f.now,
            senders: f.senders,
            model: f.model,
            sending: f.sending,
            reputation: f.reputation,
        };
        Ok(Settings {
            engine: Config::finish(engine, file)?,
            milter: check_milter(f.milter, file)?,
            dns: {
                f.dns
                    .check()
                    .map_err(|why| Error::new(ErrorKind::Config, format!("{file}: dns: {why}")))?;
                f.dns
            },
        })
    }
}

/// Checks the `milter:` section beyond its types.
fn check_milter(m: MilterConfig, file: &str) -> Result<MilterConfig, Error> {
    let bad = |what: String| Error::new(ErrorKind::Config, format!("{file}: milter: {what}"));
    for k in m.family_modes.keys() {
        if crate::family::prefix(k).is_none() {
            return Err(bad(format!("family_modes: unknown family `{k}`")));
        }
    }
    if let Some(mode) = &m.socket_mode {
        parse_socket_mode(mode).map_err(|why| bad(format!("socket_mode: {why}")))?;
    }
    if m.workers > MAX_WORKERS {
        return Err(bad(format!(
            "workers: {} is more than {MAX_WORKERS} event loops (0 picks one per CPU)",
            m.workers
        )));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FlagAction, MilterMode};

    #[test]
    fn milter_section_parses_apart_from_the_engine() {
        let s = Settings::from_yaml(
            "thresholds: {flag: 4, reject: 8}\nmilter: {mode: flag-only, reject_text: Refused, flag_action: quarantine}\n",
            "c.yaml",
        )
        .unwrap();
        assert_eq!(s.engine.thresholds.flag, 4.0);
        assert_eq!(s.milter.mode, MilterMode::FlagOnly);
        assert_eq!(s.milter.reject_text.as_deref(), Some("Refused"));
        assert_eq!(s.milter.flag_action, FlagAction::Quarantine);
        assert_eq!(s.milter.header, "X-Preflight-Verdict");
        // The engine's reader checks the daemon sections too: one file, one set of errors.
        assert!(Config::from_yaml("milter: {mode: sometimes}\n", "c.yaml").is_err());
        let e = Config::from_yaml("milter:\n  modez: x\n", "c.yaml").unwrap_err();
        assert!(e.to_string().starts_with("c.yaml:2:"), "{e}");
        // Event loops: a number, 0 for one per CPU (at most 4), never a thread storm.
        let s = Settings::from_yaml("milter: {workers: 3}\n", "c.yaml").unwrap();
        assert_eq!(s.milter.worker_threads(), 3);
        let s = Settings::from_yaml("milter: {workers: 0}\n", "c.yaml").unwrap();
        assert!((1..=4).contains(&s.milter.worker_threads()));
        let e = Settings::from_yaml("milter: {workers: 1000}\n", "c.yaml").unwrap_err();
        assert!(e.to_string().contains("milter: workers: 1000"), "{e}");
        let e = Settings::from_yaml("milter: {family_modes: {nosuch: dry-run}}\n", "c.yaml")
            .unwrap_err();
        assert!(e.to_string().contains("unknown family `nosuch`"), "{e}");
    }

    /// Every key of the engine's settings is a key of the file, and the file's other keys
    /// are the daemon sections.
    #[test]
    fn the_file_has_every_engine_key() {
        let serde_json::Value::Object(engine) = serde_json::to_value(Config::default()).unwrap()
        else {
            panic!("Config serialises as a map")
        };
        for key in engine.keys() {
            let e = Settings::from_yaml(&format!("{key}: [[[not this]]]\n"), "c.yaml")
                .unwrap_err()
                .to_string();
            assert!(!e.contains("unknown field"), "`{key}` is not read: {e}");
        }
        assert_eq!(
            Settings::from_yaml("", "c.yaml").unwrap(),
            Settings::default()
        );
    }
}
