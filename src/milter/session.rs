//! One milter connection's state: what the MTA told us about the SMTP session and the
//! message so far. [`Session::handle`] takes each decoded command and says what to answer;
//! at end of message it hands back the message and its envelope to be checked.
//!
//! The session rebuilds the message as it was sent: each header field as
//! `Name: value` with CRLF line ends, a blank line, the body chunks. It stops buffering
//! past the size limit and remembers that the message was too large.

use super::protocol::{Command, Family, Response, step};
use super::reply::Negotiated;
use crate::envelope::Envelope;

/// What to do after a command.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Send these replies (possibly none, when the MTA expects no reply).
    Reply(Vec<Response>),
    /// End of message: check this message under this envelope, then reply.
    Check {
        /// The message as sent, CRLF line ends.
        message: Vec<u8>,
        /// The envelope, from the SMTP commands and the MTA's macros.
        envelope: Envelope,
        /// Header fields of the message named like the verdict header (any case).
        existing: u32,
    },
    /// End of a message larger than the limit: answer with the size reply.
    TooLarge {
        /// Bytes the MTA sent (at least the limit).
        size: usize,
        /// Queue id, for the log.
        queue_id: Option<String>,
        /// Header fields of the message named like the verdict header (any case).
        existing: u32,
    },
    /// Close the connection.
    Close,
    /// Negotiation failed (the MTA offers nothing we can speak): close with this reason.
    Refuse(&'static str),
}

/// The state of one MTA connection.
#[derive(Debug)]
pub struct Session {
    steps: u32,
    actions: u32,
    max_size: usize,
    /// The verdict header's name, to count the fields a sender already wrote.
    header: String,
    existing: u32,
    macros: Vec<(String, String)>,
    envelope: Envelope,
    message: Vec<u8>,
    headers_done: bool,
    size: usize,
    oversize: bool,
}

impl Session {
    /// A session that buffers messages of up to `max_size` bytes and counts the fields
    /// named `header` (the verdict header) in each.
    pub fn new(max_size: usize, header: &str) -> Session {
        Session {
            steps: 0,
            actions: 0,
            max_size,
            header: header.to_string(),
            existing: 0,
            macros: Vec::new(),
            envelope: Envelope::default(),
            message: Vec::new(),
            headers_done: false,
            size: 0,
            oversize: false,
        }
    }

    /// Sets the negotiated flags, as if negotiation had agreed on them.
    pub fn set_negotiated(&mut self, n: Negotiated) {
        self.steps = n.steps;
        self.actions = n.actions;
    }

    /// What negotiation agreed: which commands get no reply, which actions are allowed.
    pub fn negotiated(&self) -> Negotiated {
        Negotiated {
            actions: self.actions,
            steps: self.steps,
        }
    }

    /// A macro's value, the latest definition winning (`i`, `{auth_authen}`, ...).
    pub fn macro_value(&self, name: &str) -> Option<&str> {
        self.macros
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The queue id the MTA gave, once it has (`i`).
    pub fn queue_id(&self) -> Option<String> {
        self.macro_value("i").map(str::to_string)
    }

    /// Forgets the current message (after end of message or abort); the connection's
    /// client, HELO and macros of the connection stages stay.
    fn reset_message(&mut self) {
        self.envelope.mail_from = None;
        self.envelope.rcpt_to.clear();
        self.envelope.auth_user = None;
        self.envelope.queue_id = None;
        self.message.clear();
        self.headers_done = false;
        self.size = 0;
        self.oversize = false;
        self.existing = 0;
    }

    fn push(&mut self, bytes: &[u8]) {
        self.size += bytes.len();
        if self.size > self.max_size {
            self.oversize = true;
            self.message = Vec::new();
        } else {
            self.message.extend_from_slice(bytes);
        }
    }

    fn reply(&self, cmd: &Command) -> Next {
        if cmd.wants_reply(self.steps) {
            Next::Reply(vec![Response::Continue])
        } else {
            Next::Reply(Vec::new())
        }
    }

    /// Takes one command from the MTA.
    pub fn handle(&mut self, cmd: Command) -> Next {
        match &cmd {
            Command::OptNeg(offer) => {
                // A second negotiation restarts the session.
                self.reset_message();
                match super::protocol::negotiate(*offer) {
                    Ok(reply) => {
                        if let Response::OptNeg { options, .. } = &reply {
                            self.steps = options.steps;
                            self.actions = options.actions;
                        }
                        Next::Reply(vec![reply])
                    }
                    Err(why) => Next::Refuse(why),
                }
            }
            Command::Macros { pairs, .. } => {
                for (name, value) in pairs {
                    if let Some(slot) = self.macros.iter_mut().find(|(n, _)| n == name) {
                        slot.1.clone_from(value);
                    } else {
                        self.macros.push((name.clone(), value.clone()));
                    }
                }
                Next::Reply(Vec::new())
            }
            Command::Connect {
                family, address, ..
            } => {
                if matches!(family, Family::Inet4 | Family::Inet6) {
                    self.envelope.client_ip = address.trim_start_matches("IPv6:").parse().ok();
                }
                self.reply(&cmd)
            }
            Command::Helo(name) => {
                self.envelope.helo = Some(name.clone());
                self.reply(&cmd)
            }
            Command::Mail(args) => {
                self.reset_message();
                self.envelope.mail_from = Some(strip_brackets(&args[0]));
                self.reply(&cmd)
            }
            Command::Rcpt(args) => {
                self.envelope.rcpt_to.push(strip_brackets(&args[0]));
                self.reply(&cmd)
            }
            Command::Data | Command::Unknown(_) => self.reply(&cmd),
            Command::Header { name, value } => {
                if name.eq_ignore_ascii_case(&self.header) {
                    self.existing += 1;
                }
                let sep: &[u8] = if self.steps & step::HEADER_LEADING_SPACE != 0 {
                    b":"
                } else {
                    b": "
                };
                let mut field = Vec::with_capacity(name.len() + value.len() + 4);
                field.extend_from_slice(name.as_bytes());
                field.extend_from_slice(sep);
                push_crlf(&mut field, value.as_bytes());
                field.extend_from_slice(b"\r\n");
                self.push(&field);
                self.reply(&cmd)
            }
            Command::EndOfHeaders => {
                self.push(b"\r\n");
                self.headers_done = true;
                self.reply(&cmd)
            }
            Command::Body(chunk) => {
                if !self.headers_done {
                    self.push(b"\r\n");
                    self.headers_done = true;
                }
                self.push(chunk);
                if self.oversize && self.steps & step::SKIP != 0 && cmd.wants_reply(self.steps) {
                    // Nothing more to buffer: ask the MTA to skip the rest of the body.
                    // Skip answers a body chunk, so only where the MTA waits for that
                    // answer: under "no reply to body chunks" it would read it as the
                    // answer to end of message, and every later reply would be one off.
                    return Next::Reply(vec![Response::Skip]);
                }
                self.reply(&cmd)
            }
            Command::EndOfMessage(chunk) => {
                if !self.headers_done {
                    self.push(b"\r\n");
                }
                self.push(chunk);
                self.envelope.queue_id = self.queue_id();
                self.envelope.auth_user = self
                    .macro_value("{auth_authen}")
                    .filter(|v| !v.is_empty())
                    .map(str::to_string);
                let next = if self.oversize {
                    Next::TooLarge {
                        size: self.size,
                        queue_id: self.envelope.queue_id.clone(),
                        existing: self.existing,
                    }
                } else {
                    Next::Check {
                        message: std::mem::take(&mut self.message),
                        envelope: self.envelope.clone(),
                        existing: self.existing,
                    }
                };
                self.reset_message();
                next
            }
            Command::Abort => {
                self.reset_message();
                Next::Reply(Vec::new())
            }
            Command::QuitNewConnection => {
                self.reset_message();
                self.envelope = Envelope::default();
                self.macros.clear();
                Next::Reply(Vec::new())
            }
            Command::Quit => Next::Close,
        }
    }
}

/// `<a@example.com>` -> `a@example.com`; `<>` -> the null sender.
fn strip_brackets(s: &str) -> String {
    let t = s.trim();
    t.strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(t)
        .to_string()
}

/// Appends `v` with every bare LF turned into CRLF (folded header values come with LF).
fn push_crlf(out: &mut Vec<u8>, v: &[u8]) {
    let mut prev = 0u8;
    for &b in v {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(s: &mut Session, cmds: Vec<Command>) -> Vec<Next> {
        cmds.into_iter().map(|c| s.handle(c)).collect()
    }

    fn message_commands() -> Vec<Command> {
        vec![
            Command::Macros {
                stage: b'C',
                pairs: vec![("{client_addr}".into(), "192.0.2.7".into())],
            },
            Command::Connect {
                hostname: "client.example".into(),
                family: Family::Inet4,
                port: 4321,
                address: "192.0.2.7".into(),
            },
            Command::Helo("client.example".into()),
            Command::Macros {
                stage: b'M',
                pairs: vec![
                    ("i".into(), "4XyZ1".into()),
                    ("{auth_authen}".into(), "alice".into()),
                ],
            },
            Command::Mail(vec!["<alice@example.com>".into(), "SIZE=120".into()]),
            Command::Rcpt(vec!["<bob@example.org>".into()]),
            Command::Data,
            Command::Header {
                name: "From".into(),
                value: "alice@example.com".into(),
            },
            Command::Header {
                name: "Subject".into(),
                value: "two\n\tlines".into(),
            },
            Command::EndOfHeaders,
            Command::Body(b"Hello Bob,\r\n".to_vec()),
            Command::EndOfMessage(b"bye\r\n".to_vec()),
        ]
    }

    #[test]
    fn rebuilds_the_message_and_envelope() {
        let mut s = Session::new(1 << 20, "X-Preflight-Verdict");
        let out = feed(&mut s, message_commands());
        let Some(Next::Check {
            message, envelope, ..
        }) = out.last()
        else {
            panic!("no check at end of message: {out:?}");
        };
        assert_eq!(
            String::from_utf8_lossy(message),
            "From: alice@example.com\r\nSubject: two\r\n\tlines\r\n\r\nHello Bob,\r\nbye\r\n"
        );
        assert_eq!(envelope.mail_from.as_deref(), Some("alice@example.com"));
        assert_eq!(envelope.rcpt_to, ["bob@example.org"]);
        assert_eq!(envelope.client_ip, Some("192.0.2.7".parse().unwrap()));
        assert_eq!(envelope.helo.as_deref(), Some("client.example"));
        assert_eq!(envelope.auth_user.as_deref(), Some("alice"));
        assert_eq!(envelope.queue_id.as_deref(), Some("4XyZ1"));
        // Without no-reply flags every step is answered with continue.
        assert_eq!(out[1], Next::Reply(vec![Response::Continue]));
        assert_eq!(out[0], Next::Reply(vec![]));
    }

    #[test]
    fn honours_no_reply_flags_and_leading_space() {
        let mut s = Session::new(1 << 20, "X-Preflight-Verdict");
        s.set_negotiated(Negotiated {
            actions: 0,
            steps: step::NR_HEADER | step::NR_BODY | step::HEADER_LEADING_SPACE,
        });
        let out = s.handle(Command::Header {
            name: "To".into(),
            value: " bob@example.org".into(),
        });
        assert_eq!(out, Next::Reply(vec![]));
        s.handle(Command::EndOfHeaders);
        assert_eq!(s.handle(Command::Body(b"x".to_vec())), Next::Reply(vec![]));
        let Next::Check { message, .. } = s.handle(Command::EndOfMessage(Vec::new())) else {
            panic!("no check");
        };
        assert_eq!(message, b"To: bob@example.org\r\n\r\nx");
    }

    #[test]
    fn several_messages_abort_and_oversize() {
        let mut s = Session::new(1 << 20, "X-Preflight-Verdict");
        feed(&mut s, message_commands());
        // A second message on the same connection starts clean.
        s.handle(Command::Mail(vec!["<>".into()]));
        s.handle(Command::Header {
            name: "Subject".into(),
            value: "second".into(),
        });
        let Next::Check {
            message, envelope, ..
        } = s.handle(Command::EndOfMessage(b"b".to_vec()))
        else {
            panic!("no check");
        };
        assert_eq!(message, b"Subject: second\r\n\r\nb");
        assert_eq!(envelope.mail_from.as_deref(), Some(""));
        assert!(envelope.rcpt_to.is_empty());
        // Abort mid-message drops what was buffered.
        s.handle(Command::Mail(vec!["<a@example.com>".into()]));
        s.handle(Command::Header {
            name: "Subject".into(),
            value: "dropped".into(),
        });
        s.handle(Command::Abort);
        let Next::Check { message, .. } = s.handle(Command::EndOfMessage(b"c".to_vec())) else {
            panic!("no check");
        };
        assert_eq!(message, b"\r\nc");
        // Past the limit nothing more is kept and the size reply is due. Skip answers the
        // body chunk where the MTA waits for an answer to body chunks...
        let mut s = Session::new(100, "X-Preflight-Verdict");
        s.set_negotiated(Negotiated {
            actions: 0,
            steps: step::SKIP,
        });
        s.handle(Command::Mail(vec!["<a@example.com>".into()]));
        s.handle(Command::EndOfHeaders);
        assert_eq!(
            s.handle(Command::Body(vec![b'x'; 200])),
            Next::Reply(vec![Response::Skip])
        );
        assert_eq!(
            s.handle(Command::EndOfMessage(Vec::new())),
            Next::TooLarge {
                size: 202,
                queue_id: None,
                existing: 0,
            }
        );
        assert_eq!(s.handle(Command::Quit), Next::Close);
        // ...and nowhere else: with no replies to body chunks, nothing until the end.
        let mut s = Session::new(100, "X-Preflight-Verdict");
        s.set_negotiated(Negotiated {
            actions: 0,
            steps: step::SKIP | step::NR_BODY,
        });
        s.handle(Command::Mail(vec!["<a@example.com>".into()]));
        for _ in 0..3 {
            assert_eq!(
                s.handle(Command::Body(vec![b'x'; 200])),
                Next::Reply(vec![])
            );
        }
        assert!(matches!(
            s.handle(Command::EndOfMessage(Vec::new())),
            Next::TooLarge { size: 602, .. }
        ));
        // The next message is judged on its own.
        s.handle(Command::Mail(vec!["<a@example.com>".into()]));
        s.handle(Command::Body(b"small".to_vec()));
        assert!(matches!(
            s.handle(Command::EndOfMessage(Vec::new())),
            Next::Check { ref message, .. } if message == b"\r\nsmall"
        ));
    }

    #[test]
    fn counts_the_verdict_headers_a_sender_wrote() {
        let mut s = Session::new(1 << 20, "X-Preflight-Verdict");
        for name in [
            "X-Preflight-Verdict",
            "x-preflight-verdict",
            "X-Preflight-Verdicts",
        ] {
            s.handle(Command::Header {
                name: name.into(),
                value: "pass".into(),
            });
        }
        let Next::Check { existing, .. } = s.handle(Command::EndOfMessage(Vec::new())) else {
            panic!("no check");
        };
        assert_eq!(existing, 2);
        // Counted per message.
        let Next::Check { existing, .. } = s.handle(Command::EndOfMessage(Vec::new())) else {
            panic!("no check");
        };
        assert_eq!(existing, 0);
    }
}
