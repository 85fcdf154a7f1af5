//! Property tests of the milter conversation: random MTAs (every combination of offered
//! actions and protocol flags, milter modes) send random sequences of commands (several
//! messages per connection, aborts, oversize messages, forged verdict headers, unknown
//! commands, QUIT-NC); the session and the reply policy must answer exactly what the
//! negotiated flags call for: one reply to every command that waits for one, none to any
//! other, Skip only to a body chunk the MTA waits on and offered Skip for, actions only
//! where negotiation allowed them, and at end of message the answer to that very message.

use std::sync::OnceLock;

use proptest::prelude::*;

use super::protocol::{Command, Family, Options, Response, action, step};
use super::reply::{self, Negotiated, Outcome};
use super::session::{Next, Session};
use crate::config::{MilterConfig, MilterMode};
use crate::{Config, Engine, Envelope};

const LIMIT: usize = 50_000;
const HEADER: &str = "X-Preflight-Verdict";

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let mut c = Config {
            now: Some(1_795_392_000),
            ..Config::default()
        };
        c.limits.max_message_bytes = Some(LIMIT);
        Engine::new(c).expect("shipped rules load")
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Clean,
    Canary,
    Flagged,
    Oversize,
}

#[derive(Clone, Copy, Debug)]
enum End {
    Eom,
    /// Abort after the headers.
    Abort,
    /// Abort after MAIL FROM.
    AbortEarly,
}

#[derive(Clone, Debug)]
struct Msg {
    kind: Kind,
    /// Verdict headers the sender wrote, by spelling.
    forged: Vec<&'static str>,
    chunk: usize,
    rcpts: usize,
    end: End,
    unknown: bool,
}

#[derive(Clone, Debug)]
struct Script {
    actions: u32,
    steps: u32,
    mode: MilterMode,
    messages: Vec<Msg>,
    /// QUIT-NC after this many messages.
    quit_nc: Option<usize>,
}

fn raw(kind: Kind) -> Vec<u8> {
    let text: &[u8] = match kind {
        Kind::Clean | Kind::Oversize => include_bytes!("../../samples/good-newsletter.eml"),
        Kind::Canary => include_bytes!("../../samples/canary.eml"),
        Kind::Flagged => include_bytes!("../../samples/bad-size-too-many-attachments.eml"),
    };
    let mut v = text.to_vec();
    if kind == Kind::Oversize {
        for i in 0..1200 {
            v.extend_from_slice(format!("padding line {i} to pass the size limit\n").as_bytes());
        }
    }
    v
}

/// Header fields (name, value with folds as LF) and the body with CRLF line ends.
fn split(raw: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
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

fn msg() -> impl Strategy<Value = Msg> {
    (
        prop_oneof![
            3 => Just(Kind::Clean),
            2 => Just(Kind::Canary),
            1 => Just(Kind::Flagged),
            2 => Just(Kind::Oversize),
        ],
        prop::collection::vec(
            prop_oneof![
                Just("X-Preflight-Verdict"),
                Just("x-preflight-verdict"),
                Just("X-PREFLIGHT-VERDICT"),
            ],
            0..3,
        ),
        prop_oneof![Just(17usize), Just(4096), Just(65535)],
        0usize..4,
        prop_oneof![8 => Just(End::Eom), 1 => Just(End::Abort), 1 => Just(End::AbortEarly)],
        any::<bool>(),
    )
        .prop_map(|(kind, forged, chunk, rcpts, end, unknown)| Msg {
            kind,
            forged,
            chunk,
            rcpts,
            end,
            unknown,
        })
}

fn script() -> impl Strategy<Value = Script> {
    (
        0u32..0x200,
        0u32..0x20_0000,
        prop_oneof![
            4 => Just(MilterMode::Enforce),
            1 => Just(MilterMode::FlagOnly),
            1 => Just(MilterMode::DryRun),
        ],
        prop::collection::vec(msg(), 1..6),
        prop::option::of(0usize..4),
    )
        .prop_map(|(actions, steps, mode, messages, quit_nc)| Script {
            actions,
            steps,
            mode,
            messages,
            quit_nc,
        })
}

/// What the MTA expects back for one command it sent.
#[derive(Debug)]
enum Expect {
    Nothing,
    /// One reply to a step (Skip allowed for a body chunk when offered).
    Step {
        body: bool,
    },
    /// The end-of-message answer for this message.
    End {
        kind: Kind,
        message: Vec<u8>,
        envelope: Envelope,
        forged: u32,
    },
}

struct Mta {
    agreed: Negotiated,
    session: Session,
    settings: MilterConfig,
}

impl Mta {
    fn send(&mut self, cmd: Command, expect: Expect) -> Result<(), TestCaseError> {
        let what = format!("{cmd:?}");
        let what = &what[..what.len().min(80)];
        let wants = cmd.wants_reply(self.agreed.steps);
        let out = self.session.handle(cmd);
        let replies = match out {
            Next::Reply(r) => r,
            Next::Check {
                message,
                envelope,
                existing,
            } => {
                let report = engine().check(&message, &envelope);
                reply::answer(
                    &self.settings,
                    self.agreed,
                    Outcome::Checked(&report),
                    existing,
                )
                .replies
            }
            Next::TooLarge { size, existing, .. } => {
                reply::answer(
                    &self.settings,
                    self.agreed,
                    Outcome::TooLarge { size, limit: LIMIT },
                    existing,
                )
                .replies
            }
            Next::Close => Vec::new(),
            Next::Refuse(why) => return Err(TestCaseError::fail(format!("refused: {why}"))),
        };
        match expect {
            Expect::Nothing => {
                prop_assert!(replies.is_empty(), "{what}: unexpected {replies:?}");
            }
            Expect::Step { body } => {
                if !wants {
                    prop_assert!(replies.is_empty(), "{what}: no reply was due: {replies:?}");
                } else {
                    prop_assert_eq!(replies.len(), 1, "{}: one reply due: {:?}", what, replies);
                    let ok = match &replies[0] {
                        Response::Continue => true,
                        Response::Skip => body && self.agreed.steps & step::SKIP != 0,
                        _ => false,
                    };
                    prop_assert!(ok, "{what}: {replies:?} not allowed here");
                }
            }
            Expect::End {
                kind,
                message,
                envelope,
                forged,
            } => {
                let (last, mods) = replies
                    .split_last()
                    .ok_or_else(|| TestCaseError::fail(format!("{what}: no reply at all")))?;
                prop_assert!(
                    matches!(
                        last,
                        Response::Continue
                            | Response::Accept
                            | Response::Reject
                            | Response::Tempfail
                            | Response::Discard
                            | Response::ReplyCode(_)
                    ),
                    "{what}: final reply {last:?}"
                );
                let lead = self.agreed.steps & step::HEADER_LEADING_SPACE != 0;
                for m in mods {
                    let allowed = match m {
                        Response::AddHeader { value, .. }
                        | Response::InsertHeader { value, .. } => {
                            self.agreed.actions & action::ADD_HEADERS != 0
                                && value.starts_with(' ') == lead
                        }
                        Response::ChangeHeader { value, .. } => {
                            self.agreed.actions & action::CHANGE_HEADERS != 0 && value.is_empty()
                        }
                        Response::Quarantine(_) => self.agreed.actions & action::QUARANTINE != 0,
                        Response::Progress => true,
                        _ => false,
                    };
                    prop_assert!(
                        allowed,
                        "{what}: {m:?} not allowed (agreed {:?})",
                        self.agreed
                    );
                }
                // Forged verdict headers all go, last first, whenever the message goes on
                // with our changes.
                let deleted: Vec<u32> = mods
                    .iter()
                    .filter_map(|m| match m {
                        Response::ChangeHeader { index, .. } => Some(*index),
                        _ => None,
                    })
                    .collect();
                let changes = *last == Response::Continue
                    && self.settings.mode != MilterMode::DryRun
                    && self.agreed.actions & action::CHANGE_HEADERS != 0;
                let want: Vec<u32> = if changes {
                    (1..=forged).rev().collect()
                } else {
                    Vec::new()
                };
                prop_assert_eq!(&deleted, &want, "{}: deletions", what);
                // The answer is this message's own.
                let code = match last {
                    Response::ReplyCode(t) => t.get(..9),
                    _ => None,
                };
                match (self.settings.mode, kind) {
                    (MilterMode::Enforce, Kind::Canary) => {
                        prop_assert_eq!(code, Some("554 5.7.1"), "{}", what)
                    }
                    (MilterMode::Enforce, Kind::Oversize) => {
                        prop_assert_eq!(code, Some("552 5.3.4"), "{}", what)
                    }
                    _ => prop_assert_eq!(last, &Response::Continue, "{}", what),
                }
                if kind != Kind::Oversize {
                    let report = engine().check(&message, &envelope);
                    let fresh = reply::answer(
                        &self.settings,
                        self.agreed,
                        Outcome::Checked(&report),
                        forged,
                    );
                    prop_assert_eq!(&replies, &fresh.replies, "{}: not its own answer", what);
                }
            }
        }
        Ok(())
    }
}

fn run(script: &Script) -> Result<(), TestCaseError> {
    let settings = MilterConfig {
        mode: script.mode,
        ..MilterConfig::default()
    };
    let mut mta = Mta {
        agreed: Negotiated {
            actions: 0,
            steps: 0,
        },
        session: Session::new(LIMIT, HEADER),
        settings,
    };
    let offer = Options {
        version: 6,
        actions: script.actions,
        steps: script.steps,
    };
    let Next::Reply(r) = mta.session.handle(Command::OptNeg(offer)) else {
        return Err(TestCaseError::fail("no negotiation reply"));
    };
    let [Response::OptNeg { options, .. }] = &r[..] else {
        return Err(TestCaseError::fail(format!("negotiation answered {r:?}")));
    };
    // Nothing asked for that the MTA did not offer.
    prop_assert_eq!(options.actions & !script.actions, 0);
    prop_assert_eq!(options.steps & !script.steps, 0);
    mta.agreed = Negotiated {
        actions: options.actions,
        steps: options.steps,
    };
    let agreed = mta.agreed.steps;
    let sends = |flag: u32| agreed & flag == 0;
    let lead = agreed & step::HEADER_LEADING_SPACE != 0;
    let connect = |mta: &mut Mta| -> Result<(), TestCaseError> {
        mta.send(
            Command::Macros {
                stage: b'C',
                pairs: vec![("{client_addr}".into(), "192.0.2.7".into())],
            },
            Expect::Nothing,
        )?;
        if sends(step::NO_CONNECT) {
            mta.send(
                Command::Connect {
                    hostname: "client.example".into(),
                    family: Family::Inet4,
                    port: 4321,
                    address: "192.0.2.7".into(),
                },
                Expect::Step { body: false },
            )?;
        }
        if sends(step::NO_HELO) {
            mta.send(
                Command::Helo("client.example".into()),
                Expect::Step { body: false },
            )?;
        }
        Ok(())
    };
    connect(&mut mta)?;
    for (i, m) in script.messages.iter().enumerate() {
        if script.quit_nc == Some(i) {
            mta.send(Command::QuitNewConnection, Expect::Nothing)?;
            connect(&mut mta)?;
        }
        let mut envelope = Envelope {
            client_ip: sends(step::NO_CONNECT).then(|| "192.0.2.7".parse().expect("an address")),
            helo: sends(step::NO_HELO).then(|| "client.example".into()),
            ..Envelope::default()
        };
        mta.send(
            Command::Macros {
                stage: b'M',
                pairs: vec![("i".into(), format!("Q{i}"))],
            },
            Expect::Nothing,
        )?;
        envelope.queue_id = Some(format!("Q{i}"));
        if sends(step::NO_MAIL) {
            mta.send(
                Command::Mail(vec!["<news@example.com>".into()]),
                Expect::Step { body: false },
            )?;
            envelope.mail_from = Some("news@example.com".into());
        }
        if let End::AbortEarly = m.end {
            mta.send(Command::Abort, Expect::Nothing)?;
            continue;
        }
        if sends(step::NO_RCPT) {
            for r in 0..=m.rcpts {
                let rcpt = format!("reader{r}@example.org");
                mta.send(
                    Command::Rcpt(vec![format!("<{rcpt}>")]),
                    Expect::Step { body: false },
                )?;
                envelope.rcpt_to.push(rcpt);
            }
        }
        if m.unknown && sends(step::NO_UNKNOWN) {
            mta.send(
                Command::Unknown("XYZZY".into()),
                Expect::Step { body: false },
            )?;
        }
        if sends(step::NO_DATA) {
            mta.send(Command::Data, Expect::Step { body: false })?;
        }
        let (mut headers, body) = split(&raw(m.kind));
        for (k, f) in m.forged.iter().enumerate() {
            headers.insert(k * 2, ((*f).to_string(), format!("pass; score={k}")));
        }
        let mut rebuilt = Vec::new();
        if sends(step::NO_HEADERS) {
            for (n, v) in &headers {
                let folded = v.replace('\n', "\r\n");
                rebuilt.extend_from_slice(format!("{n}: {folded}\r\n").as_bytes());
                let value = if lead { format!(" {v}") } else { v.clone() };
                mta.send(
                    Command::Header {
                        name: n.clone(),
                        value,
                    },
                    Expect::Step { body: false },
                )?;
            }
        }
        rebuilt.extend_from_slice(b"\r\n");
        if sends(step::NO_EOH) {
            mta.send(Command::EndOfHeaders, Expect::Step { body: false })?;
        }
        if let End::Abort = m.end {
            mta.send(Command::Abort, Expect::Nothing)?;
            continue;
        }
        if sends(step::NO_BODY) {
            for c in body.chunks(m.chunk) {
                mta.send(Command::Body(c.to_vec()), Expect::Step { body: true })?;
            }
            rebuilt.extend_from_slice(&body);
        }
        let forged = if sends(step::NO_HEADERS) {
            m.forged.len() as u32
        } else {
            0
        };
        // Without body chunks an oversize message is not over the limit.
        let kind = if m.kind == Kind::Oversize && rebuilt.len() <= LIMIT {
            Kind::Clean
        } else {
            m.kind
        };
        mta.send(
            Command::EndOfMessage(Vec::new()),
            Expect::End {
                kind,
                message: rebuilt,
                envelope,
                forged,
            },
        )?;
    }
    let out = mta.session.handle(Command::Quit);
    prop_assert_eq!(out, Next::Close);
    Ok(())
}

proptest! {
    // Failing cases are kept beside this file (src/milter/conformance.proptest-regressions)
    // and replayed first on every run.
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::SourceParallel("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn replies_never_fall_out_of_step(s in script()) {
        run(&s)?;
    }
}

/// The case of the report that found the defect: Postfix's flags (no replies to any
/// step, Skip offered), an oversize message, then a clean one, the canary, a clean one.
#[test]
fn oversize_then_clean_canary_clean_under_postfix_flags() {
    let m = |kind| Msg {
        kind,
        forged: Vec::new(),
        chunk: 65535,
        rcpts: 0,
        end: End::Eom,
        unknown: false,
    };
    let script = Script {
        actions: 0x1ff,
        steps: 0x1f_ffff & !(step::NO_HEADERS | step::NO_BODY | step::NO_MAIL | step::NO_RCPT),
        mode: MilterMode::Enforce,
        messages: vec![
            m(Kind::Oversize),
            m(Kind::Clean),
            m(Kind::Canary),
            m(Kind::Clean),
        ],
        quit_nc: None,
    };
    run(&script).expect("in step");
}
