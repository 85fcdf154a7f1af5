//! The DNS server of the tests (`tests/support/nsd.rs`, a real NSD on 127.0.0.1) proves
//! itself: it serves every record type the DNS checks read (A, AAAA, MX with a null MX,
//! TXT split in several strings as SPF and a 2048-bit DKIM key are, PTR in a reverse
//! zone), says NXDOMAIN for a missing name, NODATA for a missing type and REFUSED for a
//! name outside its zones, reports a zone it rejects with `nsd-checkzone`'s words, and
//! runs beside a second instance on another port.
//!
//! The tests are `#[ignore]`d, as they need Debian's `nsd`; `.ci/run` installs it and runs
//! them, and without it they fail and say so:
//!
//! ```text
//! cargo test --release --test tests -- --ignored --nocapture it::dns_server::
//! ```

use std::time::Instant;

use crate::support::Rng;
use crate::support::nsd::{self, AAAA, MX, NOERROR, NS, NXDOMAIN, Nsd, PTR, REFUSED, SOA, TXT};

/// The SPF record of `auth.test`, published split in two strings.
const SPF: &str = "v=spf1 ip4:192.0.2.0/24 -all";

/// A DKIM key record the size of a 2048-bit RSA key's: a public key of 294 bytes (the
/// size of its DER SubjectPublicKeyInfo), 392 characters of base64. The bytes are
/// random, not a key: the server does not care.
fn dkim_record() -> String {
    let mut rng = Rng(2048);
    let key: Vec<u8> = (0..294).map(|_| rng.next() as u8).collect();
    format!("v=DKIM1; k=rsa; p={}", base64(&key))
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = u32::from(c[0]) << 16
            | u32::from(*c.get(1).unwrap_or(&0)) << 8
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The forward zone: a domain with mail servers, SPF, DMARC and a DKIM key, and a
/// subdomain that takes no mail (null MX).
fn auth_zone() -> String {
    nsd::zone(
        "auth.test",
        &format!(
            "ns1 IN A 127.0.0.1\n\
             @ IN A 192.0.2.10\n\
             @ IN AAAA 2001:db8::10\n\
             @ IN MX 10 mx1.auth.test.\n\
             @ IN MX 20 mx2\n\
             mx1 IN A 192.0.2.25\n\
             mx2 IN A 192.0.2.26\n\
             @ IN TXT \"v=spf1 ip4:192.0.2.0/24\" \" -all\"\n\
             _dmarc IN TXT \"v=DMARC1; p=reject; adkim=s\"\n\
             sel1._domainkey IN TXT {}\n\
             nomail IN MX 0 .\n",
            nsd::txt(&dkim_record())
        ),
    )
}

/// The reverse zone of 192.0.2.0/24.
fn reverse_zone() -> String {
    nsd::zone(
        "2.0.192.in-addr.arpa",
        "10 IN PTR auth.test.\n\
         25 IN PTR mx1.auth.test.\n",
    )
}

/// Starts NSD with `zones`, or fails the test saying why (NSD not installed, a zone it
/// rejects, its log when it did not start); prints how long it took to answer.
fn start(zones: &[(&str, &str)]) -> Nsd {
    assert!(
        nsd::available(),
        "these tests need NSD: `apt-get install -y nsd` (Debian), or run `.ci/run`, which \
         installs it"
    );
    let began = Instant::now();
    let dns = nsd::start(zones).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "NSD on {} answered after {:.0} ms",
        dns.addr(),
        began.elapsed().as_secs_f64() * 1e3
    );
    dns
}

/// Both test zones.
fn start_both() -> Nsd {
    let (auth, rev) = (auth_zone(), reverse_zone());
    start(&[("auth.test", &auth), ("2.0.192.in-addr.arpa", &rev)])
}

/// `query`, failing the test on a transport error.
fn ask(dns: &Nsd, name: &str, qtype: u16) -> (u8, u16) {
    dns.query(name, qtype)
        .unwrap_or_else(|e| panic!("{name} {qtype}: {e}\n{}", dns.log()))
}

/// `lookup`, failing the test on a transport error.
fn answers(dns: &Nsd, name: &str, qtype: u16) -> nsd::Reply {
    dns.lookup(name, qtype)
        .unwrap_or_else(|e| panic!("{name} {qtype}: {e}\n{}", dns.log()))
}

#[test]
#[ignore = "needs nsd; run by .ci/run"]
fn serves_the_record_types_the_checks_read() {
    let dns = start_both();

    let soa = answers(&dns, "auth.test", SOA);
    assert_eq!((soa.rcode, soa.answers.len()), (NOERROR, 1));
    assert!(
        soa.authoritative,
        "an answer from its own zone is authoritative"
    );
    assert_eq!(soa.answers[0].ttl, 300, "the zone's $TTL");
    assert_eq!(ask(&dns, "auth.test", NS), (NOERROR, 1));

    let a = answers(&dns, "auth.test", nsd::A);
    assert_eq!(a.answers.len(), 1);
    assert_eq!(a.answers[0].data, [192, 0, 2, 10]);
    let aaaa = answers(&dns, "auth.test", AAAA);
    assert_eq!(aaaa.answers.len(), 1);
    let mut v6 = [0u8; 16];
    v6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    v6[15] = 0x10;
    assert_eq!(aaaa.answers[0].data, v6);
    assert_eq!(ask(&dns, "mx1.auth.test", nsd::A), (NOERROR, 1));
    // Names are not case-sensitive.
    assert_eq!(ask(&dns, "MX2.Auth.TEST.", nsd::A), (NOERROR, 1));

    let mx = answers(&dns, "auth.test", MX);
    assert!(mx.answers.iter().all(|r| r.rtype == MX), "{mx:?}");
    let mut prefs: Vec<[u8; 2]> = mx.answers.iter().map(|r| [r.data[0], r.data[1]]).collect();
    prefs.sort();
    assert_eq!(prefs, [10u16.to_be_bytes(), 20u16.to_be_bytes()]);
    // RFC 7505 null MX: preference 0, the root as exchange.
    let null = answers(&dns, "nomail.auth.test", MX);
    assert_eq!(null.answers.len(), 1);
    assert_eq!(null.answers[0].data, [0, 0, 0]);

    // TXT keeps the strings as the zone file splits them; a reader joins them.
    let spf = answers(&dns, "auth.test", TXT);
    assert_eq!(spf.answers.len(), 1);
    assert_eq!(spf.answers[0].rtype, TXT);
    assert_eq!(
        spf.answers[0].strings(),
        [&b"v=spf1 ip4:192.0.2.0/24"[..], &b" -all"[..]]
    );
    assert_eq!(spf.answers[0].text(), SPF);
    let dmarc = answers(&dns, "_dmarc.auth.test", TXT);
    assert_eq!(dmarc.answers[0].text(), "v=DMARC1; p=reject; adkim=s");
    let dkim = answers(&dns, "sel1._domainkey.auth.test", TXT);
    assert!(!dkim.truncated, "fits a 1,232-byte EDNS reply");
    assert_eq!(dkim.answers.len(), 1);
    let strings = dkim.answers[0].strings();
    let want = dkim_record();
    assert!(want.len() > 255 && want.len() < 510, "{}", want.len());
    assert_eq!(
        strings.iter().map(|s| s.len()).collect::<Vec<_>>(),
        [255, want.len() - 255]
    );
    assert_eq!(dkim.answers[0].text(), want);

    let ptr = answers(&dns, "10.2.0.192.in-addr.arpa", PTR);
    assert_eq!((ptr.rcode, ptr.answers.len()), (NOERROR, 1));
    assert_eq!(ptr.answers[0].rtype, PTR);
    assert!(ptr.authoritative);
    assert_eq!(ask(&dns, "25.2.0.192.in-addr.arpa", PTR), (NOERROR, 1));
    assert_eq!(ask(&dns, "2.0.192.in-addr.arpa", SOA), (NOERROR, 1));
}

#[test]
#[ignore = "needs nsd; run by .ci/run"]
fn missing_names_are_nxdomain_missing_types_nodata() {
    let dns = start_both();
    // NXDOMAIN: the name is not in the zone at all.
    assert_eq!(ask(&dns, "nosuch.auth.test", nsd::A), (NXDOMAIN, 0));
    assert_eq!(ask(&dns, "sel2._domainkey.auth.test", TXT), (NXDOMAIN, 0));
    assert_eq!(ask(&dns, "_dmarc.nomail.auth.test", TXT), (NXDOMAIN, 0));
    assert_eq!(ask(&dns, "99.2.0.192.in-addr.arpa", PTR), (NXDOMAIN, 0));
    let nx = answers(&dns, "nosuch.auth.test", MX);
    assert!(
        nx.authoritative,
        "NXDOMAIN from its own zone is authoritative"
    );
    // NODATA: the name is there, not with that type.
    assert_eq!(ask(&dns, "mx1.auth.test", MX), (NOERROR, 0));
    assert_eq!(ask(&dns, "mx1.auth.test", AAAA), (NOERROR, 0));
    assert_eq!(ask(&dns, "nomail.auth.test", nsd::A), (NOERROR, 0));
    assert_eq!(ask(&dns, "_dmarc.auth.test", MX), (NOERROR, 0));
    assert_eq!(ask(&dns, "10.2.0.192.in-addr.arpa", TXT), (NOERROR, 0));
    // An empty non-terminal (only sel1._domainkey below it) exists: NODATA, not NXDOMAIN.
    assert_eq!(ask(&dns, "_domainkey.auth.test", TXT), (NOERROR, 0));
}

#[test]
#[ignore = "needs nsd; run by .ci/run"]
fn names_outside_its_zones_are_refused() {
    let dns = start_both();
    for name in [
        "example.com",
        "test",
        "other.test",
        "xauth.test",
        "1.2.0.193.in-addr.arpa",
        "0.192.in-addr.arpa",
        ".",
    ] {
        let r = answers(&dns, name, nsd::A);
        assert_eq!((r.rcode, r.answers.len()), (REFUSED, 0), "{name}");
        assert!(!r.authoritative, "{name}");
    }
}

#[test]
#[ignore = "needs nsd; run by .ci/run"]
fn two_servers_run_at_once_and_stop_when_dropped() {
    let auth = auth_zone();
    let other = nsd::zone("other.test", "@ IN A 192.0.2.99\n@ IN MX 0 .");
    let one = start(&[("auth.test", &auth)]);
    let two = start(&[("other.test", &other)]);
    assert_ne!(one.addr().port(), two.addr().port());
    assert_eq!(ask(&one, "auth.test", MX), (NOERROR, 2));
    assert_eq!(ask(&two, "other.test", MX), (NOERROR, 1));
    // Each serves its own zones only.
    assert_eq!(ask(&one, "other.test", nsd::A).0, REFUSED);
    assert_eq!(ask(&two, "auth.test", nsd::A).0, REFUSED);
    let addr = one.addr();
    drop(one);
    assert_eq!(ask(&two, "other.test", nsd::A), (NOERROR, 1), "still up");
    let gone = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    gone.set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    gone.connect(addr).unwrap();
    let _ = gone.send(&[0u8; 12]);
    assert!(
        gone.recv(&mut [0u8; 512]).is_err(),
        "{addr} still answers after the drop"
    );
}

#[test]
#[ignore = "needs nsd; run by .ci/run"]
fn a_zone_nsd_rejects_is_reported_with_its_reason() {
    assert!(
        nsd::available(),
        "these tests need NSD: `apt-get install -y nsd`"
    );
    // A TXT string of more than 255 bytes that is not split.
    let long = "a".repeat(300);
    let bad = nsd::zone("bad.test", &format!("@ IN TXT \"{long}\""));
    let err = nsd::start(&[("bad.test", &bad)])
        .err()
        .expect("a zone NSD rejects does not start");
    assert!(err.contains("zone bad.test"), "{err}");
    assert!(err.contains("longer than 255"), "{err}");
}
