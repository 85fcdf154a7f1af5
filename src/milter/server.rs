//! The milter daemon: accepts MTA connections on a TCP or Unix socket and runs each
//! connection's [`Session`] over the wire protocol, checking messages with the engine on
//! the blocking pool.
//!
//! Nothing is lost on our side: a check that fails internally or panics answers a
//! temporary failure, so the MTA keeps the message queued; a malformed or oversized
//! packet closes only that connection.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Semaphore, watch};

use super::protocol::{self, Command, Response, split_packet};
use super::reply::{self, Negotiated, Outcome};
use super::session::{Next, Session};
use crate::config::MilterConfig;
use crate::daemon::{self, Accept, Bound, Listen, Listener, Loaded, SocketAccess};
use crate::envelope::Envelope;

/// What the milter's connections share: the engine and the `milter:` settings in force,
/// swapped together on reload.
pub type Shared = daemon::Shared<MilterConfig>;

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
async fn serve<L>(
    mut accept: L,
    shared: Arc<Shared>,
    limit: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()>
where
    L: Accept,
    L::Stream: MtaStream,
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
pub trait MtaStream: daemon::Stream {
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

/// The connection limit of the settings in force (`milter.max_connections`).
fn connection_limit(shared: &Shared) -> Arc<Semaphore> {
    let max = shared.current().settings.max_connections;
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
        let now = shared.current();
        let m = &now.settings;
        (
            now.engine.config().limits.message_limit(),
            m.max_packet_bytes,
            Duration::from_secs(m.read_timeout_secs.max(1)),
            m.header.clone(),
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
                    let now = shared.current();
                    let settings = &now.settings;
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
    let now = shared.current();
    let settings = &now.settings;
    let checker = Arc::clone(&now);
    let queue_id = envelope.queue_id.clone();
    let message_len = message.len();
    let began = Instant::now();
    // With DNS checks on, the check waits for answers: never on the event loop.
    let online = checker.resolver.is_some();
    let run = move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &checker.resolver {
            Some(live) => checker
                .engine
                .check_online(&message, &envelope, &live.session()),
            None => checker.engine.check(&message, &envelope),
        }))
    };
    let outcome = if !online && message_len <= settings.inline_check_bytes {
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

/// Serves connections on a worker's socket in the current runtime until `stop`.
async fn serve_bound(
    socket: Bound,
    shared: Arc<Shared>,
    limit: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
) -> io::Result<()> {
    match socket.into_listener()? {
        Listener::Tcp(l) => serve(l, shared, limit, stop).await,
        Listener::Unix(l) => serve(l, shared, limit, stop).await,
    }
}

/// Runs the milter on `listen` until SIGTERM or SIGINT: SIGHUP reloads the engine and
/// the `milter:` settings together with `reload` (the old ones stay in force if that
/// fails).
///
/// `milter.workers` threads each run an event loop of their own that accepts on the
/// shared socket and serves its connections to the end; messages larger than
/// `inline_check_bytes` are checked on the blocking pool. The connection limit holds
/// across all workers and stays as started.
pub fn run(
    listen: &Listen,
    loaded: Loaded<MilterConfig>,
    reload: impl Fn() -> Result<Loaded<MilterConfig>, crate::error::Error> + Send + Sync + 'static,
) -> Result<(), crate::error::Error> {
    use crate::error::{Error, ErrorKind};
    let access = SocketAccess {
        owner: loaded.settings.socket_owner.clone(),
        mode: loaded.settings.socket_mode.clone(),
    };
    let workers = loaded.settings.worker_threads();
    let bound = Bound::bind(listen, &access)
        .map_err(|e| Error::with_source(ErrorKind::Io, e.to_string(), e))?;
    let shared = Shared::new(loaded);
    let limit = connection_limit(&shared);
    daemon::run(
        bound,
        &listen.to_string(),
        workers,
        shared,
        reload,
        move |socket, shared, stop| serve_bound(socket, shared, Arc::clone(&limit), stop),
    )
}
