//! The `content` family's code rules: template mistakes and formatting that phrase lists
//! cannot express (capital-letter ratios, punctuation runs, fake reply prefixes, letters
//! spaced out to dodge filters).
//!
//! Everything works on the decoded texts of [`crate::message::DecodedText`]: the Subject
//! and each inline text part (HTML reduced to the text it shows), so evidence points at
//! what the reader sees.
//!
//! One file per topic, each with its rules' code and tests: `merge_tags` (CNT010),
//! `subject` (the Subject's own rules), `names` (CNT055), `link_only` (CNT056), `hidden`
//! (CNT029) and `formatting` (the body's CNT022, CNT026, CNT027). This file holds the
//! check, which runs them in turn, and what several topics share.

mod formatting;
mod hidden;
mod link_only;
mod merge_tags;
mod names;
mod subject;

use std::sync::LazyLock;

use regex::Regex;

use super::{Check, Ctx};
use crate::message::Message;
use crate::message::text::{TextKind, TextPart};
use crate::report::{Evidence, Frame, Snippet, Span};

/// Content checks.
pub(crate) struct ContentCheck;

/// Runs of three or more `!`, `?` or `$`.
static PUNCT_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"!{3,}|\?{3,}|\${3,}|(?:[!?]\s*){4,}").expect("valid regex"));

fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Evidence for `[start, end)` of a decoded text (offsets are floored to char boundaries),
/// with the line around it as the snippet.
pub(super) fn evidence(tp: &TextPart, start: usize, end: usize) -> Evidence {
    let start = floor(&tp.decoded, start);
    let end = floor(&tp.decoded, end).max(start);
    let (frame, part) = match tp.kind {
        TextKind::Subject => (Frame::Subject, None),
        _ => (Frame::Decoded, Some(tp.evidence_part())),
    };
    Evidence {
        frame,
        part,
        span: Span { start, end },
        line: Some(tp.line_of(start)),
        snippet: Snippet::around(&tp.decoded, start, crate::message::SNIPPET_MAX),
    }
}

/// Share of upper-case letters among the letters of `s`, and how many letters there are.
fn capitals(s: &str) -> (f64, usize) {
    let (mut up, mut letters) = (0usize, 0usize);
    if s.is_ascii() {
        // Branch-free, in blocks of 255 bytes whose counts fit a byte: the compiler turns
        // it into vector code.
        for block in s.as_bytes().chunks(255) {
            let (mut u, mut l) = (0u8, 0u8);
            for &b in block {
                let upper = b.is_ascii_uppercase();
                u += u8::from(upper);
                l += u8::from(upper | b.is_ascii_lowercase());
            }
            up += usize::from(u);
            letters += usize::from(l);
        }
        return if letters == 0 {
            (0.0, 0)
        } else {
            (up as f64 / letters as f64, letters)
        };
    }
    for c in s.chars() {
        // Mostly-ASCII text with a few accents: the Unicode tables only for the rest.
        let (letter, upper) = if c.is_ascii() {
            (c.is_ascii_alphabetic(), c.is_ascii_uppercase())
        } else {
            (c.is_alphabetic(), c.is_uppercase())
        };
        letters += usize::from(letter);
        up += usize::from(letter && upper);
    }
    if letters == 0 {
        (0.0, 0)
    } else {
        (up as f64 / letters as f64, letters)
    }
}

/// Body texts to look at: the plain parts when there are any (an HTML alternative usually
/// says the same, and counting both would count every run twice), else the HTML parts.
fn body_parts<'m>(msg: &'m Message<'_>) -> impl Iterator<Item = &'m TextPart> {
    let has_plain = msg.text.parts.iter().any(|t| t.kind == TextKind::Plain);
    msg.text
        .parts
        .iter()
        .filter(move |t| !has_plain || t.kind == TextKind::Plain)
}

impl Check for ContentCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[
            "CNT010", "CNT020", "CNT021", "CNT022", "CNT023", "CNT024", "CNT025", "CNT026",
            "CNT027", "CNT028", "CNT029", "CNT045", "CNT055", "CNT056", "CNT076",
        ]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        merge_tags::merge_tags(msg, cx);
        subject::subject_rules(msg, cx);
        names::decorated_names(msg, cx);
        link_only::links_only(msg, cx);
        hidden::hidden_references(msg, cx);
        formatting::body_formatting(msg, cx);
    }
}

/// What the topics' tests share: the ids of this check's rules that fire on a message,
/// and a plain message with a Subject and a body.
#[cfg(test)]
mod tests {
    use crate::config::Config;

    pub(super) fn ids(raw: &str) -> Vec<String> {
        use super::super::Check;
        let mut v = super::super::fired("content", Config::default(), raw.as_bytes());
        // Only this module's rules: the phrase rules have their own tests.
        v.retain(|i| super::ContentCheck.ids().contains(&i.as_str()));
        v.sort();
        v
    }

    pub(super) fn msg(subject: &str, body: &str) -> String {
        format!(
            "From: a@example.com\nSubject: {subject}\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
        )
    }
}
