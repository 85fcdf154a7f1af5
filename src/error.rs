//! The library's error type.

use std::fmt;

/// What went wrong, broadly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A rule pack could not be loaded (the message lists every problem).
    Rules,
    /// The configuration file is invalid.
    Config,
    /// A file could not be read.
    Io,
    /// The input is not a mail message at all.
    NotMail,
    /// Invalid command-line usage.
    Usage,
}

/// An error from loading rules or configuration, or from reading input.
///
/// A message that would bounce is never an error: it is a [`crate::Report`] with a
/// reject verdict.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// Reads a configuration-like file (`what` names it in the error: "config", "DNS
    /// answers"): a failure is a [`ErrorKind::Config`] error naming the path.
    pub(crate) fn read_config_text(path: &std::path::Path, what: &str) -> Result<String, Error> {
        std::fs::read_to_string(path).map_err(|e| {
            Error::with_source(
                ErrorKind::Config,
                format!("cannot read {what} {}: {e}", path.display()),
                e,
            )
        })
    }

    /// A new error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }
    /// A new error of `kind` caused by `source`.
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The sysexits(3) status the CLI uses for this error.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Usage => 64,
            ErrorKind::NotMail => 65,
            ErrorKind::Io => 74,
            ErrorKind::Rules | ErrorKind::Config => 78,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
