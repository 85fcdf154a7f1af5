//! Every link in a message, once: `href`s (with their anchor text), image `src`s and form
//! actions from the HTML facts, URLs written in the text parts and in the Subject
//! (linkify). Each is parsed and normalised with the url crate (IDNA to punycode, IPv4 in
//! decimal, hex or octal to dotted form) and given its registrable domain from the Public
//! Suffix List (psl crate).

/// Where a link was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// An `<a href>` or `<area href>`.
    Href,
    /// An `<img src>`, `<iframe src>` and the like.
    Src,
    /// A `<form action>`.
    Action,
    /// A URL written in a text part.
    Text,
    /// A URL written in the Subject.
    Subject,
}

/// One link.
#[derive(Clone, Debug)]
pub struct Link {
    /// As written (trimmed, entities decoded).
    pub raw: String,
    /// Lower-case scheme, when the link is an absolute URL.
    pub scheme: Option<String>,
    /// Lower-case host, punycode for international names, dotted form for IPv4.
    pub host: Option<String>,
    /// The host is an IPv4 or IPv6 address (in whatever form it was written).
    pub ip: bool,
    /// An explicit port that is not the scheme's default.
    pub port: Option<u16>,
    /// User information before the host (`user` or `user:password`).
    pub userinfo: Option<String>,
    /// Registrable domain of the host (`example.co.uk`), when it has one.
    pub domain: Option<String>,
    /// Anchor text, for `href`s.
    pub text: Option<String>,
    /// Part path (empty for the Subject).
    pub part: String,
    /// Where it was found.
    pub source: Source,
}

impl Link {
    /// Whether it is an http or https link.
    pub fn is_web(&self) -> bool {
        matches!(self.scheme.as_deref(), Some("http" | "https"))
    }
}

/// The registrable domain of a host (`mail.example.co.uk` -> `example.co.uk`).
pub fn registrable(host: &str) -> Option<String> {
    psl::domain_str(host.trim_end_matches('.')).map(str::to_ascii_lowercase)
}

/// The common case without the full parser: `http(s)://` and a plain ASCII host name
/// (letters, digits, dots and hyphens, at least one letter), no user information, no
/// port. Everything else goes through the url crate.
fn simple(raw: &str) -> Option<(&'static str, String)> {
    let (scheme, rest) = if raw
        .get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
    {
        ("https", &raw[8..])
    } else if raw
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
    {
        ("http", &raw[7..])
    } else {
        return None;
    };
    let host = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let b = host.as_bytes();
    let ok = !b.is_empty()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-'))
        && b.iter().any(u8::is_ascii_alphabetic)
        && !matches!(b[0], b'.' | b'-')
        && !matches!(b[b.len() - 1], b'.' | b'-')
        // Hex IPv4 forms (0xC0A80001) are letters and digits too.
        && !b.split(|c| *c == b'.').any(|l| l.len() > 2 && l[0] == b'0' && (l[1] | 0x20) == b'x');
    ok.then(|| (scheme, host.to_ascii_lowercase()))
}

/// Parses a URL found elsewhere (a redirect target), as a text link.
pub fn make_public(raw: &str) -> Option<Link> {
    let l = make(raw, None, "", Source::Text);
    l.scheme.is_some().then_some(l)
}

fn make(raw: &str, text: Option<String>, part: &str, source: Source) -> Link {
    let raw = raw.trim();
    let mut link = Link {
        raw: raw.to_string(),
        scheme: None,
        host: None,
        ip: false,
        port: None,
        userinfo: None,
        domain: None,
        text,
        part: part.to_string(),
        source,
    };
    if let Some((scheme, host)) = simple(raw) {
        link.domain = registrable(&host);
        link.scheme = Some(scheme.to_string());
        link.host = Some(host);
        return link;
    }
    // A URL without an authority (`data:`, `mailto:`, `javascript:`, `tel:`) has no host
    // to read: only its scheme matters, and the URL parser would percent-encode the
    // whole of a base64 image in a `data:` URI (an eighth of the corpus's check time).
    if let Some((scheme, rest)) = raw.split_once(':')
        && !rest.starts_with("//")
        && !scheme.is_empty()
        && scheme.len() <= 16
        && scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && !["http", "https", "ftp", "ws", "wss"]
            .iter()
            .any(|s| scheme.eq_ignore_ascii_case(s))
    {
        link.scheme = Some(scheme.to_ascii_lowercase());
        return link;
    }
    // Scheme-relative links (`//cdn.example/x`) are read as https.
    let parsed = if raw.starts_with("//") {
        url::Url::parse(&format!("https:{raw}")).ok()
    } else {
        url::Url::parse(raw).ok()
    };
    let Some(u) = parsed else {
        return link;
    };
    link.scheme = Some(u.scheme().to_string());
    link.host = u.host_str().map(|h| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase()
    });
    link.ip = matches!(u.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)));
    if let Some(url::Host::Domain(d)) = u.host() {
        link.domain = registrable(d);
    }
    link.port = u.port();
    if !u.username().is_empty() || u.password().is_some() {
        link.userinfo = Some(match u.password() {
            Some(_) => format!("{}:...", u.username()),
            None => u.username().to_string(),
        });
    }
    link
}

/// Every link of `msg`, in document order (Subject last): the HTML parts' links, images,
/// frames and form actions, at most the message's `max_links` URLs of the text parts, and the
/// Subject's.
pub fn extract(msg: &super::Message<'_>) -> Vec<Link> {
    extract_counted(msg).0
}

/// [`extract`], and how many links were left unread past the message's cap
/// ([`super::Message::parse_with`]: HTML links, and text URLs, past `max_links` each).
pub fn extract_counted(msg: &super::Message<'_>) -> (Vec<Link>, usize) {
    let mut not_read: usize = msg.html_facts().iter().map(|(_, f)| f.links_not_kept).sum();
    use super::text::TextKind;
    let mut out = Vec::new();
    let finder = {
        let mut f = linkify::LinkFinder::new();
        f.kinds(&[linkify::LinkKind::Url]);
        f
    };
    for (i, f) in msg.html_facts() {
        let part = &msg.text.parts[*i].part;
        for l in &f.links {
            out.push(make(&l.href, Some(l.text.clone()), part, Source::Href));
        }
        for img in &f.images {
            if !img.src.is_empty() {
                out.push(make(&img.src, None, part, Source::Src));
            }
        }
        for fr in &f.frames {
            out.push(make(fr, None, part, Source::Src));
        }
        for form in &f.forms {
            if let Some(a) = &form.action {
                out.push(make(a, None, part, Source::Action));
            }
        }
    }
    // URLs written as text: plain parts, and the text HTML shows outside its anchors.
    let mut text_links = 0;
    for tp in msg
        .text
        .parts
        .iter()
        .filter(|t| matches!(t.kind, TextKind::Plain | TextKind::Html))
    {
        let urls = text_urls(&finder, &tp.decoded);
        let take = urls.len().min(msg.max_links().saturating_sub(text_links));
        not_read += urls.len() - take;
        for u in urls.into_iter().take(take) {
            out.push(make(u, None, &tp.part, Source::Text));
            text_links += 1;
        }
    }
    if let Some(s) = &msg.text.subject {
        for u in text_urls(&finder, &s.decoded) {
            out.push(make(u, None, "", Source::Subject));
        }
    }
    (out, not_read)
}

/// `http(s)://` URLs with a numeric or bracketed host, which linkify does not take for
/// links (`http://3232235777/`, `http://[::1]/`).
static NUMERIC_HOST_URL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r#"(?i)\bhttps?://(?:[^\s<>"'/@]*@)?(?:\[[0-9a-f:.]+\]|[0-9][0-9a-fx.]*)(?::[0-9]+)?(?:[/?#][^\s<>"']*)?"#)
        .expect("valid regex")
});

/// URLs written in a text: linkify's, and the numeric-host ones it leaves out.
fn text_urls<'t>(finder: &linkify::LinkFinder, text: &'t str) -> Vec<&'t str> {
    let mut found: Vec<(usize, &str)> = finder
        .links(text)
        .map(|l| (l.start(), l.as_str()))
        .collect();
    if memchr::memmem::find(text.as_bytes(), b"://").is_some() {
        for m in NUMERIC_HOST_URL.find_iter(text) {
            if !found.iter().any(|(s, _)| *s == m.start()) {
                let u = m
                    .as_str()
                    .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}']);
                found.push((m.start(), u));
            }
        }
        found.sort_by_key(|(s, _)| *s);
    }
    found.into_iter().map(|(_, u)| u).collect()
}

/// The distinct registrable domains (or hosts, for IP literals) of the http(s) links,
/// sorted: what domain blocklists are asked about.
pub fn domains(links: &[Link]) -> Vec<String> {
    let mut d: Vec<String> = links
        .iter()
        .filter(|l| l.is_web())
        .filter_map(|l| l.domain.clone().or_else(|| l.host.clone()))
        .collect();
    d.sort();
    d.dedup();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let l = make(
            " https://Mail.Example.CO.UK:8443/a?b=1 ",
            None,
            "1",
            Source::Href,
        );
        assert_eq!(l.host.as_deref(), Some("mail.example.co.uk"));
        assert_eq!(l.domain.as_deref(), Some("example.co.uk"));
        let ip = make("http://3232235777/x", None, "1", Source::Text);
        assert_eq!(ip.host.as_deref(), Some("192.168.1.1"));
        assert_eq!(ip.domain, None);
        assert!(ip.ip);
        assert!(make("http://0xC0A80001/", None, "1", Source::Text).ip);
        let user = make(
            "https://bank.example@evil.example:8443/",
            None,
            "1",
            Source::Href,
        );
        assert_eq!(
            (user.userinfo.as_deref(), user.port),
            (Some("bank.example"), Some(8443))
        );
        assert_eq!(user.host.as_deref(), Some("evil.example"));
        let idn = make("https://bücher.example/", None, "1", Source::Href);
        assert_eq!(idn.host.as_deref(), Some("xn--bcher-kva.example"));
        let rel = make("//cdn.example.com/x.png", None, "1", Source::Src);
        assert_eq!(rel.domain.as_deref(), Some("example.com"));
        assert!(make("not a url", None, "1", Source::Href).scheme.is_none());
        // Schemes without an authority: the scheme, and no host.
        let big = format!("data:image/png;base64,{}", "iVBORw0KGgo".repeat(10_000));
        for (raw, scheme) in [
            (big.as_str(), "data"),
            ("MailTo:x@example.net", "mailto"),
            ("javascript:alert(1)", "javascript"),
            ("file:c:/x", "file"),
        ] {
            let l = make(raw, None, "1", Source::Href);
            assert_eq!((l.scheme.as_deref(), l.host), (Some(scheme), None), "{raw}");
        }
        let bare = make("http:example.com/a", None, "1", Source::Href);
        assert_eq!(bare.host.as_deref(), Some("example.com"));
        let fast = make("HTTPS://News.Example.com/a", None, "1", Source::Href);
        assert_eq!(
            (fast.scheme.as_deref(), fast.host.as_deref()),
            (Some("https"), Some("news.example.com"))
        );
    }

    #[test]
    fn report_lists_link_domains() {
        let raw = "From: a@example.com\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=B\n\n--B\nContent-Type: text/plain\n\nSee https://www.example.org/a and http://10.0.0.1/x\n--B\nContent-Type: text/html\n\n<a href='https://shop.example.co.uk/b'>shop</a><img src='//cdn.example.com/i.png'><a href='mailto:x@example.net'>m</a>\n--B--\n";
        let r = crate::Engine::new(crate::Config::default())
            .unwrap()
            .check(raw.as_bytes(), &crate::Envelope::default());
        assert_eq!(
            r.link_domains,
            ["10.0.0.1", "example.co.uk", "example.com", "example.org"]
        );
    }
}
