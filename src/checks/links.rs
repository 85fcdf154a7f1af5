//! The `links` family's code rules. This module starts with link hosts that are IP
//! addresses; the full URL analysis (shorteners, look-alike domains, anchor text that
//! shows another domain) builds on the same extraction.

use std::net::Ipv4Addr;
use std::sync::LazyLock;

use regex::Regex;

use super::{Check, Ctx};
use crate::message::Message;
use crate::rules::lists::owner_label;

/// Link checks.
pub struct LinksCheck;

/// `href`/`src`/`action` attributes in HTML source (the value is cut out of the match, so
/// the search needs no capture groups and stays on the fast DFA path).
static HREF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?:href|src|action)\s*=\s*["']?\s*[^"'\s>]+"#).expect("valid regex")
});

/// The attribute value of an `HREF` match.
fn attr_value(m: &str) -> &str {
    let v = m.split_once('=').map_or("", |(_, v)| v);
    v.trim_start_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'')
}

/// URLs written in text.
static TEXT_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)\bhttps?://[^\s<>"']+"#).expect("valid regex"));

/// The host of an http(s) URL, without user info and port.
fn host_of(url: &str) -> Option<&str> {
    let rest = url
        .get(..8)
        .filter(|p| p.eq_ignore_ascii_case("https://"))
        .map(|_| &url[8..])
        .or_else(|| {
            url.get(..7)
                .filter(|p| p.eq_ignore_ascii_case("http://"))
                .map(|_| &url[7..])
        })?;
    let authority = rest.split(['/', '?', '#', '\\']).next()?;
    let hostport = authority.rsplit('@').next()?;
    let host = if let Some(h) = hostport.strip_prefix('[') {
        h.split(']').next()?
    } else {
        hostport.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// Whether a host is an IP address literal, in any of the forms browsers accept:
/// dotted quad, one decimal or hex number (`3232235777`, `0xC0A80001`), octal or hex
/// parts (`0300.0250.0.1`), or an IPv6 literal.
pub fn ip_literal(host: &str) -> bool {
    if host.contains(':') {
        return host.parse::<std::net::Ipv6Addr>().is_ok();
    }
    if host.parse::<Ipv4Addr>().is_ok() {
        return true;
    }
    let parts: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return false;
    }
    parts.iter().all(|p| {
        let p = p.to_ascii_lowercase();
        if let Some(h) = p.strip_prefix("0x") {
            !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit())
        } else {
            !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())
        }
    }) && (parts.len() == 4 || parts.iter().any(|p| p.len() > 3 || p.starts_with("0x")))
}

impl Check for LinksCheck {
    fn ids(&self) -> &'static [&'static str] {
        &["URL001", "URL002"]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let mut found: Vec<String> = Vec::new();
        // A sender's own campaign domain under such a TLD (asus.click from asus.com) is
        // not a throwaway name.
        let from_owner = msg
            .header_value("From")
            .and_then(|f| {
                let f = f.rsplit('@').next()?.to_string();
                let d: String = f
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                    .collect();
                d.contains('.').then_some(d.to_ascii_lowercase())
            })
            .map(|d| owner_label(&d).to_string());
        // Abused-TLD hosts: (host, suffix, first URL).
        let mut abused: Vec<(String, String, String)> = Vec::new();
        for tp in msg.text.parts.iter() {
            let html_urls = tp
                .html
                .iter()
                .flat_map(|h| HREF.find_iter(h).map(|m| attr_value(m.as_str())));
            let text_urls = TEXT_URL.find_iter(&tp.decoded).map(|m| m.as_str());
            for url in html_urls.chain(text_urls) {
                let Some(h) = host_of(url.trim()) else {
                    continue;
                };
                if ip_literal(h) {
                    if !found.iter().any(|f| f == url) {
                        found.push(url.to_string());
                    }
                } else if let Some(t) = cx.lists.abused_tld(h)
                    && !abused.iter().any(|(a, _, _)| a.eq_ignore_ascii_case(h))
                    && from_owner.as_deref() != Some(owner_label(&h.to_ascii_lowercase()))
                {
                    abused.push((h.to_ascii_lowercase(), t.to_string(), url.to_string()));
                }
            }
        }
        if let Some((host, tld, url)) = abused.first() {
            let more = match abused.len() {
                1 => String::new(),
                n => format!(" and {} other host(s)", n - 1),
            };
            cx.hit(
                "URL002",
                format!(
                    "A link goes to {} (.{tld}){more}: {}",
                    crate::render::human::defang(host),
                    crate::render::human::defang(url)
                ),
                vec![],
            );
        }
        if let Some(first) = found.first() {
            let shown = crate::render::human::defang(first);
            cx.hit(
                "URL001",
                format!(
                    "{} link(s) point at an IP address instead of a domain, e.g. {shown}",
                    found.len()
                ),
                vec![],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_in_every_form() {
        for h in [
            "192.168.0.1",
            "3232235777",
            "0xC0A80001",
            "0300.0250.0.1",
            "::1",
        ] {
            assert!(ip_literal(h), "{h}");
        }
        for h in ["example.com", "1.example.com", "2024.example", "www"] {
            assert!(!ip_literal(h), "{h}");
        }
        assert_eq!(host_of("http://user:pw@10.0.0.1:8080/x"), Some("10.0.0.1"));
        assert_eq!(host_of("HTTPS://[::1]/"), Some("::1"));
        assert_eq!(host_of("mailto:a@b"), None);
    }

    #[test]
    fn fires_on_html_and_text_links() {
        let ids =
            |raw: &str| super::super::fired("links", crate::Config::default(), raw.as_bytes());
        assert_eq!(
            ids(
                "From: a@example.com\nSubject: x\nContent-Type: text/html\n\n<a href=\"http://202.101.163.34:81/sale\">sale</a>\n"
            ),
            ["URL001"]
        );
        assert_eq!(
            ids("From: a@example.com\nSubject: x\n\nsee http://3232235777/x now\n"),
            ["URL001"]
        );
        assert!(
            ids("From: a@example.com\nSubject: x\n\nsee https://example.com/2024.1.2 now\n")
                .is_empty()
        );
    }
}
