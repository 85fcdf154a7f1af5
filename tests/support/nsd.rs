//! A real authoritative DNS server for the tests of DNS-based checks: NSD (Debian's `nsd`)
//! on 127.0.0.1 at a free high port, serving zones the test writes, stopped when the
//! [`Nsd`] handle is dropped. The recipe is `../shared/docs/TESTING.md`'s: an `nsd.conf`
//! of our own (no user switch, no chroot, no database, no control socket, every state
//! file in the server's own directory), checked with `nsd-checkconf` and
//! `nsd-checkzone`, run in the foreground with `nsd -d -c FILE` so the test owns the pid.
//!
//! NSD is authoritative only: a name outside its zones gets REFUSED at once, nothing
//! leaves the machine. The tests ask it questions with a hand-built query over UDP
//! ([`Nsd::query`], [`Nsd::lookup`]), so they need no resolver library and no `dig`.
//!
//! ```text
//! let dns = nsd::start(&[("auth.test", &nsd::zone("auth.test", "@ IN A 192.0.2.1"))])?;
//! assert_eq!(dns.query("auth.test", nsd::A)?, (nsd::NOERROR, 1));
//! ```

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Record type A (an IPv4 address).
pub const A: u16 = 1;
/// Record type NS.
pub const NS: u16 = 2;
/// Record type SOA.
pub const SOA: u16 = 6;
/// Record type PTR.
pub const PTR: u16 = 12;
/// Record type MX.
pub const MX: u16 = 15;
/// Record type TXT.
pub const TXT: u16 = 16;
/// Record type AAAA (an IPv6 address).
pub const AAAA: u16 = 28;

/// RCODE 0: no error (an answer, or NODATA when there are no answers).
pub const NOERROR: u8 = 0;
/// RCODE 3: the name does not exist.
pub const NXDOMAIN: u8 = 3;
/// RCODE 5: refused (NSD's answer for a name outside its zones).
pub const REFUSED: u8 = 5;

/// How long [`start`] waits for the server to answer its first query.
const STARTUP: Duration = Duration::from_secs(10);
/// How often [`start`] asks while it waits.
const POLL: Duration = Duration::from_millis(50);
/// How long [`Nsd::query`] and [`Nsd::lookup`] wait for a reply.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// Ports tried before [`start`] gives up when another process takes the one it picked.
const PORT_TRIES: usize = 5;

/// A running NSD: its directory (configuration, zone files, log), the child process and
/// the address it answers on. Dropping it stops the server (SIGTERM, then SIGKILL after
/// two seconds), reaps the child, waits until the port no longer answers and removes
/// the directory, which is kept when the thread is panicking so a failed test leaves
/// the log to read ([`Nsd::log`] names it).
pub struct Nsd {
    dir: PathBuf,
    child: Child,
    addr: SocketAddr,
}

/// One reply of the server, as much as the tests look at.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The RCODE ([`NOERROR`], [`NXDOMAIN`], [`REFUSED`], ...).
    pub rcode: u8,
    /// The AA flag: the server answered from a zone of its own.
    pub authoritative: bool,
    /// The TC flag: the answer did not fit in the UDP reply.
    pub truncated: bool,
    /// The answer section, in the server's order.
    pub answers: Vec<Record>,
}

/// A record of a reply's answer section.
#[derive(Clone, Debug)]
pub struct Record {
    /// The record type ([`A`], [`MX`], [`TXT`], ...).
    pub rtype: u16,
    /// The TTL, seconds.
    pub ttl: u32,
    /// The RDATA as sent (a name in it may be compressed, that is point into the reply).
    pub data: Vec<u8>,
}

impl Record {
    /// The character-strings of a TXT record's RDATA, each without its length byte; a
    /// reader of SPF, DKIM or DMARC joins them without a separator.
    pub fn strings(&self) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut rest = self.data.as_slice();
        while let Some((&len, tail)) = rest.split_first() {
            let len = usize::from(len).min(tail.len());
            out.push(&tail[..len]);
            rest = &tail[len..];
        }
        out
    }

    /// A TXT record's strings joined, as text (bytes that are not UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.strings().concat()).into_owned()
    }
}

/// Whether NSD is installed: `nsd` on the `PATH` or in `/usr/sbin` (Debian's place,
/// which a user's `PATH` may lack).
pub fn available() -> bool {
    tool("nsd").is_some()
}

/// Where the program `name` (`nsd`, `nsd-checkconf`, `nsd-checkzone`) is: the first
/// directory of the `PATH` that has it, else `/usr/sbin` or `/usr/local/sbin`.
fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A zone file for `origin` (`auth.test`, `2.0.192.in-addr.arpa`): `$ORIGIN`, `$TTL 300`,
/// a SOA and an NS record (`ns1.<origin>`, which `records` may give an address), then
/// `records` as written, one record per line, names relative to the origin.
pub fn zone(origin: &str, records: &str) -> String {
    let o = origin.trim_end_matches('.');
    format!(
        "$ORIGIN {o}.\n$TTL 300\n\
         @ IN SOA ns1.{o}. hostmaster.{o}. 1 3600 600 86400 300\n\
         @ IN NS ns1.{o}.\n\
         {records}\n"
    )
}

/// `text` as the RDATA of a TXT record in a zone file: quoted strings of at most 255
/// bytes each, in parentheses (so a DKIM key of 2048 bits can be written in one piece),
/// with `"` and `\` escaped. `text` must be ASCII, so a split never cuts a character.
pub fn txt(text: &str) -> String {
    assert!(text.is_ascii(), "TXT text must be ASCII: {text:?}");
    let quoted: Vec<String> = text
        .as_bytes()
        .chunks(255)
        .map(|c| {
            let s = std::str::from_utf8(c).expect("ASCII");
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
        })
        .collect();
    match quoted.len() {
        0 => "\"\"".to_string(),
        1 => quoted.concat(),
        _ => format!("( {} )", quoted.join(" ")),
    }
}

/// Starts NSD serving `zones`, each an origin (`auth.test`) and the text of its zone
/// file (see [`zone`]), and returns once it answers the first zone's SOA. The server
/// listens on 127.0.0.1 at a port free when it was picked; if another process takes the
/// port first, another is tried. The error says what failed, with `nsd-checkconf`'s or
/// `nsd-checkzone`'s output for a configuration or zone NSD rejects, and the server's log
/// when it did not start.
pub fn start(zones: &[(&str, &str)]) -> Result<Nsd, String> {
    let nsd = tool("nsd").ok_or(
        "NSD is not installed (no `nsd` on the PATH or in /usr/sbin): \
         `apt-get install -y nsd` (Debian), or run `.ci/run`, which installs it",
    )?;
    if zones.is_empty() {
        return Err("nsd::start needs at least one zone".into());
    }
    let dir = fresh_dir()?;
    let started = start_in(&nsd, dir.clone(), zones);
    if started.is_err() {
        // The error carries the checkers' output or the log.
        let _ = std::fs::remove_dir_all(&dir);
    }
    started
}

/// [`start`] in the fresh directory `dir`, with NSD at `nsd`.
fn start_in(nsd: &Path, dir: PathBuf, zones: &[(&str, &str)]) -> Result<Nsd, String> {
    let mut zone_conf = String::new();
    for (i, (origin, text)) in zones.iter().enumerate() {
        let origin = origin.trim_end_matches('.');
        let file = format!("zone{i}.zone");
        write(&dir.join(&file), text)?;
        check(
            Command::new(tool("nsd-checkzone").unwrap_or("nsd-checkzone".into()))
                .arg(origin)
                .arg(dir.join(&file)),
            &format!("zone {origin}"),
        )?;
        zone_conf.push_str(&format!(
            "zone:\n    name: \"{origin}\"\n    zonefile: \"{file}\"\n"
        ));
    }
    let first = zones[0].0.trim_end_matches('.');
    let mut last_error = String::new();
    for _ in 0..PORT_TRIES {
        let port = free_port()?;
        let conf = dir.join("nsd.conf");
        write(&conf, &config(&dir, port, &zone_conf))?;
        check(
            Command::new(tool("nsd-checkconf").unwrap_or("nsd-checkconf".into())).arg(&conf),
            "nsd.conf",
        )?;
        let log_path = dir.join("nsd.log");
        let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let log2 = log.try_clone().map_err(|e| format!("nsd.log: {e}"))?;
        let mut child = Command::new(nsd)
            .arg("-d")
            .arg("-c")
            .arg(&conf)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("{}: {e}", nsd.display()))?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let began = Instant::now();
        let failed = loop {
            if let Ok(r) = lookup(addr, first, SOA, POLL) {
                if r.rcode == NOERROR && !r.answers.is_empty() {
                    return Ok(Nsd { dir, child, addr });
                }
                break format!(
                    "NSD answered {first} SOA with rcode {} and {} answers",
                    r.rcode,
                    r.answers.len()
                );
            }
            if let Ok(Some(status)) = child.try_wait() {
                break format!("NSD exited ({status}) before answering");
            }
            if began.elapsed() > STARTUP {
                break format!("NSD did not answer {first} SOA on {addr} within {STARTUP:?}");
            }
            std::thread::sleep(POLL);
        };
        stop(&mut child, addr);
        let log = read_log(&dir);
        last_error = format!("{failed}\n{log}");
        if !log.contains("can't bind") {
            return Err(last_error);
        }
    }
    Err(format!(
        "NSD could not bind a port in {PORT_TRIES} tries; the last:\n{last_error}"
    ))
}

impl Nsd {
    /// The address the server answers on: 127.0.0.1 and its port, UDP and TCP.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Asks the server for `name`'s records of type `qtype` over UDP (a two-second
    /// timeout); returns the reply's RCODE and the number of answers.
    pub fn query(&self, name: &str, qtype: u16) -> Result<(u8, u16), String> {
        let r = self.lookup(name, qtype)?;
        Ok((r.rcode, r.answers.len() as u16))
    }

    /// Asks the server for `name`'s records of type `qtype` over UDP (a two-second
    /// timeout); returns the reply with its answers.
    pub fn lookup(&self, name: &str, qtype: u16) -> Result<Reply, String> {
        lookup(self.addr, name, qtype, QUERY_TIMEOUT)
    }

    /// What the server has logged so far (its standard output and error), after a line
    /// naming the log file.
    pub fn log(&self) -> String {
        read_log(&self.dir)
    }
}

impl Drop for Nsd {
    fn drop(&mut self) {
        stop(&mut self.child, self.addr);
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Stops the server and reaps it: SIGTERM, which lets NSD stop its own server processes
/// (through kill(1), as there is no `unsafe` here), then SIGKILL if it is still there
/// after two seconds. Returns once `addr` no longer answers (at most a second more): the
/// server process NSD forked may outlive the one we started by a few milliseconds.
fn stop(child: &mut Child, addr: SocketAddr) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stderr(Stdio::null())
        .status();
    let began = Instant::now();
    while matches!(child.try_wait(), Ok(None)) && began.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    let began = Instant::now();
    while lookup(addr, ".", SOA, POLL).is_ok() && began.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The log of the server in `dir`, after a line naming the file.
fn read_log(dir: &Path) -> String {
    let path = dir.join("nsd.log");
    match std::fs::read(&path) {
        Ok(b) => format!(
            "--- {} ---\n{}",
            path.display(),
            String::from_utf8_lossy(&b)
        ),
        Err(e) => format!("--- {}: {e} ---", path.display()),
    }
}

/// The configuration: NSD on 127.0.0.1 at `port`, every file it keeps in `dir`, no
/// control socket, one server process; `zones` are the `zone:` blocks.
fn config(dir: &Path, port: u16, zones: &str) -> String {
    let d = dir.display();
    format!(
        "server:\n\
         \x20   ip-address: 127.0.0.1@{port}\n\
         \x20   do-ip6: no\n\
         \x20   username: \"\"\n\
         \x20   chroot: \"\"\n\
         \x20   database: \"\"\n\
         \x20   zonesdir: \"{d}\"\n\
         \x20   zonelistfile: \"{d}/zone.list\"\n\
         \x20   xfrdfile: \"{d}/xfrd.state\"\n\
         \x20   xfrdir: \"{d}\"\n\
         \x20   pidfile: \"{d}/nsd.pid\"\n\
         \x20   server-count: 1\n\
         \x20   verbosity: 1\n\
         remote-control:\n\
         \x20   control-enable: no\n\
         {zones}"
    )
}

/// A new empty directory for one server, under Cargo's temporary directory for the tests.
fn fresh_dir() -> Result<PathBuf, String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("nsd-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if dir.to_string_lossy().contains('"') {
        return Err(format!("{}: a quote in the path", dir.display()));
    }
    Ok(dir)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs a checker (`nsd-checkzone`, `nsd-checkconf`); its output in the error when it
/// fails.
fn check(cmd: &mut Command, what: &str) -> Result<(), String> {
    let o = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if o.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what}: {:?} failed ({})\n{}{}",
        cmd.get_program(),
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    ))
}

/// A port on 127.0.0.1 free for both UDP and TCP just now (both are bound to it, then
/// released); a few tries, as the port the kernel gives for UDP may be taken for TCP.
fn free_port() -> Result<u16, String> {
    let mut last = String::new();
    for _ in 0..10 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("UDP: {e}"))?;
        let port = udp.local_addr().map_err(|e| e.to_string())?.port();
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            Ok(_) => return Ok(port),
            Err(e) => last = format!("TCP port {port}: {e}"),
        }
    }
    Err(format!("no port free for UDP and TCP: {last}"))
}

/// The wire form of a query for `name`'s `qtype` records, class IN, recursion not
/// desired, with an EDNS0 OPT record offering 1,232-byte UDP replies as resolvers do.
fn query_packet(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, String> {
    let mut p = Vec::with_capacity(64);
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0, 0]); // flags: a standard query, RD off
    p.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 1]); // QD 1, AN 0, NS 0, AR 1
    let name = name.trim_end_matches('.');
    if !name.is_empty() {
        for label in name.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(format!(
                    "{name:?}: a label is empty or longer than 63 bytes"
                ));
            }
            p.push(label.len() as u8);
            p.extend_from_slice(label.as_bytes());
        }
    }
    p.push(0);
    if p.len() - 12 > 255 {
        return Err(format!("{name:?}: longer than 255 bytes"));
    }
    p.extend_from_slice(&qtype.to_be_bytes());
    p.extend_from_slice(&1u16.to_be_bytes()); // class IN
    // OPT: root name, type 41, class = UDP payload size, TTL 0 (version 0), no options.
    p.extend_from_slice(&[0, 0, 41]);
    p.extend_from_slice(&1232u16.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    Ok(p)
}

/// Sends the query to `addr` over UDP and reads the reply with the same id, waiting at
/// most `timeout`.
fn lookup(addr: SocketAddr, name: &str, qtype: u16, timeout: Duration) -> Result<Reply, String> {
    static NEXT_ID: AtomicU32 = AtomicU32::new(0x1d5e);
    let id = NEXT_ID.fetch_add(0x9e37, Ordering::Relaxed) as u16;
    let packet = query_packet(id, name, qtype)?;
    let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("UDP: {e}"))?;
    sock.connect(addr).map_err(|e| format!("{addr}: {e}"))?;
    sock.send(&packet).map_err(|e| format!("{addr}: {e}"))?;
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 65535];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("{addr}: no reply to {name} {qtype} in {timeout:?}"));
        }
        sock.set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        let n = match sock.recv(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) => return Err(format!("{addr}: {e}")),
        };
        let reply = &buf[..n];
        if reply.len() >= 12 && reply[..2] == id.to_be_bytes() && reply[2] & 0x80 != 0 {
            return parse(reply).ok_or_else(|| format!("{addr}: a malformed reply {reply:02x?}"));
        }
    }
}

/// The RCODE, flags and answer section of a reply (`None` when it is cut short).
fn parse(m: &[u8]) -> Option<Reply> {
    let u16_at = |i: usize| Some(u16::from_be_bytes([*m.get(i)?, *m.get(i + 1)?]));
    let qdcount = u16_at(4)?;
    let ancount = u16_at(6)?;
    let mut at = 12;
    for _ in 0..qdcount {
        at = skip_name(m, at)? + 4;
    }
    let mut answers = Vec::with_capacity(usize::from(ancount));
    for _ in 0..ancount {
        at = skip_name(m, at)?;
        let rtype = u16_at(at)?;
        let ttl = u32::from(u16_at(at + 4)?) << 16 | u32::from(u16_at(at + 6)?);
        let len = usize::from(u16_at(at + 8)?);
        let data = m.get(at + 10..at + 10 + len)?.to_vec();
        at += 10 + len;
        answers.push(Record { rtype, ttl, data });
    }
    Some(Reply {
        rcode: m[3] & 0x0f,
        authoritative: m[2] & 0x04 != 0,
        truncated: m[2] & 0x02 != 0,
        answers,
    })
}

/// The offset just past the name at `at`: labels up to the root, or up to a compression
/// pointer (two bytes).
fn skip_name(m: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *m.get(at)?;
        match len {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return m.get(at + 1).map(|_| at + 2),
            l if l & 0xc0 == 0 => at += 1 + usize::from(l),
            _ => return None,
        }
    }
}
