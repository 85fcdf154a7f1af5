//! The milter server on 127.0.0.1, spoken to in raw protocol bytes: negotiation, a
//! rejected canary, a passing message with its verdict header, abort and a second message
//! on one connection, an oversized message, an MTA that wants every reply, and a malformed
//! packet that closes only its own connection, progress replies during a long check, no
//! stalls from delayed TCP acknowledgements; and the daemon itself (`preflight milter`)
//! with two workers under concurrent connections, draining an open connection on SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use preflight::Engine;
use preflight::config::{MilterConfig, Settings};
use preflight::daemon::Loaded;
use preflight::milter::server::{Shared, serve_tcp};

use crate::support::binary::bin;
use crate::support::{Rng, sample};

/// Starts a milter on an ephemeral port with `settings`, on a single-threaded runtime as
/// each of the daemon's workers has; returns the address.
fn start(settings: Settings) -> std::net::SocketAddr {
    let resolver = settings.dns.enabled.then(|| {
        std::sync::Arc::new(preflight::dns::live::Live::new(&settings.dns).expect("resolver"))
    });
    let loaded = Loaded {
        engine: Engine::new(settings.engine).expect("shipped rules load"),
        settings: settings.milter,
        resolver,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            serve_tcp(l, Shared::new(loaded), stop_rx).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// The shipped defaults at the tests' reference time, with the milter's own.
fn config() -> Settings {
    Settings {
        engine: crate::support::config(),
        milter: MilterConfig::default(),
        dns: Default::default(),
    }
}

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

fn send(s: &mut TcpStream, code: u8, data: &[u8]) {
    let mut p = ((data.len() + 1) as u32).to_be_bytes().to_vec();
    p.push(code);
    p.extend_from_slice(data);
    s.write_all(&p).unwrap();
}

/// Reads one reply packet; `None` when the server closed the connection.
fn reply(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut len = [0u8; 4];
    if s.read_exact(&mut len).is_err() {
        return None;
    }
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).ok()?;
    let data = body.split_off(1);
    Some((body[0], data))
}

/// Negotiates offering `steps`; returns the flags the milter asked for.
fn negotiate(s: &mut TcpStream, steps: u32) -> u32 {
    let mut d = 6u32.to_be_bytes().to_vec();
    d.extend_from_slice(&0x1ffu32.to_be_bytes());
    d.extend_from_slice(&steps.to_be_bytes());
    send(s, b'O', &d);
    let (code, data) = reply(s).expect("negotiation reply");
    assert_eq!(code, b'O');
    assert_eq!(u32::from_be_bytes(data[0..4].try_into().unwrap()), 6);
    let actions = u32::from_be_bytes(data[4..8].try_into().unwrap());
    assert_eq!(actions & 0x2, 0, "must not ask to change the body");
    assert_ne!(actions & 0x1, 0, "adds headers");
    u32::from_be_bytes(data[8..12].try_into().unwrap())
}

/// Headers as (name, value) with folded lines kept, and the body, from a message file.
fn split_message(raw: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push('\n');
                last.1.push_str(line);
            }
        } else if let Some((n, v)) = line.split_once(':') {
            headers.push((n.to_string(), v.trim_start().to_string()));
        }
    }
    (headers, body.replace('\n', "\r\n").into_bytes())
}

/// Sends one message's envelope, headers and body; the milter answers nothing before end
/// of message when `quiet` (no-reply flags negotiated), else `c` to each step.
fn send_message(s: &mut TcpStream, raw: &[u8], quiet: bool) {
    let expect_continue = |s: &mut TcpStream| {
        if !quiet {
            assert_eq!(reply(s).map(|r| r.0), Some(b'c'));
        }
    };
    send(s, b'D', b"Mi\0QID42\0{auth_authen}\0alice\0");
    send(s, b'M', b"<alice@example.com>\0");
    expect_continue(s);
    send(s, b'R', b"<bob@example.org>\0");
    expect_continue(s);
    let (headers, body) = split_message(raw);
    for (n, v) in headers {
        let mut d = n.into_bytes();
        d.push(0);
        d.extend_from_slice(v.as_bytes());
        d.push(0);
        send(s, b'L', &d);
        expect_continue(s);
    }
    send(s, b'N', b"");
    expect_continue(s);
    for chunk in body.chunks(65535) {
        send(s, b'B', chunk);
        expect_continue(s);
    }
    send(s, b'E', b"");
}

/// The replies to end of message, up to the final decision: only header actions,
/// quarantine and progress may come before it (a Skip or any other reply here would be
/// the answer to an earlier command, out of step).
fn end_of_message(s: &mut TcpStream) -> Vec<(u8, String)> {
    let mut out = Vec::new();
    loop {
        let (code, data) = reply(s).expect("a reply at end of message");
        out.push((code, String::from_utf8_lossy(&data).replace('\0', "|")));
        match code {
            b'c' | b'a' | b'r' | b't' | b'd' | b'y' => return out,
            b'h' | b'i' | b'm' | b'q' | b'p' => {}
            _ => panic!("reply {:?} at end of message: {out:?}", char::from(code)),
        }
    }
}

#[test]
fn rejects_the_canary_and_passes_a_newsletter_on_one_connection() {
    let addr = start(config());
    let mut s = connect(addr);
    let steps = negotiate(&mut s, 0x1f_ffff);
    assert_ne!(steps & 0x0008_0000, 0, "no replies to body chunks");
    send(&mut s, b'C', b"client.example\x004\x10\x92192.0.2.7\0");
    send(&mut s, b'H', b"client.example\0");
    send_message(&mut s, &sample("canary.eml"), true);
    let r = end_of_message(&mut s);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].0, b'y');
    assert!(
        r[0].1
            .starts_with("554 5.7.1 preflight: rejected by CNT001"),
        "{r:?}"
    );
    // A second message on the same connection.
    send_message(&mut s, &sample("good-newsletter.eml"), true);
    let r = end_of_message(&mut s);
    assert_eq!(r[0].0, b'h', "{r:?}");
    // Header values carry their leading space: the MTA offered, and the milter took,
    // the leading-space flag.
    assert!(
        r[0].1.starts_with("X-Preflight-Verdict| pass; score="),
        "{r:?}"
    );
    assert_eq!(r.last().unwrap().0, b'c');
    // Abort mid-message, then a message that goes through.
    send(&mut s, b'M', b"<alice@example.com>\0");
    send(&mut s, b'L', b"Subject\0half a message\0");
    send(&mut s, b'A', b"");
    send_message(&mut s, &sample("good-personal-reply.eml"), true);
    let r = end_of_message(&mut s);
    assert_eq!(r.last().unwrap().0, b'c', "{r:?}");
    send(&mut s, b'Q', b"");
    assert_eq!(reply(&mut s), None, "the milter closes after QUIT");
}

/// Postfix leaves Nagle's algorithm on for milter connections, and with the no-reply flags
/// most of what it sends gets no answer: unless the milter acknowledges each read at once,
/// every further small write waits for the delayed acknowledgement (40 ms on Linux).
#[test]
fn messages_sent_without_replies_are_not_held_by_delayed_acknowledgements() {
    let addr = start(config());
    let mut s = connect(addr);
    negotiate(&mut s, 0x1f_ffff);
    send(&mut s, b'C', b"client.example\x004\x10\x92192.0.2.7\0");
    send(&mut s, b'H', b"client.example\0");
    let raw = sample("good-personal-reply.eml");
    let mut took: Vec<Duration> = (0..7)
        .map(|_| {
            let t = std::time::Instant::now();
            send_message(&mut s, &raw, true);
            let r = end_of_message(&mut s);
            assert_eq!(r.last().unwrap().0, b'c', "{r:?}");
            t.elapsed()
        })
        .collect();
    took.sort();
    assert!(took[3] < Duration::from_millis(30), "{took:?}");
}

#[test]
fn answers_every_step_when_the_mta_wants_replies() {
    let addr = start(config());
    let mut s = connect(addr);
    let steps = negotiate(&mut s, 0x7f);
    assert_eq!(
        steps & 0x000f_f000,
        0,
        "asked for nothing that was not offered"
    );
    send(&mut s, b'C', b"client.example\x004\x10\x92192.0.2.7\0");
    assert_eq!(reply(&mut s).map(|r| r.0), Some(b'c'));
    send_message(&mut s, &sample("good-newsletter.eml"), false);
    let r = end_of_message(&mut s);
    assert!(
        r[0].1.starts_with("X-Preflight-Verdict|pass; score="),
        "{r:?}"
    );
    assert_eq!(r.last().unwrap().0, b'c', "{r:?}");
}

#[test]
fn oversized_message_gets_the_size_reply() {
    let mut c = config();
    // Room for the small samples and SIZE001's margin for what servers add on the way.
    c.engine.limits.max_message_bytes = Some(6000);
    let addr = start(c);
    let mut s = connect(addr);
    negotiate(&mut s, 0x1f_ffff);
    let mut big = sample("good-newsletter.eml");
    big.extend(std::iter::repeat_n(b'x', 8000));
    send_message(&mut s, &big, true);
    let r = end_of_message(&mut s);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].0, b'y', "{r:?}");
    assert!(r[0].1.starts_with("552 5.3.4"), "{r:?}");
    // The next messages of the session get their own answers.
    send_message(&mut s, &sample("good-personal-reply.eml"), true);
    assert_eq!(end_of_message(&mut s).last().unwrap().0, b'c');
    send_message(&mut s, &sample("canary.eml"), true);
    let r = end_of_message(&mut s);
    assert!(r[0].1.starts_with("554 5.7.1"), "{r:?}");
    send(&mut s, b'Q', b"");
    assert_eq!(reply(&mut s), None, "nothing left unread after QUIT");
}

/// An MTA that waits for a reply to every body chunk and offers Skip gets Skip for the
/// chunk past the limit, and nothing else out of turn.
#[test]
fn oversized_message_is_skipped_where_body_replies_are_due() {
    let mut c = config();
    c.engine.limits.max_message_bytes = Some(2000);
    let addr = start(c);
    let mut s = connect(addr);
    // Everything but the no-reply flags for headers and body.
    let steps = negotiate(&mut s, 0x1f_ffff & !0x0008_0080);
    assert_eq!(steps & 0x0008_0080, 0);
    send(&mut s, b'M', b"<alice@example.com>\0");
    send(&mut s, b'L', b"Subject\0big\0");
    assert_eq!(reply(&mut s).map(|r| r.0), Some(b'c'));
    send(&mut s, b'B', &[b'x'; 1000]);
    assert_eq!(reply(&mut s).map(|r| r.0), Some(b'c'));
    send(&mut s, b'B', &[b'x'; 1500]);
    assert_eq!(reply(&mut s).map(|r| r.0), Some(b's'), "skip the rest");
    send(&mut s, b'E', b"");
    let r = end_of_message(&mut s);
    assert!(r[0].1.starts_with("552 5.3.4"), "{r:?}");
}

#[test]
fn malformed_packets_close_only_their_connection() {
    let addr = start(config());
    let mut bad = connect(addr);
    negotiate(&mut bad, 0x1f_ffff);
    // A packet that claims 1 GiB.
    bad.write_all(&[0x40, 0, 0, 0, b'B']).unwrap();
    assert_eq!(reply(&mut bad), None);
    let mut unknown = connect(addr);
    send(&mut unknown, b'z', b"");
    assert_eq!(reply(&mut unknown), None);
    // Others are still served.
    let mut good = connect(addr);
    negotiate(&mut good, 0x1f_ffff);
    send_message(&mut good, &sample("canary.eml"), true);
    assert_eq!(end_of_message(&mut good).last().unwrap().0, b'y');
}

#[test]
fn sends_progress_while_a_check_runs_on_the_blocking_pool() {
    let mut c = config();
    // Every message to the pool, and progress far more often than the check takes.
    c.milter.inline_check_bytes = 0;
    c.milter.progress_secs = 0.001;
    let addr = start(c);
    let mut s = connect(addr);
    negotiate(&mut s, 0x1f_ffff);
    let mut big = sample("good-personal-reply.eml");
    for i in 0..60_000 {
        big.extend_from_slice(format!("line {i} of a long but ordinary report\r\n").as_bytes());
    }
    send_message(&mut s, &big, true);
    let r = end_of_message(&mut s);
    assert!(r.len() > 1, "no progress before the decision: {r:?}");
    assert!(r[..r.len() - 1].iter().any(|(c, _)| *c == b'p'), "{r:?}");
    assert_eq!(r.last().unwrap().0, b'c', "{r:?}");
    // The connection stays usable after a long check.
    send_message(&mut s, &sample("canary.eml"), true);
    assert_eq!(end_of_message(&mut s).last().unwrap().0, b'y');
}

/// Sends SIGTERM to `pid` (through kill(1): no `unsafe` here).
fn terminate(pid: u32) {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM {pid}");
}

#[test]
fn the_daemon_serves_concurrent_connections_on_two_workers_and_drains_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("preflight-milter-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("preflight.yaml");
    std::fs::write(&conf, "now: 1795392000\nmilter:\n  workers: 2\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.join("milter.log");
    let mut daemon = bin()
        .arg("milter")
        .arg("--listen")
        .arg(format!("inet:127.0.0.1:{port}"))
        .arg("--config")
        .arg(&conf)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let started = std::time::Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the milter never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Sixteen MTA connections at once, each with a rejected and a passed message.
    let clients: Vec<_> = (0..16)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = connect(addr);
                negotiate(&mut s, 0x1f_ffff);
                send_message(&mut s, &sample("canary.eml"), true);
                let r = end_of_message(&mut s);
                assert!(
                    r[0].1.starts_with("554 5.7.1 preflight: rejected by"),
                    "{r:?}"
                );
                send_message(&mut s, &sample("good-newsletter.eml"), true);
                assert_eq!(end_of_message(&mut s).last().unwrap().0, b'c');
                send(&mut s, b'Q', b"");
                assert_eq!(reply(&mut s), None);
            })
        })
        .collect();
    for c in clients {
        c.join().expect("a client failed");
    }
    // SIGTERM with a message half sent: the daemon stops accepting, finishes that
    // message, and exits once the MTA quits.
    let mut s = connect(addr);
    negotiate(&mut s, 0x1f_ffff);
    send(&mut s, b'M', b"<alice@example.com>\0");
    terminate(daemon.id());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        daemon.try_wait().unwrap().is_none(),
        "exited with a connection open"
    );
    send(&mut s, b'A', b"");
    send_message(&mut s, &sample("canary.eml"), true);
    assert_eq!(end_of_message(&mut s).last().unwrap().0, b'y');
    send(&mut s, b'Q', b"");
    let waited = std::time::Instant::now();
    let status = loop {
        if let Some(st) = daemon.try_wait().unwrap() {
            break st;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(20),
            "the milter did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert!(
        TcpStream::connect(addr).is_err(),
        "still listening after SIGTERM"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("workers=2"), "{text}");
    assert_eq!(text.matches("checked").count(), 33, "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Random MTAs over a real TCP connection: random offered actions and protocol flags,
/// several messages per session (clean, canary, oversize, forged verdict headers, aborts),
/// each answered in step: a reply to exactly the commands that wait for one, at end of
/// message the answer for that message, and nothing left over after QUIT.
#[test]
fn random_sessions_over_the_wire_stay_in_step() {
    let mut c = config();
    c.engine.limits.max_message_bytes = Some(50_000);
    let addr = start(c);
    let mut rng = Rng(0x5eed_2026_1202);
    let clean = sample("good-personal-reply.eml");
    let canary = sample("canary.eml");
    let mut big = sample("good-newsletter.eml");
    for i in 0..1200 {
        big.extend_from_slice(format!("padding line {i} to pass the size limit\n").as_bytes());
    }
    for round in 0..60 {
        let mut s = connect(addr);
        let offered_actions = rng.below(0x200) as u32;
        let offered_steps = rng.below(0x20_0000) as u32;
        let mut d = 6u32.to_be_bytes().to_vec();
        d.extend_from_slice(&offered_actions.to_be_bytes());
        d.extend_from_slice(&offered_steps.to_be_bytes());
        send(&mut s, b'O', &d);
        let (code, data) = reply(&mut s).expect("negotiation reply");
        assert_eq!(code, b'O');
        let actions = u32::from_be_bytes(data[4..8].try_into().unwrap());
        let steps = u32::from_be_bytes(data[8..12].try_into().unwrap());
        assert_eq!(actions & !offered_actions, 0, "round {round}");
        assert_eq!(steps & !offered_steps, 0, "round {round}");
        let waits = |nr: u32| steps & nr == 0;
        let sends = |no: u32| steps & no == 0;
        let step_reply = |s: &mut TcpStream, nr: u32, what: &str| {
            if waits(nr) {
                let got = reply(s).map(|r| r.0);
                assert_eq!(got, Some(b'c'), "round {round}: {what}");
            }
        };
        if sends(0x1) {
            send(&mut s, b'C', b"client.example\x004\x10\x92192.0.2.7\0");
            step_reply(&mut s, 0x1000, "connect");
        }
        let lead = steps & 0x0010_0000 != 0;
        for m in 0..1 + rng.below(4) {
            let kind = rng.below(4);
            let raw = match kind {
                0 | 1 => &clean,
                2 => &canary,
                _ => &big,
            };
            let forged = rng.below(3);
            let abort = rng.below(8) == 0;
            let what = format!("round {round} message {m} kind {kind}");
            if sends(0x4) {
                send(&mut s, b'M', b"<alice@example.com>\0");
                step_reply(&mut s, 0x4000, &what);
            }
            if sends(0x8) {
                send(&mut s, b'R', b"<bob@example.org>\0");
                step_reply(&mut s, 0x8000, &what);
            }
            let (mut headers, body) = split_message(raw);
            for k in 0..forged {
                let name = ["X-Preflight-Verdict", "x-preflight-verdict"][k % 2];
                headers.insert(0, (name.into(), "pass; score=0".into()));
            }
            for (n, v) in headers {
                let mut d = n.into_bytes();
                d.push(0);
                if lead {
                    d.push(b' ');
                }
                d.extend_from_slice(v.as_bytes());
                d.push(0);
                send(&mut s, b'L', &d);
                step_reply(&mut s, 0x80, &what);
            }
            if abort {
                send(&mut s, b'A', b"");
                continue;
            }
            let mut skipped = false;
            for chunk in body.chunks(16 * 1024) {
                if skipped {
                    break;
                }
                send(&mut s, b'B', chunk);
                if waits(0x0008_0000) {
                    let got = reply(&mut s).map(|r| r.0);
                    match got {
                        Some(b'c') => {}
                        Some(b's') if steps & 0x400 != 0 && kind == 3 => skipped = true,
                        other => panic!("{what}: body chunk answered {other:?}"),
                    }
                }
            }
            send(&mut s, b'E', b"");
            let r = end_of_message(&mut s);
            let last = r.last().unwrap();
            match kind {
                2 => assert!(last.1.starts_with("554 5.7.1"), "{what}: {r:?}"),
                3 => assert!(last.1.starts_with("552 5.3.4"), "{what}: {r:?}"),
                _ => assert_eq!(last.0, b'c', "{what}: {r:?}"),
            }
            let deletions = r.iter().filter(|(c, _)| *c == b'm').count();
            let adds = r.iter().filter(|(c, _)| *c == b'h').count();
            if last.0 == b'c' {
                let can_change = actions & 0x10 != 0;
                assert_eq!(
                    deletions,
                    if can_change { forged } else { 0 },
                    "{what}: {r:?}"
                );
                assert_eq!(adds, usize::from(actions & 0x1 != 0), "{what}: {r:?}");
            } else {
                assert_eq!(r.len(), 1, "{what}: {r:?}");
            }
        }
        send(&mut s, b'Q', b"");
        assert_eq!(
            reply(&mut s),
            None,
            "round {round}: a reply left over after QUIT"
        );
    }
}

/// With `dns.enabled` the milter runs the checks that need DNS, over a real DNS server
/// (NSD on 127.0.0.1): a sending IP on a blocklist flags every message, the first pays
/// for the lookups and the next hit the cache.
#[test]
#[ignore = "needs nsd; .ci/run runs it"]
fn online_checks_over_real_dns() {
    use crate::support::nsd;
    assert!(nsd::available(), "needs NSD: apt-get install -y nsd");
    let zen = nsd::zone("zen.spamhaus.org", "25.2.0.192 A 127.0.0.2\n");
    let reverse = nsd::zone("2.0.192.in-addr.arpa", "25 PTR mail.example.com.\n");
    let ns = nsd::start(&[
        ("zen.spamhaus.org", &zen),
        ("2.0.192.in-addr.arpa", &reverse),
    ])
    .unwrap();
    let mut settings = config();
    settings.dns.enabled = true;
    settings.dns.nameservers = vec![ns.addr().to_string()];
    settings.engine.sending.ips = vec!["192.0.2.25".parse().unwrap()];
    let addr = start(settings);
    let mut s = connect(addr);
    negotiate(&mut s, 0x1f_ffff);
    send(&mut s, b'C', b"client.example\x004\x10\x92192.0.2.7\0");
    send(&mut s, b'H', b"client.example\0");
    for round in 0..2 {
        let began = std::time::Instant::now();
        send_message(&mut s, &sample("good-personal-reply.eml"), true);
        let r = end_of_message(&mut s);
        println!("message {round}: {:?}", began.elapsed());
        let header = r.iter().find(|(c, _)| *c == b'h').map(|(_, v)| v.clone());
        let header = header.unwrap_or_else(|| panic!("{r:?}"));
        assert!(
            header.contains("flag;") && header.contains("REP001"),
            "{header}"
        );
    }
    send(&mut s, b'Q', b"");
}
