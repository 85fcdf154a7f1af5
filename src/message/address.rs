//! The address fields of a message (From, To, Cc, Bcc), parsed once, in one mail-parser
//! header parse, and kept for every check that asks.

use super::raw::RawFacts;

/// One mailbox of an address field, as mail-parser reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    /// The display name.
    pub name: Option<String>,
    /// The address (`local@domain`, or whatever stands in its place).
    pub address: Option<String>,
}

/// The address fields, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Addresses {
    /// The mailboxes of the first top-level From field (exactly the field named From in
    /// our own header table: mail-parser alone would also take `Fr om:` for it).
    pub from: Vec<Mailbox>,
    /// The addresses (with an `@`, lower case) of the To fields.
    pub to: Vec<String>,
    /// The same of the Cc fields.
    pub cc: Vec<String>,
    /// The same of the Bcc fields.
    pub bcc: Vec<String>,
}

impl Addresses {
    /// Parses the address fields of the message whose raw facts are `facts`.
    pub fn parse(raw: &[u8], facts: &RawFacts) -> Addresses {
        // Each field on its own line of a header block: its value without the line
        // ending it was written with (a field's raw value keeps it). One pass over the
        // header table: the first From, every To, Cc and Bcc (mail-parser reads each
        // name's first field, whatever the others around it).
        let mut buf = Vec::new();
        let mut from_seen = false;
        for h in facts.headers() {
            let name = if h.is("From") {
                if from_seen {
                    continue;
                }
                from_seen = true;
                "From"
            } else if let Some(n) = ["To", "Cc", "Bcc"].into_iter().find(|n| h.is(n)) {
                n
            } else {
                continue;
            };
            let value = h.raw_value(raw);
            let end = value.len()
                - value
                    .iter()
                    .rev()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
            buf.extend_from_slice(name.as_bytes());
            buf.push(b':');
            buf.extend_from_slice(&value[..end]);
            buf.push(b'\n');
        }
        if buf.is_empty() {
            return Addresses::default();
        }
        buf.push(b'\n');
        let Some(parsed) = mail_parser::MessageParser::default().parse_headers(&buf[..]) else {
            return Addresses::default();
        };
        let mailbox = |a: &mail_parser::Addr<'_>| Mailbox {
            name: a.name.as_deref().map(str::to_string),
            address: a.address.as_deref().map(str::to_string),
        };
        let from = match parsed.from() {
            Some(mail_parser::Address::List(l)) => l.iter().map(mailbox).collect(),
            Some(mail_parser::Address::Group(g)) => g
                .iter()
                .flat_map(|g| g.addresses.iter().map(mailbox))
                .collect(),
            None => Vec::new(),
        };
        let addresses = |field: Option<&mail_parser::Address<'_>>| -> Vec<String> {
            field
                .into_iter()
                .flat_map(|list| list.iter())
                .filter_map(|a| a.address.as_deref())
                .filter(|a| a.contains('@'))
                .map(str::to_ascii_lowercase)
                .collect()
        };
        Addresses {
            from,
            to: addresses(parsed.to()),
            cc: addresses(parsed.cc()),
            bcc: addresses(parsed.bcc()),
        }
    }
}

/// Whether `s` is a valid RFC 5322 §3.6.4 msg-id (`<left@right>`), lenient on obsolete
/// local parts; returns the right-hand side when it is.
pub fn msg_id_rhs(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix('<')?.strip_suffix('>')?;
    let (left, right) = inner.rsplit_once('@')?;
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c);
    let left_ok = !left.is_empty()
        && (left.chars().all(atext)
            || (left.starts_with('"') && left.ends_with('"') && left.len() >= 2));
    let right_ok = !right.is_empty()
        && (right.chars().all(atext) || (right.starts_with('[') && right.ends_with(']')));
    (left_ok && right_ok).then_some(right)
}

/// Whether `s` is a fully qualified domain name (two labels or more of letters, digits
/// and inner hyphens, a top-level label with a letter), or a `[literal]`.
pub fn is_fqdn(s: &str) -> bool {
    if s.starts_with('[') {
        return true;
    }
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|t| t.bytes().any(|b| b.is_ascii_alphabetic()))
}

/// Whether `addr` is a plausible `local@domain` mailbox: a local part of 1 to 64
/// characters, no space, control or angle bracket, a fully qualified or literal domain.
pub fn valid_mailbox(addr: &str) -> bool {
    let Some((local, domain)) = addr.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !addr
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        && (is_fqdn(domain) || (domain.starts_with('[') && domain.ends_with(']')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Addresses {
        Addresses::parse(raw, &RawFacts::scan(raw))
    }

    #[test]
    fn every_field_in_one_parse() {
        let a = parse(
            b"From: \"Ann B\" <Ann@Example.com>\r\nTo: x@a.example, \"Y\" <Y@B.example>\r\n\
              Cc: undisclosed-recipients:;\r\nBcc: z@c.example\r\nSubject: s\r\n\r\nbody\r\n",
        );
        assert_eq!(a.from[0].name.as_deref(), Some("Ann B"));
        assert_eq!(a.from[0].address.as_deref(), Some("Ann@Example.com"));
        assert_eq!(a.to, ["x@a.example", "y@b.example"]);
        assert!(a.cc.is_empty());
        assert_eq!(a.bcc, ["z@c.example"]);
        assert_eq!(
            parse(b"Subject: none\r\n\r\nbody\r\n"),
            Addresses::default()
        );
    }
}
