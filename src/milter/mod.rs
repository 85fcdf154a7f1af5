//! The milter: `preflight milter` checks every message Postfix (or Sendmail) hands it at
//! end of DATA. [`protocol`] is our own implementation of the milter wire protocol,
//! version 6, written from the public protocol descriptions and Postfix's MILTER_README.

#[cfg(test)]
mod conformance;
pub mod protocol;
pub mod reply;
pub mod server;
pub mod session;
