//! What the checks that need DNS add to a message's check, with a warm cache and cold.
//!
//! A real NSD on 127.0.0.1 (Debian's `nsd`) serves the root zone with wildcard records
//! (every name has an address, an MX, a TXT and a PTR, with a TTL of an hour), so every
//! lookup of every message is answered and cacheable, as a local resolver would answer
//! most of them. The dev corpus (`../shared/corpus`, or `samples/` without it) is checked
//! offline (`Engine::check`) and online (`Engine::check_online` through one
//! `dns::live::Live`, its cache warmed by a first pass), pass for pass, interleaved; the
//! process's CPU time (every thread's run time: the engine's and the resolver's, not NSD's) and
//! the wall time of each pass are printed, with the online/offline ratios.
//!
//! A cold pass (a new resolver, an empty cache) shows what the first messages of a
//! domain pay, and the per-message times it took against the deadline.
//!
//! `cargo bench --bench online [-- PASSES]` (default 5; needs `nsd`).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use preflight::dns::DnsConfig;
use preflight::dns::live::Live;
use preflight::{Config, Engine, Envelope};

mod common;

/// NSD serving a wildcard root zone; killed on drop.
struct Nsd(Child, PathBuf);

impl Drop for Nsd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn nsd(port: u16) -> Nsd {
    let dir = std::env::temp_dir().join(format!("preflight-bench-online-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("root.zone"),
        "$ORIGIN .\n$TTL 3600\n\
         . IN SOA ns.bench. host.bench. 1 3600 600 86400 3600\n\
         . IN NS ns.bench.\n\
         * IN A 192.0.2.1\n\
         * IN AAAA 2001:db8::1\n\
         * IN MX 10 mx.bench.\n\
         * IN TXT \"v=spf1 -all\"\n\
         * IN PTR host.bench.\n",
    )
    .unwrap();
    let d = dir.display();
    std::fs::write(
        dir.join("nsd.conf"),
        format!(
            "server:\n  ip-address: 127.0.0.1@{port}\n  username: \"\"\n  chroot: \"\"\n  \
             zonesdir: \"{d}\"\n  database: \"\"\n  pidfile: \"{d}/nsd.pid\"\n  \
             xfrdfile: \"{d}/xfrd.state\"\n  zonelistfile: \"{d}/zone.list\"\n  \
             xfrdir: \"{d}\"\n  verbosity: 0\nremote-control:\n  control-enable: no\n\
             zone:\n  name: \".\"\n  zonefile: root.zone\n"
        ),
    )
    .unwrap();
    let child = Command::new(if std::path::Path::new("/usr/sbin/nsd").exists() {
        "/usr/sbin/nsd"
    } else {
        "nsd"
    })
    .args(["-d", "-c"])
    .arg(dir.join("nsd.conf"))
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("nsd runs (apt-get install -y nsd)");
    Nsd(child, dir)
}

/// This process's CPU seconds, every thread (the engine's and the resolver's), to the
/// nanosecond: the sum of the scheduler's run time of each (`/proc/self/task/*/schedstat`).
/// (`/proc/self/stat` counts in ticks of 10 ms, too coarse for passes of half a second.)
fn cpu() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .sum::<f64>()
        / 1e9
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let passes: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let msgs = common::corpus_messages(3).unwrap_or_else(|| {
        std::fs::read_dir("samples")
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| std::fs::read(e.path()).unwrap())
            .collect()
    });
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = nsd(port);
    let config = Config {
        now: Some(1_795_392_000),
        sending: preflight::config::Sending {
            ips: vec!["192.0.2.25".parse().unwrap()],
            helo: Some("mail.bench".into()),
            relay_untrusted: false,
        },
        ..Config::default()
    };
    let engine = Engine::new(config).expect("shipped rules load");
    let dns = DnsConfig {
        enabled: true,
        nameservers: vec![format!("127.0.0.1:{port}")],
        cache_size: 200_000,
        ..DnsConfig::default()
    };
    // Wait until the server answers.
    let probe = Live::new(&dns).unwrap();
    let began = Instant::now();
    while began.elapsed() < Duration::from_secs(10) {
        let a = preflight::dns::Resolver::resolve(
            &probe.session(),
            &[preflight::dns::Query::new(
                "x.bench",
                preflight::dns::RecordType::A,
            )],
        );
        if matches!(a[0].1, preflight::dns::Answer::Records(_)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let env = Envelope::default();
    println!("{} messages, {passes} passes each way", msgs.len());

    // Cold: a new resolver, every answer fetched.
    let live = Live::new(&dns).unwrap();
    let (c0, t0) = (cpu(), Instant::now());
    let mut slowest = Duration::ZERO;
    let mut not_checked = 0;
    let mut late = Vec::new();
    for m in &msgs {
        let t = Instant::now();
        let r = engine.check_online(m, &env, &live.session());
        let took = t.elapsed();
        slowest = slowest.max(took);
        not_checked += usize::from(!r.not_checked.is_empty());
        if took > Duration::from_millis(500) {
            late.push(format!(
                "{took:.1?}: {}",
                r.not_checked
                    .iter()
                    .map(|n| format!("{}: {}", n.rules.join(","), n.why))
                    .collect::<Vec<_>>()
                    .join(" | ")
            ));
        }
    }
    println!(
        "cold cache: {:.3} s wall, {:.2} s CPU, {} lookups, slowest message {:?} (deadline {:?}), {not_checked} with rules not checked",
        t0.elapsed().as_secs_f64(),
        cpu() - c0,
        live.lookups(),
        slowest,
        live.timeout()
    );

    for l in late.iter().take(5) {
        println!("  slow: {l}");
    }
    let (mut off_cpu, mut on_cpu, mut off_wall, mut on_wall, mut ratio) =
        (vec![], vec![], vec![], vec![], vec![]);
    let sent_cold = live.lookups_sent();
    // Each message's answers, gathered once: `check_with` on them is the online checks'
    // own cost without the rounds of lookups.
    let gathered: Vec<preflight::dns::Answers> = msgs
        .iter()
        .map(|m| {
            let s = live.session();
            preflight::dns::gather(&s, |a| engine.plan(m, &env, a))
        })
        .collect();
    let mut with_cpu = vec![];
    for _ in 0..passes {
        let (c, t) = (cpu(), Instant::now());
        for m in &msgs {
            std::hint::black_box(engine.check(m, &env));
        }
        let (oc, ow) = (cpu() - c, t.elapsed().as_secs_f64());
        let (c, t) = (cpu(), Instant::now());
        for m in &msgs {
            std::hint::black_box(engine.check_online(m, &env, &live.session()));
        }
        let (nc, nw) = (cpu() - c, t.elapsed().as_secs_f64());
        let c = cpu();
        for (m, a) in msgs.iter().zip(&gathered) {
            std::hint::black_box(engine.check_with(m, &env, a));
        }
        with_cpu.push((cpu() - c) / oc);
        off_cpu.push(oc);
        on_cpu.push(nc);
        off_wall.push(ow);
        on_wall.push(nw);
        ratio.push(nc / oc);
        print!(".");
        let _ = std::io::stdout().flush();
    }
    println!();
    println!(
        "check_with on answers gathered beforehand / offline, CPU: median {:.3}",
        median(with_cpu)
    );
    println!(
        "warm passes sent {} lookups to the server (cold: {sent_cold})",
        live.lookups_sent() - sent_cold
    );
    let n = msgs.len() as f64;
    println!(
        "warm cache, median of {passes}: offline {:.3} s CPU ({:.0} µs/message), online {:.3} s CPU ({:.0} µs/message); online/offline CPU {:.3} (pairs: {}), wall {:.3}",
        median(off_cpu.clone()),
        median(off_cpu) / n * 1e6,
        median(on_cpu.clone()),
        median(on_cpu) / n * 1e6,
        median(ratio.clone()),
        ratio
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect::<Vec<_>>()
            .join(" "),
        median(on_wall) / median(off_wall),
    );
}
