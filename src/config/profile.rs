//! Receiver profiles: what one kind of receiver accepts (`limits.profile: gmail`,
//! `--profile gmail`). A profile is a file, `rules/profiles/<name>.yaml` (shipped) or
//! `<rules dir>/profiles/<name>.yaml` (local, replacing a shipped one of that name):
//!
//! ```yaml
//! name: gmail
//! receiver: Gmail's limit            # how findings name the limit's owner
//! summary: Gmail and Google Workspace
//! limits: { max_message_bytes: 26214400, max_recipients: 100 }
//! thresholds: { flag: 5, reject: 10 } # optional
//! overrides:                          # optional: as a rule pack's overrides
//!   - id: SIZE001
//!     predicts: ["552 5.3.4 Your message exceeded Google's message size limits. ..."]
//! ```
//!
//! The limits fill in what the configuration leaves unset (`limits.max_message_bytes`,
//! `limits.max_recipients`); thresholds replace the default ones (thresholds configured
//! to anything else win); the overrides apply after the shipped packs and before the
//! local ones, so the provider's reply texts come first in its rules' `predicts`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, ErrorKind};
use crate::report::Thresholds;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/profiles.rs"));
}

/// What a profile sets for the size and recipient checks.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileLimits {
    /// The largest message the receiver takes, in bytes.
    pub max_message_bytes: usize,
    /// The most recipients of one message.
    pub max_recipients: usize,
}

/// A receiver profile, read from its file.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// Its name (the file's name without `.yaml`).
    pub name: String,
    /// How findings name whose limit it is ("Gmail's limit").
    pub receiver: String,
    /// One line on what receiver it describes.
    pub summary: String,
    /// Its limits.
    pub limits: ProfileLimits,
    /// Thresholds in place of the default ones, if it has any.
    pub thresholds: Option<Thresholds>,
    /// Where it was read from, and its text: the rule loader applies its `overrides:`.
    pub source: (String, String),
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: String,
    receiver: String,
    summary: String,
    limits: ProfileLimits,
    #[serde(default)]
    thresholds: Option<Thresholds>,
    /// Read by the rule loader, which checks each entry as it does a pack's.
    #[serde(default)]
    #[allow(dead_code)]
    overrides: Option<serde::de::IgnoredAny>,
}

impl Profile {
    /// Parses a profile file's text (`file` names it in errors).
    pub fn parse(text: &str, file: &str) -> Result<Profile, Error> {
        let f: File = serde_saphyr::from_str(text).map_err(|e| {
            let (l, col, msg) = crate::util::yaml_error(&e);
            Error::new(ErrorKind::Config, format!("{file}:{l}:{col}: {msg}"))
        })?;
        let stem = Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if f.name != stem {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "{file}: profile `{}` must be in a file named {}.yaml",
                    f.name, f.name
                ),
            ));
        }
        if let Some(t) = f.thresholds
            && !(t.flag > 0.0 && t.reject >= t.flag)
        {
            return Err(Error::new(
                ErrorKind::Config,
                format!("{file}: thresholds: need 0 < flag <= reject"),
            ));
        }
        Ok(Profile {
            name: f.name,
            receiver: f.receiver,
            summary: f.summary,
            limits: f.limits,
            thresholds: f.thresholds,
            source: (file.to_string(), text.to_string()),
        })
    }

    /// The profile called `name`: the last local one of that name in `rules_dirs`
    /// (`<dir>/profiles/<name>.yaml`), else the shipped one. An unknown name is a
    /// configuration error that lists the known ones.
    pub fn find(name: &str, rules_dirs: &[PathBuf]) -> Result<Profile, Error> {
        for dir in rules_dirs.iter().rev() {
            let p = dir.join("profiles").join(format!("{name}.yaml"));
            if p.is_file() {
                let text = Error::read_config_text(&p, "profile")?;
                return Profile::parse(&text, &p.display().to_string());
            }
        }
        let shipped = embedded::PROFILES
            .iter()
            .find(|(f, _)| Path::new(f).file_stem().and_then(|s| s.to_str()) == Some(name));
        match shipped {
            Some((f, text)) => Profile::parse(text, f),
            None => Err(Error::new(
                ErrorKind::Config,
                format!(
                    "limits.profile: unknown profile `{name}` (known: {})",
                    Profile::names(rules_dirs).join(", ")
                ),
            )),
        }
    }

    /// The names of every profile: shipped and in `rules_dirs`, sorted.
    pub fn names(rules_dirs: &[PathBuf]) -> Vec<String> {
        let mut names: Vec<String> = embedded::PROFILES
            .iter()
            .filter_map(|(f, _)| Path::new(f).file_stem()?.to_str().map(str::to_string))
            .collect();
        for dir in rules_dirs {
            if let Ok(entries) = std::fs::read_dir(dir.join("profiles")) {
                names.extend(entries.filter_map(|e| {
                    let p = e.ok()?.path();
                    (p.extension()? == "yaml")
                        .then(|| p.file_stem()?.to_str().map(str::to_string))?
                }));
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

/// The shipped default profile's limits, without reading its file (a test keeps the two
/// the same): the limits in force before an engine resolves the configured profile.
pub(crate) const DEFAULT: (&str, usize, usize) =
    ("Postfix's default message_size_limit", 10_240_000, 1_000);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profiles_parse_and_the_default_matches_its_file() {
        let names = Profile::names(&[]);
        assert_eq!(names, ["gmail", "microsoft", "postfix"]);
        for n in &names {
            let p = Profile::find(n, &[]).unwrap();
            assert_eq!(&p.name, n);
            assert!(p.limits.max_message_bytes > 1_000_000, "{n}");
        }
        let postfix = Profile::find("postfix", &[]).unwrap();
        assert_eq!(
            (
                postfix.receiver.as_str(),
                postfix.limits.max_message_bytes,
                postfix.limits.max_recipients
            ),
            DEFAULT
        );
        let e = Profile::find("hotmail", &[]).unwrap_err().to_string();
        assert!(
            e.contains("unknown profile `hotmail`") && e.contains("gmail"),
            "{e}"
        );
    }

    #[test]
    fn a_local_profile_replaces_a_shipped_one_and_is_checked() {
        let dir = std::env::temp_dir().join(format!("preflight-profiles-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("profiles")).unwrap();
        std::fs::write(
            dir.join("profiles/gmail.yaml"),
            "name: gmail\nreceiver: our relay\nsummary: s\nlimits: {max_message_bytes: 5000, max_recipients: 5}\nthresholds: {flag: 3, reject: 6}\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("profiles/relay.yaml"),
            "name: other\nreceiver: r\nsummary: s\nlimits: {max_message_bytes: 1, max_recipients: 1}\n",
        )
        .unwrap();
        let dirs = [dir.clone()];
        let p = Profile::find("gmail", &dirs).unwrap();
        assert_eq!(p.limits.max_recipients, 5);
        assert_eq!(p.thresholds.unwrap().reject, 6.0);
        assert!(Profile::names(&dirs).contains(&"relay".to_string()));
        let e = Profile::find("relay", &dirs).unwrap_err().to_string();
        assert!(e.contains("must be in a file named other.yaml"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
