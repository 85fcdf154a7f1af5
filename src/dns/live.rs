//! The resolver of the CLI, batch scans and daemons: real DNS through
//! [hickory-resolver](https://docs.rs/hickory-resolver), with
//!
//! * a **deadline per message** ([`DnsConfig::timeout_ms`]): every lookup of one message,
//!   over all its rounds, must be answered by then; one that is not is
//!   [`Answer::Failed`], so the check that needed it reports itself as not checked
//!   instead of deciding;
//! * a **bound on lookups per message** ([`DnsConfig::max_lookups`]);
//! * **concurrent lookups**: the questions of one round are asked at once;
//! * a **cache** shared by every message: positive and negative answers each kept for
//!   their TTL (a negative one for its SOA's), [`DnsConfig::cache_size`] answers, so the
//!   first messages of a sending domain pay for the lookups and later ones hit the
//!   cache. It sits in front of hickory's own: a hit never leaves the calling thread.
//!
//! [`Live`] owns a small Tokio runtime of its own (one thread) that drives the sockets;
//! the engine stays synchronous. A message's lookups go through a [`Session`], which
//! holds its deadline and budget and is the [`Resolver`] handed to
//! [`crate::Engine::check_online`]. Calling it blocks the calling thread (never call it
//! on an async event loop: the milter runs online checks on its blocking pool).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType as HType};

use super::DnsConfig;
use super::{Answer, Query, RecordType, Resolver, Source};
use crate::error::{Error, ErrorKind};

/// A caching resolver with a deadline and a bound per message.
pub struct Live {
    resolver: TokioResolver,
    /// Always `Some` until dropped (see the `Drop`).
    runtime: Option<tokio::runtime::Runtime>,
    timeout: Duration,
    max_lookups: usize,
    /// Lookups made since start (cache hits included), for the log and benchmarks.
    asked: AtomicUsize,
    /// Of those, the ones sent to the network (not in the cache).
    sent: AtomicUsize,
    /// Answers, each until it expires (its TTL; a negative answer's from the SOA).
    cache: Mutex<Cache>,
}

/// The answers kept across messages. A hit costs a hash lookup, where asking hickory
/// (even from its own cache) costs a task on the resolver's runtime and two thread
/// wake-ups: with warm caches that doubled an online check's CPU.
#[derive(Default)]
struct Cache {
    map: HashMap<Query, (Answer, Instant)>,
    capacity: usize,
}

impl Cache {
    fn get(&self, q: &Query, now: Instant) -> Option<Answer> {
        self.map
            .get(q)
            .filter(|(_, until)| *until > now)
            .map(|(a, _)| a.clone())
    }

    fn put(&mut self, q: Query, a: Answer, until: Instant, now: Instant) {
        if self.map.len() >= self.capacity {
            self.map.retain(|_, (_, t)| *t > now);
            if self.map.len() >= self.capacity {
                // Full of live answers: start over rather than track use.
                self.map.clear();
            }
        }
        self.map.insert(q, (a, until));
    }
}

/// The longest an answer is kept, whatever its TTL.
const TTL_MAX: Duration = Duration::from_secs(86_400);
/// How long a negative answer without an SOA TTL is kept.
const NEGATIVE_TTL: Duration = Duration::from_secs(300);
/// How long a failure the server answered (SERVFAIL, REFUSED) or a name that cannot be
/// asked is kept: briefly, so a broken zone is not asked again for every message. (A
/// lookup that was merely late is never kept.)
const FAILED_TTL: Duration = Duration::from_secs(30);

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("timeout", &self.timeout)
            .field("max_lookups", &self.max_lookups)
            .finish_non_exhaustive()
    }
}

impl Live {
    /// A resolver as `config` says: its nameservers (the system's when none are given),
    /// its deadline, bound and cache size.
    pub fn new(config: &DnsConfig) -> Result<Live, Error> {
        let bad = |why: String| Error::new(ErrorKind::Config, format!("dns: {why}"));
        let addrs = config.nameserver_addrs().map_err(bad)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("preflight-dns")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Error::new(ErrorKind::Io, format!("dns: cannot start: {e}")))?;
        let provider = TokioRuntimeProvider::default();
        let mut builder = if addrs.is_empty() {
            TokioResolver::builder(provider).map_err(|e| {
                bad(format!(
                    "cannot read the system's resolver configuration ({e}); set dns.nameservers"
                ))
            })?
        } else {
            let servers = addrs
                .iter()
                .map(|a| {
                    let mut ns = NameServerConfig::udp_and_tcp(a.ip());
                    for c in &mut ns.connections {
                        c.port = a.port();
                    }
                    ns
                })
                .collect();
            TokioResolver::builder_with_config(ResolverConfig::from_name_servers(servers), provider)
        };
        let opts: &mut ResolverOpts = builder.options_mut();
        // A lost UDP answer is asked again within the deadline: three tries fit in it.
        // The deadline, not hickory, ends a lookup.
        opts.timeout = (Duration::from_millis(config.timeout_ms) / 3)
            .clamp(Duration::from_millis(100), Duration::from_secs(5));
        opts.attempts = 3;
        opts.cache_size = config.cache_size;
        opts.ndots = 0;
        opts.edns0 = true;
        opts.preserve_intermediates = false;
        let resolver = {
            let _in_runtime = runtime.enter();
            builder
                .build()
                .map_err(|e| bad(format!("cannot build the resolver: {e}")))?
        };
        Ok(Live {
            resolver,
            runtime: Some(runtime),
            timeout: Duration::from_millis(config.timeout_ms),
            max_lookups: config.max_lookups,
            asked: AtomicUsize::new(0),
            sent: AtomicUsize::new(0),
            cache: Mutex::new(Cache {
                map: HashMap::new(),
                capacity: usize::try_from(config.cache_size)
                    .unwrap_or(usize::MAX)
                    .max(1),
            }),
        })
    }

    /// The lookups of one message start here: its deadline runs from now.
    pub fn session(&self) -> Session<'_> {
        Session {
            live: self,
            deadline: Instant::now() + self.timeout,
            asked: AtomicUsize::new(0),
        }
    }

    /// The deadline of one message's lookups.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Lookups asked since start, cache hits included.
    pub fn lookups(&self) -> usize {
        self.asked.load(Ordering::Relaxed)
    }

    /// Lookups sent to the network since start (the cache did not have them).
    pub fn lookups_sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }
}

/// One message's lookups: its deadline and what is left of its bound. A [`Resolver`].
#[derive(Debug)]
pub struct Session<'a> {
    live: &'a Live,
    deadline: Instant,
    asked: AtomicUsize,
}

impl Resolver for Session<'_> {
    fn resolve(&self, queries: &[Query]) -> Vec<(Query, Answer)> {
        let live = self.live;
        let before = self.asked.fetch_add(queries.len(), Ordering::Relaxed);
        let room = live.max_lookups.saturating_sub(before).min(queries.len());
        let (asked, over) = queries.split_at(room);
        let mut out: Vec<(Query, Answer)> = over
            .iter()
            .map(|q| {
                let why = format!(
                    "not asked: more than {} lookups for one message (dns.max_lookups)",
                    live.max_lookups
                );
                (q.clone(), Answer::Failed(why))
            })
            .collect();
        let late = || {
            Answer::Failed(format!(
                "no answer within {} ms (dns.timeout_ms)",
                live.timeout.as_millis()
            ))
        };
        live.asked.fetch_add(asked.len(), Ordering::Relaxed);
        // From the cache what it has; the rest from the network.
        let now = Instant::now();
        let mut missing: Vec<&Query> = Vec::new();
        {
            let cache = live.cache.lock().unwrap_or_else(|p| p.into_inner());
            for q in asked {
                match cache.get(q, now) {
                    Some(a) => out.push((q.clone(), a)),
                    None => missing.push(q),
                }
            }
        }
        if missing.is_empty() {
            return out;
        }
        let asked = missing;
        live.sent.fetch_add(asked.len(), Ordering::Relaxed);
        let left = self.deadline.saturating_duration_since(now);
        if left.is_zero() {
            out.extend(asked.iter().map(|q| ((*q).clone(), late())));
            return out;
        }
        let Some(runtime) = &live.runtime else {
            out.extend(asked.iter().map(|q| ((*q).clone(), late())));
            return out;
        };
        let got = runtime.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for (i, q) in asked.iter().enumerate() {
                let r = live.resolver.clone();
                let q = (*q).clone();
                set.spawn(async move { (i, lookup(&r, &q).await) });
            }
            let mut got: Vec<Option<(Answer, Duration)>> = vec![None; asked.len()];
            let _ = tokio::time::timeout(left, async {
                while let Some(done) = set.join_next().await {
                    if let Ok((i, a)) = done {
                        got[i] = Some(a);
                    }
                }
            })
            .await;
            set.abort_all();
            got
        });
        let now = Instant::now();
        let mut cache = live.cache.lock().unwrap_or_else(|p| p.into_inner());
        for (q, got) in asked.into_iter().zip(got) {
            match got {
                Some((a, ttl)) => {
                    if !ttl.is_zero() {
                        cache.put(q.clone(), a.clone(), now + ttl.min(TTL_MAX), now);
                    }
                    out.push((q.clone(), a));
                }
                None => out.push((q.clone(), late())),
            }
        }
        out
    }
}

impl Source for Live {
    fn session(&self) -> Box<dyn Resolver + '_> {
        Box::new(Live::session(self))
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // A daemon may drop the last reference on an event loop after a reload, where a
        // runtime must not block to shut down.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// One lookup, as an [`Answer`], and how long it may be kept.
async fn lookup(resolver: &TokioResolver, q: &Query) -> (Answer, Duration) {
    let kind = match q.kind {
        RecordType::A => HType::A,
        RecordType::Aaaa => HType::AAAA,
        RecordType::Mx => HType::MX,
        RecordType::Txt => HType::TXT,
        RecordType::Ptr => HType::PTR,
    };
    // Fully qualified: no search domains.
    let name = format!("{}.", q.name);
    match resolver.lookup(name.as_str(), kind).await {
        Ok(found) => {
            let records: Vec<String> = found
                .answers()
                .iter()
                .filter(|r| r.record_type() == kind)
                .filter_map(|r| text(&r.data))
                .collect();
            let ttl = found
                .valid_until()
                .saturating_duration_since(std::time::Instant::now());
            if records.is_empty() {
                (Answer::NoData, ttl.min(NEGATIVE_TTL))
            } else {
                (Answer::Records(records), ttl)
            }
        }
        Err(e) => {
            let ttl = match &e {
                NetError::Dns(DnsError::NoRecordsFound(n)) => n
                    .negative_ttl
                    .map_or(NEGATIVE_TTL, |s| Duration::from_secs(u64::from(s))),
                NetError::Dns(_) | NetError::Proto(_) => FAILED_TTL,
                _ => Duration::ZERO,
            };
            (failure(&e), ttl)
        }
    }
}

/// What a failed lookup means.
fn failure(e: &NetError) -> Answer {
    match e {
        NetError::Dns(DnsError::NoRecordsFound(n)) if n.response_code == ResponseCode::NXDomain => {
            Answer::NxDomain
        }
        NetError::Dns(DnsError::NoRecordsFound(n)) if n.response_code == ResponseCode::NoError => {
            Answer::NoData
        }
        NetError::Dns(DnsError::NoRecordsFound(n)) => {
            Answer::Failed(format!("the server answered {}", n.response_code))
        }
        NetError::Dns(DnsError::ResponseCode(code)) => {
            Answer::Failed(format!("the server answered {code}"))
        }
        other => Answer::Failed(other.to_string()),
    }
}

/// A record's data as [`Answer::Records`] writes it.
fn text(data: &RData) -> Option<String> {
    let name = |n: &hickory_resolver::proto::rr::Name| {
        let s = n.to_ascii().to_ascii_lowercase();
        if s == "." {
            s
        } else {
            s.trim_end_matches('.').to_string()
        }
    };
    Some(match data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::MX(mx) => format!("{} {}", mx.preference, name(&mx.exchange)),
        RData::PTR(p) => name(&p.0),
        RData::TXT(t) => t
            .txt_data
            .iter()
            .map(|s| String::from_utf8_lossy(s))
            .collect::<String>(),
        _ => return None,
    })
}
