//! The `links` family's code rules, over every link of the message
//! ([`crate::message::links`]): IP-address hosts, abused TLDs, user information, odd
//! ports, script schemes, punycode and mixed-script hosts, invisible characters, anchor
//! text that shows another domain or https over http, link farms, and links in the
//! Subject.

use std::collections::HashSet;

use super::{Check, Ctx};
use crate::message::Message;
use crate::message::links::{Link, Source, registrable};
use crate::rules::lists::owner_label;
use crate::util::defang;

/// Link checks.
pub(crate) struct LinksCheck;

/// Characters that do not show in a URL but change where it goes or how it reads.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

/// The domain an anchor text shows, when the text is a single URL or host name with a
/// known public suffix (`www.bank.example`, `https://bank.example/login`).
fn shown_domain(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches(['.', ',', ')', '>']);
    if t.is_empty() || t.contains(char::is_whitespace) {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let host = rest.split(['/', '?', '#', ':']).next()?;
    if !host.contains('.') || host.contains('@') {
        return None;
    }
    let d = psl::domain(host.as_bytes())?;
    if !d.suffix().is_known() {
        return None;
    }
    std::str::from_utf8(d.as_bytes()).ok().map(str::to_string)
}

/// The domain of the From address, lower case.
pub(crate) fn from_domain(msg: &Message<'_>) -> Option<String> {
    let f = msg.from_mailboxes().first()?.address.as_deref()?;
    let at = f.rsplit('@').next()?;
    let d: String = at
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    d.contains('.').then(|| d.to_ascii_lowercase())
}

/// Query parameters that carry a redirect target.
const REDIRECT_KEYS: &[&str] = &[
    "url",
    "u",
    "redirect",
    "redirect_uri",
    "redirect_url",
    "redirecturl",
    "target",
    "dest",
    "destination",
    "next",
    "goto",
    "link",
    "out",
    "to",
    "r",
    "q",
    "continue",
    "return",
    "returnurl",
    "return_url",
];

/// The web address a link hands on in one of its query parameters, percent-decoded.
fn redirect_target(raw: &str) -> Option<String> {
    let (_, query) = raw.split_once('?')?;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        if !REDIRECT_KEYS.iter().any(|r| k.eq_ignore_ascii_case(r)) {
            return None;
        }
        let v = percent_decode(v);
        let lower = v.to_ascii_lowercase();
        (lower.starts_with("http://") || lower.starts_with("https://")).then_some(v)
    })
}

fn percent_decode(v: &str) -> String {
    let unplussed = v.replace('+', " ");
    String::from_utf8_lossy(&crate::util::unescape_hex(unplussed.as_bytes(), b'%')).into_owned()
}

/// Where a link is: the Subject or a part, with its anchor text when it has one.
fn link_place(l: &Link) -> String {
    let place = match (l.source, l.part.as_str()) {
        (Source::Subject, _) => return "the Subject".to_string(),
        (_, "") => "part 1".to_string(),
        (_, p) => format!("part {p}"),
    };
    match l.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => format!(
            "{place} (anchor text \u{201c}{}\u{201d})",
            crate::util::truncate_str(t, 60)
        ),
        None => place,
    }
}

/// The line a link is on, in the Subject or in its part.
fn link_evidence(msg: &Message<'_>, l: &Link) -> Vec<crate::report::Evidence> {
    if l.source == Source::Subject {
        msg.header("Subject")
            .map(|h| vec![msg.header_evidence(h)])
            .unwrap_or_default()
    } else {
        msg.find_evidence(&l.part, &l.raw)
    }
}

/// More distinct link domains than this in one message is a link farm.
const MANY_DOMAINS: usize = 20;

impl Check for LinksCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[
            "URL001", "URL002", "URL003", "URL004", "URL005", "URL006", "URL007", "URL008",
            "URL009", "URL010", "URL011", "URL012", "URL013", "URL014", "URL015", "URL016",
            "URL017",
        ]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let links = distinct(msg.links());
        let sender = from_domain(msg);
        let sender_reg = sender.as_deref().and_then(registrable);
        unread_links(msg, cx);
        invisible_characters(msg, &links, cx);
        script_schemes(msg, &links, cx);
        subject_links(msg, &links, cx);
        user_info_and_ports(msg, &links, cx);
        punycode_hosts(msg, &links, cx);
        anchor_text(msg, &links, sender_reg.as_deref(), cx);
        reputation_tricks(msg, msg.links(), sender_reg.as_deref(), cx);
        link_farm(&links, cx);
        abused_tlds(msg, &links, sender.as_deref(), cx);
        ip_hosts(msg, &links, cx);
    }
}

/// The links of the message without repeats: a link with the same address, source and
/// anchor text as one before it is left out.
fn distinct(links: &[Link]) -> Vec<&Link> {
    let mut seen = HashSet::new();
    links
        .iter()
        .filter(|l| seen.insert((l.raw.as_str(), l.source as u8, l.text.as_deref())))
        .collect()
}

/// The http and https links among `links`.
fn web<'l>(links: &[&'l Link]) -> impl Iterator<Item = &'l Link> {
    links.iter().copied().filter(|l| l.is_web())
}

/// Links past the per-message cap that were not inspected (URL017).
fn unread_links(msg: &Message<'_>, cx: &mut Ctx<'_>) {
    let not_read = msg.links_not_read();
    if not_read > 0 {
        cx.hit(
            "URL017",
            format!(
                "{not_read} links past the first {} of the message were not inspected",
                msg.max_links()
            ),
            Vec::new(),
        );
    }
}

/// Invisible or direction-changing characters in a link's address (URL010).
fn invisible_characters(msg: &Message<'_>, links: &[&Link], cx: &mut Ctx<'_>) {
    if !cx.on("URL010") {
        return;
    }
    for &l in links {
        if matches!(l.source, Source::Href | Source::Src | Source::Action)
            && l.raw.chars().any(invisible)
        {
            // Where the link is, for the messages: built only for the hits a rule keeps.
            cx.hit_with("URL010", None, || {
                let shown = crate::util::truncate_str(&l.raw, 200).replace(invisible, "\u{fffd}");
                (
                    format!(
                        "A link in {w} holds invisible or direction-changing characters: {}",
                        defang(&shown),
                        w = link_place(l)
                    ),
                    link_evidence(msg, l),
                )
            });
        }
    }
}

/// Links with a script or file scheme (`javascript:`, `vbscript:`, `file:`) (URL005).
fn script_schemes(msg: &Message<'_>, links: &[&Link], cx: &mut Ctx<'_>) {
    for &l in links {
        let Some(scheme) = l.scheme.as_deref() else {
            continue;
        };
        if matches!(l.source, Source::Href | Source::Action | Source::Src)
            && matches!(scheme, "javascript" | "vbscript" | "file")
        {
            cx.hit_with("URL005", None, || {
                (
                    format!(
                        "A link in {w} uses the {scheme}: scheme: {}",
                        crate::util::truncate_str(&l.raw, 80),
                        w = link_place(l)
                    ),
                    link_evidence(msg, l),
                )
            });
        }
    }
}

/// Web links in the Subject (URL014).
fn subject_links(msg: &Message<'_>, links: &[&Link], cx: &mut Ctx<'_>) {
    for l in web(links).filter(|l| l.source == Source::Subject) {
        cx.hit_with("URL014", None, || {
            (
                format!(
                    "The Subject holds a link: {}",
                    defang(crate::util::truncate_str(&l.raw, 200))
                ),
                link_evidence(msg, l),
            )
        });
    }
}

/// Web links whose address carries user information before the host (URL003) or a port
/// other than 80 and 443 (URL004).
fn user_info_and_ports(msg: &Message<'_>, links: &[&Link], cx: &mut Ctx<'_>) {
    for l in web(links) {
        if let Some(user) = &l.userinfo {
            cx.hit_with("URL003", None, || {
                (
                    format!(
                        "A link in {w} carries user information before its host ({}@): {}",
                        crate::util::truncate_str(user, 80),
                        defang(crate::util::truncate_str(&l.raw, 200)),
                        w = link_place(l)
                    ),
                    link_evidence(msg, l),
                )
            });
        }
        if let Some(port) = l.port
            && !matches!(port, 80 | 443)
        {
            cx.hit_with("URL004", None, || {
                (
                    format!(
                        "A link in {w} uses port {port}: {}",
                        defang(crate::util::truncate_str(&l.raw, 200)),
                        w = link_place(l)
                    ),
                    link_evidence(msg, l),
                )
            });
        }
    }
}

/// Web links to internationalised (punycode) host names (URL008), and to those that mix
/// scripts (URL009).
fn punycode_hosts(msg: &Message<'_>, links: &[&Link], cx: &mut Ctx<'_>) {
    if !(cx.on("URL008") || cx.on("URL009")) {
        return;
    }
    for l in web(links) {
        let host = l.host.as_deref().unwrap_or("");
        if host.split('.').any(|label| label.starts_with("xn--")) {
            let (unicode, _) = idna::domain_to_unicode(host);
            let mixed = unicode
                .split('.')
                .any(|label| !unicode_security::MixedScript::is_single_script(label));
            let id = if mixed { "URL009" } else { "URL008" };
            let how = if mixed {
                "mixes scripts"
            } else {
                "is an internationalised (punycode) name"
            };
            cx.hit_with(id, None, || {
                (
                    format!(
                        "A link in {w} goes to {} ({}), which {how}",
                        defang(crate::util::truncate_str(host, 200)),
                        crate::util::truncate_str(&unicode, 200),
                        w = link_place(l)
                    ),
                    link_evidence(msg, l),
                )
            });
        }
    }
}

/// HTML links whose anchor text shows another domain than the link goes to (URL011), or
/// an https address on a plain http link (URL012).
fn anchor_text(msg: &Message<'_>, links: &[&Link], sender_reg: Option<&str>, cx: &mut Ctx<'_>) {
    // Which rules run, asked once: the work for a rule that is off is skipped.
    let (url011, url012) = (cx.on("URL011"), cx.on("URL012"));
    for l in web(links) {
        let host = l.host.as_deref().unwrap_or("");
        if l.source == Source::Href
            && let Some(text) = l.text.as_deref()
        {
            if url011
                && let Some(shown) = shown_domain(text)
                && let Some(real) = &l.domain
                && &shown != real
                && sender_reg != Some(shown.as_str())
                && sender_reg != Some(real.as_str())
                && !cx.lists.is_click_tracker(host)
                // The same name under another suffix (brand.com and brand.co.uk).
                && owner_label(&shown) != owner_label(real)
            {
                // Showing a brand's own domain and going elsewhere is the strong case.
                let brand = cx.lists.is_brand_domain(&shown);
                cx.hit_with("URL011", brand.then_some(4.0), || {
                    (
                        format!(
                            "A link in {w} shows {} but goes to {}",
                            defang(crate::util::truncate_str(text.trim(), 80)),
                            defang(crate::util::truncate_str(&l.raw, 200)),
                            w = link_place(l)
                        ),
                        link_evidence(msg, l),
                    )
                });
            }
            let t = text.trim_start();
            if url012
                && t.get(..8)
                    .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
                && l.scheme.as_deref() == Some("http")
            {
                cx.hit_with("URL012", None, || {
                    (
                        format!(
                            "A link in {w} shows an https:// address but goes to plain http: {}",
                            defang(crate::util::truncate_str(&l.raw, 200)),
                            w = link_place(l)
                        ),
                        link_evidence(msg, l),
                    )
                });
            }
        }
    }
}

/// More distinct domains among the HTML links than [`MANY_DOMAINS`] (URL013).
fn link_farm(links: &[&Link], cx: &mut Ctx<'_>) {
    let mut domains = HashSet::new();
    for l in web(links) {
        if let Some(d) = &l.domain
            && l.source == Source::Href
        {
            domains.insert(d.as_str());
        }
    }
    if domains.len() > MANY_DOMAINS {
        let mut some: Vec<&str> = domains.iter().copied().collect();
        some.sort_unstable();
        some.truncate(5);
        let some: Vec<String> = some.iter().map(|d| defang(d)).collect();
        cx.hit(
            "URL013",
            format!(
                "The links go to {} different domains ({}, ...)",
                domains.len(),
                some.join(", ")
            ),
            vec![],
        );
    }
}

/// Web links to hosts under a TLD that spam and phishing abuse (URL002), reported once
/// with the first such link and how many other hosts there are.
fn abused_tlds(msg: &Message<'_>, links: &[&Link], sender: Option<&str>, cx: &mut Ctx<'_>) {
    if !cx.on("URL002") {
        return;
    }
    // A sender's own campaign domain under such a TLD (asus.click from asus.com) is
    // not a throwaway name.
    let from_owner = sender.map(|d| owner_label(d).to_string());
    let mut abused: Option<(String, String, &Link)> = None;
    let mut abused_hosts: HashSet<&str> = HashSet::new();
    for l in web(links) {
        let host = l.host.as_deref().unwrap_or("");
        if !l.ip
            && !abused_hosts.contains(host)
            && let Some(t) = cx.lists.abused_tld(host)
            && from_owner.as_deref() != Some(owner_label(host))
        {
            abused_hosts.insert(host);
            if abused.is_none() {
                abused = Some((host.to_string(), t.to_string(), l));
            }
        }
    }
    if let Some((host, tld, url)) = &abused {
        let more = match abused_hosts.len() {
            1 => String::new(),
            n => format!(" and {} other host(s)", n - 1),
        };
        cx.hit(
            "URL002",
            format!(
                "A link in {} goes to {} (.{tld}){more}: {}",
                link_place(url),
                defang(host),
                defang(crate::util::truncate_str(&url.raw, 200))
            ),
            link_evidence(msg, url),
        );
    }
}

/// Web links that point at an IP address instead of a domain (URL001), reported once
/// with the first of them and how many there are.
fn ip_hosts(msg: &Message<'_>, links: &[&Link], cx: &mut Ctx<'_>) {
    if !cx.on("URL001") {
        return;
    }
    let mut ip_links: Vec<&Link> = Vec::new();
    let mut ip_seen: HashSet<&str> = HashSet::new();
    for l in web(links) {
        if l.ip && ip_seen.insert(l.raw.as_str()) {
            ip_links.push(l);
        }
    }
    if let Some(first) = ip_links.first() {
        cx.hit(
            "URL001",
            format!(
                "{} link(s) point at an IP address instead of a domain, e.g. {} in {}",
                ip_links.len(),
                defang(crate::util::truncate_str(&first.raw, 200)),
                link_place(first)
            ),
            link_evidence(msg, first),
        );
    }
}

/// Shorteners, open redirects, look-alike and borrowed brand domains (URL006, URL007,
/// URL015, URL016).
fn reputation_tricks(msg: &Message<'_>, links: &[Link], sender: Option<&str>, cx: &mut Ctx<'_>) {
    let (url006, url007, url015, url016) = (
        cx.on("URL006"),
        cx.on("URL007"),
        cx.on("URL015"),
        cx.on("URL016"),
    );
    if !(url006 || url007 || url015 || url016) {
        return;
    }
    let mut short: Vec<&Link> = Vec::new();
    let mut short_seen = HashSet::new();
    let mut redirect = None;
    let mut imitation = None;
    let mut borrowed = None;
    let mut checked = HashSet::new();
    for l in links
        .iter()
        .filter(|l| l.is_web() && l.source != Source::Src)
    {
        let host = l.host.as_deref().unwrap_or("");
        if url006 && cx.lists.is_shortener(host) && short_seen.insert(l.raw.as_str()) {
            short.push(l);
        }
        if url007
            && redirect.is_none()
            && !cx.lists.is_click_tracker(host)
            && let Some(target) = redirect_target(&l.raw)
            && let Some(t) = crate::message::links::make_public(&target)
            && t.domain.is_some()
            && t.domain != l.domain
            && t.domain.as_deref() != sender
        {
            redirect = Some((l, target));
        }
        if !(url015 || url016) {
            continue;
        }
        let Some(d) = &l.domain else { continue };
        if !checked.insert(d.as_str()) {
            continue;
        }
        if url015
            && imitation.is_none()
            && let Some(b) = cx.lists.imitated_brand(d)
        {
            imitation = Some((d.clone(), b.domains.first().cloned().unwrap_or_default(), l));
        }
        // A brand's domain used as a subdomain of another (paypal.com.secure.example).
        if url016
            && borrowed.is_none()
            && let Some(bd) = cx.lists.borrowed_brand_domain(host)
        {
            borrowed = Some((host.to_string(), bd.to_string(), l));
        }
    }
    if let Some(first) = short.first() {
        cx.hit(
            "URL006",
            format!(
                "{} link(s) go through a URL shortener, e.g. {} in {}",
                short.len(),
                defang(crate::util::truncate_str(&first.raw, 200)),
                link_place(first)
            ),
            link_evidence(msg, first),
        );
    }
    if let Some((l, target)) = redirect {
        cx.hit(
            "URL007",
            format!(
                "A link in {} hands the reader on to another site in its query: {} -> {}",
                link_place(l),
                defang(crate::util::truncate_str(&l.raw, 100)),
                defang(crate::util::truncate_str(&target, 100))
            ),
            link_evidence(msg, l),
        );
    }
    if let Some((d, brand, l)) = imitation {
        cx.hit(
            "URL015",
            format!(
                "A link in {} goes to {}, a look-alike of {}: {}",
                link_place(l),
                defang(&d),
                defang(&brand),
                defang(crate::util::truncate_str(&l.raw, 100))
            ),
            link_evidence(msg, l),
        );
    }
    if let Some((host, bd, l)) = borrowed {
        let real = registrable(&host).unwrap_or_default();
        cx.hit(
            "URL016",
            format!(
                "A link in {} goes to {}: {} is only a subdomain label there, the site is {}",
                link_place(l),
                defang(&host),
                defang(&bd),
                defang(&real)
            ),
            link_evidence(msg, l),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_domains() {
        assert_eq!(
            shown_domain(" https://www.Example.org/login ").as_deref(),
            Some("example.org")
        );
        assert_eq!(
            shown_domain("www.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(shown_domain("Sign in"), None);
        assert_eq!(shown_domain("report.pdf"), None);
        assert_eq!(shown_domain("jo@example.org"), None);
    }

    #[test]
    fn anchor_text_rules() {
        let ids = |body: &str| {
            let raw = format!(
                "From: news@shop.example.com\nSubject: x\nContent-Type: text/html\n\n{body}\n"
            );
            super::super::fired("links", crate::Config::default(), raw.as_bytes())
        };
        assert_eq!(
            ids("<a href='https://login-example.net/'>www.example.org</a>"),
            ["URL011"]
        );
        // Click trackers, the sender's own domain and the same name elsewhere pass.
        assert!(
            ids("<a href='https://link.mail.beehiiv.com/ss/c/x'>www.example.org</a>").is_empty()
        );
        assert!(ids("<a href='https://example.com/x'>www.example.org</a>").is_empty());
        assert!(ids("<a href='https://click.example.com/x'>www.example.org</a>").is_empty());
        assert!(ids("<a href='https://example.co.uk/x'>www.example.org</a>").is_empty());
        assert_eq!(
            ids("<a href='http://example.org/'>https://example.org/</a>"),
            ["URL012"]
        );
        assert_eq!(
            ids("<a href='https://user:pw@example.org/'>x</a>"),
            ["URL003"]
        );
        assert_eq!(ids("<a href='javascript:void(0)'>x</a>"), ["URL005"]);
    }

    #[test]
    fn borrowed_and_imitated_brands() {
        let ids = |body: &str| {
            let raw = format!(
                "From: news@shop.example.com\nSubject: x\nContent-Type: text/html\n\n{body}\n"
            );
            super::super::fired("links", crate::Config::default(), raw.as_bytes())
        };
        assert_eq!(ids("<a href='https://paypa1.com/x'>x</a>"), ["URL015"]);
        assert_eq!(
            ids("<a href='https://xn--pypal-4ve.com/x'>x</a>"),
            ["URL015", "URL009"]
        );
        assert_eq!(
            ids("<a href='https://paypal.com.verify.example/x'>x</a>"),
            ["URL016"]
        );
        assert!(
            ids("<a href='https://www.paypal.com/x'>x</a><a href='https://paypal.me/x'>y</a>")
                .is_empty()
        );
        assert_eq!(ids("<a href='https://bit.ly/x'>x</a>"), ["URL006"]);
        assert_eq!(
            ids(
                "<a href='https://www.example.org/out?url=https%3A%2F%2Fevil.example.net%2F'>x</a>"
            ),
            ["URL007"]
        );
        assert!(
            ids(
                "<a href='https://www.example.org/out?url=https%3A%2F%2Fwww.example.org%2Fa'>x</a>"
            )
            .is_empty()
        );
    }

    #[test]
    fn fires_on_html_and_text_links() {
        let ids =
            |raw: &str| super::super::fired("links", crate::Config::default(), raw.as_bytes());
        assert_eq!(
            ids(
                "From: a@example.com\nSubject: x\nContent-Type: text/html\n\n<a href=\"http://202.101.163.34:81/sale\">sale</a>\n"
            ),
            ["URL001", "URL004"]
        );
        assert_eq!(
            ids("From: a@example.com\nSubject: x\n\nsee http://3232235777/x now\n"),
            ["URL001"]
        );
        assert!(
            ids("From: a@example.com\nSubject: x\n\nsee https://example.com/2024.1.2 now\n")
                .is_empty()
        );
        for host in [
            "192.168.0.1",
            "3232235777",
            "0xC0A80001",
            "0300.0250.0.1",
            "[::1]",
        ] {
            assert_eq!(
                ids(&format!(
                    "From: a@example.com\nSubject: x\n\nsee http://{host}/x now\n"
                )),
                ["URL001"],
                "{host}"
            );
        }
    }
}
