//! The rule families: the one table every other place reads (the loader's id check, the
//! default caps, the config's validation, the rule documentation).
//!
//! A new family is a row here, a pack `rules/<name>.yaml` and, for rules written in code,
//! a check in `checks/`.

/// A rule family.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Family {
    /// Its name, as rules, reports and configs write it (`headers`).
    pub name: &'static str,
    /// The prefix of its rule ids (`HDR`): three digits follow.
    pub prefix: &'static str,
    /// The default cap on the score it adds to a message: below the reject threshold, so
    /// no single family rejects on score alone (hard rules still reject).
    pub cap: f64,
    /// Whether its checks need answers from the network (DNS).
    pub network: bool,
}

const fn family(name: &'static str, prefix: &'static str, cap: f64, network: bool) -> Family {
    Family {
        name,
        prefix,
        cap,
        network,
    }
}

/// Every family, in report order. Names and prefixes are fixed: reports and configs rely
/// on them.
pub const FAMILIES: &[Family] = &[
    family("size", "SIZE", 8.0, false),
    family("headers", "HDR", 8.0, false),
    family("encoding", "ENC", 8.0, false),
    family("mime", "MIME", 6.0, false),
    family("bulk", "BULK", 4.0, false),
    family("content", "CNT", 5.0, false),
    family("attachments", "ATT", 8.0, false),
    family("html", "HTML", 6.0, false),
    family("links", "URL", 9.0, false),
    family("auth", "AUTH", 8.0, false),
    family("reputation", "REP", 8.0, true),
    family("recipients", "RCPT", 8.0, false),
    family("impersonation", "IMP", 8.0, false),
    family("model", "MDL", 6.0, false),
];

/// The family called `name`.
pub fn named(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.name == name)
}

/// Prefix of a valid id for `family`.
pub fn prefix(family: &str) -> Option<&'static str> {
    named(family).map(|f| f.prefix)
}

/// Whether `id` is a family prefix followed by exactly three digits.
pub fn valid_id(id: &str) -> bool {
    FAMILIES.iter().any(|f| {
        id.strip_prefix(f.prefix)
            .is_some_and(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_prefixes_are_unique_and_ids_check() {
        for (i, a) in FAMILIES.iter().enumerate() {
            for b in &FAMILIES[i + 1..] {
                assert_ne!(a.name, b.name);
                assert!(!a.prefix.starts_with(b.prefix) && !b.prefix.starts_with(a.prefix));
            }
        }
        assert_eq!(prefix("links"), Some("URL"));
        assert!(valid_id("HDR004") && !valid_id("HDR04") && !valid_id("XYZ001"));
    }
}
