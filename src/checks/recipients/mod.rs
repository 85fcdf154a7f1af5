//! The `recipients` family: the envelope recipients (RCPT TO) and the visible recipient
//! fields as one message's audience: address syntax (RCPT001), how many (RCPT002), many
//! domains shown to each other in To of one message that is not list traffic (RCPT003),
//! and domains one typing slip away from a big mailbox provider's (RCPT005, `typo.rs`);
//! and, online, recipient domains that cannot receive mail (RCPT004).

mod typo;

use std::collections::BTreeSet;

use super::auth::domain_of;
use super::{Check, Ctx};
use crate::dns::{Answer, Answers, Query, RecordType};
use crate::envelope::Envelope;
use crate::message::Message;
use crate::message::links::registrable;

/// Envelope and visible recipients.
pub(crate) struct RecipientsCheck;

/// Recipients in To from this many addresses...
const DISCLOSED_MIN: usize = 10;
/// ...at this many organisational domains make RCPT003.
const DISCLOSED_DOMAINS: usize = 5;

/// Why `addr` is not an RFC 5321 §4.1.2 mailbox (`Local-part "@" Domain`), or `None`.
/// SMTPUTF8 (RFC 6531) addresses with UTF-8 in either part are accepted.
pub(crate) fn rcpt_syntax_error(addr: &str) -> Option<&'static str> {
    if addr.is_empty() {
        return Some("it is empty");
    }
    if addr.len() > 254 {
        // A path is at most 256 octets with its angle brackets (RFC 5321 §4.5.3.1.3).
        return Some("it is longer than 254 octets");
    }
    if addr.chars().any(char::is_control) {
        return Some("it contains control characters");
    }
    let (local, domain) = if let Some(rest) = addr.strip_prefix('"') {
        // A quoted local part: up to the closing quote, escapes allowed.
        let mut escaped = false;
        let mut end = None;
        for (i, c) in rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            return Some("its quoted local part is not closed");
        };
        let Some(domain) = rest[end + 1..].strip_prefix('@') else {
            return Some("there is no @ after the quoted local part");
        };
        if domain.chars().any(char::is_whitespace) {
            return Some("the domain contains white space");
        }
        (&addr[..end + 2], domain)
    } else {
        if addr.chars().any(char::is_whitespace) {
            return Some("it contains white space outside quotes");
        }
        let Some((local, domain)) = addr.split_once('@') else {
            return Some("it has no @");
        };
        let atext = |c: char| {
            c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
        };
        if local.is_empty() {
            return Some("the local part before @ is empty");
        }
        if local.split('.').any(|atom| atom.is_empty()) {
            return Some("the local part has an empty atom (a leading, trailing or double dot)");
        }
        if !local.chars().all(|c| c == '.' || atext(c)) {
            return Some("the local part has characters that need quoting");
        }
        (local, domain)
    };
    if local.len() > 64 {
        return Some("the local part is longer than 64 octets");
    }
    if domain.contains('@') {
        return Some("it has more than one @");
    }
    if let Some(lit) = domain.strip_prefix('[') {
        let Some(inner) = lit.strip_suffix(']') else {
            return Some("the address literal is not closed with ]");
        };
        let ok = match inner.strip_prefix("IPv6:") {
            Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
            None => inner.parse::<std::net::Ipv4Addr>().is_ok(),
        };
        return (!ok).then_some("the address literal is not an IPv4 or IPv6 address");
    }
    if domain.is_empty() {
        return Some("the domain after @ is empty");
    }
    if domain.len() > 255 {
        return Some("the domain is longer than 255 octets");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return Some("the domain has an empty label (a leading, trailing or double dot)");
    }
    let ldh = |l: &str| {
        l.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.len() <= 63
    };
    if !labels.iter().all(|l| ldh(l)) {
        return Some("a domain label has characters other than letters, digits and hyphens");
    }
    if labels.len() < 2 {
        return Some("the domain is not fully qualified");
    }
    if labels
        .last()
        .is_some_and(|t| t.chars().all(|c| c.is_ascii_digit()))
    {
        return Some("the top-level domain is numeric (an IP address needs [brackets])");
    }
    None
}

impl Check for RecipientsCheck {
    fn ids(&self) -> &'static [&'static str] {
        &["RCPT001", "RCPT002", "RCPT003", "RCPT005"]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let rcpts = &cx.envelope.rcpt_to;
        if cx.on("RCPT001") {
            let bad: Vec<String> = rcpts
                .iter()
                .filter_map(|r| {
                    rcpt_syntax_error(r).map(|why| {
                        format!(
                            "\u{201c}{}\u{201d} ({why})",
                            crate::util::truncate_str(r, 80)
                        )
                    })
                })
                .collect();
            if !bad.is_empty() {
                let shown = bad.len().min(5);
                let more = bad.len() - shown;
                let mut m = format!(
                    "{} of {} recipients {} not a valid address: {}",
                    bad.len(),
                    rcpts.len(),
                    if bad.len() == 1 { "is" } else { "are" },
                    bad[..shown].join(", ")
                );
                if more > 0 {
                    m.push_str(&format!(" and {more} more"));
                }
                cx.hit("RCPT001", m, Vec::new());
            }
        }
        // The message parsed its address fields once; nothing is parsed here.
        let (to, cc) = (&msg.addresses().to, &msg.addresses().cc);
        if cx.on("RCPT002") {
            let limits = &cx.config.limits;
            let limit = limits.recipient_limit();
            let (count, whence) = if rcpts.is_empty() {
                let bcc = msg.addresses().bcc.len();
                (to.len() + cc.len() + bcc, "in To, Cc and Bcc")
            } else {
                (rcpts.len(), "in the envelope (RCPT TO)")
            };
            if count > limit {
                let whose = match limits.max_recipients {
                    Some(_) => "limits.max_recipients".to_string(),
                    None => format!("the {} profile", limits.profile),
                };
                cx.hit(
                    "RCPT002",
                    format!(
                        "The message has {count} recipients {whence}, over the limit of {limit} ({whose})"
                    ),
                    Vec::new(),
                );
            }
        }
        // List traffic (a discussion list's copy, with Cc'd maintainers at many companies)
        // is not one sender's bulk send; the audience of a bulk send sits in To.
        if cx.on("RCPT003") && to.len() >= DISCLOSED_MIN && msg.header("List-Id").is_none() {
            let domains: BTreeSet<String> = to
                .iter()
                .filter_map(|a| domain_of(a))
                .map(|d| registrable(&d).unwrap_or(d))
                .collect();
            if domains.len() >= DISCLOSED_DOMAINS {
                let evidence = msg
                    .header("To")
                    .map(|h| vec![msg.header_evidence(h)])
                    .unwrap_or_default();
                cx.hit(
                    "RCPT003",
                    format!(
                        "To shows {} recipients at {} different domains to each other",
                        to.len(),
                        domains.len()
                    ),
                    evidence,
                );
            }
        }
        if cx.on("RCPT005") {
            typo::check(msg, cx);
        }
    }
}

/// Recipient domains whose DNS says they take no mail (online: RCPT004).
pub(crate) struct RecipientDomainsCheck;

/// The most recipient domains looked up for one message.
const DOMAINS_MAX: usize = 20;
/// The most exchangers of one domain whose addresses are looked up.
const EXCHANGERS_MAX: usize = 5;

/// The recipients' addresses: the envelope's, or without one the To, Cc and Bcc
/// addresses, in order. Malformed addresses (RCPT001's) and address literals
/// (`bob@[192.0.2.7]`) are left out.
fn recipient_addresses<'m>(msg: &'m Message<'_>, envelope: &'m Envelope) -> Vec<&'m str> {
    let a = msg.addresses();
    let all: Vec<&str> = if envelope.rcpt_to.is_empty() {
        a.to.iter()
            .chain(&a.cc)
            .chain(&a.bcc)
            .map(String::as_str)
            .collect()
    } else {
        envelope.rcpt_to.iter().map(String::as_str).collect()
    };
    all.into_iter()
        .filter(|addr| {
            rcpt_syntax_error(addr).is_none()
                && addr
                    .rsplit_once('@')
                    .is_some_and(|(_, d)| !d.starts_with('['))
        })
        .collect()
}

/// The distinct recipient domains ([`recipient_addresses`]), lower case, in first-seen
/// order, at most [`DOMAINS_MAX`].
fn recipient_domains(msg: &Message<'_>, cx: &Ctx<'_>) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for addr in recipient_addresses(msg, cx.envelope) {
        let Some((_, domain)) = addr.rsplit_once('@') else {
            continue;
        };
        let domain = domain.to_ascii_lowercase();
        if let Some((_, n)) = out.iter_mut().find(|(d, _)| *d == domain) {
            *n += 1;
        } else if out.len() < DOMAINS_MAX {
            out.push((domain, 1));
        }
    }
    out
}

/// What the DNS says about a domain as a mail destination.
#[derive(Debug, PartialEq)]
enum Destination {
    /// Not decided yet: these questions are still open.
    Ask(Vec<Query>),
    /// Mail can be delivered.
    Fine,
    /// The DNS did not answer (a timeout, a failure): not decided, and why.
    Unknown(String),
    /// Mail cannot be delivered, and why.
    Refuses(String),
}

/// Whether `a` says "no such records" (NODATA or NXDOMAIN).
fn none(a: Option<&Answer>) -> bool {
    matches!(a, Some(Answer::NoData | Answer::NxDomain))
}

/// Addresses `qs` answered, not all "none": fine when one has records, else unknown for
/// the first that failed.
fn undecided(qs: &[Query], answers: &Answers) -> Destination {
    if qs
        .iter()
        .any(|q| matches!(answers.get(q), Some(Answer::Records(_))))
    {
        return Destination::Fine;
    }
    qs.iter()
        .find_map(|q| match answers.get(q) {
            Some(Answer::Failed(why)) => Some(Destination::Unknown(format!("{q}: {why}"))),
            _ => None,
        })
        .unwrap_or(Destination::Fine)
}

/// Decides `domain` from `answers` as a sending MTA would (RFC 5321 §5.1, RFC 7505): its
/// MX records, a null MX, else its own address; with MX records, whether any exchanger
/// has an address.
fn destination(domain: &str, answers: &Answers) -> Destination {
    let mx = Query::new(domain, RecordType::Mx);
    let addresses = |host: &str| {
        [
            Query::new(host, RecordType::A),
            Query::new(host, RecordType::Aaaa),
        ]
    };
    match answers.get(&mx) {
        None => Destination::Ask(vec![mx]),
        Some(Answer::NxDomain) => {
            Destination::Refuses(format!("{domain} does not exist (NXDOMAIN)"))
        }
        Some(Answer::Failed(why)) => Destination::Unknown(format!("{domain} MX: {why}")),
        Some(Answer::NoData) => {
            // No MX: the domain's own address is the implicit exchanger.
            let qs = addresses(domain);
            let open: Vec<Query> = qs.iter().filter(|q| !answers.has(q)).cloned().collect();
            if !open.is_empty() {
                return Destination::Ask(open);
            }
            if qs.iter().all(|q| none(answers.get(q))) {
                Destination::Refuses(format!("{domain} has no MX record and no address"))
            } else {
                undecided(&qs, answers)
            }
        }
        Some(Answer::Records(records)) => {
            let mut hosts: Vec<(u16, &str)> = records
                .iter()
                .filter_map(|r| {
                    let (pref, host) = r.split_once(' ')?;
                    Some((pref.parse().ok()?, host.trim()))
                })
                .collect();
            hosts.sort();
            if hosts.len() == 1 && hosts[0].1 == "." {
                return Destination::Refuses(format!(
                    "{domain} publishes a null MX (RFC 7505): it accepts no mail"
                ));
            }
            let hosts: Vec<&str> = hosts
                .iter()
                .map(|(_, h)| *h)
                .filter(|h| *h != ".")
                .take(EXCHANGERS_MAX)
                .collect();
            if hosts.is_empty() {
                return Destination::Fine;
            }
            let qs: Vec<Query> = hosts.iter().flat_map(|h| addresses(h)).collect();
            let open: Vec<Query> = qs.iter().filter(|q| !answers.has(q)).cloned().collect();
            if !open.is_empty() {
                return Destination::Ask(open);
            }
            if qs.iter().all(|q| none(answers.get(q))) {
                Destination::Refuses(format!(
                    "the mail servers of {domain} ({}) have no address",
                    hosts.join(", ")
                ))
            } else {
                undecided(&qs, answers)
            }
        }
    }
}

impl Check for RecipientDomainsCheck {
    fn ids(&self) -> &'static [&'static str] {
        &["RCPT004"]
    }

    fn online(&self) -> bool {
        true
    }

    fn lookups(&self, msg: &Message<'_>, cx: &Ctx<'_>) -> Vec<Query> {
        let (Some(answers), true) = (cx.answers(), cx.on("RCPT004")) else {
            return Vec::new();
        };
        recipient_domains(msg, cx)
            .into_iter()
            .flat_map(|(d, _)| match destination(&d, answers) {
                Destination::Ask(q) => q,
                _ => Vec::new(),
            })
            .collect()
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let Some(answers) = cx.answers() else {
            return;
        };
        if !cx.on("RCPT004") {
            return;
        }
        for (domain, n) in recipient_domains(msg, cx) {
            match destination(&domain, answers) {
                Destination::Refuses(why) => {
                    let whom = if n == 1 {
                        "1 recipient".to_string()
                    } else {
                        format!("{n} recipients")
                    };
                    cx.hit("RCPT004", format!("{why}: {whom} there"), Vec::new());
                }
                Destination::Unknown(why) => cx.not_checked("RCPT004", why),
                Destination::Ask(qs) => {
                    // Never answered: the answers given did not have it, or the rounds
                    // ran out.
                    let q = qs.first().map(|q| q.to_string()).unwrap_or_default();
                    cx.not_checked("RCPT004", format!("{q}: no answer"));
                }
                Destination::Fine => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rcpt_syntax_error;
    use crate::Envelope;
    use crate::config::Config;

    #[test]
    fn rfc5321_mailbox_syntax() {
        for ok in [
            "bob@example.org",
            "bob.smith+tag@mail.example.org",
            "\"bob smith\"@example.org",
            "\"a\\\"b\"@example.org",
            "bob@[192.0.2.1]",
            "bob@[IPv6:2001:db8::1]",
            "jos\u{e9}@b\u{fc}cher.example",
            "o'brien@example.co.uk",
        ] {
            assert_eq!(rcpt_syntax_error(ok), None, "{ok}");
        }
        for bad in [
            "",
            "bob",
            "bob@",
            "@example.org",
            "bob@@example.org",
            "bob@example..org",
            "bob.@example.org",
            ".bob@example.org",
            "bo b@example.org",
            "bob@localhost",
            "bob@example.123",
            "bob@-example.org",
            "bob@exa_mple.org",
            "bob@[300.1.1.1]",
            "bob@[192.0.2.1",
            "\"bob@example.org",
            "a,b@example.org",
            "bob@example.org\u{7f}",
        ] {
            assert!(rcpt_syntax_error(bad).is_some(), "{bad}");
        }
        let long = format!("{}@example.org", "a".repeat(65));
        assert!(rcpt_syntax_error(&long).is_some());
    }

    fn fired(config: Config, env: &Envelope, raw: &str) -> Vec<String> {
        crate::checks::fired_with("recipients", config, env, raw.as_bytes())
    }

    #[test]
    fn recipient_count_by_profile_and_disclosed_domains() {
        let msg = "From: a@example.com\nTo: b@example.org\nSubject: hi\n\nbody\n";
        let env = |n: usize| Envelope {
            rcpt_to: (0..n).map(|i| format!("r{i}@example.org")).collect(),
            ..Envelope::default()
        };
        let mut c = Config::default();
        assert!(fired(c.clone(), &env(1000), msg).is_empty());
        assert_eq!(fired(c.clone(), &env(1001), msg), ["RCPT002"]);
        c.limits.profile = "gmail".into();
        assert_eq!(fired(c.clone(), &env(101), msg), ["RCPT002"]);
        c.limits.max_recipients = Some(2000);
        assert!(fired(c, &env(1500), msg).is_empty());
        // Without an envelope, the recipient fields count.
        let bcc: Vec<String> = (0..1001).map(|i| format!("r{i}@example.net")).collect();
        let many = format!(
            "From: a@example.com\nBcc: {}\nSubject: hi\n\nbody\n",
            bcc.join(", ")
        );
        assert_eq!(
            fired(Config::default(), &Envelope::default(), &many),
            ["RCPT002"]
        );
        // Ten recipients at five domains, shown to each other.
        let to: Vec<String> = (0..10)
            .map(|i| format!("p{i}@d{}.example", i % 5))
            .collect();
        let shown = format!(
            "From: a@example.com\nTo: {}\nSubject: hi\n\nbody\n",
            to.join(", ")
        );
        assert_eq!(
            fired(Config::default(), &Envelope::default(), &shown),
            ["RCPT003"]
        );
        // In Cc (a patch to maintainers at many companies), or list traffic: not a bulk send.
        let cc = shown.replace("\nTo: ", "\nTo: list@example.org\nCc: ");
        assert!(fired(Config::default(), &Envelope::default(), &cc).is_empty());
        let list = shown.replace(
            "Subject: hi",
            "List-Id: <dev.lists.example.org>\nSubject: hi",
        );
        assert!(fired(Config::default(), &Envelope::default(), &list).is_empty());
        // At one company they know each other.
        let to: Vec<String> = (0..10).map(|i| format!("p{i}@example.org")).collect();
        let team = format!(
            "From: a@example.com\nTo: {}\nSubject: hi\n\nbody\n",
            to.join(", ")
        );
        assert!(fired(Config::default(), &Envelope::default(), &team).is_empty());
        // A bad recipient.
        let e = Envelope {
            rcpt_to: vec!["ok@example.org".into(), "bad@@example.org".into()],
            ..Envelope::default()
        };
        assert_eq!(fired(Config::default(), &e, msg), ["RCPT001"]);
    }
}
