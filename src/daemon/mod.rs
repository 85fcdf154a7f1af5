//! What every long-running server of preflight shares (the milter now, an HTTP server
//! next): the engine and the server's settings in force, swapped together on reload;
//! SIGHUP, SIGTERM and SIGINT; worker threads with an event loop each, accepting on one
//! socket; and a drain on stop, so the connections in flight finish their messages.
//!
//! A server brings its protocol as a function from a bound socket to a future that serves
//! it until the stop signal ([`run`]); everything here is independent of the protocol.

use std::future::Future;
use std::io;
use std::sync::{Arc, RwLock};

use tokio::sync::watch;

use crate::engine::Engine;
use crate::error::{Error, ErrorKind};

pub mod listen;

pub use listen::{Accept, Bound, Listen, Listener, SocketAccess, Stream};

/// An engine and the settings of the server that uses it, loaded from one configuration
/// and put in force together.
#[derive(Debug)]
pub struct Loaded<S> {
    /// The engine that checks messages.
    pub engine: Engine,
    /// The server's own settings (the milter's, say).
    pub settings: S,
    /// The resolver of the checks that need DNS, when `dns.enabled`; `None` runs them
    /// not at all (reports list them as not checked).
    pub resolver: Option<Arc<crate::dns::live::Live>>,
}

/// What the connections share: the [`Loaded`] in force, swapped whole on reload, so no
/// message is ever checked with one configuration's engine and answered with another's
/// settings.
#[derive(Debug)]
pub struct Shared<S> {
    current: RwLock<Arc<Loaded<S>>>,
}

impl<S> Shared<S> {
    /// Shared state, starting with `loaded`.
    pub fn new(loaded: Loaded<S>) -> Arc<Shared<S>> {
        Arc::new(Shared {
            current: RwLock::new(Arc::new(loaded)),
        })
    }

    /// The engine and settings in force now. A connection holds them for a whole message
    /// (or connection); a reload meanwhile applies from the next.
    pub fn current(&self) -> Arc<Loaded<S>> {
        match self.current.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Puts `loaded` in force for the next messages.
    pub fn replace(&self, loaded: Loaded<S>) {
        let loaded = Arc::new(loaded);
        match self.current.write() {
            Ok(mut c) => *c = loaded,
            Err(poisoned) => *poisoned.into_inner() = loaded,
        }
    }
}

/// A single-threaded runtime: each worker owns its connections, so no task, wakeup or
/// timer ever crosses threads (long checks still go to its blocking pool).
pub fn worker_runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
}

/// Runs a server on `bound` with `workers` event-loop threads until SIGTERM or SIGINT;
/// SIGHUP calls `reload` and puts what it returns in force (the old engine and settings
/// stay if it fails). `serve` is the protocol: given a worker's socket, the shared state
/// and the stop signal, it serves connections until the signal turns true and then waits
/// for the open ones to finish. `name` is the socket, for the log.
pub fn run<S, R, F, Fut>(
    bound: Bound,
    name: &str,
    workers: usize,
    shared: Arc<Shared<S>>,
    reload: R,
    serve: F,
) -> Result<(), Error>
where
    S: Send + Sync + 'static,
    R: Fn() -> Result<Loaded<S>, Error> + Send + Sync + 'static,
    F: Fn(Bound, Arc<Shared<S>>, watch::Receiver<bool>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = io::Result<()>>,
{
    let io_err = |what: String, e: io::Error| Error::with_source(ErrorKind::Io, what, e);
    let start = |what: &str, e: io::Error| io_err(format!("cannot start {what}: {e}"), e);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut threads = Vec::new();
    let mut failed = None;
    for i in 1..workers.max(1) {
        let (shared, stop, serve) = (Arc::clone(&shared), stop_rx.clone(), serve.clone());
        let spawned = bound.try_clone().and_then(|socket| {
            std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || -> io::Result<()> {
                    worker_runtime()?.block_on(serve(socket, shared, stop))
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
        None => match worker_runtime() {
            Err(e) => {
                let _ = stop_tx.send(true);
                Err(start("runtime", e))
            }
            Ok(rt) => {
                let socket = bound.try_clone();
                rt.block_on(async move {
                    tokio::spawn(signals(Arc::clone(&shared), reload, stop_tx));
                    tracing::info!(socket = %name, workers = workers.max(1), "listening");
                    let socket = socket.map_err(|e| start("listener", e))?;
                    serve(socket, shared, stop_rx)
                        .await
                        .map_err(|e| io_err(format!("serving: {e}"), e))
                })
            }
        },
    };
    // The other workers finish their connections too.
    for t in threads {
        match t.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "worker stopped"),
            Err(_) => tracing::error!("worker panicked"),
        }
    }
    bound.remove();
    served
}

/// Waits for signals: SIGHUP reloads, SIGTERM and SIGINT stop (by turning `stop` true).
async fn signals<S, R>(shared: Arc<Shared<S>>, reload: R, stop: watch::Sender<bool>)
where
    S: Send + Sync + 'static,
    R: Fn() -> Result<Loaded<S>, Error> + Send + Sync + 'static,
{
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
                    Ok(Ok(loaded)) => {
                        shared.replace(loaded);
                        tracing::info!("SIGHUP: configuration and rules reloaded");
                    }
                    Ok(Err(e)) => tracing::error!(error = %e, "SIGHUP: reload failed, keeping the configuration in force"),
                    Err(_) => tracing::error!("SIGHUP: reload panicked, keeping the configuration in force"),
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
    fn engine_and_settings_change_together() {
        let shared = Shared::new(Loaded {
            engine: Engine::new(crate::config::Config::default()).unwrap(),
            settings: 1u32,
            resolver: None,
        });
        let before = shared.current();
        shared.replace(Loaded {
            engine: Engine::new(crate::config::Config::default()).unwrap(),
            settings: 2u32,
            resolver: None,
        });
        // What a connection holds stays whole; the next one sees the new pair.
        assert_eq!(before.settings, 1);
        assert_eq!(shared.current().settings, 2);
        assert!(!std::ptr::eq(&before.engine, &shared.current().engine));
    }
}
