//! The `reputation` family, online: what receivers look up about the sending MTA and the
//! domains in a message before they read it. The sending IPs (`sending.ips`) on DNS
//! blocklists (REP001), the From and link domains on domain blocklists (REP002), the
//! sending IPs' reverse DNS: none (REP003) or not pointing back (REP004), and the EHLO
//! name (`sending.helo`) not resolving to a sending IP (REP005).
//!
//! Which blocklists are asked is `reputation:` of the configuration; what their answers
//! mean comes from `rules/lists/blocklists.yaml`. An answer that says the query was refused
//! (Spamhaus's 127.255.255.254 for public resolvers, say) is an operational problem:
//! the rule is reported as not checked, never as a listing.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::OnceLock;

use serde::Deserialize;

use super::{Check, Ctx};
use crate::dns::{Answer, Answers, Query, RecordType};
use crate::message::Message;

/// The reputation checks.
pub(crate) struct ReputationCheck;

/// At most this many domains of one message are asked about (From's first, then the
/// links' in name order).
const DOMAINS_MAX: usize = 20;
/// At most this many PTR names of one address are confirmed.
const PTR_NAMES_MAX: usize = 5;

/// One blocklist of `rules/lists/blocklists.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Blocklist {
    zone: String,
    kind: Kind,
    name: String,
    #[allow(dead_code)]
    about: String,
    delist: String,
    #[serde(default)]
    codes: BTreeMap<String, Code>,
    #[serde(default)]
    bits: BTreeMap<u32, Code>,
    #[serde(default)]
    refused: BTreeMap<String, String>,
    #[allow(dead_code)]
    reply: String,
}

#[derive(Debug, Deserialize, PartialEq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Ip,
    Domain,
}

/// What one answer means.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Code {
    meaning: String,
    score: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Blocklists {
    lists: Vec<Blocklist>,
}

/// The shipped table, read once (a test proves it parses).
fn known() -> &'static [Blocklist] {
    static TABLE: OnceLock<Vec<Blocklist>> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_saphyr::from_str::<Blocklists>(include_str!("../../rules/lists/blocklists.yaml"))
            .map(|b| b.lists)
            .unwrap_or_default()
    })
}

/// What a blocklist's answer says.
#[derive(Debug, PartialEq)]
enum Listing {
    /// Listed: what it means, the score it adds (`None`: the rule's own).
    Listed(String, Option<f64>),
    /// The query was refused, and why.
    Refused(String),
    /// Not an answer a blocklist gives (outside 127.0.0.0/8): ignored.
    Junk,
}

/// What `answer` (one A record) from `zone`, asked as a list of `kind`, means.
fn meaning(zone: &str, kind: Kind, answer: &str) -> Listing {
    let Ok(IpAddr::V4(a)) = answer.parse::<IpAddr>() else {
        return Listing::Junk;
    };
    if a.octets()[0] != 127 {
        return Listing::Junk;
    }
    let Some(list) = known().iter().find(|l| l.zone == zone && l.kind == kind) else {
        return Listing::Listed(format!("listed ({answer})"), None);
    };
    if let Some(why) = list.refused.get(answer) {
        return Listing::Refused(format!("{zone} answered {answer}: {why}"));
    }
    if let Some(c) = list.codes.get(answer) {
        return Listing::Listed(format!("{answer}: {}", c.meaning), Some(c.score));
    }
    if !list.bits.is_empty() {
        let n = u32::from(a.octets()[3]);
        let hit: Vec<&Code> = list
            .bits
            .iter()
            .filter(|(b, _)| n & **b != 0)
            .map(|(_, c)| c)
            .collect();
        if !hit.is_empty() {
            let what: Vec<&str> = hit.iter().map(|c| c.meaning.as_str()).collect();
            let score = hit.iter().map(|c| c.score).fold(0.0, f64::max);
            return Listing::Listed(format!("{answer}: {}", what.join(", ")), Some(score));
        }
    }
    Listing::Listed(format!("{answer}: listed"), None)
}

/// The name to ask `zone` about `ip` (RFC 5782 §2.1 and §2.4: reversed octets or nibbles).
pub(crate) fn reversed(ip: IpAddr, zone: &str) -> String {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("{}.{}.{}.{}.{zone}", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(a) => {
            let mut s = String::with_capacity(64 + zone.len());
            for b in a.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", b & 0xf, b >> 4));
            }
            s.push_str(zone);
            s
        }
    }
}

/// The PTR name of `ip`.
fn ptr_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(_) => reversed(ip, "in-addr.arpa"),
        IpAddr::V6(_) => reversed(ip, "ip6.arpa"),
    }
}

/// Addresses no blocklist lists and no receiver sees (loopback, private, link-local).
fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            a.is_loopback() || a.is_private() || a.is_link_local() || a.is_unspecified()
        }
        IpAddr::V6(a) => {
            a.is_loopback()
                || a.is_unspecified()
                || (a.segments()[0] & 0xfe00) == 0xfc00
                || (a.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// The addresses judged: `sending.ips`, and the client's when this MTA relays for
/// untrusted clients.
fn sending_ips(cx: &Ctx<'_>) -> Vec<IpAddr> {
    let mut ips = cx.config.sending.ips.clone();
    if cx.config.sending.relay_untrusted
        && let Some(ip) = cx.envelope.client_ip
        && !internal(ip)
        && !ips.contains(&ip)
    {
        ips.push(ip);
    }
    ips
}

/// The registered domains of From and of the links, each with where it was seen.
fn domains(msg: &Message<'_>) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = msg
        .from_domains()
        .iter()
        .map(|d| (d.clone(), "the From domain"))
        .collect();
    for d in msg.link_domains() {
        if out.len() >= DOMAINS_MAX {
            break;
        }
        if d.starts_with('[') || d.parse::<IpAddr>().is_ok() {
            continue;
        }
        if !out.iter().any(|(o, _)| o == d) {
            out.push((d.clone(), "a link domain"));
        }
    }
    out.truncate(DOMAINS_MAX);
    out
}

/// The addresses (A for IPv4, AAAA for IPv6) to confirm `name` for `ip` with.
fn forward(name: &str, ip: IpAddr) -> Query {
    match ip {
        IpAddr::V4(_) => Query::new(name, RecordType::A),
        IpAddr::V6(_) => Query::new(name, RecordType::Aaaa),
    }
}

/// Whether `answers` give `ip` for `q`: `Some(true/false)` when answered, `None` when
/// the lookup failed or is missing.
fn resolves_to(answers: &Answers, q: &Query, ip: IpAddr) -> Option<bool> {
    match answers.get(q)? {
        Answer::Records(r) => Some(r.iter().any(|a| a.parse::<IpAddr>() == Ok(ip))),
        Answer::NoData | Answer::NxDomain => Some(false),
        Answer::Failed(_) => None,
    }
}

/// Why `q` has no usable answer, for a not-checked note.
fn unanswered(answers: &Answers, q: &Query) -> String {
    match answers.get(q) {
        Some(Answer::Failed(why)) => format!("{q}: {why}"),
        _ => format!("{q}: no answer"),
    }
}

/// The lists of `kind` the configuration asks.
fn zones<'c>(cx: &Ctx<'c>, kind: Kind) -> &'c [String] {
    match kind {
        Kind::Ip => &cx.config.reputation.ip_lists,
        Kind::Domain => &cx.config.reputation.domain_lists,
    }
}

/// The delisting page of `zone`, when the table knows it.
fn delist(zone: &str) -> Option<(&'static str, &'static str)> {
    known()
        .iter()
        .find(|l| l.zone == zone)
        .map(|l| (l.name.as_str(), l.delist.as_str()))
}

impl Check for ReputationCheck {
    fn ids(&self) -> &'static [&'static str] {
        &["REP001", "REP002", "REP003", "REP004", "REP005"]
    }

    fn online(&self) -> bool {
        true
    }

    fn lookups(&self, msg: &Message<'_>, cx: &Ctx<'_>) -> Vec<Query> {
        let Some(answers) = cx.answers() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let ips = sending_ips(cx);
        for &ip in &ips {
            if cx.on("REP001") && !internal(ip) {
                for zone in zones(cx, Kind::Ip) {
                    out.push(Query::new(&reversed(ip, zone), RecordType::A));
                }
            }
            if cx.on("REP003") || cx.on("REP004") {
                let ptr = Query::new(&ptr_name(ip), RecordType::Ptr);
                match answers.get(&ptr) {
                    None => out.push(ptr),
                    Some(Answer::Records(names)) if cx.on("REP004") => {
                        out.extend(names.iter().take(PTR_NAMES_MAX).map(|n| forward(n, ip)));
                    }
                    _ => {}
                }
            }
        }
        if cx.on("REP005")
            && let Some(helo) = &cx.config.sending.helo
            && !ips.is_empty()
        {
            out.push(Query::new(helo, RecordType::A));
            out.push(Query::new(helo, RecordType::Aaaa));
        }
        if cx.on("REP002") {
            for (d, _) in domains(msg) {
                for zone in zones(cx, Kind::Domain) {
                    out.push(Query::new(&format!("{d}.{zone}"), RecordType::A));
                }
            }
        }
        out
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let Some(answers) = cx.answers() else {
            return;
        };
        let ips = sending_ips(cx);
        if ips.is_empty() {
            for id in ["REP001", "REP003", "REP004", "REP005"] {
                cx.not_checked(id, "no sending IP is configured (sending.ips)");
            }
        }
        for &ip in &ips {
            if cx.on("REP001") && !internal(ip) {
                ip_lists(cx, answers, ip);
            }
            if cx.on("REP003") || cx.on("REP004") {
                reverse_dns(cx, answers, ip);
            }
        }
        if cx.on("REP005") && !ips.is_empty() {
            helo(cx, answers, &ips);
        }
        if cx.on("REP002") {
            let zones = zones(cx, Kind::Domain);
            for (d, seen) in domains(msg) {
                for zone in zones {
                    let q = Query::new(&format!("{d}.{zone}"), RecordType::A);
                    listed(
                        cx,
                        answers,
                        &q,
                        Kind::Domain,
                        zone,
                        &format!("{d} ({seen})"),
                    );
                }
            }
        }
    }
}

/// REP001 for one address.
fn ip_lists(cx: &mut Ctx<'_>, answers: &Answers, ip: IpAddr) {
    for zone in zones(cx, Kind::Ip) {
        let q = Query::new(&reversed(ip, zone), RecordType::A);
        listed(
            cx,
            answers,
            &q,
            Kind::Ip,
            zone,
            &format!("the sending IP {ip}"),
        );
    }
}

/// The listing rule of one question to one zone of `kind` about `what`.
fn listed(cx: &mut Ctx<'_>, answers: &Answers, q: &Query, kind: Kind, zone: &str, what: &str) {
    let id = match kind {
        Kind::Ip => "REP001",
        Kind::Domain => "REP002",
    };
    match answers.get(q) {
        Some(Answer::NxDomain | Answer::NoData) => {}
        Some(Answer::Records(records)) => {
            let mut listings = Vec::new();
            for r in records {
                match meaning(zone, kind, r) {
                    Listing::Listed(m, score) => listings.push((m, score)),
                    Listing::Refused(why) => cx.not_checked(id, why),
                    Listing::Junk => {}
                }
            }
            if listings.is_empty() {
                return;
            }
            let score = listings
                .iter()
                .map(|(_, s)| *s)
                .reduce(crate::checks::join_weights)
                .flatten();
            let said: Vec<String> = listings.into_iter().map(|(m, _)| m).collect();
            let delisting = match delist(zone) {
                Some((name, page)) => format!("; {name} delisting: {page}"),
                None => String::new(),
            };
            cx.hit_weighted(
                id,
                score,
                format!(
                    "{what} is listed on {zone} ({}){delisting}",
                    said.join("; ")
                ),
                Vec::new(),
            );
        }
        _ => cx.not_checked(id, unanswered(answers, q)),
    }
}

/// REP003 and REP004 for one address.
fn reverse_dns(cx: &mut Ctx<'_>, answers: &Answers, ip: IpAddr) {
    let ptr = Query::new(&ptr_name(ip), RecordType::Ptr);
    match answers.get(&ptr) {
        Some(Answer::NxDomain | Answer::NoData) => {
            cx.hit(
                "REP003",
                format!(
                    "the sending IP {ip} has no PTR record ({} has none)",
                    ptr.name
                ),
                Vec::new(),
            );
        }
        Some(Answer::Records(names)) => {
            if !cx.on("REP004") {
                return;
            }
            let names: Vec<&String> = names.iter().take(PTR_NAMES_MAX).collect();
            let found: Vec<Option<bool>> = names
                .iter()
                .map(|n| resolves_to(answers, &forward(n, ip), ip))
                .collect();
            if found.contains(&Some(true)) {
                return;
            }
            if let Some(i) = found.iter().position(Option::is_none) {
                cx.not_checked("REP004", unanswered(answers, &forward(names[i], ip)));
                return;
            }
            let shown: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
            cx.hit(
                "REP004",
                format!(
                    "the sending IP {ip} has the PTR name {}, which does not resolve back to {ip}",
                    shown.join(", ")
                ),
                Vec::new(),
            );
        }
        _ => {
            for id in ["REP003", "REP004"] {
                cx.not_checked(id, unanswered(answers, &ptr));
            }
        }
    }
}

/// REP005: the EHLO name resolves to one of the sending IPs.
fn helo(cx: &mut Ctx<'_>, answers: &Answers, ips: &[IpAddr]) {
    let Some(name) = cx.config.sending.helo.clone() else {
        cx.not_checked("REP005", "no EHLO name is configured (sending.helo)");
        return;
    };
    let qs = [
        Query::new(&name, RecordType::A),
        Query::new(&name, RecordType::Aaaa),
    ];
    let mut addresses: Vec<&str> = Vec::new();
    let mut failed = None;
    for q in &qs {
        match answers.get(q) {
            Some(Answer::Records(r)) => addresses.extend(r.iter().map(String::as_str)),
            Some(Answer::NoData | Answer::NxDomain) => {}
            _ => failed = Some(unanswered(answers, q)),
        }
    }
    if ips
        .iter()
        .any(|ip| addresses.iter().any(|a| a.parse::<IpAddr>() == Ok(*ip)))
    {
        return;
    }
    if let Some(why) = failed {
        cx.not_checked("REP005", why);
        return;
    }
    let sending: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
    let message = if addresses.is_empty() {
        format!("the EHLO name {name} has no address (no A or AAAA record)")
    } else {
        format!(
            "the EHLO name {name} resolves to {}, not to the sending IP {}",
            addresses.join(", "),
            sending.join(", ")
        )
    };
    cx.hit("REP005", message, Vec::new());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blocklist_table_parses_and_means_what_it_says() {
        let t = known();
        assert!(t.len() >= 5, "rules/blocklists.yaml did not parse");
        assert!(
            t.iter()
                .any(|l| l.zone == "zen.spamhaus.org" && l.kind == Kind::Ip)
        );
        assert!(
            matches!(meaning("zen.spamhaus.org", Kind::Ip, "127.0.0.2"), Listing::Listed(m, Some(s)) if m.contains("SBL") && s == 8.0)
        );
        assert!(
            matches!(meaning("zen.spamhaus.org", Kind::Ip, "127.255.255.254"), Listing::Refused(w) if w.contains("public"))
        );
        assert!(
            matches!(meaning("multi.surbl.org", Kind::Domain, "127.0.0.24"), Listing::Listed(m, Some(_)) if m.contains("phishing") && m.contains("malware"))
        );
        assert!(matches!(
            meaning("multi.uribl.com", Kind::Domain, "127.0.0.1"),
            Listing::Refused(_)
        ));
        assert_eq!(
            meaning("zen.spamhaus.org", Kind::Ip, "192.0.2.1"),
            Listing::Junk
        );
        assert!(matches!(
            meaning("own.example", Kind::Ip, "127.0.0.3"),
            Listing::Listed(_, None)
        ));
    }

    #[test]
    fn names_are_reversed_as_rfc_5782_says() {
        let v4: IpAddr = "192.0.2.99".parse().unwrap();
        assert_eq!(
            reversed(v4, "zen.spamhaus.org"),
            "99.2.0.192.zen.spamhaus.org"
        );
        assert_eq!(ptr_name(v4), "99.2.0.192.in-addr.arpa");
        let v6: IpAddr = "2001:db8:1:2:3:4:567:89ab".parse().unwrap();
        assert_eq!(
            reversed(v6, "example"),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.example"
        );
        assert!(internal("10.1.2.3".parse().unwrap()));
        assert!(internal("fe80::1".parse().unwrap()));
        assert!(!internal(v4));
    }
}
