//! Findings, evidence and the report returned by [`crate::Engine::check`].
//!
//! # JSON format
//!
//! `preflight check --format json` prints one [`Report`] object per message; when several
//! files are given, an array of them, each with the input's `path` first (as given on the
//! command line, `<stdin>` for `-`). `preflight scan --format jsonl` prints the same
//! object per draft with `"type": "report"` and the same `path` key (plus `index` for a
//! message of an mbox file). Every field is documented on its type below. Stable
//! contract:
//!
//! * `verdict`: `"pass"`, `"flag"` or `"reject"`.
//! * `score`: the sum of the capped family scores (a float, two decimals at most).
//! * `thresholds`: `{"flag": f64, "reject": f64}` in force for this check.
//! * `reply`: the SMTP reply the strongest finding predicts, `{"code": 554, "enhanced":
//!   "5.7.1", "text": "..."}`, or `null` on a pass.
//! * `reply_likelihood`: how sure that reply is, next to it whenever there is one:
//!   `"certain"` (a hard rule fired: a receiver is known to refuse exactly this defect),
//!   `"likely"` (a reject on score) or `"possible"` (a flag: a receiver may answer so;
//!   a risk, not a refusal that will happen). Omitted on a pass.
//! * `families[]`: per family, the raw sum, the cap and the capped contribution;
//!   `"uncapped": true` when strong evidence in several families lifted the cap (the
//!   family then contributes its raw sum; see `strong_evidence` in the configuration).
//! * `findings[]`: see [`Finding`]; sorted by action (reject first), then score, then id.
//! * Spans in `evidence[]` are half-open byte ranges `[start, end)`; `frame` says whether
//!   they index the raw message (`"raw"`) or the decoded text of the part named in `part`
//!   (`"decoded"`), or the decoded Subject (`"subject"`).
//! * `part` is a MIME part path as IMAP numbers parts: `"1"`, `"2.1"`, ...; the body of a
//!   single-part message is `"1"`. Decoded text taken from a header field is named
//!   `"header:NAME"` (`"header:from"` for the From display name). Evidence that belongs to
//!   no part (a header of the message) has no `part`.
//! * Snippets show one line (without its line break) around the span, at most 120 bytes,
//!   cut at white space where the line has some.
//! * Snippets are `{"text": "..."}` when valid UTF-8, otherwise `{"bytes": "<base64>"}`.
//! * `link_domains[]`: the distinct registrable domains of the http(s) links (IP
//!   addresses as written), sorted, for domain blocklist lookups; omitted when there are
//!   none.
//! * `not_mail`: present only when the input is not a mail message at all (empty, binary,
//!   no `Name: value` field at the start): why, in the words the CLI uses when it refuses
//!   such input with exit status 65. The command line never prints such a report.
//!
//! # Input that is not mail
//!
//! [`crate::Engine::check`] never fails, so it also reports on bytes that are no message
//! at all, and those usually come out as a reject (no From, no Date, ...). A caller tells
//! them apart by [`Report::not_mail`]: `Some(why)` when the input is not mail, by the same
//! test ([`crate::message::looks_like_mail`]) with which `preflight check` and `preflight
//! scan` refuse it. [`crate::Engine::try_check`] returns that case as an error of kind
//! [`crate::ErrorKind::NotMail`] instead, without checking.
//!
//! The output carries no timestamps or paths unless asked, so it is byte-for-byte
//! deterministic for the same input, rules and configuration.

use serde::{Deserialize, Serialize};

/// Most bytes of a finding's `message`. A rule that fires many times quotes its first
/// hits and ends with "and N more"; a single hit's message is cut with an ellipsis.
pub const MESSAGE_MAX: usize = 1024;

/// Cuts `message` to [`MESSAGE_MAX`] bytes at a char boundary, ending it with `…`.
pub fn cut_message(message: &mut String) {
    if message.len() > MESSAGE_MAX {
        let n = crate::util::truncate_str(message, MESSAGE_MAX - '\u{2026}'.len_utf8()).len();
        message.truncate(n);
        message.push('\u{2026}');
    }
}

/// The overall decision for one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing a receiver would likely refuse.
    Pass,
    /// Risky: score at or above the flag threshold.
    Flag,
    /// A receiver would likely refuse it: a hard rule fired or the score reached the reject
    /// threshold.
    Reject,
}

impl Verdict {
    /// Lower-case name as used in JSON and headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Flag => "flag",
            Verdict::Reject => "reject",
        }
    }
    /// The CLI exit status for this verdict (0 pass, 1 flag, 2 reject).
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Pass => 0,
            Verdict::Flag => 1,
            Verdict::Reject => 2,
        }
    }
}

/// What a rule does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Adds its score to its family (capped per family).
    Score,
    /// Rejects the message whatever the score.
    Reject,
}

/// Which bytes a [`Span`] indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Frame {
    /// The raw message as given to `check`.
    Raw,
    /// The decoded text (UTF-8) of one MIME part, named by `part`.
    Decoded,
    /// The decoded Subject (UTF-8).
    Subject,
}

/// A half-open byte range `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A short excerpt of what was seen: text when it is valid UTF-8, base64 bytes otherwise.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Snippet {
    /// UTF-8 text.
    Text(String),
    /// Base64 (standard alphabet, padded) of bytes that are not UTF-8.
    Bytes(String),
}

impl Snippet {
    /// Builds a snippet from bytes, cutting it to at most `max` bytes at a char boundary.
    pub fn from_bytes(bytes: &[u8], max: usize) -> Snippet {
        let cut = &bytes[..bytes.len().min(max)];
        match std::str::from_utf8(cut) {
            Ok(s) => Snippet::Text(s.to_string()),
            Err(e)
                if e.valid_up_to() > 0
                    && cut.len() - e.valid_up_to() < 4
                    && e.error_len().is_none() =>
            {
                Snippet::Text(String::from_utf8_lossy(&cut[..e.valid_up_to()]).into_owned())
            }
            Err(_) => Snippet::Bytes(crate::util::base64(cut)),
        }
    }
    /// Builds a text snippet, cut to at most `max` bytes at a char boundary.
    pub fn text(s: &str, max: usize) -> Snippet {
        Snippet::Text(crate::util::truncate_str(s, max).to_string())
    }
    /// The snippet of `text` that shows offset `at` in context: its line without the
    /// terminator, at most `max` bytes of it from up to 40 bytes ahead of `at`, cut at
    /// white space where the line has some (never inside a word or URL).
    pub fn around(text: &str, at: usize, max: usize) -> Snippet {
        let (ls, le) = crate::util::line_bounds(text.as_bytes(), at, max + 1);
        let le = le.max(ls);
        let at = at.clamp(ls, le);
        let (s, e) = crate::util::snippet_bounds(&text.as_bytes()[ls..le], at - ls, 40, max);
        // The bounds are on UTF-8 boundaries; `get` keeps a wrong one from panicking.
        Snippet::Text(text.get(ls + s..ls + e).unwrap_or_default().to_string())
    }
    /// Cuts the snippet to at most `max` bytes of what it shows (text at a char
    /// boundary; for bytes, the decoded bytes, encoded again).
    pub fn cut(&mut self, max: usize) {
        match self {
            Snippet::Text(t) => {
                let n = crate::util::truncate_str(t, max).len();
                t.truncate(n);
            }
            // Base64 of `max` bytes is at most this long; only longer ones are decoded.
            Snippet::Bytes(b) if b.len() > max.div_ceil(3) * 4 => {
                if let Some(mut v) = crate::util::base64_decode(b) {
                    v.truncate(max);
                    *b = crate::util::base64(&v);
                } else {
                    b.clear();
                }
            }
            Snippet::Bytes(_) => {}
        }
    }
    /// The snippet as displayable text: bytes that are not UTF-8 shown as `\xNN`.
    pub fn display(&self) -> String {
        match self {
            Snippet::Text(t) => t.clone(),
            Snippet::Bytes(b) => crate::util::base64_decode(b).map_or_else(
                || format!("<bytes:{b}>"),
                |v| crate::util::escape_non_utf8(&v),
            ),
        }
    }
}

/// Where in the message a finding was seen.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
pub struct Evidence {
    /// Which bytes `span` indexes.
    pub frame: Frame,
    /// MIME part path (`"1"`, `"1.2"`, ...) for decoded frames and part-level raw evidence.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub part: Option<String>,
    /// Half-open byte range in the frame.
    pub span: Span,
    /// 1-based line number in the frame, when it has lines.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<usize>,
    /// What was seen there.
    pub snippet: Snippet,
}

/// One rule that fired on this message, with everything needed to understand and fix it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, family prefix + three digits (`HDR003`).
    pub id: String,
    /// Kebab-case rule name (`duplicate-subject-header`).
    pub name: String,
    /// Rule family (`size`, `headers`, `encoding`, `mime`, `bulk`, `content`, ...).
    pub family: String,
    /// `score` or `reject`.
    pub action: Action,
    /// Score this finding adds before the family cap (0 for hard rejects).
    pub score: f64,
    /// What was seen in this message.
    pub message: String,
    /// The receiver behaviour that leads to a refusal.
    pub why: String,
    /// What to change.
    pub fix: String,
    /// The SMTP replies this finding leads to.
    pub predicts: Vec<String>,
    /// Where it was seen (may be empty for whole-message facts such as a missing header).
    pub evidence: Vec<Evidence>,
}

/// Flag and reject thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Score at or above which a message is flagged.
    pub flag: f64,
    /// Score at or above which a message is rejected.
    pub reject: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            flag: 5.0,
            reject: 10.0,
        }
    }
}

/// The predicted SMTP reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Basic reply code (550, 552, 554, ...).
    pub code: u16,
    /// Enhanced status code (`5.7.1`).
    pub enhanced: String,
    /// Reply text.
    pub text: String,
}

impl Reply {
    /// Parses `"550 5.7.1 text"`, `"552 5.3.4"` or `"554"`.
    pub fn parse(s: &str) -> Option<Reply> {
        let mut it = s.trim().splitn(3, ' ');
        let code: u16 = it.next()?.parse().ok()?;
        if !(200..600).contains(&code) {
            return None;
        }
        let mut enhanced = String::new();
        let mut text = String::new();
        if let Some(e) = it.next() {
            if e.split('.').count() == 3
                && e.split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            {
                enhanced = e.to_string();
                text = it.next().unwrap_or("").to_string();
            } else {
                text = s.trim().split_once(' ').map_or("", |x| x.1).to_string();
            }
        }
        Some(Reply {
            code,
            enhanced,
            text,
        })
    }
    /// `"554 5.7.1 text"`.
    pub fn to_line(&self) -> String {
        let mut s = self.code.to_string();
        if !self.enhanced.is_empty() {
            s.push(' ');
            s.push_str(&self.enhanced);
        }
        if !self.text.is_empty() {
            s.push(' ');
            s.push_str(&self.text);
        }
        s
    }
}

/// How sure the predicted reply is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum ReplyLikelihood {
    /// A hard rule fired: a major receiver is known to refuse exactly this defect.
    Certain,
    /// The score reached the reject threshold: a receiver will likely refuse it.
    Likely,
    /// The message is flagged: a receiver may answer so. A risk, not a refusal that will
    /// happen.
    Possible,
}

impl ReplyLikelihood {
    /// The likelihood that goes with a verdict (`None` on a pass), `hard` when a hard
    /// rule fired.
    pub fn of(verdict: Verdict, hard: bool) -> Option<ReplyLikelihood> {
        match verdict {
            Verdict::Pass => None,
            Verdict::Flag => Some(ReplyLikelihood::Possible),
            Verdict::Reject if hard => Some(ReplyLikelihood::Certain),
            Verdict::Reject => Some(ReplyLikelihood::Likely),
        }
    }
    /// Lower-case name as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyLikelihood::Certain => "certain",
            ReplyLikelihood::Likely => "likely",
            ReplyLikelihood::Possible => "possible",
        }
    }
    /// How a report introduces the reply: "will be refused:", "a receiver may answer:".
    pub fn lead(self) -> &'static str {
        match self {
            ReplyLikelihood::Certain => "will be refused:",
            ReplyLikelihood::Likely => "likely to be refused:",
            ReplyLikelihood::Possible => "risk: a receiver may answer",
        }
    }
}

/// The score of one family: the raw sum, its cap and what it contributed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyScore {
    /// Family name.
    pub family: String,
    /// Sum of the finding scores in this family.
    pub raw: f64,
    /// The family's cap, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cap: Option<f64>,
    /// What the family added to the total: `min(raw, cap)`, or `raw` when uncapped.
    pub contributed: f64,
    /// Set when strong evidence in several families lifted this family's cap. Omitted
    /// when false.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub uncapped: bool,
}

/// Rules that need DNS and did not decide, and why (see [`Report::not_checked`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotChecked {
    /// Their ids, sorted.
    pub rules: Vec<String>,
    /// Why: DNS checks off, or the lookup that did not answer and how.
    pub why: String,
}

/// The result of checking one message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `pass`, `flag` or `reject`.
    pub verdict: Verdict,
    /// Total score (sum of capped family contributions).
    pub score: f64,
    /// Thresholds used.
    pub thresholds: Thresholds,
    /// The reply the strongest finding predicts; `None` on a pass.
    pub reply: Option<Reply>,
    /// How sure `reply` is; `None` (omitted) on a pass.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reply_likelihood: Option<ReplyLikelihood>,
    /// Message size in bytes.
    pub size: usize,
    /// Per-family contributions, sorted by family name.
    pub families: Vec<FamilyScore>,
    /// Findings, strongest first.
    pub findings: Vec<Finding>,
    /// Checks that failed internally (a bug in preflight, not in the message). The milter
    /// answers a temporary failure when this is not empty. Omitted when empty.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub internal_errors: Vec<String>,
    /// What did not run because of those errors: rule families whose code check failed,
    /// `patterns` when the pattern rules failed, `all` when the message could not be
    /// parsed (then no check ran). The milter's `on_check_error: judge` names these in the
    /// verdict header. Omitted when empty.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unchecked: Vec<String>,
    /// The rules that need DNS and did not decide, grouped by why: offline (DNS checks
    /// off) all of them; online those whose answers did not come in time, failed, or
    /// were over the lookup bound. Such a rule is neither passed nor failed. Omitted when
    /// empty.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub not_checked: Vec<NotChecked>,
    /// The distinct registrable domains (IP addresses as written) of the message's http
    /// and https links, sorted: what domain blocklists are asked about. Omitted when empty.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub link_domains: Vec<String>,
    /// Set when the input is not a mail message at all (empty, binary, or no header field
    /// at the start): why. The verdict and findings are still those of the bytes as given,
    /// but the CLI refuses such input (exit status 65) instead of reporting on it; see
    /// [the module documentation](self#input-that-is-not-mail). Omitted when `None`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub not_mail: Option<String>,
}

impl Report {
    /// Ids of the findings that count (non-zero score or reject), in report order.
    pub fn rule_ids(&self) -> Vec<&str> {
        self.findings.iter().map(|f| f.id.as_str()).collect()
    }
}
