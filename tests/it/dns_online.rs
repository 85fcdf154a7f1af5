//! The checks that need DNS, over real DNS: the resolver of `--online`
//! (`preflight::dns::live`) asks a real NSD on 127.0.0.1 (`tests/support/nsd.rs`), and a
//! server that never answers shows the deadline holds.
//!
//! The tests are `#[ignore]`d, as they need Debian's `nsd`; `.ci/run` installs it and runs
//! them:
//!
//! ```text
//! cargo test --release --test tests -- --ignored --nocapture it::dns_online::
//! ```

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use preflight::dns::live::Live;
use preflight::dns::{Answer, DnsConfig, Query, RecordType, Resolver};

use crate::support::binary::{code, run, stderr, stdout};
use crate::support::nsd::{self, Nsd};
use crate::support::scratch;

/// The zone of the recipient-domain tests.
fn rcpt_zone() -> String {
    nsd::zone(
        "rcpt.test",
        "good         MX 10 mx.good\n\
         mx.good      A  192.0.2.10\n\
         plain        A  192.0.2.11\n\
         nullmx       MX 0 .\n\
         nomx         TXT \"v=spf1 -all\"\n\
         deadmx       MX 10 gone.deadmx\n",
    )
}

fn server(zones: &[(&str, &str)]) -> Nsd {
    assert!(
        nsd::available(),
        "these tests need NSD: `apt-get install -y nsd` (Debian), or run `.ci/run`"
    );
    nsd::start(zones).unwrap_or_else(|e| panic!("NSD did not start: {e}"))
}

/// A config file that sends DNS to `addr` with `timeout_ms`.
fn config(dir: &Path, addr: SocketAddr, timeout_ms: u64) -> PathBuf {
    let file = dir.join("preflight.yaml");
    std::fs::write(
        &file,
        format!("dns:\n  nameservers: [\"{addr}\"]\n  timeout_ms: {timeout_ms}\n"),
    )
    .unwrap();
    file
}

fn message(dir: &Path, to: &str) -> PathBuf {
    let file = dir.join("m.eml");
    std::fs::write(
        &file,
        format!(
            "From: Ann <ann@example.com>\nTo: {to}\nSubject: Minutes of Monday\n\
             Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <m1@example.com>\n\n\
             The minutes are below.\n"
        ),
    )
    .unwrap();
    file
}

/// Why the report did not check rule `id` (its `not_checked` entry), or "".
fn not_checked_why(r: &serde_json::Value, id: &str) -> String {
    r["not_checked"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| {
            n["rules"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == id))
        })
        .map(|n| n["why"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

fn report(args: &[&str]) -> serde_json::Value {
    let o = run(args);
    assert!(code(&o) <= 2, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)))
}

/// RCPT004 over real DNS: a null MX, no MX and no address, exchangers without address
/// and a name that does not exist each refuse mail; a domain with MX, and one with only
/// an address, take it; a domain the server refuses to answer for is not checked.
#[test]
#[ignore = "needs nsd; .ci/run runs it"]
fn recipient_domains_over_real_dns() {
    let ns = server(&[("rcpt.test", &rcpt_zone())]);
    let dir = scratch("dns-online-rcpt");
    let cfg = config(&dir, ns.addr(), 2000);
    let eml = message(
        &dir,
        "a@good.rcpt.test, b@plain.rcpt.test, c@nullmx.rcpt.test, d@nomx.rcpt.test, \
         e@deadmx.rcpt.test, f@nxd.rcpt.test, g@elsewhere.example",
    );
    let cfg = cfg.to_str().unwrap();
    let eml = eml.to_str().unwrap();
    let r = report(&[
        "check",
        "--now=2026-11-23",
        "--format=json",
        "--config",
        cfg,
        "--online",
        eml,
    ]);
    let rcpt: Vec<&serde_json::Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "RCPT004")
        .collect();
    assert_eq!(rcpt.len(), 1, "{r}");
    let said = rcpt[0]["message"].as_str().unwrap();
    for refused in [
        "nullmx.rcpt.test publishes a null MX",
        "nomx.rcpt.test has no MX record and no address",
        "the mail servers of deadmx.rcpt.test (gone.deadmx.rcpt.test) have no address",
        "nxd.rcpt.test does not exist",
    ] {
        assert!(said.contains(refused), "{refused}: {said}");
    }
    assert!(
        !said.contains("good.rcpt.test") && !said.contains("plain.rcpt.test"),
        "{said}"
    );
    // NSD refuses names outside its zones: a failed lookup, so not checked.
    let why = not_checked_why(&r, "RCPT004");
    assert!(
        why.contains("elsewhere.example MX") && why.contains("Refused"),
        "{why}"
    );
}

/// A server that reads every query and answers none: the message is judged by the
/// offline checks within the deadline, and the report says what was not checked.
#[test]
#[ignore = "needs nsd; .ci/run runs it"]
fn a_server_that_never_answers_costs_the_deadline_only() {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = udp.local_addr().unwrap();
    // TCP too (a resolver may retry over TCP): accepted, never answered.
    let tcp = TcpListener::bind(addr).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let sink = std::thread::spawn(move || {
        udp.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        tcp.set_nonblocking(true).unwrap();
        let mut held = Vec::new();
        let mut buf = [0u8; 4096];
        while !s.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = udp.recv_from(&mut buf);
            if let Ok((c, _)) = tcp.accept() {
                held.push(c);
            }
        }
    });
    let dir = scratch("dns-online-silent");
    let cfg = config(&dir, addr, 400);
    let eml = message(&dir, "a@good.rcpt.test, b@nullmx.rcpt.test");
    let (cfg, eml) = (cfg.to_str().unwrap(), eml.to_str().unwrap());
    let offline = report(&["check", "--now=2026-11-23", "--format=json", eml]);
    let began = Instant::now();
    let online = report(&[
        "check",
        "--now=2026-11-23",
        "--format=json",
        "--config",
        cfg,
        "--online",
        eml,
    ]);
    let took = began.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    sink.join().unwrap();
    println!("a silent server: the check took {took:?} with a 400 ms deadline");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert_eq!(online["verdict"], offline["verdict"]);
    assert_eq!(online["findings"], offline["findings"]);
    let why = online["not_checked"][0]["why"].as_str().unwrap();
    assert!(why.contains("no answer within 400 ms"), "{online}");
}

/// The cache keeps answers, positive and negative, for their TTL: after the server is
/// gone, what was asked before is still answered; what was not fails.
#[test]
#[ignore = "needs nsd; .ci/run runs it"]
fn answers_are_cached_for_their_ttl() {
    let ns = server(&[("rcpt.test", &rcpt_zone())]);
    let live = Live::new(&DnsConfig {
        enabled: true,
        nameservers: vec![ns.addr().to_string()],
        timeout_ms: 1000,
        ..DnsConfig::default()
    })
    .unwrap();
    let mx = Query::new("good.rcpt.test", RecordType::Mx);
    let nx = Query::new("nxd.rcpt.test", RecordType::Mx);
    let nodata = Query::new("plain.rcpt.test", RecordType::Mx);
    let txt = Query::new("nomx.rcpt.test", RecordType::Txt);
    let first = live
        .session()
        .resolve(&[mx.clone(), nx.clone(), nodata.clone(), txt.clone()]);
    assert_eq!(
        first[0].1,
        Answer::Records(vec!["10 mx.good.rcpt.test".into()])
    );
    assert_eq!(first[1].1, Answer::NxDomain);
    assert_eq!(first[2].1, Answer::NoData);
    assert_eq!(first[3].1, Answer::Records(vec!["v=spf1 -all".into()]));
    drop(ns);
    let again = live.session().resolve(&[mx, nx, nodata, txt]);
    assert_eq!(first, again, "answered from the cache");
    let new = live
        .session()
        .resolve(&[Query::new("mx.good.rcpt.test", RecordType::A)]);
    assert!(matches!(new[0].1, Answer::Failed(_)), "{new:?}");
}

/// The bound on lookups per message: questions past it are not asked.
#[test]
#[ignore = "needs nsd; .ci/run runs it"]
fn lookups_past_the_bound_are_not_asked() {
    let ns = server(&[("rcpt.test", &rcpt_zone())]);
    let live = Live::new(&DnsConfig {
        enabled: true,
        nameservers: vec![ns.addr().to_string()],
        max_lookups: 2,
        ..DnsConfig::default()
    })
    .unwrap();
    let s = live.session();
    let qs: Vec<Query> = ["good", "plain", "nullmx"]
        .iter()
        .map(|d| Query::new(&format!("{d}.rcpt.test"), RecordType::Mx))
        .collect();
    let got = s.resolve(&qs);
    let answer = |name: &str| &got.iter().find(|(q, _)| q.name == name).unwrap().1;
    assert!(
        matches!(answer("good.rcpt.test"), Answer::Records(_)),
        "{got:?}"
    );
    assert!(
        matches!(answer("plain.rcpt.test"), Answer::NoData),
        "{got:?}"
    );
    let Answer::Failed(why) = answer("nullmx.rcpt.test") else {
        panic!("{got:?}")
    };
    assert!(why.contains("more than 2 lookups"), "{why}");
}

/// The reputation rules over real DNS: a blocklist zone in RFC 5782 form (a listed
/// address, one answered with the "public resolver refused" code), a domain blocklist,
/// and reverse DNS present, missing and not forward-confirmed.
#[test]
#[ignore = "needs nsd; .ci/run runs it"]
fn reputation_over_real_dns() {
    let zen = nsd::zone(
        "zen.spamhaus.org",
        "25.2.0.192   A 127.0.0.2\n\
         26.2.0.192   A 127.255.255.254\n",
    );
    let dbl = nsd::zone("dbl.spamhaus.org", "spam-shop.example A 127.0.1.2\n");
    let reverse = nsd::zone(
        "2.0.192.in-addr.arpa",
        "25 PTR mail.rep.test.\n\
         27 PTR host-27.isp.rep.test.\n",
    );
    let rep = nsd::zone(
        "rep.test",
        "mail          A 192.0.2.25\n\
         host-27.isp   A 192.0.2.99\n\
         @             MX 10 mail\n",
    );
    let ns = server(&[
        ("zen.spamhaus.org", &zen),
        ("dbl.spamhaus.org", &dbl),
        ("2.0.192.in-addr.arpa", &reverse),
        ("rep.test", &rep),
    ]);
    let dir = scratch("dns-online-rep");
    let cfg = dir.join("preflight.yaml");
    std::fs::write(
        &cfg,
        format!(
            "dns:\n  nameservers: [\"{}\"]\n\
             sending:\n  ips: [192.0.2.25, 192.0.2.26, 192.0.2.27]\n  helo: mail.rep.test\n\
             reputation:\n  ip_lists: [zen.spamhaus.org]\n  domain_lists: [dbl.spamhaus.org]\n",
            ns.addr()
        ),
    )
    .unwrap();
    let eml = dir.join("m.eml");
    std::fs::write(
        &eml,
        "From: Ann <ann@rep.test>\nTo: bob@rep.test\nSubject: The offer\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <r1@rep.test>\n\n\
         It is at https://www.spam-shop.example/deal today.\n",
    )
    .unwrap();
    let r = report(&[
        "check",
        "--now=2026-11-23",
        "--format=json",
        "--config",
        cfg.to_str().unwrap(),
        "--online",
        eml.to_str().unwrap(),
    ]);
    let finding = |id: &str| -> String {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .map(|f| f["message"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {id}: {r}"))
    };
    let rep001 = finding("REP001");
    assert!(
        rep001.contains("192.0.2.25 is listed on zen.spamhaus.org (127.0.0.2: SBL"),
        "{rep001}"
    );
    assert!(
        !rep001.contains("192.0.2.26"),
        "the refused answer is no listing: {rep001}"
    );
    assert!(finding("REP002").contains("spam-shop.example (a link domain)"));
    // .25 is confirmed; .26 has no PTR; .27's PTR name points elsewhere.
    let rep003 = finding("REP003");
    assert!(
        rep003.contains("192.0.2.26") && !rep003.contains("192.0.2.25"),
        "{rep003}"
    );
    let rep004 = finding("REP004");
    assert!(
        rep004.contains("192.0.2.27") && rep004.contains("host-27.isp.rep.test"),
        "{rep004}"
    );
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != "REP005"),
        "{r}"
    );
    let why = not_checked_why(&r, "REP001");
    assert!(
        why.contains("127.255.255.254") && why.contains("public or open resolver"),
        "{r}"
    );
}

/// `scan --online`: every draft's checks that need DNS run, through one resolver.
#[test]
#[ignore = "needs nsd; .ci/run runs it"]
fn scan_runs_the_online_checks_for_every_draft() {
    let ns = server(&[("rcpt.test", &rcpt_zone())]);
    let dir = scratch("dns-online-scan");
    let cfg = config(&dir, ns.addr(), 2000);
    let drafts = dir.join("drafts");
    std::fs::create_dir_all(&drafts).unwrap();
    for (name, to) in [
        ("a.eml", "x@nullmx.rcpt.test"),
        ("b.eml", "y@good.rcpt.test"),
        ("c.eml", "z@nxd.rcpt.test"),
    ] {
        let m = message(&dir, to);
        std::fs::rename(m, drafts.join(name)).unwrap();
    }
    let o = run(&[
        "scan",
        "--now=2026-11-23",
        "--format=jsonl",
        "-q",
        "--config",
        cfg.to_str().unwrap(),
        "--online",
        drafts.to_str().unwrap(),
    ]);
    assert!(code(&o) <= 2, "{}", stderr(&o));
    let fired: Vec<(String, bool)> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r.get("path").is_some())
        .map(|r| {
            let path = r["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string();
            let rcpt004 = r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["id"] == "RCPT004");
            (path, rcpt004)
        })
        .collect();
    assert_eq!(
        fired,
        [
            ("a.eml".to_string(), true),
            ("b.eml".to_string(), false),
            ("c.eml".to_string(), true)
        ],
        "{}",
        stdout(&o)
    );
}
