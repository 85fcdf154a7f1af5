//! Listening sockets: where a daemon listens, binding it with the socket's owner and
//! permissions, and accepting connections on it from any worker's event loop.

use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use tokio::io::{AsyncRead, AsyncWrite};

/// Where a daemon listens, written as Postfix writes milter sockets (`smtpd_milters`).
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

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Inet(host, port) if host.contains(':') => write!(f, "inet:[{host}]:{port}"),
            Listen::Inet(host, port) => write!(f, "inet:{host}:{port}"),
            Listen::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Who owns a `unix:` socket and who may use it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocketAccess {
    /// `user`, `user:group` or `:group`, as names or numbers; `None` leaves ours.
    pub owner: Option<String>,
    /// Permissions in octal (`"660"`); `None` leaves the umask's.
    pub mode: Option<String>,
}

/// A bound listening socket, before an event loop takes it. Each worker thread accepts
/// on its own clone of it.
#[derive(Debug)]
pub enum Bound {
    /// A TCP socket.
    Tcp(std::net::TcpListener),
    /// A Unix socket, removed again when the daemon stops ([`Bound::remove`]).
    Unix(std::os::unix::net::UnixListener, PathBuf),
}

impl Bound {
    /// Binds `listen`; a `unix:` socket gets `access`. A socket file left by a previous
    /// run is replaced; any other file in its place is an error.
    pub fn bind(listen: &Listen, access: &SocketAccess) -> io::Result<Bound> {
        let with = |what: String, e: io::Error| io::Error::new(e.kind(), format!("{what}: {e}"));
        match listen {
            Listen::Inet(host, port) => {
                let l = std::net::TcpListener::bind((host.as_str(), *port))
                    .and_then(|l| l.set_nonblocking(true).map(|()| l))
                    .map_err(|e| with(format!("cannot listen on {host}:{port}"), e))?;
                Ok(Bound::Tcp(l))
            }
            Listen::Unix(path) => {
                if let Ok(meta) = std::fs::symlink_metadata(path) {
                    use std::os::unix::fs::FileTypeExt;
                    if meta.file_type().is_socket() {
                        let _ = std::fs::remove_file(path);
                    }
                }
                let l = std::os::unix::net::UnixListener::bind(path)
                    .and_then(|l| l.set_nonblocking(true).map(|()| l))
                    .map_err(|e| with(format!("cannot listen on {}", path.display()), e))?;
                secure(path, access).map_err(|e| with(format!("socket {}", path.display()), e))?;
                Ok(Bound::Unix(l, path.clone()))
            }
        }
    }

    /// Another handle on the same socket, for another worker.
    pub fn try_clone(&self) -> io::Result<Bound> {
        Ok(match self {
            Bound::Tcp(l) => Bound::Tcp(l.try_clone()?),
            Bound::Unix(l, p) => Bound::Unix(l.try_clone()?, p.clone()),
        })
    }

    /// The listener for the current event loop.
    pub fn into_listener(self) -> io::Result<Listener> {
        Ok(match self {
            Bound::Tcp(l) => Listener::Tcp(tokio::net::TcpListener::from_std(l)?),
            Bound::Unix(l, _) => Listener::Unix(tokio::net::UnixListener::from_std(l)?),
        })
    }

    /// Removes a Unix socket's file (after the last connection).
    pub fn remove(&self) {
        if let Bound::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A listener in an event loop, TCP or Unix.
#[derive(Debug)]
pub enum Listener {
    /// TCP.
    Tcp(tokio::net::TcpListener),
    /// Unix.
    Unix(tokio::net::UnixListener),
}

/// An accepted connection, TCP or Unix.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl Stream for tokio::net::TcpStream {}
impl Stream for tokio::net::UnixStream {}

/// Something that accepts connections: a [`Listener`]'s half, or a test's own listener.
pub trait Accept {
    /// The connections it gives.
    type Stream: Stream;
    /// The next connection.
    fn accept(&mut self) -> impl std::future::Future<Output = io::Result<Self::Stream>> + Send;
}

impl Accept for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    /// A TCP connection, with Nagle's algorithm off: replies are small and each one is
    /// waited for.
    async fn accept(&mut self) -> io::Result<Self::Stream> {
        let (s, _) = tokio::net::TcpListener::accept(self).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
}

impl Accept for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn accept(&mut self) -> io::Result<Self::Stream> {
        tokio::net::UnixListener::accept(self).await.map(|(s, _)| s)
    }
}

/// Applies `access` to a freshly bound Unix socket.
fn secure(path: &Path, access: &SocketAccess) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(owner) = &access.owner {
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
    if let Some(mode) = &access.mode {
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
        for s in ["inet:127.0.0.1:8891", "inet:[::1]:8891", "unix:/run/p.sock"] {
            assert_eq!(s.parse::<Listen>().unwrap().to_string(), s);
        }
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

    #[test]
    fn binds_a_unix_socket_with_its_mode_and_replaces_a_stale_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("preflight-bind-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.sock");
        let listen = Listen::Unix(path.clone());
        let access = SocketAccess {
            owner: None,
            mode: Some("600".into()),
        };
        let first = Bound::bind(&listen, &access).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        drop(first);
        // The file the first left behind is a socket: replaced.
        let second = Bound::bind(&listen, &access).unwrap();
        second.remove();
        assert!(!path.exists());
        // A regular file in its place is not removed.
        std::fs::write(&path, b"keep").unwrap();
        assert!(Bound::bind(&listen, &access).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"keep");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
