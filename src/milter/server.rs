//! The milter daemon: accepts MTA connections on a TCP or Unix socket and runs each
//! connection's [`Session`] over the wire protocol, checking messages with the engine on
//! the blocking pool.
//!
//! Nothing is lost on our side: a check that fails internally or panics answers a
//! temporary failure, so the MTA keeps the message queued; a malformed or oversized
//! packet closes only that connection.

use std::io;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Semaphore, watch};

use super::protocol::{self, Command, Response, split_packet};
use super::reply::{self, Negotiated, Outcome};
use super::session::{Next, Session};
use crate::config::MilterConfig;
use crate::engine::Engine;
use crate::envelope::Envelope;

/// Where the milter listens, written as Postfix writes it in `smtpd_milters`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    /// `inet:HOST:PORT` (or `inet:PORT@HOST`).
    Inet(String, u16),
    /// `unix:/path` (or `local:/path`).
    Unix(PathBuf),
}

impl FromStr for Listen {
    type Err = String;

    fn from_str(s: &str) -> Result<Listen, String> {
        let bad =
            || format!("`{s}`: expected inet:HOST:PORT, inet:PORT@HOST or unix:/path/to/socket");
        if let Some(path) = s.strip_prefix("unix:").or_else(|| s.strip_prefix("local:")) {
            if path.is_empty() {
                return Err(bad());
            }
            return Ok(Listen::Unix(PathBuf::from(path)));
        }
        let rest = s.strip_prefix("inet:").ok_or_else(bad)?;
        let (host, port) = if let Some((port, host)) = rest.split_once('@') {
            (host, port)
        } else {
            let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
            (host.trim_start_matches('[').trim_end_matches(']'), port)
        };
        let port: u16 = port.parse().map_err(|_| bad())?;
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Listen::Inet(host.to_string(), port))
    }
}

/// What the connections share: the engine in force, swapped on reload. The milter
/// settings are those of its configuration, so both always change together.
pub struct Shared {
    engine: RwLock<Arc<Engine>>,
}

impl Shared {
    /// Shared state for `engine`.
    pub fn new(engine: Engine) -> Arc<Shared> {
        Arc::new(Shared {
            engine: RwLock::new(Arc::new(engine)),
        })
    }

    /// Puts a new engine (and its milter settings) in force for the next messages.
    pub fn replace(&self, engine: Engine) {
        let engine = Arc::new(engine);
        match self.engine.write() {
            Ok(mut e) => *e = engine,
            Err(poisoned) => *poisoned.into_inner() = engine,
        }
    }

    fn engine(&self) -> Arc<Engine> {
        match self.engine.read() {
            Ok(e) => Arc::clone(&e),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }
}

/// Why a connection ended early.
#[derive(Debug)]
enum ConnError {
    Io(io::Error),
    Protocol(protocol::ProtocolError),
    Timeout,
    Negotiation(&'static str),
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Io(e) => write!(f, "i/o error: {e}"),
            ConnError::Protocol(e) => write!(f, "protocol error: {e}"),
            ConnError::Timeout => write!(f, "no packet from the MTA within the read timeout"),
            ConnError::Negotiation(why) => write!(f, "negotiation failed: {why}"),
        }
    }
}

impl From<io::Error> for ConnError {
    fn from(e: io::Error) -> Self {
        ConnError::Io(e)
    }
}

/// Serves connections from `accept` until `stop` turns true, then waits for the open
/// connections to finish.
async fn serve<L, S>(
    mut accept: L,
    shared: Arc<Shared>,
    limit: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()>
where
    L: AsyncAccept<Stream = S>,
    S: MtaStream,
{
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&limit).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stop.changed() => break,
        };
        let stream = tokio::select! {
            s = accept.accept() => s,
            _ = stop.changed() => break,
        };
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        tasks.spawn(async move {
            if let Err(e) = connection(stream, shared).await {
                tracing::warn!(error = %e, "connection closed");
            }
            drop(permit);
        });
        // Reap finished connections so the set does not grow.
        while tasks.try_join_next().is_some() {}
    }
    // Drain: the connections in flight finish their messages.
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// A connection from the MTA, TCP or Unix.
pub trait MtaStream: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// Called after each read: acknowledges what was read at once where the transport
    /// would otherwise wait.
    fn acknowledge(&self) {}
}

impl MtaStream for tokio::net::UnixStream {}

impl MtaStream for tokio::net::TcpStream {
    /// Sends the TCP acknowledgement now instead of up to 40 ms later. Postfix leaves
    /// Nagle's algorithm on for milter connections and, with the no-reply flags, most of
    /// what it sends gets no answer to carry the acknowledgement: each further small
    /// write then waited for the delayed one (measured: the message content arrived
    /// 40-45 ms after the envelope, for every message). Linux resets quick-ack mode on
    /// its own, so it is set again after every read.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn acknowledge(&self) {
        let _ = socket2::SockRef::from(self).set_tcp_quickack(true);
    }
}

/// A listener, TCP or Unix.
trait AsyncAccept {
    type Stream: MtaStream;
    fn accept(&mut self) -> impl std::future::Future<Output = io::Result<Self::Stream>> + Send;
}

impl AsyncAccept for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn accept(&mut self) -> io::Result<Self::Stream> {
        let (s, _) = tokio::net::TcpListener::accept(self).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
}

impl AsyncAccept for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn accept(&mut self) -> io::Result<Self::Stream> {
        tokio::net::UnixListener::accept(self).await.map(|(s, _)| s)
    }
}

/// The connection limit of the engine in force (`milter.max_connections`).
fn connection_limit(shared: &Shared) -> Arc<Semaphore> {
    let max = shared.engine().config().milter.max_connections;
    Arc::new(Semaphore::new(max.max(1)))
}

/// Serves on an already bound TCP listener (tests bind `127.0.0.1:0`).
pub async fn serve_tcp(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let limit = connection_limit(&shared);
    serve(listener, shared, limit, stop).await
}

/// Serves on an already bound Unix listener.
pub async fn serve_unix(
    listener: tokio::net::UnixListener,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let limit = connection_limit(&shared);
    serve(listener, shared, limit, stop).await
}

async fn send<S: AsyncWrite + Unpin>(stream: &mut S, replies: &[Response]) -> io::Result<()> {
    if replies.is_empty() {
        return Ok(());
    }
    let mut out = Vec::new();
    for r in replies {
        out.extend_from_slice(&r.encode());
    }
    stream.write_all(&out).await?;
    stream.flush().await
}

/// One MTA connection, until it quits or breaks.
async fn connection<S: MtaStream>(mut stream: S, shared: Arc<Shared>) -> Result<(), ConnError> {
    // Per-connection limits from the engine in force when the MTA connected.
    let (max_size, max_packet, read_timeout, header) = {
        let engine = shared.engine();
        let c = engine.config();
        (
            c.limits.message_limit(),
            c.milter.max_packet_bytes,
            Duration::from_secs(c.milter.read_timeout_secs.max(1)),
            c.milter.header.clone(),
        )
    };
    let idle = tokio::time::sleep(read_timeout);
    tokio::pin!(idle);
    let mut session = Session::new(max_size, &header);
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut start = 0;
    loop {
        // Every whole packet in the buffer.
        while let Some(p) = split_packet(&buf[start..], max_packet).map_err(ConnError::Protocol)? {
            let cmd = Command::decode(p.code, p.data).map_err(ConnError::Protocol)?;
            start += p.used;
            match session.handle(cmd) {
                Next::Reply(replies) => send(&mut stream, &replies).await?,
                Next::Close => return Ok(()),
                Next::Refuse(why) => return Err(ConnError::Negotiation(why)),
                Next::TooLarge {
                    size,
                    queue_id,
                    existing,
                } => {
                    let engine = shared.engine();
                    let settings = &engine.config().milter;
                    let outcome = Outcome::TooLarge {
                        size,
                        limit: max_size,
                    };
                    let a = reply::answer(settings, session.negotiated(), outcome, existing);
                    tracing::info!(
                        queue_id = %queue_id.as_deref().unwrap_or("-"),
                        verdict = "reject",
                        rules = "SIZE001",
                        action = a.action,
                        size,
                        "too large"
                    );
                    send(&mut stream, &a.replies).await?;
                }
                Next::Check {
                    message,
                    envelope,
                    existing,
                } => {
                    let negotiated = session.negotiated();
                    let replies = check(
                        &mut stream,
                        &shared,
                        message,
                        envelope,
                        negotiated,
                        existing,
                    )
                    .await?;
                    send(&mut stream, &replies).await?;
                }
            }
        }
        // Keep the unread tail at the front.
        if start > 0 {
            buf.drain(..start);
            start = 0;
        }
        // The read timeout counts from here. One timer serves the whole connection:
        // it is moved only when it fires early (a timer set for every read costs a
        // wakeup of the event loop for each).
        let waiting_since = tokio::time::Instant::now();
        let read = loop {
            tokio::select! {
                biased;
                r = stream.read_buf(&mut buf) => break r?,
                () = &mut idle => {
                    let due = waiting_since + read_timeout;
                    if tokio::time::Instant::now() >= due {
                        return Err(ConnError::Timeout);
                    }
                    idle.as_mut().reset(due);
                }
            }
        };
        if read == 0 {
            // The MTA closed the connection (between messages, that is normal).
            return Ok(());
        }
        stream.acknowledge();
    }
}

/// Checks one message on the blocking pool, sending progress while it runs, and returns
/// the end-of-message replies.
async fn check<S: AsyncWrite + Unpin>(
    stream: &mut S,
    shared: &Arc<Shared>,
    message: Vec<u8>,
    envelope: Envelope,
    negotiated: Negotiated,
    existing: u32,
) -> Result<Vec<Response>, ConnError> {
    let engine = shared.engine();
    let settings = &engine.config().milter;
    let checker = Arc::clone(&engine);
    let queue_id = envelope.queue_id.clone();
    let message_len = message.len();
    let began = Instant::now();
    let run = move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            checker.check(&message, &envelope)
        }))
    };
    let outcome = if message_len <= settings.inline_check_bytes {
        // Small: check here; the hop to the blocking pool would cost more than the check.
        Ok(run())
    } else {
        let job = tokio::task::spawn_blocking(run);
        tokio::pin!(job);
        let every = Duration::from_secs_f64(if settings.progress_secs.is_finite() {
            settings.progress_secs.clamp(0.001, 3600.0)
        } else {
            5.0
        });
        loop {
            tokio::select! {
                done = &mut job => break done,
                _ = tokio::time::sleep(every) => send(stream, &[Response::Progress]).await?,
            }
        }
    };
    let millis = began.elapsed().as_millis() as u64;
    let qid = queue_id.as_deref().unwrap_or("-");
    let Ok(Ok(report)) = outcome else {
        let a = reply::answer(settings, negotiated, Outcome::Failed, existing);
        tracing::error!(
            queue_id = %qid,
            action = a.action,
            reason = "check-panicked",
            ms = millis,
            "check failed"
        );
        return Ok(a.replies);
    };
    let a = reply::answer(settings, negotiated, Outcome::Checked(&report), existing);
    if !report.internal_errors.is_empty() {
        // What failed and what was left unchecked; the message is judged without it
        // (`on_check_error: judge`) or deferred.
        tracing::error!(
            queue_id = %qid,
            action = a.action,
            reason = "internal-error",
            errors = ?report.internal_errors,
            unchecked = %report.unchecked.join(","),
            ms = millis,
            "check failed"
        );
    }
    // One line per message: no message content, only the decision and its reasons.
    tracing::info!(
        queue_id = %qid,
        verdict = report.verdict.as_str(),
        score = crate::util::round2(report.score),
        rules = %reply::scoring_ids(&report).join(","),
        action = a.action,
        ms = millis,
        "checked"
    );
    Ok(a.replies)
}

/// A bound listening socket, before a runtime takes it.
enum Bound {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener),
}

impl Bound {
    fn try_clone(&self) -> io::Result<Bound> {
        Ok(match self {
            Bound::Tcp(l) => Bound::Tcp(l.try_clone()?),
            Bound::Unix(l) => Bound::Unix(l.try_clone()?),
        })
    }

    /// Serves connections on this socket in the current runtime until `stop`.
    async fn serve(
        self,
        shared: Arc<Shared>,
        limit: Arc<Semaphore>,
        stop: watch::Receiver<bool>,
    ) -> io::Result<()> {
        match self {
            Bound::Tcp(l) => {
                let l = tokio::net::TcpListener::from_std(l)?;
                serve(l, shared, limit, stop).await
            }
            Bound::Unix(l) => {
                let l = tokio::net::UnixListener::from_std(l)?;
                serve(l, shared, limit, stop).await
            }
        }
    }
}

/// A single-threaded runtime: each worker owns its connections, so no task, wakeup or
/// timer ever crosses threads (checks of large messages still go to its blocking pool).
fn worker_runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
}

/// Runs the daemon on `listen` until SIGTERM or SIGINT: SIGHUP rebuilds the engine with
/// `reload` (the old one stays in force if that fails).
///
/// `milter.workers` threads each run an event loop of their own that accepts on the
/// shared socket and serves its connections to the end; messages larger than
/// `inline_check_bytes` are checked on the blocking pool.
pub fn run(
    listen: &Listen,
    engine: Engine,
    reload: impl Fn() -> Result<Engine, crate::error::Error> + Send + Sync + 'static,
) -> Result<(), crate::error::Error> {
    use crate::error::{Error, ErrorKind};
    let io_err = |what: String, e: io::Error| Error::with_source(ErrorKind::Io, what, e);
    let shared = Shared::new(engine);
    let settings = shared.engine().config().milter.clone();
    let (bound, name) = match listen {
        Listen::Inet(host, port) => {
            let l = std::net::TcpListener::bind((host.as_str(), *port))
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .map_err(|e| io_err(format!("cannot listen on {host}:{port}: {e}"), e))?;
            (Bound::Tcp(l), format!("inet:{host}:{port}"))
        }
        Listen::Unix(path) => {
            // A socket left by a previous run is removed; any other file is not.
            if let Ok(meta) = std::fs::symlink_metadata(path) {
                use std::os::unix::fs::FileTypeExt;
                if meta.file_type().is_socket() {
                    let _ = std::fs::remove_file(path);
                }
            }
            let l = std::os::unix::net::UnixListener::bind(path)
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .map_err(|e| io_err(format!("cannot listen on {}: {e}", path.display()), e))?;
            secure_socket(path, &settings)
                .map_err(|e| io_err(format!("socket {}: {e}", path.display()), e))?;
            (Bound::Unix(l), format!("unix:{}", path.display()))
        }
    };
    let workers = settings.worker_threads();
    let limit = connection_limit(&shared);
    let (stop_tx, stop_rx) = watch::channel(false);
    let start = |what: &str, e: io::Error| io_err(format!("cannot start {what}: {e}"), e);
    let mut threads = Vec::new();
    let mut failed = None;
    for i in 1..workers {
        let (shared, limit, stop) = (Arc::clone(&shared), Arc::clone(&limit), stop_rx.clone());
        let spawned = bound.try_clone().and_then(|socket| {
            std::thread::Builder::new()
                .name(format!("milter-{i}"))
                .spawn(move || -> io::Result<()> {
                    worker_runtime()?.block_on(socket.serve(shared, limit, stop))
                })
        });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => {
                failed = Some(start("worker thread", e));
                break;
            }
        }
    }
    let served = match failed {
        Some(e) => {
            let _ = stop_tx.send(true);
            Err(e)
        }
        None => {
            let rt = worker_runtime().map_err(|e| start("runtime", e))?;
            let shared = Arc::clone(&shared);
            rt.block_on(async move {
                tokio::spawn(signals(Arc::clone(&shared), reload, stop_tx));
                tracing::info!(socket = %name, workers, "listening");
                bound
                    .serve(shared, limit, stop_rx)
                    .await
                    .map_err(|e| io_err(format!("serving: {e}"), e))
            })
        }
    };
    // The other workers finish their connections too.
    for t in threads {
        match t.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "worker stopped"),
            Err(_) => tracing::error!("worker panicked"),
        }
    }
    if let Listen::Unix(path) = listen {
        let _ = std::fs::remove_file(path);
    }
    served
}

/// Applies `socket_owner` and `socket_mode` to a freshly bound Unix socket.
fn secure_socket(path: &std::path::Path, settings: &MilterConfig) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(owner) = &settings.socket_owner {
        let (user, group) = match owner.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (owner.as_str(), None),
        };
        let uid = (!user.is_empty())
            .then(|| lookup_id("/etc/passwd", user))
            .transpose()?;
        let gid = group
            .filter(|g| !g.is_empty())
            .map(|g| lookup_id("/etc/group", g))
            .transpose()?;
        std::os::unix::fs::chown(path, uid, gid)?;
    }
    if let Some(mode) = &settings.socket_mode {
        let mode = crate::config::parse_socket_mode(mode)
            .map_err(|why| io::Error::new(io::ErrorKind::InvalidInput, why))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// A user or group id: a number as it is, a name from `file` (`/etc/passwd` or
/// `/etc/group`, whose third field is the id).
fn lookup_id(file: &str, name: &str) -> io::Result<u32> {
    if let Ok(id) = name.parse() {
        return Ok(id);
    }
    let text = std::fs::read_to_string(file)?;
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let n = f.next()?;
            let id = f.nth(1)?.parse().ok()?;
            (n == name).then_some(id)
        })
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no `{name}` in {file}")))
}

async fn signals(
    shared: Arc<Shared>,
    reload: impl Fn() -> Result<Engine, crate::error::Error> + Send + Sync + 'static,
    stop: watch::Sender<bool>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut hup), Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers: SIGHUP and SIGTERM are ignored");
        // Keep `stop` alive: dropping it would stop the server.
        std::future::pending::<()>().await;
        return;
    };
    let reload = Arc::new(reload);
    loop {
        tokio::select! {
            _ = hup.recv() => {
                let reload = Arc::clone(&reload);
                match tokio::task::spawn_blocking(move || reload()).await {
                    Ok(Ok(engine)) => {
                        shared.replace(engine);
                        tracing::info!("SIGHUP: configuration and rules reloaded");
                    }
                    Ok(Err(e)) => tracing::error!(error = %e, "SIGHUP: reload failed, keeping the rules in force"),
                    Err(_) => tracing::error!("SIGHUP: reload panicked, keeping the rules in force"),
                }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    tracing::info!("stopping: finishing open connections");
    let _ = stop.send(true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_postfix_socket_notation() {
        assert_eq!(
            "inet:127.0.0.1:8891".parse(),
            Ok(Listen::Inet("127.0.0.1".into(), 8891))
        );
        assert_eq!(
            "inet:8891@localhost".parse(),
            Ok(Listen::Inet("localhost".into(), 8891))
        );
        assert_eq!(
            "inet:[::1]:8891".parse(),
            Ok(Listen::Inet("::1".into(), 8891))
        );
        assert_eq!(
            "unix:/run/preflight/milter.sock".parse(),
            Ok(Listen::Unix("/run/preflight/milter.sock".into()))
        );
        for bad in [
            "127.0.0.1:8891",
            "inet:host",
            "inet::80",
            "inet:h:x",
            "unix:",
        ] {
            assert!(bad.parse::<Listen>().is_err(), "{bad}");
        }
    }

    #[test]
    fn looks_up_users_and_groups() {
        assert_eq!(lookup_id("/etc/passwd", "root").unwrap(), 0);
        assert_eq!(lookup_id("/etc/group", "root").unwrap(), 0);
        assert_eq!(lookup_id("/etc/group", "1234").unwrap(), 1234);
        assert!(lookup_id("/etc/passwd", "no-such-user-here").is_err());
    }
}
