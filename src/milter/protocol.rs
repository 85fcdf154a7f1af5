//! The milter wire protocol, version 6, as Postfix and Sendmail speak it: packet framing,
//! the MTA's commands, our replies and option negotiation.
//!
//! Written from the public protocol descriptions and Postfix's MILTER_README. A packet is
//! a 32-bit big-endian length, then that many bytes: a one-byte code and its data.
//! Strings are NUL-terminated. The MTA sends commands; the filter answers each one unless
//! negotiation told the MTA not to expect a reply.

use std::fmt;

/// The protocol version we speak.
pub const VERSION: u32 = 6;

/// The largest packet accepted by default (`milter.max_packet_bytes`).
pub const DEFAULT_MAX_PACKET: usize = crate::config::DEFAULT_MAX_PACKET;

/// Action flags (what the filter may do at end of message).
pub mod action {
    /// Add headers (and insert them at a position).
    pub const ADD_HEADERS: u32 = 0x0000_0001;
    /// Replace body chunks.
    pub const CHANGE_BODY: u32 = 0x0000_0002;
    /// Add recipients.
    pub const ADD_RCPT: u32 = 0x0000_0004;
    /// Remove recipients.
    pub const DELETE_RCPT: u32 = 0x0000_0008;
    /// Change or delete headers.
    pub const CHANGE_HEADERS: u32 = 0x0000_0010;
    /// Quarantine the message.
    pub const QUARANTINE: u32 = 0x0000_0020;
    /// Change the envelope sender.
    pub const CHANGE_FROM: u32 = 0x0000_0040;
    /// Add recipients with ESMTP arguments.
    pub const ADD_RCPT_PARAMS: u32 = 0x0000_0080;
    /// Tell the MTA which macros to send at each stage.
    pub const SET_SYMLIST: u32 = 0x0000_0100;
}

/// Protocol flags: steps the MTA may leave out, and commands that get no reply.
pub mod step {
    /// Do not send CONNECT.
    pub const NO_CONNECT: u32 = 0x0000_0001;
    /// Do not send HELO.
    pub const NO_HELO: u32 = 0x0000_0002;
    /// Do not send MAIL.
    pub const NO_MAIL: u32 = 0x0000_0004;
    /// Do not send RCPT.
    pub const NO_RCPT: u32 = 0x0000_0008;
    /// Do not send body chunks.
    pub const NO_BODY: u32 = 0x0000_0010;
    /// Do not send headers.
    pub const NO_HEADERS: u32 = 0x0000_0020;
    /// Do not send end of headers.
    pub const NO_EOH: u32 = 0x0000_0040;
    /// No reply to HEADER.
    pub const NR_HEADER: u32 = 0x0000_0080;
    /// Do not send unknown SMTP commands.
    pub const NO_UNKNOWN: u32 = 0x0000_0100;
    /// Do not send DATA.
    pub const NO_DATA: u32 = 0x0000_0200;
    /// The MTA understands SKIP.
    pub const SKIP: u32 = 0x0000_0400;
    /// Send rejected recipients too.
    pub const RCPT_REJECTED: u32 = 0x0000_0800;
    /// No reply to CONNECT.
    pub const NR_CONNECT: u32 = 0x0000_1000;
    /// No reply to HELO.
    pub const NR_HELO: u32 = 0x0000_2000;
    /// No reply to MAIL.
    pub const NR_MAIL: u32 = 0x0000_4000;
    /// No reply to RCPT.
    pub const NR_RCPT: u32 = 0x0000_8000;
    /// No reply to DATA.
    pub const NR_DATA: u32 = 0x0001_0000;
    /// No reply to unknown commands.
    pub const NR_UNKNOWN: u32 = 0x0002_0000;
    /// No reply to end of headers.
    pub const NR_EOH: u32 = 0x0004_0000;
    /// No reply to body chunks.
    pub const NR_BODY: u32 = 0x0008_0000;
    /// Header values keep their leading space.
    pub const HEADER_LEADING_SPACE: u32 = 0x0010_0000;
}

/// Why a packet could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    /// The length field is zero (a packet has at least its code byte).
    EmptyPacket,
    /// The length field is larger than the limit.
    TooLarge {
        /// Declared length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A command's data does not have the shape its code requires.
    Malformed {
        /// The command code.
        code: u8,
        /// What is wrong.
        why: &'static str,
    },
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::EmptyPacket => write!(f, "packet of length 0"),
            ProtocolError::TooLarge { len, max } => {
                write!(f, "packet of {len} bytes is larger than the limit of {max}")
            }
            ProtocolError::Malformed { code, why } => {
                write!(f, "malformed '{}' command: {why}", char::from(*code))
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// One framed packet borrowed from a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'b> {
    /// The command or reply code.
    pub code: u8,
    /// Its data.
    pub data: &'b [u8],
    /// Bytes of the buffer it took, length prefix included.
    pub used: usize,
}

/// Takes one packet off the front of `buf`: `Ok(None)` when more bytes are needed.
pub fn split_packet(buf: &[u8], max: usize) -> Result<Option<Packet<'_>>, ProtocolError> {
    let Some(head) = buf.get(..4) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if len == 0 {
        return Err(ProtocolError::EmptyPacket);
    }
    if len > max {
        return Err(ProtocolError::TooLarge { len, max });
    }
    let Some(body) = buf.get(4..4 + len) else {
        return Ok(None);
    };
    Ok(Some(Packet {
        code: body[0],
        data: &body[1..],
        used: 4 + len,
    }))
}

/// The address family of a CONNECT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4, with port.
    Inet4,
    /// IPv6, with port.
    Inet6,
    /// A Unix socket (local submission).
    Unix,
    /// Unknown (no address).
    Unknown,
}

/// What the MTA said in OPTNEG (or what we answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Protocol version.
    pub version: u32,
    /// Action flags ([`action`]).
    pub actions: u32,
    /// Protocol flags ([`step`]).
    pub steps: u32,
}

/// One command from the MTA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Option negotiation.
    OptNeg(Options),
    /// Macros for the command with this code (`C`, `H`, `M`, `R`, `T`, `L`, `N`, `E`, ...).
    Macros {
        /// The command the macros belong to.
        stage: u8,
        /// Name and value pairs (`i`, `{client_addr}`, ...).
        pairs: Vec<(String, String)>,
    },
    /// SMTP connection.
    Connect {
        /// Client host name (`[1.2.3.4]` when unknown).
        hostname: String,
        /// Address family.
        family: Family,
        /// Client port (0 for Unix and unknown).
        port: u16,
        /// Client address or socket path.
        address: String,
    },
    /// HELO or EHLO argument.
    Helo(String),
    /// MAIL FROM address and ESMTP arguments.
    Mail(Vec<String>),
    /// RCPT TO address and ESMTP arguments.
    Rcpt(Vec<String>),
    /// DATA.
    Data,
    /// One header field.
    Header {
        /// Field name.
        name: String,
        /// Field value (unfolded by the MTA only in the sense it was given).
        value: String,
    },
    /// End of headers.
    EndOfHeaders,
    /// A body chunk.
    Body(Vec<u8>),
    /// End of message, with a last body chunk (often empty).
    EndOfMessage(Vec<u8>),
    /// The current message is abandoned; the connection stays.
    Abort,
    /// Close the connection.
    Quit,
    /// Close the SMTP session but keep this connection for a new one.
    QuitNewConnection,
    /// An SMTP command the MTA did not know.
    Unknown(String),
}

/// Splits NUL-terminated strings; a missing last NUL is tolerated (some MTAs omit it).
fn strings(data: &[u8]) -> Vec<String> {
    let data = data.strip_suffix(&[0]).unwrap_or(data);
    if data.is_empty() {
        return Vec::new();
    }
    data.split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    data.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

impl Command {
    /// Decodes one packet's code and data.
    pub fn decode(code: u8, data: &[u8]) -> Result<Command, ProtocolError> {
        let bad = |why| ProtocolError::Malformed { code, why };
        Ok(match code {
            b'O' => {
                let (Some(version), Some(actions), Some(steps)) =
                    (u32_at(data, 0), u32_at(data, 4), u32_at(data, 8))
                else {
                    return Err(bad("needs version, actions and protocol flags"));
                };
                Command::OptNeg(Options {
                    version,
                    actions,
                    steps,
                })
            }
            b'D' => {
                let Some((&stage, rest)) = data.split_first() else {
                    return Err(bad("no command code"));
                };
                let items = strings(rest);
                if !items.len().is_multiple_of(2) {
                    return Err(bad("a macro name without a value"));
                }
                let pairs = items
                    .chunks(2)
                    .map(|p| (p[0].clone(), p[1].clone()))
                    .collect();
                Command::Macros { stage, pairs }
            }
            b'C' => {
                let Some(nul) = data.iter().position(|&b| b == 0) else {
                    return Err(bad("host name is not terminated"));
                };
                let hostname = String::from_utf8_lossy(&data[..nul]).into_owned();
                let rest = &data[nul + 1..];
                let Some((&fam, rest)) = rest.split_first() else {
                    return Err(bad("no address family"));
                };
                let family = match fam {
                    b'4' => Family::Inet4,
                    b'6' => Family::Inet6,
                    b'L' => Family::Unix,
                    b'U' => Family::Unknown,
                    _ => return Err(bad("unknown address family")),
                };
                if family == Family::Unknown {
                    return Ok(Command::Connect {
                        hostname,
                        family,
                        port: 0,
                        address: String::new(),
                    });
                }
                let Some(p) = rest.get(..2) else {
                    return Err(bad("no port"));
                };
                let port = u16::from_be_bytes([p[0], p[1]]);
                let address = strings(&rest[2..]).into_iter().next().unwrap_or_default();
                Command::Connect {
                    hostname,
                    family,
                    port,
                    address,
                }
            }
            b'H' => Command::Helo(strings(data).into_iter().next().unwrap_or_default()),
            b'M' | b'R' => {
                let args = strings(data);
                if args.is_empty() {
                    return Err(bad("no address"));
                }
                if code == b'M' {
                    Command::Mail(args)
                } else {
                    Command::Rcpt(args)
                }
            }
            b'T' => Command::Data,
            b'L' => {
                let mut parts = strings(data).into_iter();
                let (Some(name), value) = (parts.next(), parts.next()) else {
                    return Err(bad("no header name"));
                };
                Command::Header {
                    name,
                    value: value.unwrap_or_default(),
                }
            }
            b'N' => Command::EndOfHeaders,
            b'B' => Command::Body(data.to_vec()),
            b'E' => Command::EndOfMessage(data.to_vec()),
            b'A' => Command::Abort,
            b'Q' => Command::Quit,
            b'K' => Command::QuitNewConnection,
            b'U' => Command::Unknown(strings(data).into_iter().next().unwrap_or_default()),
            _ => return Err(bad("unknown command code")),
        })
    }

    /// Whether the MTA waits for a reply to this command under the negotiated `steps`.
    pub fn wants_reply(&self, steps: u32) -> bool {
        let no_reply = match self {
            Command::OptNeg(_) => return true,
            Command::Macros { .. }
            | Command::Abort
            | Command::Quit
            | Command::QuitNewConnection => return false,
            Command::Connect { .. } => step::NR_CONNECT,
            Command::Helo(_) => step::NR_HELO,
            Command::Mail(_) => step::NR_MAIL,
            Command::Rcpt(_) => step::NR_RCPT,
            Command::Data => step::NR_DATA,
            Command::Header { .. } => step::NR_HEADER,
            Command::EndOfHeaders => step::NR_EOH,
            Command::Body(_) => step::NR_BODY,
            Command::Unknown(_) => step::NR_UNKNOWN,
            Command::EndOfMessage(_) => return true,
        };
        steps & no_reply == 0
    }
}

/// One reply to the MTA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// Our side of the negotiation, with the macros we want per stage.
    OptNeg {
        /// What we agreed to.
        options: Options,
        /// `(stage, space-separated macro names)` for [`action::SET_SYMLIST`].
        macros: Vec<(u32, String)>,
    },
    /// Go on.
    Continue,
    /// Accept the message (or connection) without further checks.
    Accept,
    /// Reject with the MTA's default text.
    Reject,
    /// Temporary failure with the MTA's default text.
    Tempfail,
    /// Accept and throw away.
    Discard,
    /// A reply code and text: `554 5.7.1 text` (4xx is a temporary failure, 5xx a
    /// rejection).
    ReplyCode(String),
    /// Add a header at the end.
    AddHeader {
        /// Field name.
        name: String,
        /// Field value.
        value: String,
    },
    /// Insert a header at a position (0 is the top).
    InsertHeader {
        /// Position.
        index: u32,
        /// Field name.
        name: String,
        /// Field value.
        value: String,
    },
    /// Change the `index`-th (1-based) header of that name; an empty value deletes it.
    ChangeHeader {
        /// Which occurrence, from 1.
        index: u32,
        /// Field name.
        name: String,
        /// New value.
        value: String,
    },
    /// Put the message on hold, with a reason.
    Quarantine(String),
    /// Still working: resets the MTA's timeout.
    Progress,
    /// Send no more body chunks.
    Skip,
}

impl Response {
    /// The packet for this reply, length prefix included.
    pub fn encode(&self) -> Vec<u8> {
        let mut data: Vec<u8> = Vec::new();
        let code = match self {
            Response::OptNeg { options, macros } => {
                data.extend_from_slice(&options.version.to_be_bytes());
                data.extend_from_slice(&options.actions.to_be_bytes());
                data.extend_from_slice(&options.steps.to_be_bytes());
                for (stage, names) in macros {
                    data.extend_from_slice(&stage.to_be_bytes());
                    push_str(&mut data, names);
                }
                b'O'
            }
            Response::Continue => b'c',
            Response::Accept => b'a',
            Response::Reject => b'r',
            Response::Tempfail => b't',
            Response::Discard => b'd',
            Response::ReplyCode(text) => {
                push_str(&mut data, text);
                b'y'
            }
            Response::AddHeader { name, value } => {
                push_str(&mut data, name);
                push_str(&mut data, value);
                b'h'
            }
            Response::InsertHeader { index, name, value } => {
                data.extend_from_slice(&index.to_be_bytes());
                push_str(&mut data, name);
                push_str(&mut data, value);
                b'i'
            }
            Response::ChangeHeader { index, name, value } => {
                data.extend_from_slice(&index.to_be_bytes());
                push_str(&mut data, name);
                push_str(&mut data, value);
                b'm'
            }
            Response::Quarantine(reason) => {
                push_str(&mut data, reason);
                b'q'
            }
            Response::Progress => b'p',
            Response::Skip => b's',
        };
        let mut out = Vec::with_capacity(5 + data.len());
        out.extend_from_slice(&(data.len() as u32 + 1).to_be_bytes());
        out.push(code);
        out.extend_from_slice(&data);
        out
    }
}

/// Appends `s` with a terminating NUL; NUL bytes inside `s` (which would cut it short) are
/// replaced by spaces.
fn push_str(out: &mut Vec<u8>, s: &str) {
    out.extend(s.bytes().map(|b| if b == 0 { b' ' } else { b }));
    out.push(0);
}

/// Macro stages for [`action::SET_SYMLIST`] (the index of the command in the protocol's
/// stage list).
pub mod stage {
    /// At CONNECT.
    pub const CONNECT: u32 = 0;
    /// At HELO.
    pub const HELO: u32 = 1;
    /// At MAIL FROM.
    pub const MAIL: u32 = 2;
    /// At RCPT TO.
    pub const RCPT: u32 = 3;
    /// At DATA.
    pub const DATA: u32 = 4;
    /// At end of message.
    pub const EOM: u32 = 5;
    /// At end of headers.
    pub const EOH: u32 = 6;
}

/// What we ask for in negotiation: the actions we use (add, insert and change headers,
/// quarantine, and macro lists when offered) and the steps we do not need (unknown
/// commands, DATA and end of headers: the first body chunk or end of message ends the
/// headers just as well; no replies to headers, body chunks and the envelope steps, since we only
/// decide at end of message). Everything is limited to what the MTA offered.
pub fn negotiate(mta: Options) -> Result<Response, &'static str> {
    if mta.version < 2 {
        return Err("the MTA speaks a milter protocol older than version 2");
    }
    let version = mta.version.min(VERSION);
    let want_actions =
        action::ADD_HEADERS | action::CHANGE_HEADERS | action::QUARANTINE | action::SET_SYMLIST;
    let actions = want_actions & mta.actions;
    let want_steps = step::NO_UNKNOWN
        | step::NO_DATA
        | step::NO_EOH
        | step::NR_CONNECT
        | step::NR_HELO
        | step::NR_MAIL
        | step::NR_RCPT
        | step::NR_DATA
        | step::NR_HEADER
        | step::NR_EOH
        | step::NR_BODY
        | step::NR_UNKNOWN
        | step::HEADER_LEADING_SPACE
        | step::SKIP;
    let steps = want_steps & mta.steps;
    let macros = if actions & action::SET_SYMLIST != 0 {
        vec![
            (stage::CONNECT, "{client_addr} {client_name}".to_string()),
            (stage::MAIL, "i {auth_authen} {mail_addr}".to_string()),
            (stage::RCPT, "{rcpt_addr}".to_string()),
            (stage::EOM, "i".to_string()),
        ]
    } else {
        Vec::new()
    };
    Ok(Response::OptNeg {
        options: Options {
            version,
            actions,
            steps,
        },
        macros,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(code: u8, data: &[u8]) -> Vec<u8> {
        let mut p = ((data.len() + 1) as u32).to_be_bytes().to_vec();
        p.push(code);
        p.extend_from_slice(data);
        p
    }

    #[test]
    fn frames_packets_and_waits_for_more() {
        let p = packet(b'H', b"mail.example\0");
        assert_eq!(split_packet(&p[..3], 100), Ok(None));
        assert_eq!(split_packet(&p[..p.len() - 1], 100), Ok(None));
        let got = split_packet(&p, 100).unwrap().unwrap();
        assert_eq!(
            (got.code, got.data, got.used),
            (b'H', &b"mail.example\0"[..], p.len())
        );
        assert_eq!(
            split_packet(&[0, 0, 0, 0], 100),
            Err(ProtocolError::EmptyPacket)
        );
        assert_eq!(
            split_packet(&[0, 0, 1, 0, b'B'], 100),
            Err(ProtocolError::TooLarge { len: 256, max: 100 })
        );
    }

    #[test]
    fn decodes_every_command() {
        let opt = [
            &6u32.to_be_bytes()[..],
            &0x1ffu32.to_be_bytes(),
            &0x1f_ffffu32.to_be_bytes(),
        ]
        .concat();
        assert_eq!(
            Command::decode(b'O', &opt),
            Ok(Command::OptNeg(Options {
                version: 6,
                actions: 0x1ff,
                steps: 0x1f_ffff
            }))
        );
        assert_eq!(
            Command::decode(b'D', b"Mi\0ABC123\0{mail_addr}\0a@example.com\0"),
            Ok(Command::Macros {
                stage: b'M',
                pairs: vec![
                    ("i".into(), "ABC123".into()),
                    ("{mail_addr}".into(), "a@example.com".into())
                ]
            })
        );
        let mut c = b"client.example\x004".to_vec();
        c.extend_from_slice(&2525u16.to_be_bytes());
        c.extend_from_slice(b"192.0.2.7\0");
        assert_eq!(
            Command::decode(b'C', &c),
            Ok(Command::Connect {
                hostname: "client.example".into(),
                family: Family::Inet4,
                port: 2525,
                address: "192.0.2.7".into()
            })
        );
        assert_eq!(
            Command::decode(b'C', b"localhost\0U"),
            Ok(Command::Connect {
                hostname: "localhost".into(),
                family: Family::Unknown,
                port: 0,
                address: String::new()
            })
        );
        assert_eq!(
            Command::decode(b'M', b"<a@example.com>\0SIZE=100\0"),
            Ok(Command::Mail(vec![
                "<a@example.com>".into(),
                "SIZE=100".into()
            ]))
        );
        assert_eq!(
            Command::decode(b'L', b"Subject\0 hello\0"),
            Ok(Command::Header {
                name: "Subject".into(),
                value: " hello".into()
            })
        );
        assert_eq!(
            Command::decode(b'B', b"abc"),
            Ok(Command::Body(b"abc".to_vec()))
        );
        assert_eq!(
            Command::decode(b'E', b""),
            Ok(Command::EndOfMessage(Vec::new()))
        );
        for (code, cmd) in [
            (b'T', Command::Data),
            (b'N', Command::EndOfHeaders),
            (b'A', Command::Abort),
            (b'Q', Command::Quit),
            (b'K', Command::QuitNewConnection),
        ] {
            assert_eq!(Command::decode(code, b""), Ok(cmd));
        }
        assert_eq!(
            Command::decode(b'U', b"XYZZY\0"),
            Ok(Command::Unknown("XYZZY".into()))
        );
    }

    #[test]
    fn refuses_malformed_commands() {
        for (code, data) in [
            (b'O', &b"\0\0\0\x06"[..]),
            (b'D', b""),
            (b'D', b"Mi\0"),
            (b'C', b"no-terminator"),
            (b'C', b"host\0"),
            (b'C', b"host\0X"),
            (b'C', b"host\x004\x01"),
            (b'M', b""),
            (b'L', b""),
            (b'z', b""),
        ] {
            assert!(
                matches!(
                    Command::decode(code, data),
                    Err(ProtocolError::Malformed { .. })
                ),
                "{} {:?}",
                char::from(code),
                data
            );
        }
    }

    #[test]
    fn encodes_replies() {
        assert_eq!(Response::Continue.encode(), [0, 0, 0, 1, b'c']);
        assert_eq!(
            Response::ReplyCode("554 5.7.1 no".into()).encode(),
            packet(b'y', b"554 5.7.1 no\0")
        );
        assert_eq!(
            Response::AddHeader {
                name: "X-Preflight-Verdict".into(),
                value: "pass; score=0.5".into()
            }
            .encode(),
            packet(b'h', b"X-Preflight-Verdict\0pass; score=0.5\0")
        );
        let mut ins = 0u32.to_be_bytes().to_vec();
        ins.extend_from_slice(b"X-A\0b\0");
        assert_eq!(
            Response::InsertHeader {
                index: 0,
                name: "X-A".into(),
                value: "b".into()
            }
            .encode(),
            packet(b'i', &ins)
        );
        // A NUL inside a value cannot cut the packet short.
        assert_eq!(
            Response::Quarantine("a\0b".into()).encode(),
            packet(b'q', b"a b\0")
        );
    }

    #[test]
    fn negotiation_asks_only_for_what_the_mta_offers() {
        let Ok(Response::OptNeg { options, macros }) = negotiate(Options {
            version: 6,
            actions: 0x1ff,
            steps: 0x1f_ffff,
        }) else {
            panic!("negotiation failed");
        };
        assert_eq!(options.version, 6);
        assert_eq!(options.actions & action::CHANGE_BODY, 0);
        assert_ne!(options.actions & action::ADD_HEADERS, 0);
        assert_ne!(options.steps & step::NR_BODY, 0);
        assert!(!macros.is_empty());
        // An older MTA without macro lists or no-reply flags.
        let Ok(Response::OptNeg { options, macros }) = negotiate(Options {
            version: 2,
            actions: action::ADD_HEADERS,
            steps: 0x7f,
        }) else {
            panic!("negotiation failed");
        };
        assert_eq!((options.version, options.actions), (2, action::ADD_HEADERS));
        assert_eq!(options.steps & step::NR_BODY, 0);
        assert!(macros.is_empty());
        assert!(
            negotiate(Options {
                version: 1,
                actions: 0,
                steps: 0
            })
            .is_err()
        );
        // Replies follow the negotiated no-reply flags.
        assert!(!Command::Body(vec![]).wants_reply(step::NR_BODY));
        assert!(Command::Body(vec![]).wants_reply(0));
        assert!(Command::EndOfMessage(vec![]).wants_reply(u32::MAX));
        assert!(!Command::Abort.wants_reply(0));
    }
}
