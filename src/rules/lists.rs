//! Data lists that rules implemented in code read: brand names and their sending domains,
//! abused top-level domains, free mailbox providers, the big mailbox providers' domains
//! that recipients' typos are made against. They ship in `rules/lists/` like the phrase lists; a local
//! rules directory replaces one by holding a file of the same name under `lists/`
//! (`/etc/preflight/rules.d/lists/abused-tlds.txt`), so operators can change them without
//! a rebuild.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::{SHIPPED_LISTS, parse_list};
use crate::error::{Error, ErrorKind};

/// A brand and the domains it really sends from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brand {
    /// The name as it appears in display names, lower case, letters and digits only
    /// (`wellsfargo`, `tmobile`).
    pub key: String,
    /// Domains (and their subdomains) the brand sends from.
    pub domains: Vec<String>,
}

/// What an attachment extension weighs (`rules/lists/attachment-extensions.txt`).
#[derive(Clone, Debug, PartialEq)]
pub struct ExtWeight {
    /// `None`: the rule's own action (reject); `Some(score)`: this score instead.
    pub score: Option<f64>,
    /// What the file is (`executable`, `script`, `disk-image`, ...).
    pub class: String,
}

/// A big mailbox provider's domain (`rules/lists/mailbox-providers.txt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxProvider {
    /// The domain, lower case (`gmail.com`).
    pub domain: String,
    /// Its characters, for comparing with recipient domains letter by letter.
    pub chars: Vec<char>,
}

/// The data lists of the code rules, parsed once when the rules load.
#[derive(Clone, Debug, Default)]
pub struct Lists {
    brands: Vec<Brand>,
    abused_tlds: HashSet<String>,
    freemail: HashSet<String>,
    extensions: HashMap<String, ExtWeight>,
    click_trackers: HashSet<String>,
    shorteners: HashSet<String>,
    hosting_platforms: HashSet<String>,
    /// The big mailbox providers' domains, most used first (`mailbox-providers`).
    mailbox_providers: Vec<MailboxProvider>,
    /// The same with the real domains close to them that are not typos (`!DOMAIN`).
    mailbox_known: HashSet<String>,
    /// Each brand's key, with the brand's index.
    brand_keys: HashMap<String, usize>,
    /// Each brand's key with its `i`s written as `l` (`fold_il`), with the brands' indexes.
    brand_folded: HashMap<String, Vec<usize>>,
    /// The longest brand key, in bytes.
    brand_key_max: usize,
    /// Confusable skeleton of each brand domain's name label, with the brand's index.
    brand_skeletons: HashMap<String, usize>,
    /// Every brand domain, with the brand's index.
    brand_domains: HashMap<String, usize>,
}

/// The names of the data lists code rules read.
pub const DATA_LISTS: &[&str] = &[
    "brands",
    "abused-tlds",
    "freemail",
    "attachment-extensions",
    "click-trackers",
    "url-shorteners",
    "hosting-platforms",
    "mailbox-providers",
];

fn shipped(name: &str) -> &'static str {
    let key = format!("rules/lists/{name}.txt");
    SHIPPED_LISTS
        .iter()
        .find(|(n, _)| *n == key)
        .map_or("", |(_, t)| t)
}

impl Lists {
    /// The shipped lists, each replaced by `DIR/lists/NAME.txt` of the last local
    /// directory that has one.
    pub fn load(local_dirs: &[impl AsRef<Path>]) -> Result<Lists, Error> {
        let mut texts: Vec<(String, String, String)> = DATA_LISTS
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    format!("rules/lists/{n}.txt"),
                    shipped(n).to_string(),
                )
            })
            .collect();
        for dir in local_dirs {
            for (name, origin, text) in &mut texts {
                let p = dir.as_ref().join("lists").join(format!("{name}.txt"));
                if p.is_file() {
                    *text = std::fs::read_to_string(&p).map_err(|e| {
                        Error::with_source(
                            ErrorKind::Rules,
                            format!("cannot read list {}: {e}", p.display()),
                            e,
                        )
                    })?;
                    *origin = p.display().to_string();
                }
            }
        }
        let mut lists = Lists::default();
        let mut problems = Vec::new();
        for (name, origin, text) in &texts {
            match name.as_str() {
                "brands" => match parse_brands(text) {
                    Ok(b) => lists.brands = b,
                    Err(e) => problems.push(list_problem(origin, &e)),
                },
                "abused-tlds" => {
                    lists.abused_tlds = parse_list(text)
                        .into_iter()
                        .map(|s| s.trim_start_matches('.').to_ascii_lowercase())
                        .collect()
                }
                "freemail" => {
                    lists.freemail = parse_list(text)
                        .into_iter()
                        .map(|s| s.to_ascii_lowercase())
                        .collect()
                }
                "url-shorteners" => {
                    lists.shorteners = parse_list(text)
                        .into_iter()
                        .map(|s| s.to_ascii_lowercase())
                        .collect()
                }
                "hosting-platforms" => {
                    lists.hosting_platforms = parse_list(text)
                        .into_iter()
                        .map(|s| s.trim_start_matches("*.").to_ascii_lowercase())
                        .collect()
                }
                "click-trackers" => {
                    lists.click_trackers = parse_list(text)
                        .into_iter()
                        .map(|s| s.to_ascii_lowercase())
                        .collect()
                }
                "mailbox-providers" => match parse_providers(text) {
                    Ok((providers, known)) => {
                        lists.mailbox_providers = providers;
                        lists.mailbox_known = known;
                    }
                    Err(e) => problems.push(list_problem(origin, &e)),
                },
                "attachment-extensions" => match parse_extensions(text) {
                    Ok(x) => lists.extensions = x,
                    Err(e) => problems.push(list_problem(origin, &e)),
                },
                _ => {}
            }
        }
        for (i, b) in lists.brands.iter().enumerate() {
            lists.brand_keys.entry(b.key.clone()).or_insert(i);
            lists
                .brand_folded
                .entry(fold_il(&b.key))
                .or_default()
                .push(i);
            lists.brand_key_max = lists.brand_key_max.max(b.key.len());
            for d in &b.domains {
                lists
                    .brand_skeletons
                    .entry(lookalike_skeleton(owner_label(d)))
                    .or_insert(i);
                lists.brand_domains.entry(d.clone()).or_insert(i);
            }
        }
        if problems.is_empty() {
            Ok(lists)
        } else {
            Err(Error::new(ErrorKind::Rules, problems.join("\n")))
        }
    }

    /// The shipped lists.
    pub fn shipped() -> Lists {
        Lists::load(&[] as &[&Path]).unwrap_or_default()
    }

    /// Brands and their domains.
    pub fn brands(&self) -> &[Brand] {
        &self.brands
    }

    /// The brand whose key (`wellsfargo`) is `key`.
    pub fn brand(&self, key: &str) -> Option<&Brand> {
        self.brand_keys.get(key).map(|&i| &self.brands[i])
    }

    /// The first brand `text` names that `wanted` accepts: a run of up to four of its
    /// words joined (`Wells Fargo`, `T-Mobile`), or, for brands written in Chinese or
    /// Japanese (without spaces between words), anywhere in the text.
    pub fn brand_named(&self, text: &str, wanted: impl Fn(&Brand) -> bool) -> Option<&Brand> {
        let mut found = None;
        word_runs(text, |r| {
            found = self.brand(r).filter(|b| wanted(b));
            found.is_some()
        });
        if found.is_none() && !text.is_ascii() {
            found = self.brands.iter().find(|b| {
                b.key.chars().next().is_some_and(|c| c as u32 >= 0x2e80)
                    && text.contains(b.key.as_str())
                    && wanted(b)
            });
        }
        found
    }

    /// The first brand that `unmasked` names and `text` does not, that `wanted` accepts:
    /// `unmasked` is `text` with its look-alikes read as the letters they imitate (a
    /// capital I as l, Cyrillic а as a). A run of up to four of its words spells the
    /// brand's key, where an `l` may also stand for an `i` (a lower-case l and a capital
    /// I are one glyph in most sans-serif fonts: "lRS", "OpenAl"), but the same run of
    /// `text` is not the key. A real `i` never stands for an `l` ("Dhi" is not DHL).
    pub fn brand_disguised(
        &self,
        text: &str,
        unmasked: &str,
        wanted: impl Fn(&Brand) -> bool,
    ) -> Option<&Brand> {
        let (written, read) = (text.to_lowercase(), unmasked.to_lowercase());
        let (ww, rw) = (words(&written), words(&read));
        if ww.len() != rw.len() {
            return None;
        }
        // Runs of up to four words, as written, as read and as read with i folded to l.
        let (mut w_run, mut r_run, mut folded) = (String::new(), String::new(), String::new());
        for i in 0..rw.len() {
            w_run.clear();
            r_run.clear();
            folded.clear();
            for j in i..rw.len().min(i + 4) {
                let r = rw[j];
                w_run.push_str(ww[j]);
                r_run.push_str(r);
                folded.extend(r.chars().map(|c| if c == 'i' { 'l' } else { c }));
                if folded.len() > self.brand_key_max {
                    break;
                }
                let Some(found) = self.brand_folded.get(folded.as_str()) else {
                    continue;
                };
                let hit = found.iter().map(|&k| &self.brands[k]).find(|b| {
                    w_run != b.key
                        && r_run
                            .chars()
                            .zip(b.key.chars())
                            .all(|(c, k)| c != 'i' || k == 'i')
                        && wanted(b)
                });
                if hit.is_some() {
                    return hit;
                }
            }
        }
        None
    }

    /// The shared domain of a web or app hosting platform that `domain` is a subdomain
    /// of (`myapp-1a2b3.firebaseapp.com` gives `firebaseapp.com`): anyone can make one.
    pub fn hosting_platform<'d>(&self, domain: &'d str) -> Option<&'d str> {
        let d = domain.trim_end_matches('.');
        let mut rest = d.split_once('.')?.1;
        loop {
            if self.hosting_platforms.contains(&rest.to_ascii_lowercase()) {
                return Some(rest);
            }
            match rest.split_once('.') {
                Some((_, tail)) if tail.contains('.') => rest = tail,
                _ => return None,
            }
        }
    }

    /// Whether `domain` is a free mailbox provider.
    pub fn is_freemail(&self, domain: &str) -> bool {
        self.freemail
            .contains(&domain.trim_end_matches('.').to_ascii_lowercase())
    }

    /// The big mailbox providers' domains that recipients' typos are made against
    /// (`gmail.com`, `hotmail.co.uk`), most used first.
    pub fn mailbox_providers(&self) -> &[MailboxProvider] {
        &self.mailbox_providers
    }

    /// Whether `domain` (lower case) is a mailbox provider's domain or a real domain
    /// listed as close to one (`!email.com`): either way, not a typo.
    pub fn is_known_mailbox_domain(&self, domain: &str) -> bool {
        self.mailbox_known.contains(domain)
    }

    /// Whether `host` is, or is under, an e-mail service provider's click-tracking
    /// domain.
    pub fn is_click_tracker(&self, host: &str) -> bool {
        under_any(&self.click_trackers, host)
    }

    /// A brand domain that `host` (lower case) carries as labels in front of another
    /// site's domain (`paypal.com.verify.example`), when the brand does not own `host`.
    pub fn borrowed_brand_domain<'h>(&self, host: &'h str) -> Option<&'h str> {
        // Label boundaries: a candidate runs from one boundary to a later one that is not
        // the end of the host.
        let starts: Vec<usize> = std::iter::once(0)
            .chain(host.match_indices('.').map(|(i, _)| i + 1))
            .collect();
        for (k, &s) in starts.iter().enumerate() {
            for &e in &starts[k + 1..] {
                let candidate = &host[s..e - 1];
                if let Some(&i) = self.brand_domains.get(candidate) {
                    return (!self.brands[i].owns(host)).then_some(candidate);
                }
            }
        }
        None
    }

    /// Whether `domain` is one of the brands' own domains (or under one).
    pub fn is_brand_domain(&self, domain: &str) -> bool {
        let mut rest = domain;
        loop {
            if self.brand_domains.contains_key(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, tail)) if tail.contains('.') => rest = tail,
                _ => return false,
            }
        }
    }

    /// Whether `host` is, or is under, a URL shortener.
    pub fn is_shortener(&self, host: &str) -> bool {
        under_any(&self.shorteners, host)
    }

    /// The brand whose domain name `domain`'s name label imitates: the same confusable
    /// skeleton (`paypa1`, `rnicrosoft`, Cyrillic look-alikes) under a domain the brand
    /// does not own.
    pub fn imitated_brand(&self, domain: &str) -> Option<&Brand> {
        let label = owner_label(domain);
        // Punycode labels are compared by what they show.
        let shown = if label.starts_with("xn--") {
            idna::domain_to_unicode(label).0
        } else {
            label.to_string()
        };
        let &i = self.brand_skeletons.get(&lookalike_skeleton(&shown))?;
        let b = &self.brands[i];
        (!b.owns(domain) && !b.domains.iter().any(|d| owner_label(d) == label)).then_some(b)
    }

    /// The weight of a file extension (lower case, no dot), when it is listed.
    pub fn extension(&self, ext: &str) -> Option<&ExtWeight> {
        self.extensions.get(ext)
    }

    /// The abused top-level domain (or public suffix, `ru.com`) that `host` ends with.
    pub fn abused_tld(&self, host: &str) -> Option<&str> {
        let host = host.trim_end_matches('.');
        let mut rest = host;
        // Longest suffix first: `x.ru.com` is under `ru.com` before `com`.
        loop {
            let (_, tail) = rest.split_once('.')?;
            if let Some(t) = self.abused_tlds.get(&tail.to_ascii_lowercase()) {
                return Some(t.as_str());
            }
            rest = tail;
        }
    }
}

/// A list problem as `file:line:column: -: problem` (the list parsers say `LINE: what`),
/// the form rule pack problems take.
fn list_problem(origin: &str, e: &str) -> String {
    match e.split_once(": ") {
        Some((line, what)) if line.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{origin}:{line}:1: -: {what}")
        }
        _ => format!("{origin}:1:1: -: {e}"),
    }
}

/// `key: domain domain ...` lines.
fn parse_brands(text: &str) -> Result<Vec<Brand>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Some((key, doms)) = l.split_once(':') else {
            return Err(format!("{}: expected `brand: domain ...`", i + 1));
        };
        let key = key.trim().to_lowercase();
        let domains: Vec<String> = doms
            .split_whitespace()
            .map(|d| d.trim_start_matches('.').to_ascii_lowercase())
            .collect();
        if key.is_empty() || !key.chars().all(char::is_alphanumeric) {
            return Err(format!(
                "{}: the brand must be letters and digits only",
                i + 1
            ));
        }
        if domains.is_empty() || domains.iter().any(|d| !d.contains('.')) {
            return Err(format!("{}: `{key}` needs at least one domain", i + 1));
        }
        out.push(Brand { key, domains });
    }
    Ok(out)
}

/// `DOMAIN` and `!DOMAIN` lines: the providers in order, and every domain listed (the
/// providers and the `!` ones); errors carry the line number.
fn parse_providers(text: &str) -> Result<(Vec<MailboxProvider>, HashSet<String>), String> {
    let (mut providers, mut known) = (Vec::new(), HashSet::new());
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (not_typo, domain) = match line.strip_prefix('!') {
            Some(d) => (true, d.trim()),
            None => (false, line),
        };
        let domain = domain.trim_end_matches('.').to_lowercase();
        if !domain.contains('.') || domain.contains(char::is_whitespace) {
            return Err(format!(
                "{}: expected a domain or `!DOMAIN`, got {line:?}",
                n + 1
            ));
        }
        if !not_typo {
            providers.push(MailboxProvider {
                chars: domain.chars().collect(),
                domain: domain.clone(),
            });
        }
        known.insert(domain);
    }
    Ok((providers, known))
}

/// Parses `EXTENSION WEIGHT CLASS` lines; errors carry the line number.
fn parse_extensions(text: &str) -> Result<HashMap<String, ExtWeight>, String> {
    let mut out = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut f = line.split_whitespace();
        let (Some(ext), Some(w), Some(class), None) = (f.next(), f.next(), f.next(), f.next())
        else {
            return Err(format!(
                "{}: expected `EXTENSION WEIGHT CLASS`, got {line:?}",
                n + 1
            ));
        };
        let score = match w {
            "reject" => None,
            s => match s.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
                _ => {
                    return Err(format!(
                        "{}: weight must be `reject` or a score >= 0, not {s:?}",
                        n + 1
                    ));
                }
            },
        };
        out.insert(
            ext.trim_start_matches('.').to_ascii_lowercase(),
            ExtWeight {
                score,
                class: class.to_string(),
            },
        );
    }
    Ok(out)
}

/// The words of a display name joined without separators, for each run of consecutive
/// words: "Wells Fargo Alerts" gives `wellsfargo`, `wellsfargoalerts`, `fargo`, ...
/// Calls `f` with each run until it returns true.
pub fn word_runs(name: &str, mut f: impl FnMut(&str) -> bool) -> bool {
    let lower = name.to_lowercase();
    let words = words(&lower);
    let mut run = String::new();
    for i in 0..words.len() {
        run.clear();
        for w in &words[i..words.len().min(i + 4)] {
            run.push_str(w);
            if f(&run) {
                return true;
            }
        }
    }
    false
}

/// The words of `text`: its runs of letters and digits.
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect()
}

/// `s` with every `i` written as `l`: the letters a disguise swaps.
fn fold_il(s: &str) -> String {
    s.replace('i', "l")
}

/// The label that names the owner of `domain`: the one before the public suffix, with the
/// usual two-level country suffixes (`co.uk`, `com.au`) taken into account.
pub fn owner_label(domain: &str) -> &str {
    let labels: Vec<&str> = domain.trim_end_matches('.').split('.').collect();
    let n = labels.len();
    if n >= 3
        && labels[n - 1].len() == 2
        && matches!(
            labels[n - 2],
            "co" | "com" | "net" | "org" | "ac" | "gov" | "ne" | "or" | "gob" | "edu"
        )
    {
        labels[n - 3]
    } else if n >= 2 {
        labels[n - 2]
    } else {
        labels.first().copied().unwrap_or("")
    }
}

/// Whether `host` (lower case, as links store it) is, or is under, one of `set`'s
/// domains.
fn under_any(set: &HashSet<String>, host: &str) -> bool {
    let mut rest = host.trim_end_matches('.');
    loop {
        if set.contains(rest) {
            return true;
        }
        match rest.split_once('.') {
            Some((_, tail)) if tail.contains('.') => rest = tail,
            _ => return false,
        }
    }
}

/// A name's confusable skeleton, lower case: `paypa1`, `rnicrosoft` and `pаypal` (with a
/// Cyrillic а) give `paypal`, `microsoft`, `paypal`. Non-ASCII names go through the
/// Unicode TR39 skeleton first; ASCII names (nearly every link) only through the ASCII
/// look-alikes, which is what TR39 does to them and much cheaper.
pub fn lookalike_skeleton(name: &str) -> String {
    if name.is_ascii() {
        return ascii_skeleton(name);
    }
    let s: String = unicode_security::skeleton(name).collect();
    ascii_skeleton(&s.to_lowercase())
}

fn ascii_skeleton(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            '0' => 'o',
            '1' | '|' => 'l',
            c => c,
        })
        .collect();
    mapped
        .replace("rn", "m")
        .replace("vv", "w")
        .replace("cl", "d")
}

/// Whether `domain` is `base` or a subdomain of it.
pub fn within(domain: &str, base: &str) -> bool {
    let d = domain.trim_end_matches('.');
    d.eq_ignore_ascii_case(base)
        || (d.len() > base.len()
            && d.as_bytes()[d.len() - base.len() - 1] == b'.'
            && d[d.len() - base.len()..].eq_ignore_ascii_case(base))
}

impl Brand {
    /// Whether mail from `domain` can really come from this brand: one of its domains or
    /// a subdomain, or a domain whose owner label is the brand itself (`amazon.de`).
    pub fn owns(&self, domain: &str) -> bool {
        let d = domain.trim_end_matches('.').to_ascii_lowercase();
        self.domains.iter().any(|b| within(&d, b))
            || owner_label(&d) == self.key
            || d.rsplit('.').next() == Some(self.key.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_lists_parse() {
        let l = Lists::load(&[] as &[&Path]).expect("shipped lists parse");
        assert!(l.brands().len() > 50);
        assert_eq!(l.abused_tld("news.example.shop"), Some("shop"));
        assert_eq!(l.abused_tld("a.b.ru.com"), Some("ru.com"));
        assert_eq!(l.abused_tld("example.com"), None);
        assert_eq!(l.abused_tld("shop"), None);
        assert!(l.is_freemail("Yahoo.com"));
        assert_eq!(
            l.hosting_platform("casino-1a2b3.firebaseapp.com"),
            Some("firebaseapp.com")
        );
        assert_eq!(l.hosting_platform("firebaseapp.com"), None);
        assert_eq!(l.hosting_platform("mail.example.com"), None);
        assert!(l.brand("paypal").is_some());
        assert!(!l.is_freemail("example.com"));
        assert_eq!(l.mailbox_providers()[0].domain, "gmail.com");
        assert!(l.is_known_mailbox_domain("gmx.at"));
        assert!(l.is_known_mailbox_domain("email.com"));
        assert!(
            !l.mailbox_providers()
                .iter()
                .any(|p| p.domain == "email.com")
        );
        assert!(!l.is_known_mailbox_domain("gmial.com"));
    }

    #[test]
    fn brand_ownership() {
        let b = Brand {
            key: "paypal".into(),
            domains: vec!["paypal.com".into()],
        };
        assert!(b.owns("paypal.com"));
        assert!(b.owns("mail.paypal.com"));
        assert!(b.owns("paypal.co.uk"));
        assert!(b.owns("post.card.paypal"));
        assert!(!b.owns("paypal-secure.com"));
        assert!(!b.owns("notpaypal.com"));
        assert!(!b.owns("paypal.com.evil.example"));
    }

    #[test]
    fn word_runs_join_words() {
        let mut seen = Vec::new();
        word_runs("Wells-Fargo Alerts", |r| {
            seen.push(r.to_string());
            false
        });
        assert!(seen.contains(&"wellsfargo".to_string()));
        assert!(word_runs("T-Mobile", |r| r == "tmobile"));
        assert!(!word_runs("Tmobile fan", |r| r == "mobile"));
    }

    #[test]
    fn local_lists_replace_shipped_ones() {
        let dir = std::env::temp_dir().join(format!("preflight-lists-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("lists")).unwrap();
        std::fs::write(dir.join("lists/abused-tlds.txt"), "# mine\nexample\n").unwrap();
        std::fs::write(dir.join("lists/brands.txt"), "acme: acme.example\n").unwrap();
        let l = Lists::load(&[&dir]).unwrap();
        assert_eq!(l.abused_tld("x.example"), Some("example"));
        assert_eq!(l.abused_tld("x.shop"), None);
        assert_eq!(l.brands().len(), 1);
        std::fs::write(
            dir.join("lists/mailbox-providers.txt"),
            "# mine\nGmail.com\n! gmial.com\n",
        )
        .unwrap();
        let l = Lists::load(&[&dir]).unwrap();
        assert_eq!(l.mailbox_providers().len(), 1);
        assert!(l.is_known_mailbox_domain("gmail.com") && l.is_known_mailbox_domain("gmial.com"));
        std::fs::write(dir.join("lists/mailbox-providers.txt"), "gmail\n").unwrap();
        let e = Lists::load(&[&dir]).unwrap_err().to_string();
        assert!(
            e.contains("mailbox-providers.txt:1:1: -: expected a domain or `!DOMAIN`"),
            "{e}"
        );
        std::fs::remove_file(dir.join("lists/mailbox-providers.txt")).unwrap();
        std::fs::write(dir.join("lists/brands.txt"), "Not A Key: x\n").unwrap();
        let e = Lists::load(&[&dir]).unwrap_err().to_string();
        assert!(
            e.contains("brands.txt:1:1: -: the brand must be letters and digits only"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
