//! Reading mbox files one message at a time.
//!
//! A message starts at a `From ` line at the start of the file or after a blank line; the
//! `From ` line itself (the envelope line) is not part of the message, nor is the blank
//! line that separates it from the next one. Lines quoted as `>From ` (mboxrd and mboxo)
//! lose one `>`. Text before the first `From ` line is not a message and is left out.

use std::io::{self, BufRead};

/// Iterates over the messages of an mbox, reading line by line: only one message is held
/// at a time. A read error ends the iteration; [`MboxReader::error`] then returns it.
pub struct MboxReader<R> {
    input: R,
    line: Vec<u8>,
    /// The message being read (none before the first `From ` line).
    current: Option<Vec<u8>>,
    prev_blank: bool,
    at_start: bool,
    done: bool,
    error: Option<io::Error>,
}

impl<R: BufRead> MboxReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        MboxReader {
            input,
            line: Vec::with_capacity(1024),
            current: None,
            prev_blank: false,
            at_start: true,
            done: false,
            error: None,
        }
    }

    /// The read error that ended the iteration, if any.
    pub fn error(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }
}

fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

/// Drops the blank line that separates a message from the next `From ` line.
fn strip_separator(mut m: Vec<u8>) -> Vec<u8> {
    if m.ends_with(b"\r\n\r\n") {
        m.truncate(m.len() - 2);
    } else if m.ends_with(b"\n\n") {
        m.truncate(m.len() - 1);
    }
    m
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        if self.done {
            return None;
        }
        loop {
            self.line.clear();
            match self.input.read_until(b'\n', &mut self.line) {
                Ok(0) => {
                    self.done = true;
                    return self.current.take().map(strip_separator);
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    self.error = Some(e);
                    return None;
                }
            }
            let separator = self.line.starts_with(b"From ") && (self.at_start || self.prev_blank);
            self.at_start = false;
            self.prev_blank = is_blank(&self.line);
            if separator {
                let finished = self.current.replace(Vec::new());
                if let Some(m) = finished {
                    return Some(strip_separator(m));
                }
                continue;
            }
            let Some(current) = self.current.as_mut() else {
                continue;
            };
            let quoted = self.line.iter().take_while(|&&b| b == b'>').count();
            if quoted > 0 && self.line[quoted..].starts_with(b"From ") {
                current.extend_from_slice(&self.line[1..]);
            } else {
                current.extend_from_slice(&self.line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        MboxReader::new(s.as_bytes())
            .map(|m| String::from_utf8(m).unwrap())
            .collect()
    }

    #[test]
    fn splits_on_from_lines_after_blank_lines() {
        let mbox = "From a@x Mon Nov 23 10:00:00 2026\nSubject: one\n\nbody\nFrom here on, not a separator\n>From quoted\n>>From twice\n\nFrom b@x Mon Nov 23 10:00:01 2026\r\nSubject: two\r\n\r\nbody two\r\n\r\nFrom c@x Mon Nov 23 10:00:02 2026\nSubject: three\n\nlast\n";
        assert_eq!(
            split(mbox),
            [
                "Subject: one\n\nbody\nFrom here on, not a separator\nFrom quoted\n>From twice\n",
                "Subject: two\r\n\r\nbody two\r\n",
                "Subject: three\n\nlast\n",
            ]
        );
    }

    /// mboxrd round trip on generated messages: quote `>*From ` lines, join with From_
    /// lines and blank separators, split again, get the messages back byte for byte.
    #[test]
    fn mboxrd_round_trip_on_generated_messages() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let pieces = [
            "From here",
            ">From there",
            ">>From x",
            "",
            "Subject: s",
            "body",
            "From",
            " From ",
            "FROM caps",
            "From: a@b",
        ];
        for round in 0..200 {
            let eol = if round % 3 == 0 { "\r\n" } else { "\n" };
            let count = 1 + next(5) as usize;
            let messages: Vec<String> = (0..count)
                .map(|_| {
                    let mut m = format!("Subject: m{round}{eol}{eol}");
                    for _ in 0..next(8) {
                        m.push_str(pieces[next(pieces.len() as u64) as usize]);
                        m.push_str(eol);
                    }
                    m
                })
                .collect();
            let mut mbox = String::new();
            for m in &messages {
                mbox.push_str("From sender@example.com Mon Nov 23 10:00:00 2026");
                mbox.push_str(eol);
                for line in m.split_inclusive('\n') {
                    let q = line.trim_start_matches('>');
                    if q.starts_with("From ") {
                        mbox.push('>');
                    }
                    mbox.push_str(line);
                }
                mbox.push_str(eol);
            }
            assert_eq!(split(&mbox), messages, "round {round}:\n{mbox}");
        }
    }

    #[test]
    fn text_before_the_first_from_line_is_not_a_message() {
        assert!(split("no mbox here\n\nat all\n").is_empty());
        assert_eq!(split("junk\n\nFrom a@x date\nA: b\n\nc\n"), ["A: b\n\nc\n"]);
        assert_eq!(split(""), Vec::<String>::new());
    }
}
