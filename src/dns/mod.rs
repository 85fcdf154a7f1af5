//! DNS answers for the checks that need the network, kept apart from how they are
//! fetched, so the engine stays synchronous and testable.
//!
//! A check that needs DNS names its questions ([`Query`]) for a message, given the
//! answers so far (a lookup may depend on another: MX, then the exchanger's address);
//! the caller resolves them with whatever it has (a [`Resolver`]: the fixed answers of
//! [`fixed`] for tests, fixtures and rule examples; a real resolver with a deadline and
//! a cache in the daemon and the CLI), and the engine decides from the [`Answers`]
//! ([`crate::Engine::check_with`]). [`crate::Engine::check`] is the offline path: it
//! asks nothing and runs no check that needs the network.

use std::collections::HashMap;

pub mod fixed;
#[cfg(feature = "online")]
pub mod live;
mod settings;

pub use fixed::Fixed;
pub use settings::DnsConfig;

/// A record type the checks ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Mail exchanger: `PREFERENCE EXCHANGE`.
    Mx,
    /// Text (SPF, DMARC, DKIM keys): the strings of one record joined.
    Txt,
    /// Reverse name of an address.
    Ptr,
}

impl RecordType {
    /// Its name in zone files and `dig` (`MX`).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Ptr => "PTR",
        }
    }

    /// The type written `name` (any case).
    pub fn parse(name: &str) -> Option<RecordType> {
        [
            RecordType::A,
            RecordType::Aaaa,
            RecordType::Mx,
            RecordType::Txt,
            RecordType::Ptr,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(name))
    }
}

/// One question: a name (lower case, without the final dot) and a record type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Query {
    /// The domain name asked about.
    pub name: String,
    /// The record type asked for.
    pub kind: RecordType,
}

impl Query {
    /// The question for `kind` records of `name` (case and a final dot do not matter).
    pub fn new(name: &str, kind: RecordType) -> Query {
        Query {
            name: name.trim_end_matches('.').to_ascii_lowercase(),
            kind,
        }
    }
}

impl std::fmt::Display for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.kind.as_str())
    }
}

/// What the DNS said to one question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The records, as text in zone-file form (`10 mx.example.com` for MX, the joined
    /// strings for TXT, the address for A and AAAA, the name for PTR).
    Records(Vec<String>),
    /// The name exists but has no record of this type (NODATA).
    NoData,
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// No answer: a timeout, SERVFAIL or REFUSED. Checks decide nothing from it.
    Failed(String),
}

/// The answers gathered for one message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answers {
    map: HashMap<Query, Answer>,
}

impl Answers {
    /// No answers yet.
    pub fn new() -> Answers {
        Answers::default()
    }

    /// The answer to `q`, when it was asked.
    pub fn get(&self, q: &Query) -> Option<&Answer> {
        self.map.get(q)
    }

    /// Records `answer` for `q`.
    pub fn insert(&mut self, q: Query, answer: Answer) {
        self.map.insert(q, answer);
    }

    /// Whether `q` was answered (in any way).
    pub fn has(&self, q: &Query) -> bool {
        self.map.contains_key(q)
    }

    /// How many questions were answered.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing was answered.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Something that answers DNS questions. Implementations bound their own time (a
/// question they cannot answer in time is [`Answer::Failed`]) and may cache.
pub trait Resolver: Send + Sync {
    /// The answers to `queries`, one per question.
    fn resolve(&self, queries: &[Query]) -> Vec<(Query, Answer)>;
}

impl<R: Resolver + ?Sized> Resolver for &R {
    fn resolve(&self, queries: &[Query]) -> Vec<(Query, Answer)> {
        (**self).resolve(queries)
    }
}

/// Where a run's answers come from, message after message: each message gets a resolver
/// of its own ([`Source::session`]), so a deadline or a bound on lookups per message
/// starts with it, while what the source keeps (a cache) serves every message. The
/// fixed answers of a file ([`Fixed`]) and real DNS ([`live::Live`]) are sources.
pub trait Source: Send + Sync + std::fmt::Debug {
    /// The resolver for one message's lookups.
    fn session(&self) -> Box<dyn Resolver + '_>;
}

impl Source for Fixed {
    fn session(&self) -> Box<dyn Resolver + '_> {
        Box::new(self)
    }
}

/// The most rounds of questions for one message: each round may only ask what the
/// answers of the one before made necessary (MX, then the exchangers' addresses; SPF
/// includes), so a loop or a very deep chain stops here.
pub const MAX_ROUNDS: usize = 10;

/// Asks `resolver` what `plan` needs, round after round, until `plan` needs nothing new
/// or [`MAX_ROUNDS`] have run. `plan` gets the answers so far and returns the questions
/// it still needs; a question asked before is not asked again.
pub fn gather(resolver: &dyn Resolver, mut plan: impl FnMut(&Answers) -> Vec<Query>) -> Answers {
    let mut answers = Answers::new();
    for _ in 0..MAX_ROUNDS {
        let mut wanted: Vec<Query> = plan(&answers)
            .into_iter()
            .filter(|q| !answers.has(q))
            .collect();
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() {
            break;
        }
        for (q, a) in resolver.resolve(&wanted) {
            answers.insert(q, a);
        }
        // A resolver that leaves a question out has failed it (so it is not asked again).
        for q in wanted {
            if !answers.has(&q) {
                answers.insert(q, Answer::Failed("no answer".into()));
            }
        }
    }
    answers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_normalised_and_gathered_in_rounds() {
        assert_eq!(
            Query::new("Example.COM.", RecordType::Mx),
            Query::new("example.com", RecordType::Mx)
        );
        assert_eq!(RecordType::parse("aaaa"), Some(RecordType::Aaaa));
        let zone = Fixed::parse(
            "example.com MX 10 mx.example.com\nmx.example.com A 192.0.2.1\n",
            "zone",
        )
        .unwrap();
        let mut rounds = 0;
        let answers = gather(&zone, |a| {
            rounds += 1;
            let mx = Query::new("example.com", RecordType::Mx);
            match a.get(&mx) {
                None => vec![mx],
                Some(Answer::Records(r)) => r
                    .iter()
                    .filter_map(|r| r.split_whitespace().nth(1))
                    .map(|h| Query::new(h, RecordType::A))
                    .collect(),
                Some(_) => Vec::new(),
            }
        });
        assert_eq!(rounds, 3, "MX, then A, then nothing new");
        assert_eq!(
            answers.get(&Query::new("mx.example.com", RecordType::A)),
            Some(&Answer::Records(vec!["192.0.2.1".into()]))
        );
        // A plan that always wants more stops after MAX_ROUNDS.
        let mut n = 0;
        let answers = gather(&zone, |_| {
            n += 1;
            vec![Query::new(&format!("n{n}.example"), RecordType::A)]
        });
        assert_eq!(answers.len(), MAX_ROUNDS);
    }
}
