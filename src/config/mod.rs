//! Configuration: thresholds, family caps, limits, rule selection and rule directories.
//!
//! One YAML file (`--config FILE`); every field is optional:
//!
//! ```yaml
//! thresholds: { flag: 5.0, reject: 10.0 }
//! family_caps: { content: 5.0, headers: 8.0 }   # merged over the defaults
//! strong_evidence: { score: 2.5, families: 2 }  # strong findings in 2 families lift their caps
//! limits:
//!   profile: postfix              # rules/profiles/: postfix (10,240,000 bytes), gmail (25 MB), microsoft (35 MB)
//!   max_message_bytes: 10240000   # overrides the profile
//!   size_margin_bytes: 2000       # added on the way (Received, DKIM-Signature)
//!   max_header_bytes: 102400
//!   max_attachments: 100
//!   max_mime_depth: 10
//!   max_mime_parts: 250
//!   date_future_hours: 6
//!   date_past_days: 30
//! rules_dirs: [/etc/preflight/rules.d]
//! select: []                      # only these ids or family prefixes (empty: all)
//! ignore: [BULK]                  # never these ids or family prefixes
//! model: { site: /var/lib/preflight/site.model }   # see [`ModelConfig`]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::report::Thresholds;

mod file;
mod milter;
pub mod profile;

pub use crate::dns::DnsConfig;
pub use file::Settings;
pub use milter::{
    CheckErrorAction, DEFAULT_MAX_PACKET, FlagAction, MAX_WORKERS, MilterConfig, MilterMode,
    OversizeAction, parse_socket_mode,
};
pub use profile::Profile;

/// The limits of the configured receiver profile, as an engine resolved them
/// ([`Config::apply_profile`]); until then, those of the default profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileInForce {
    /// How findings name whose limit it is.
    pub receiver: String,
    /// The profile's message size limit.
    pub max_message_bytes: usize,
    /// The profile's recipient limit.
    pub max_recipients: usize,
}

impl Default for ProfileInForce {
    fn default() -> Self {
        let (receiver, max_message_bytes, max_recipients) = profile::DEFAULT;
        ProfileInForce {
            receiver: receiver.to_string(),
            max_message_bytes,
            max_recipients,
        }
    }
}

/// Limits for the size and structure checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The receiver profile (a file in `rules/profiles/`, or `profiles/` of a rules
    /// directory): its message size and recipient limits, and the overrides and
    /// thresholds it brings ([`profile`]).
    pub profile: String,
    /// Explicit message size limit in bytes (overrides the profile).
    pub max_message_bytes: Option<usize>,
    /// Bytes the servers on the way add before the receiver compares the message with its
    /// limit: Received fields, a DKIM-Signature, and what the receiving MTA itself counts
    /// besides the content (Postfix: its own Received field and the envelope records of
    /// its queue file, 856 bytes for one recipient measured with Postfix 3.7). SIZE001
    /// fires when the message's size on the wire (CR LF line ends) plus this margin is
    /// over the limit. The default, 2,000, is that measured 856 bytes, about 150 more for
    /// a TLS Received line, and the sending server's own Received line (about 350) and a
    /// DKIM-Signature made with a 2048-bit RSA key (about 600).
    pub size_margin_bytes: usize,
    /// Header block limit (Postfix `header_size_limit`, 102,400).
    pub max_header_bytes: usize,
    /// Attachments per message.
    pub max_attachments: usize,
    /// MIME nesting depth.
    pub max_mime_depth: usize,
    /// MIME parts per message.
    pub max_mime_parts: usize,
    /// A Date more than this many hours ahead of the reference time is suspicious.
    pub date_future_hours: i64,
    /// A Date more than this many days before the reference time is suspicious.
    pub date_past_days: i64,
    /// Bytes an attachment may have, decoded (larger ones are their own finding).
    pub max_attachment_bytes: usize,
    /// Uncompressed bytes archive inspection may produce per message.
    pub archive_max_bytes: u64,
    /// Expansion ratio past which a compressed member counts as a decompression bomb
    /// (applied past 1 MiB of output).
    pub archive_max_ratio: u64,
    /// Archive entries listed per message.
    pub archive_max_entries: usize,
    /// Archives nested deeper than this are not opened.
    pub archive_max_depth: usize,
    /// Time archive and document inspection may take per message, in milliseconds.
    pub archive_max_millis: u64,
    /// Recipients one message may have (overrides the profile's limit).
    pub max_recipients: Option<usize>,
    /// Links read per message: this many from the HTML parts (and as many images, forms,
    /// frames and style sheets) and this many URLs from the text. Past them links are only
    /// counted (URL017), so a flood of links costs bounded time and memory.
    pub max_links: usize,
    /// The profile's limits in force (not read from the file: set when an engine is
    /// built, [`Config::apply_profile`]).
    #[serde(skip)]
    pub in_force: ProfileInForce,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            profile: "postfix".to_string(),
            max_message_bytes: None,
            size_margin_bytes: 2_000,
            max_header_bytes: 102_400,
            max_attachments: 100,
            max_mime_depth: 10,
            max_mime_parts: 250,
            date_future_hours: 6,
            date_past_days: 30,
            max_attachment_bytes: 20 * 1024 * 1024,
            archive_max_bytes: 64 * 1024 * 1024,
            archive_max_ratio: 100,
            archive_max_entries: 10_000,
            archive_max_depth: 8,
            archive_max_millis: 500,
            max_recipients: None,
            max_links: crate::message::html::MAX_ITEMS,
            in_force: ProfileInForce::default(),
        }
    }
}

impl Limits {
    /// The message size limit in force.
    pub fn message_limit(&self) -> usize {
        self.max_message_bytes
            .unwrap_or(self.in_force.max_message_bytes)
    }
    /// The recipient limit in force.
    pub fn recipient_limit(&self) -> usize {
        self.max_recipients.unwrap_or(self.in_force.max_recipients)
    }
}

/// Which sender addresses each SMTP AUTH login may use (the `senders:` section), like
/// Postfix's `smtpd_sender_login_maps`: AUTH001 reports a From or MAIL FROM address the
/// login may not send as.
///
/// ```yaml
/// senders:
///   logins:
///     alice: [alice@example.com]          # exactly these addresses
///     newsletter: ["@news.example.com"]   # any address at this domain
///     relay-admin: ["*"]                  # anything
///   own_domain: true                      # a login that is an address may send as its domain
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Senders {
    /// Login (case-insensitive) -> addresses, `@domain`s or `*` it may send as.
    pub logins: BTreeMap<String, Vec<String>>,
    /// A login not in `logins` that is itself an address (`alice@example.com`) may send
    /// as any address of its own domain; a login that is not an address and not listed
    /// is not judged.
    pub own_domain: bool,
}

/// This MTA as receivers see it (`sending:`): the reputation and authentication checks
/// judge these, not the submitting client.
///
/// ```yaml
/// sending:
///   ips: [192.0.2.25, "2001:db8::25"]   # the egress addresses of this MTA
///   helo: mail.example.com              # the name it gives in EHLO
///   relay_untrusted: false              # true: also judge the client of each message
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sending {
    /// The addresses this MTA sends from (IPv4 and IPv6). Without them the checks of
    /// the sending IP (blocklists, PTR, SPF) are not checked.
    pub ips: Vec<std::net::IpAddr>,
    /// The name this MTA says in EHLO (Postfix's `smtp_helo_name`, `$myhostname` by
    /// default).
    pub helo: Option<String>,
    /// This MTA relays for clients it does not control (an open submission service):
    /// the client address of each message is judged for reputation too.
    pub relay_untrusted: bool,
}

/// The blocklists the reputation checks ask (`reputation:`). Names of the zones the
/// shipped table knows (`rules/lists/blocklists.yaml`: their return codes and delisting
/// pages) or an operator's own RFC 5782 zone, where any `127.0.0.x` answer is a listing.
///
/// ```yaml
/// reputation:
///   ip_lists: [zen.spamhaus.org, bl.spamcop.net]
///   domain_lists: [dbl.spamhaus.org]
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Reputation {
    /// Zones that list IP addresses (DNSBLs), asked about each sending IP.
    pub ip_lists: Vec<String>,
    /// Zones that list domains (DBL, SURBL, URIBL style), asked about the registered
    /// domains of the From address and of the links.
    pub domain_lists: Vec<String>,
}

impl Default for Reputation {
    fn default() -> Self {
        Reputation {
            ip_lists: vec!["zen.spamhaus.org".into(), "bl.spamcop.net".into()],
            domain_lists: vec!["dbl.spamhaus.org".into()],
        }
    }
}

/// The learned models (rules MDL001 and MDL002).
///
/// ```yaml
/// model:
///   content: /etc/preflight/content.model   # in place of the shipped content model
///   site: /var/lib/preflight/site.model     # the site model `preflight learn` keeps
///   site_min: 200                           # messages of each class before it counts
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// A content model file (`preflight train`) in place of the shipped one.
    pub content: Option<PathBuf>,
    /// The site model file; `None`: no site model.
    pub site: Option<PathBuf>,
    /// The least ham and the least spam the site model must have learnt before MDL002
    /// counts (SpamAssassin's Bayes waits for 200 of each too).
    pub site_min: u32,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            content: None,
            site: None,
            site_min: 200,
        }
    }
}

impl Default for Senders {
    fn default() -> Self {
        Senders {
            logins: BTreeMap::new(),
            own_domain: true,
        }
    }
}

impl Senders {
    /// Whether `login` may send as `address`; `None` when nothing says (a login that is
    /// not listed and not an address, or `own_domain` off).
    pub fn allows(&self, login: &str, address: &str) -> Option<bool> {
        let address = address.to_ascii_lowercase();
        let domain = address.rsplit_once('@').map(|(_, d)| d);
        let listed = self
            .logins
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(login))
            .map(|(_, v)| v);
        if let Some(allowed) = listed {
            return Some(allowed.iter().any(|a| {
                let a = a.trim().to_ascii_lowercase();
                a == "*" || a == address || a.strip_prefix('@').is_some_and(|d| domain == Some(d))
            }));
        }
        let own = login
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())?;
        self.own_domain.then(|| domain == Some(own.as_str()))
    }
}

/// When strong evidence in several families lifts the family caps: a family is strong
/// when one of its findings scores at least `score`, and when `families` or more families
/// are strong, each strong family adds its whole raw score instead of its capped one.
/// The caps keep one family (wording alone, say) from rejecting; independent strong
/// evidence in two families (a look-alike brand link and a credentials request, pharmacy
/// wording and a link to a bare IP address) rejects.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StrongEvidence {
    /// A finding scoring at least this is strong evidence for its family.
    pub score: f64,
    /// How many families need strong evidence before their caps are lifted; 0 never
    /// lifts them.
    pub families: usize,
}

impl Default for StrongEvidence {
    /// Chosen on the corpus's tuning part: a finding worth half the flag threshold, in
    /// two families (DESIGN.md, "Scoring").
    fn default() -> Self {
        StrongEvidence {
            score: 2.5,
            families: 2,
        }
    }
}

/// The engine's settings: the top-level keys of the configuration file (read with
/// [`Settings`], which also holds the daemons' sections).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    /// Flag and reject thresholds.
    pub thresholds: Thresholds,
    /// Cap per family (merged over [`Config::default_caps`]).
    pub family_caps: BTreeMap<String, f64>,
    /// Strong evidence in several families lifts their caps.
    pub strong_evidence: StrongEvidence,
    /// Limits.
    pub limits: Limits,
    /// Local rule directories (new rules and overrides), applied in order.
    pub rules_dirs: Vec<PathBuf>,
    /// Only run these ids or family prefixes (empty: all).
    pub select: Vec<String>,
    /// Never run these ids or family prefixes.
    pub ignore: Vec<String>,
    /// Evidence items kept per finding.
    pub max_evidence: usize,
    /// Reference time (Unix seconds) for Date checks; `None`: the clock. Set it for
    /// reproducible reports.
    pub now: Option<i64>,
    /// The sender addresses each SMTP AUTH login may use.
    pub senders: Senders,
    /// The learned models.
    pub model: ModelConfig,
    /// This MTA's addresses and EHLO name.
    pub sending: Sending,
    /// The blocklists asked.
    pub reputation: Reputation,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            thresholds: Thresholds::default(),
            family_caps: Config::default_caps(),
            strong_evidence: StrongEvidence::default(),
            limits: Limits::default(),
            rules_dirs: Vec::new(),
            select: Vec::new(),
            ignore: Vec::new(),
            max_evidence: 5,
            now: None,
            senders: Senders::default(),
            model: ModelConfig::default(),
            sending: Sending::default(),
            reputation: Reputation::default(),
        }
    }
}

impl Config {
    /// Default caps ([`crate::family::Family::cap`]): below the reject threshold, so no
    /// single family rejects on score alone (hard rules still reject).
    pub fn default_caps() -> BTreeMap<String, f64> {
        crate::family::FAMILIES
            .iter()
            .map(|f| (f.name.to_string(), f.cap))
            .collect()
    }

    /// Reads the engine's settings from a YAML config file (the daemon sections are
    /// checked and set aside); errors carry `file:line:column`.
    pub fn from_file(path: &Path) -> Result<Config, Error> {
        Settings::from_file(path).map(|s| s.engine)
    }

    /// Parses the engine's settings from YAML config text (`file` names it in errors).
    pub fn from_yaml(text: &str, file: &str) -> Result<Config, Error> {
        Settings::from_yaml(text, file).map(|s| s.engine)
    }

    /// Puts the configured receiver profile in force: its limits where the configuration
    /// sets none, its thresholds in place of the default ones. Returns the profile (its
    /// overrides are the rule loader's: [`crate::rules::RuleSet::for_config`]). The engine
    /// calls this when it is built.
    pub fn apply_profile(&mut self) -> Result<Profile, Error> {
        let p = Profile::find(&self.limits.profile, &self.rules_dirs)?;
        self.limits.in_force = ProfileInForce {
            receiver: p.receiver.clone(),
            max_message_bytes: p.limits.max_message_bytes,
            max_recipients: p.limits.max_recipients,
        };
        if let Some(t) = p.thresholds
            && self.thresholds == Thresholds::default()
        {
            self.thresholds = t;
        }
        Ok(p)
    }

    /// Checks what serde cannot and completes the parsed settings: caps merged over the
    /// defaults, thresholds in order, rule directories relative to the file.
    fn finish(mut c: Config, file: &str) -> Result<Config, Error> {
        let mut caps = Config::default_caps();
        for (k, v) in std::mem::take(&mut c.family_caps) {
            if crate::family::prefix(&k).is_none() {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("{file}: family_caps: unknown family `{k}`"),
                ));
            }
            caps.insert(k, v);
        }
        c.family_caps = caps;
        if !(c.thresholds.flag > 0.0 && c.thresholds.reject >= c.thresholds.flag) {
            return Err(Error::new(
                ErrorKind::Config,
                format!("{file}: thresholds: need 0 < flag <= reject"),
            ));
        }
        let se = c.strong_evidence;
        if se.score.is_nan() || se.score <= 0.0 || se.families == 1 {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "{file}: strong_evidence: need score > 0 and families 0 (never) or 2 or more"
                ),
            ));
        }
        // Relative rule directories are relative to the config file.
        if let Some(base) = Path::new(file).parent() {
            for d in &mut c.rules_dirs {
                if d.is_relative() {
                    *d = base.join(&*d);
                }
            }
        }
        // The profile must exist (the engine puts it in force).
        Profile::find(&c.limits.profile, &c.rules_dirs)
            .map_err(|e| Error::new(ErrorKind::Config, format!("{file}: {e}")))?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn parses_partial_config_and_merges_caps() {
        let c = Config::from_yaml("thresholds: {flag: 4, reject: 8}\nfamily_caps: {content: 3}\nlimits: {profile: gmail}\n", "c.yaml").unwrap();
        assert_eq!(c.thresholds.flag, 4.0);
        assert_eq!(c.family_caps["content"], 3.0);
        assert_eq!(c.family_caps["headers"], 8.0);
        assert_eq!(
            c.limits.message_limit(),
            10_240_000,
            "postfix's until put in force"
        );
        let mut c = c;
        c.apply_profile().unwrap();
        assert_eq!(c.limits.message_limit(), 25 * 1024 * 1024);
        assert_eq!(c.limits.recipient_limit(), 100);
        let e = Config::from_yaml("limits: {profile: hotmail}\n", "c.yaml").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("c.yaml: limits.profile: unknown profile `hotmail`"),
            "{e}"
        );
        assert_eq!(c.strong_evidence, StrongEvidence::default());
        let c = Config::from_yaml("strong_evidence: {families: 3}\n", "c.yaml").unwrap();
        assert_eq!(
            (c.strong_evidence.score, c.strong_evidence.families),
            (2.5, 3)
        );
        for bad in ["{families: 1}", "{score: 0}", "{score: -1}"] {
            let e = Config::from_yaml(&format!("strong_evidence: {bad}\n"), "c.yaml").unwrap_err();
            assert!(e.to_string().contains("strong_evidence"), "{bad}: {e}");
        }
    }

    /// Every key of `default` (a serialised default), with its dotted path, that
    /// `example` (the parsed example file) does not set. Unset (`null`) and empty-map
    /// defaults count as shown when the file has them as a comment (`# now: ...`).
    fn missing_keys(default: &Value, example: &Value, text: &str, path: &str) -> Vec<String> {
        let Value::Object(d) = default else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in d {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            let commented = text.contains(&format!("# {k}:"));
            match (v, example.get(k)) {
                (Value::Null, None) if commented => {}
                (Value::Object(m), None) if m.is_empty() && commented => {}
                (_, None) => out.push(here),
                (Value::Object(_), Some(e)) => out.extend(missing_keys(v, e, text, &here)),
                _ => {}
            }
        }
        out
    }

    /// `packaging/preflight.example.yaml` shows every setting with its default value:
    /// read without the defaults filled in it equals `Config::default()` field for field,
    /// and every key of the defaults (a new field too) is in it.
    #[test]
    fn the_shipped_example_is_every_default() {
        let text = include_str!("../../packaging/preflight.example.yaml");
        let s = Settings::from_yaml(text, "packaging/preflight.example.yaml").unwrap();
        assert_eq!(s, Settings::default());
        // `from_yaml` merges the family caps over the defaults; the file must still list
        // every one itself, and every setting of the engine and the milter.
        let mut default = serde_json::to_value(Config::default()).unwrap();
        default["milter"] = serde_json::to_value(MilterConfig::default()).unwrap();
        default["dns"] = serde_json::to_value(crate::dns::DnsConfig::default()).unwrap();
        let example: Value = serde_saphyr::from_str(text).unwrap();
        assert_eq!(
            missing_keys(&default, &example, text, ""),
            Vec::<String>::new(),
            "settings missing from the example"
        );
    }

    #[test]
    fn unknown_fields_are_errors_with_a_place() {
        let e = Config::from_yaml("thresholds: {flag: 4, reject: 8}\nlimitz: {}\n", "c.yaml")
            .unwrap_err();
        assert!(e.to_string().starts_with("c.yaml:2:"), "{e}");
        assert_eq!(e.exit_code(), 78);
        // The place once, as `file:line:column`, then what is wrong.
        let e = Config::from_yaml("limitz: {}\n", "c2.yaml").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("c2.yaml:1:1: unknown field `limitz`"),
            "{e}"
        );
        let e = Config::from_yaml("limits:\n  max_attachments: [\n", "c3.yaml").unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("c3.yaml:"), "{text}");
        assert!(
            !text.contains("line ") && !text.contains("error:"),
            "{text}"
        );
        assert!(!text.contains('\n'), "one line: {text}");
    }
}
