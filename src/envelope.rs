//! What the SMTP transaction knows and the message does not.

use std::net::IpAddr;

/// The SMTP envelope of a message. Every field is optional: the CLI fills it from options,
/// the milter from the MTA's macros and commands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Envelope {
    /// MAIL FROM address (without angle brackets); `Some("")` for the null sender.
    pub mail_from: Option<String>,
    /// RCPT TO addresses.
    pub rcpt_to: Vec<String>,
    /// The SMTP client's IP address.
    pub client_ip: Option<IpAddr>,
    /// HELO/EHLO name.
    pub helo: Option<String>,
    /// SMTP AUTH user name.
    pub auth_user: Option<String>,
    /// MTA queue id (for logs).
    pub queue_id: Option<String>,
}
