//! # preflight
//!
//! A fast filter that sits before outbound mail delivery. It scans a message's headers,
//! structure and content and predicts whether a receiving server would refuse it with a
//! 554 (or 550/552/553), and for each problem says what it saw, which refusal it predicts
//! and how to fix it.
//!
//! ```
//! use preflight::{Config, Engine, Envelope, Verdict};
//!
//! let engine = Engine::new(Config::default()).expect("shipped rules load");
//! let raw = b"From: Ann <ann@example.com>\r\nTo: bob@example.org\r\n\
//!             Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
//!             Message-ID: <1@example.com>\r\nSubject: Lunch\r\n\r\nSee you at noon.\r\n";
//! let report = engine.check(raw, &Envelope::default());
//! assert_eq!(report.verdict, Verdict::Pass);
//!
//! let gtube = b"From: a@example.com\r\nSubject: test\r\n\r\n\
//!               XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n";
//! let report = engine.check(gtube, &Envelope::default());
//! assert_eq!(report.verdict, Verdict::Reject);
//! println!("{}", report.reply.unwrap().to_line());
//! ```
//!
//! The engine is built once ([`Engine::new`]) from a [`Config`] and the rule packs, is
//! `Send + Sync`, and is shared behind an `Arc`. [`Engine::check`] never fails: a malformed
//! message yields findings. The [`report`] module documents the JSON format.
//!
//! ## What is stable
//!
//! The API other programs build on, kept compatible within a major version: [`Engine`]
//! ([`Engine::new`], [`Engine::check`], and for the checks that need DNS
//! [`Engine::plan`] and [`Engine::check_with`]), [`Config`] and its section types in
//! [`config`] (with [`config::Settings`], the whole file), [`Envelope`], the [`report`]
//! types ([`Report`], [`Finding`], [`Evidence`], [`Verdict`], [`Action`]), the [`dns`]
//! questions and answers, [`Error`] and [`ErrorKind`], and the family table in [`family`].
//!
//! Public but not stable (they change when the internals do): what rule authors, the
//! binary, the tests and the benchmarks read: the parsed [`message`] and its facts,
//! [`rules`], [`model`], [`render`], [`engine::examples`], and with their features
//! `scan`, `daemon`, `milter` and `cli`. The code rules (`checks`), the scoring
//! (`verdict`) and the helpers (`util`) are private to the crate, and the
//! `unreachable_pub` lint keeps what they hold from claiming more than crate visibility.
//!
//! ## Features
//!
//! `cli` (default) builds the `preflight` binary and brings `milter` (the milter, on the
//! `daemon` layer and tokio) and `scan` (batch scanning and model training, on rayon).
//! With `default-features = false` the crate is the engine alone.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(unreachable_pub)]

pub(crate) mod checks;
#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
#[cfg(feature = "daemon")]
pub mod daemon;
pub mod dns;
pub mod engine;
pub mod envelope;
pub mod error;
pub mod family;
pub mod message;
#[cfg(feature = "milter")]
pub mod milter;
pub mod model;
pub mod render;
pub mod report;
pub mod rules;
#[cfg(feature = "scan")]
pub mod scan;
pub(crate) mod util;
pub(crate) mod verdict;

pub use config::Config;
pub use engine::Engine;
pub use envelope::Envelope;
pub use error::{Error, ErrorKind};
pub use report::{Action, Evidence, Finding, NotChecked, Report, Verdict};
