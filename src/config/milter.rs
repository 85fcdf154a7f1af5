//! The milter's settings (the `milter:` section of the configuration file): what it does
//! with each verdict, its socket and its limits. Plain data, read with the engine's
//! settings from one file ([`super::Settings`]) and kept apart from them: the engine never
//! sees these, and the daemon swaps both together on reload.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the milter does with a message that would be rejected or is flagged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MilterMode {
    /// Reject what would bounce, add the verdict header to the rest.
    #[default]
    Enforce,
    /// Never reject: only add the verdict header.
    FlagOnly,
    /// Change nothing; log what would have happened.
    DryRun,
}

/// What the milter does with a flagged message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlagAction {
    /// Let it through with the verdict header.
    #[default]
    Header,
    /// Put it in the MTA's hold queue (with the header).
    Quarantine,
}

/// What the milter does when a check fails internally on a message (a bug in preflight,
/// not in the message).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckErrorAction {
    /// Judge the message by the checks that ran; the verdict header names the checks that
    /// did not (`unchecked=...`) and the log says which failed. When nothing could be
    /// checked (the message parser itself failed), answer a temporary failure.
    #[default]
    Judge,
    /// Answer a temporary failure, so the MTA keeps the message queued and retries.
    Tempfail,
}

/// What the milter answers for a message over `limits.max_message_bytes`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OversizeAction {
    /// Refuse it with SIZE001's reply, `552 5.3.4`.
    #[default]
    Reject,
    /// Answer `452 4.3.4`: the MTA keeps the message queued (and bounces it after its
    /// queue lifetime).
    Tempfail,
}

/// The largest milter packet accepted by default (Postfix sends body chunks of at most
/// 64 KiB).
pub const DEFAULT_MAX_PACKET: usize = 1024 * 1024;

/// The most event-loop threads `milter.workers` may ask for.
pub const MAX_WORKERS: usize = 64;

/// `preflight milter` settings (the `milter:` section).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MilterConfig {
    /// `enforce`, `flag-only` or `dry-run`.
    pub mode: MilterMode,
    /// Modes per rule family, milder than `mode` for those families: findings of a
    /// `flag-only` family add to the flag but never reject on their own; findings of a
    /// `dry-run` family change nothing and are only logged. (`enforce` here cannot
    /// make a family stricter than the global mode.)
    pub family_modes: BTreeMap<String, MilterMode>,
    /// Reply text for rejected mail: `None` names the top rule
    /// (`554 5.7.1 preflight: rejected by CNT001 gtube`); a text here replaces it and
    /// reveals nothing about the rules.
    pub reject_text: Option<String>,
    /// Name of the verdict header.
    pub header: String,
    /// Add the header to messages that pass too (so operators see the filter worked).
    pub pass_header: bool,
    /// What to do with flagged mail.
    pub flag_action: FlagAction,
    /// Largest milter packet accepted; larger ones close the connection.
    pub max_packet_bytes: usize,
    /// Seconds to wait for the MTA's next packet before closing the connection.
    pub read_timeout_secs: u64,
    /// Seconds between progress replies while a check runs on the blocking pool (keeps
    /// the MTA's timeout off); fractions allowed, at least 0.001.
    pub progress_secs: f64,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Event-loop threads serving connections, each with its own share of them; 0 picks
    /// one per CPU, at most 4. One thread serves thousands of small messages a second,
    /// and a few threads waking for the same MTA cost more than they give on a busy
    /// mail host whose CPUs the MTA already keeps busy.
    pub workers: usize,
    /// Messages up to this size are checked on the connection's own worker thread (a
    /// check of a few kilobytes takes far less than handing it to another thread costs);
    /// larger ones go to the blocking pool, with progress replies while they run.
    /// 0 sends every message to the pool.
    pub inline_check_bytes: usize,
    /// Permissions of a `unix:` socket, in octal (`"660"`); unset leaves the umask's.
    pub socket_mode: Option<String>,
    /// Owner of a `unix:` socket: `user`, `user:group` or `:group` (names or numbers).
    pub socket_owner: Option<String>,
    /// When a check fails internally: `judge` by the checks that ran (the default), or
    /// `tempfail`.
    pub on_check_error: CheckErrorAction,
    /// A message over the size limit: `reject` with 552 5.3.4 (the default) or
    /// `tempfail` with 452 4.3.4.
    pub oversize_action: OversizeAction,
}

impl MilterConfig {
    /// The number of event-loop threads: `workers`, or with 0 one per CPU (at most 4).
    pub fn worker_threads(&self) -> usize {
        if self.workers > 0 {
            return self.workers;
        }
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    }

    /// The mode for findings of `family` (`enforce` unless `family_modes` softens it).
    pub fn family_mode(&self, family: &str) -> MilterMode {
        self.family_modes
            .get(family)
            .copied()
            .unwrap_or(MilterMode::Enforce)
    }
}

impl Default for MilterConfig {
    fn default() -> Self {
        MilterConfig {
            mode: MilterMode::Enforce,
            reject_text: None,
            header: "X-Preflight-Verdict".into(),
            pass_header: true,
            flag_action: FlagAction::Header,
            max_packet_bytes: DEFAULT_MAX_PACKET,
            read_timeout_secs: 300,
            progress_secs: 5.0,
            max_connections: 256,
            workers: 1,
            inline_check_bytes: 128 * 1024,
            socket_mode: None,
            socket_owner: None,
            family_modes: BTreeMap::new(),
            on_check_error: CheckErrorAction::Judge,
            oversize_action: OversizeAction::Reject,
        }
    }
}

/// Parses an octal permission string such as `"660"` or `"0660"`.
pub fn parse_socket_mode(s: &str) -> Result<u32, String> {
    match u32::from_str_radix(s.trim(), 8) {
        Ok(m) if m <= 0o7777 => Ok(m),
        _ => Err(format!("`{s}` is not an octal mode such as 660")),
    }
}
