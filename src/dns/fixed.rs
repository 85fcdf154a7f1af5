//! Fixed answers from a file, for tests, fixtures and rule examples: a resolver that
//! never touches the network and answers the same every time.
//!
//! One record per line, as a zone file writes it without class or TTL:
//!
//! ```text
//! # comments and blank lines are skipped
//! example.com.       MX    10 mx.example.com.
//! mx.example.com     A     192.0.2.10
//! example.com        TXT   "v=spf1 ip4:192.0.2.0/24 -all"
//! nomail.example     MX    0 .
//! broken.example     MX    SERVFAIL
//! slow.example       A     TIMEOUT
//! ```
//!
//! A name the file has, asked for a type it lacks, gets NODATA; a name the file does not
//! have gets NXDOMAIN. `SERVFAIL` and `TIMEOUT` in place of the data make that question
//! fail. TXT data in double quotes is one string per quoted part, joined (as SPF and
//! DMARC read them); unquoted data is taken as it is.

use std::collections::HashMap;

use super::{Answer, Query, RecordType, Resolver};
use crate::error::{Error, ErrorKind};

/// A resolver with answers from a file.
#[derive(Clone, Debug, Default)]
pub struct Fixed {
    records: HashMap<Query, Answer>,
    names: std::collections::HashSet<String>,
}

impl Fixed {
    /// Reads the answers in `path`.
    pub fn from_file(path: &std::path::Path) -> Result<Fixed, Error> {
        let text = Error::read_config_text(path, "DNS answers")?;
        Fixed::parse(&text, &path.display().to_string())
    }

    /// Parses answers from `text` (`file` names it in errors, with the line).
    pub fn parse(text: &str, file: &str) -> Result<Fixed, Error> {
        let mut f = Fixed::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            let bad = |why: &str| {
                Error::new(
                    ErrorKind::Config,
                    format!("{file}:{}: {why}: `{line}`", n + 1),
                )
            };
            let word = |s: &'_ str| -> (String, String) {
                let s = s.trim_start();
                let end = s.find(char::is_whitespace).unwrap_or(s.len());
                (s[..end].to_string(), s[end..].trim().to_string())
            };
            let (name, rest) = word(line);
            let (kind, data) = word(&rest);
            let (name, data) = (name.as_str(), data.as_str());
            let kind = RecordType::parse(&kind)
                .ok_or_else(|| bad("expected NAME TYPE DATA, TYPE one of A AAAA MX TXT PTR"))?;
            if name.is_empty() || data.is_empty() {
                return Err(bad("expected NAME TYPE DATA"));
            }
            let q = Query::new(name, kind);
            f.names.insert(q.name.clone());
            let answer = match data {
                "SERVFAIL" | "TIMEOUT" => Answer::Failed(data.to_ascii_lowercase()),
                _ => {
                    let data = match kind {
                        RecordType::Txt => {
                            txt_strings(data).ok_or_else(|| bad("unclosed quote"))?
                        }
                        RecordType::Mx => {
                            let mut w = data.split_whitespace();
                            let (Some(pref), Some(host), None) = (w.next(), w.next(), w.next())
                            else {
                                return Err(bad("MX data is PREFERENCE EXCHANGE"));
                            };
                            if pref.parse::<u16>().is_err() {
                                return Err(bad("MX preference is a number up to 65535"));
                            }
                            let host = host.trim_end_matches('.').to_ascii_lowercase();
                            format!("{pref} {}", if host.is_empty() { "." } else { &host })
                        }
                        RecordType::A if data.parse::<std::net::Ipv4Addr>().is_err() => {
                            return Err(bad("not an IPv4 address"));
                        }
                        RecordType::Aaaa if data.parse::<std::net::Ipv6Addr>().is_err() => {
                            return Err(bad("not an IPv6 address"));
                        }
                        RecordType::Ptr => data.trim_end_matches('.').to_ascii_lowercase(),
                        _ => data.to_string(),
                    };
                    match f.records.get_mut(&q) {
                        Some(Answer::Records(r)) => {
                            r.push(data);
                            continue;
                        }
                        Some(_) => return Err(bad("records beside a failure for one question")),
                        None => Answer::Records(vec![data]),
                    }
                }
            };
            if f.records.insert(q, answer).is_some() {
                return Err(bad("a failure beside records for one question"));
            }
        }
        Ok(f)
    }

    /// The answer to one question.
    pub fn answer(&self, q: &Query) -> Answer {
        match self.records.get(q) {
            Some(a) => a.clone(),
            None if self.names.contains(&q.name) => Answer::NoData,
            None => Answer::NxDomain,
        }
    }
}

/// The strings of TXT data joined: `"v=spf1 " "-all"` is `v=spf1 -all`; unquoted data as
/// it is. `None` for an unclosed quote.
fn txt_strings(data: &str) -> Option<String> {
    if !data.starts_with('"') {
        return Some(data.to_string());
    }
    let mut out = String::new();
    let mut rest = data;
    while let Some(r) = rest.trim_start().strip_prefix('"') {
        let end = r.find('"')?;
        out.push_str(&r[..end]);
        rest = &r[end + 1..];
    }
    rest.trim().is_empty().then_some(out)
}

impl Resolver for Fixed {
    fn resolve(&self, queries: &[Query]) -> Vec<(Query, Answer)> {
        queries
            .iter()
            .map(|q| (q.clone(), self.answer(q)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_a_server_with_that_zone_would() {
        let f = Fixed::parse(
            "# a zone\nExample.com.  MX\t10 MX.example.com.\nexample.com MX 20 mx2.example.com\n\
             example.com TXT \"v=spf1 \" \"-all\"\nnull.example MX 0 .\nbroken.example A SERVFAIL\n",
            "z",
        )
        .unwrap();
        let q = |n: &str, t| f.answer(&Query::new(n, t));
        assert_eq!(
            q("example.com", RecordType::Mx),
            Answer::Records(vec![
                "10 mx.example.com".into(),
                "20 mx2.example.com".into()
            ])
        );
        assert_eq!(
            q("example.com", RecordType::Txt),
            Answer::Records(vec!["v=spf1 -all".into()])
        );
        assert_eq!(q("example.com", RecordType::A), Answer::NoData);
        assert_eq!(q("nowhere.example", RecordType::A), Answer::NxDomain);
        assert_eq!(
            q("null.example", RecordType::Mx),
            Answer::Records(vec!["0 .".into()])
        );
        assert!(matches!(
            q("broken.example", RecordType::A),
            Answer::Failed(_)
        ));
    }

    #[test]
    fn bad_lines_are_errors_with_their_place() {
        for bad in [
            "example.com",
            "example.com SRV 1 2 3 x",
            "example.com MX x",
            "example.com MX 99999 a",
            "example.com A 300.1.1.1",
            "example.com AAAA 192.0.2.1",
            "example.com TXT \"open",
            "x A SERVFAIL\nx A 192.0.2.1",
        ] {
            let e = Fixed::parse(&format!("# first\n{bad}\n"), "z.txt").unwrap_err();
            let line = 1 + bad.lines().count();
            assert!(
                e.to_string().starts_with(&format!("z.txt:{line}:")),
                "{bad}: {e}"
            );
        }
    }
}
