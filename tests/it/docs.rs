//! What the README, the packaging files and Cargo.toml say is true: the rule families,
//! the samples and their verdicts, the install steps against `packaging/`, and version
//! ranges for every dependency.

use std::collections::BTreeSet;

use preflight::{Config, Engine, Envelope};

use crate::support::{engine, path, read_text, sample};

/// The README section that starts with heading `title`, up to the next `## ` heading.
fn section<'a>(readme: &'a str, title: &str) -> &'a str {
    let from = readme
        .find(&format!("\n## {title}\n"))
        .unwrap_or_else(|| panic!("README has no `## {title}`"));
    let rest = &readme[from + 1..];
    let to = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 4);
    &rest[..to]
}

/// The README names every family the shipped rules have.
#[test]
fn readme_lists_every_rule_family() {
    let readme = read_text("README.md");
    let start = "one file per family (";
    let from = readme.find(start).expect("README lists the families") + start.len();
    let to = from + readme[from..].find(')').unwrap();
    let listed: BTreeSet<String> = readme[from..to]
        .split(',')
        .map(|f| f.trim().trim_matches('`').to_string())
        .collect();
    let rules = preflight::rules::RuleSet::load(&[]).unwrap();
    let families: BTreeSet<String> = rules.rules().iter().map(|r| r.family.clone()).collect();
    assert_eq!(listed, families);
    // ... and they are the shipped files.
    for f in &families {
        assert!(path(&format!("rules/{f}.yaml")).is_file(), "rules/{f}.yaml");
    }
}

/// Every bad sample is in the README's table with the verdict it gets, and shows the
/// family its name says.
#[test]
fn readme_samples_table_is_true() {
    let readme = read_text("README.md");
    let engine = engine();
    let mut rows = BTreeSet::new();
    for line in readme.lines().filter(|l| l.starts_with("| `bad-")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`');
        let raw = sample(name);
        let r = engine.check(&raw, &Envelope::default());
        assert_eq!(cells[2], r.verdict.as_str(), "{name}: {:#?}", r.findings);
        let family = name
            .trim_start_matches("bad-")
            .split(['-', '.'])
            .next()
            .unwrap();
        // (The content model reads every text: it may add to any sample's findings.)
        assert!(
            r.findings
                .iter()
                .all(|f| f.family == family || f.family == "model"),
            "{name} shows only {family} problems: {:?}",
            r.rule_ids()
        );
        rows.insert(name.to_string());
    }
    let samples: BTreeSet<String> = std::fs::read_dir(path("samples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("bad-"))
        .collect();
    assert_eq!(rows, samples, "every bad sample has a row in the README");
}

/// The install steps put the binary and the configuration where the systemd unit looks
/// for them, install the unit that is in `packaging/`, and set Postfix settings the way
/// `packaging/postfix-main.cf` does.
#[test]
fn readme_install_steps_match_packaging() {
    let readme = read_text("README.md");
    let install = section(&readme, "Install");
    let unit = read_text("packaging/preflight-milter.service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("the unit has ExecStart");
    let words: Vec<&str> = exec.split_whitespace().collect();
    let binary = words[0];
    assert!(
        install.contains(&format!("target/release/preflight {binary}")),
        "README installs the binary as {binary}:\n{install}"
    );
    let config = words[words.iter().position(|w| *w == "--config").unwrap() + 1];
    assert!(
        install.contains(&format!("packaging/preflight.example.yaml {config}")),
        "README installs the configuration as {config}:\n{install}"
    );
    let listen = words[words.iter().position(|w| *w == "--listen").unwrap() + 1];
    assert!(install.contains("packaging/preflight-milter.service /etc/systemd/system/"));
    assert!(install.contains("systemctl enable --now preflight-milter"));
    let user = unit.lines().find_map(|l| l.strip_prefix("User=")).unwrap();
    assert!(
        install.contains(&format!(
            "useradd --system --user-group --no-create-home --shell /usr/sbin/nologin {user}\n"
        )),
        "README creates the unit's user {user}:\n{install}"
    );
    // Every Postfix setting the README sets is the one packaging/postfix-main.cf has, and
    // the milter address is the one the unit listens on.
    let main_cf = read_text("packaging/postfix-main.cf");
    let from = install.find("postconf -e").expect("README sets Postfix up");
    let mut command = String::new();
    for line in install[from..].lines() {
        command.push_str(line.trim_end_matches('\\'));
        if !line.ends_with('\\') {
            break;
        }
    }
    let settings: Vec<&str> = command.split('\'').skip(1).step_by(2).collect();
    assert!(settings.len() >= 3, "{install}");
    for s in settings {
        assert!(
            main_cf.lines().any(|l| l.trim() == s),
            "`{s}` is not in packaging/postfix-main.cf"
        );
    }
    assert!(install.contains(&format!("smtpd_milters = {listen}")));
}

/// The example configuration quotes the reply the milter really gives by default.
#[test]
fn example_config_quotes_the_default_reply() {
    use preflight::milter::protocol::Response;
    let raw = sample("canary.eml");
    let report = Engine::new(Config::default())
        .unwrap()
        .check(&raw, &Envelope::default());
    let (replies, _) =
        preflight::milter::reply::decide(&preflight::config::MilterConfig::default(), &report);
    let Some(Response::ReplyCode(reply)) = replies.first() else {
        panic!("the canary is refused: {replies:?}");
    };
    // The comments of the example, joined into one text.
    let example = read_text("packaging/preflight.example.yaml");
    let comments: Vec<&str> = example
        .lines()
        .filter_map(|l| l.trim().strip_prefix('#'))
        .map(str::trim)
        .collect();
    let text = comments.join(" ");
    assert!(
        text.contains(&format!("\"{reply}\"")),
        "the example should quote {reply:?}"
    );
}

/// Every dependency has a version range: `*` resolves to whatever is newest outside the
/// lock file, and crates.io refuses to publish it.
#[test]
fn every_dependency_has_a_version_range() {
    let toml = read_text("Cargo.toml");
    let mut section = String::new();
    let mut checked = 0;
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
            continue;
        }
        if !section.ends_with("dependencies]") || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, spec) = line.split_once('=').unwrap();
        let version = if spec.trim().starts_with('"') {
            spec.trim().trim_matches('"').to_string()
        } else {
            let v = spec.split("version").nth(1).unwrap_or_else(|| {
                panic!("{} has no version: {line}", name.trim());
            });
            v.split('"').nth(1).unwrap().to_string()
        };
        assert!(
            !version.is_empty() && !version.contains('*'),
            "{}: `{version}` is not a version range",
            name.trim()
        );
        checked += 1;
    }
    assert!(checked > 10);
}
