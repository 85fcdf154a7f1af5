//! The floor for `benches/milter.sh`: a milter that speaks the protocol exactly as
//! `preflight milter` does (same negotiation, same single-threaded tokio event loop, same
//! session code) but checks nothing and answers every message with "continue". Postfix
//! with this milter attached shows what any milter costs Postfix on this machine; the
//! difference to `preflight milter` is what the checks cost.
//!
//!   cargo bench --bench null_milter -- unix:/path/to/socket   (or inet:127.0.0.1:PORT)
//!
//! With `NULL_MILTER_HEADER=1` in the environment it adds the same verdict header
//! preflight adds (`X-Preflight-Verdict: pass; score=0`), to see what that costs Postfix.

use std::sync::Arc;

use preflight::daemon::Listen;
use preflight::milter::protocol::{Command, DEFAULT_MAX_PACKET, Response, split_packet, step};
use preflight::milter::server::MtaStream;
use preflight::milter::session::{Next, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn connection<S: MtaStream>(mut stream: S, header: bool) -> std::io::Result<()> {
    let mut session = Session::new(usize::MAX, "X-Preflight-Verdict");
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        let mut start = 0;
        while let Some(p) =
            split_packet(&buf[start..], DEFAULT_MAX_PACKET).map_err(std::io::Error::other)?
        {
            let cmd = Command::decode(p.code, p.data).map_err(std::io::Error::other)?;
            start += p.used;
            let replies = match session.handle(cmd) {
                Next::Reply(r) => r,
                Next::Check { .. } | Next::TooLarge { .. } if header => vec![
                    Response::AddHeader {
                        name: "X-Preflight-Verdict".into(),
                        // With the leading-space flag, values carry their space.
                        value: if session.negotiated().steps & step::HEADER_LEADING_SPACE != 0 {
                            " pass; score=0".into()
                        } else {
                            "pass; score=0".into()
                        },
                    },
                    Response::Continue,
                ],
                Next::Check { .. } | Next::TooLarge { .. } => vec![Response::Continue],
                Next::Close | Next::Refuse(_) => return Ok(()),
            };
            let out: Vec<u8> = replies.iter().flat_map(Response::encode).collect();
            if !out.is_empty() {
                stream.write_all(&out).await?;
            }
        }
        buf.drain(..start);
        if stream.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
        stream.acknowledge();
    }
}

fn main() {
    let Some(listen) = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<Listen>().ok())
    else {
        eprintln!("usage: cargo bench --bench null_milter -- unix:/path | inet:HOST:PORT");
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("runtime");
    let header = std::env::var_os("NULL_MILTER_HEADER").is_some_and(|v| v == "1");
    rt.block_on(async move {
        let listen = Arc::new(listen);
        match &*listen {
            Listen::Unix(path) => {
                let _ = std::fs::remove_file(path);
                let l = tokio::net::UnixListener::bind(path).expect("bind");
                loop {
                    let (s, _) = l.accept().await.expect("accept");
                    tokio::spawn(connection(s, header));
                }
            }
            Listen::Inet(host, port) => {
                let l = tokio::net::TcpListener::bind((host.as_str(), *port))
                    .await
                    .expect("bind");
                loop {
                    let (s, _) = l.accept().await.expect("accept");
                    let _ = s.set_nodelay(true);
                    tokio::spawn(connection(s, header));
                }
            }
        }
    });
}
