//! Generated hostile messages: each kind repeats one costly construct (links, MIME parts,
//! header fields, nesting, long lines, attachments, archive members, repeated phrases)
//! until the message reaches a requested size, so a test can compare the cost at `n`
//! and `4n` bytes and a bench can print the worst case at the size limit.
//!
//! Shared by `tests/it/hostile.rs` (as `support::hostile`) and `benches/hostile.rs`
//! (`#[path]`, so it uses nothing else of `support`); deterministic, no randomness beyond
//! a fixed xorshift seed.

#![allow(dead_code)]

use std::fmt::Write as _;

/// One kind of hostile message.
pub struct Kind {
    /// Short name, used in test messages and the bench table.
    pub name: &'static str,
    /// What the message repeats.
    pub about: &'static str,
    /// Builds a message of about `bytes` bytes (never much less, at most a few hundred
    /// bytes more).
    pub build: fn(usize) -> Vec<u8>,
}

/// Every kind, in the order the bench prints them.
pub fn kinds() -> &'static [Kind] {
    &[
        Kind {
            name: "links-shown-domain",
            about: "HTML links whose anchor text is a URL of another domain (URL011/URL012)",
            build: links_shown_domain,
        },
        Kind {
            name: "links-one-line",
            about: "the same links on one line",
            build: links_one_line,
        },
        Kind {
            name: "links-plain",
            about: "HTML links with ordinary anchor text",
            build: links_plain,
        },
        Kind {
            name: "links-javascript",
            about: "javascript: links, each a URL005 hit",
            build: links_javascript,
        },
        Kind {
            name: "links-tiny",
            about: "the shortest links and images there are (<a href=x>, <img src=y>)",
            build: links_tiny,
        },
        Kind {
            name: "text-urls",
            about: "URLs written in a text/plain part",
            build: text_urls,
        },
        Kind {
            name: "mime-parts",
            about: "tiny parts of one multipart, far past the 10,000-part cap",
            build: mime_parts,
        },
        Kind {
            name: "mime-nesting",
            about: "multiparts nested in multiparts",
            build: mime_nesting,
        },
        Kind {
            name: "rfc822-nesting",
            about: "message/rfc822 parts nested in each other",
            build: rfc822_nesting,
        },
        Kind {
            name: "alternatives-many",
            about: "multipart/alternative parts whose text and HTML link to different sites",
            build: alternatives_many,
        },
        Kind {
            name: "attachments-many",
            about: "small attachments with dangerous double extensions",
            build: attachments_many,
        },
        Kind {
            name: "parts-8bit",
            about: "parts with raw 8-bit text, no charset and no transfer encoding",
            build: parts_8bit,
        },
        Kind {
            name: "headers-many",
            about: "header fields",
            build: headers_many,
        },
        Kind {
            name: "headers-tiny",
            about: "the shortest header fields there are (a:)",
            build: headers_tiny,
        },
        Kind {
            name: "headers-8bit",
            about: "fields of distinct names with raw 8-bit bytes and glued encoded words",
            build: headers_8bit,
        },
        Kind {
            name: "headers-duplicate",
            about: "the single-use fields (Subject, From, Date, ...) over and over",
            build: headers_duplicate,
        },
        Kind {
            name: "recipients-encoded",
            about: "To addresses with encoded-word display names in one folded field",
            build: recipients_encoded,
        },
        Kind {
            name: "recipients-many",
            about: "addresses in one folded To field",
            build: recipients_many,
        },
        Kind {
            name: "subject-huge",
            about: "one folded Subject of encoded words and phrases",
            build: subject_huge,
        },
        Kind {
            name: "long-line",
            about: "one text/plain line of the whole size",
            build: long_line,
        },
        Kind {
            name: "empty-lines",
            about: "a body of empty lines",
            build: empty_lines,
        },
        Kind {
            name: "long-lines",
            about: "many 2,000-byte lines",
            build: long_lines,
        },
        Kind {
            name: "base64-attachment",
            about: "one huge base64 attachment",
            build: base64_attachment,
        },
        Kind {
            name: "base64-text",
            about: "one huge base64 text/plain part",
            build: base64_text,
        },
        Kind {
            name: "html-huge",
            about: "one HTML part of nested tags, hidden text, images and fonts",
            build: html_huge,
        },
        Kind {
            name: "zip-members",
            about: "a zip attachment with many tiny members",
            build: zip_members,
        },
        Kind {
            name: "phrases-repeated",
            about: "one spam phrase (\"ACT NOW\") repeated",
            build: phrases_repeated,
        },
        Kind {
            name: "merge-tags",
            about: "unfilled merge tags, each a CNT010 hit",
            build: merge_tags,
        },
        Kind {
            name: "obfuscated-words",
            about: "spaced-out and look-alike words (F R E E, v1agra) and CamelCase joins",
            build: obfuscated_words,
        },
    ]
}

/// The kind named `name`.
pub fn kind(name: &str) -> &'static Kind {
    kinds()
        .iter()
        .find(|k| k.name == name)
        .unwrap_or_else(|| panic!("no hostile kind {name}"))
}

const HEAD: &str = "From: Sender <news@sender.example.com>\nTo: reader@example.org\nSubject: hostile\nDate: Mon, 01 Jun 2026 10:00:00 +0000\nMessage-ID: <hostile@sender.example.com>\nMIME-Version: 1.0\n";

/// A message: `HEAD`, `headers`, a blank line, then `unit(i)` repeated until `bytes`,
/// then `tail`.
fn repeat(
    headers: &str,
    bytes: usize,
    tail: &str,
    unit: impl FnMut(usize, &mut String),
) -> Vec<u8> {
    let start = format!("{HEAD}{headers}\n");
    grow(&start, bytes.saturating_sub(tail.len()), tail, unit)
}

/// `start`, then `unit(0)`, `unit(1)`, ... while the text is shorter than `bytes`, then
/// `tail`.
fn grow(
    start: &str,
    bytes: usize,
    tail: &str,
    mut unit: impl FnMut(usize, &mut String),
) -> Vec<u8> {
    let mut s = String::with_capacity(bytes + tail.len() + 1024);
    s.push_str(start);
    let mut i = 0;
    while s.len() < bytes {
        unit(i, &mut s);
        i += 1;
    }
    s.push_str(tail);
    s.into_bytes()
}

fn html(bytes: usize, mut link: impl FnMut(usize, &mut String), newline: bool) -> Vec<u8> {
    repeat(
        "Content-Type: text/html; charset=utf-8\n",
        bytes,
        "\n</body></html>\n",
        |i, s| {
            if i == 0 {
                s.push_str("<html><body>\n");
            }
            link(i, s);
            if newline {
                s.push('\n');
            }
        },
    )
}

fn links_shown_domain(bytes: usize) -> Vec<u8> {
    html(
        bytes,
        |i, s| {
            let _ = write!(
                s,
                "<a href=\"http://login{i}.attacker.net/x\">https://www.bank{i}.com/</a>"
            );
        },
        true,
    )
}

fn links_one_line(bytes: usize) -> Vec<u8> {
    html(
        bytes,
        |i, s| {
            let _ = write!(
                s,
                "<a href=\"http://login{i}.attacker.net/x\">https://www.bank{i}.com/</a> "
            );
        },
        false,
    )
}

fn links_plain(bytes: usize) -> Vec<u8> {
    html(
        bytes,
        |i, s| {
            let _ = write!(
                s,
                "<a href=\"https://shop{i}.example.net/item\">Our offer number {i}</a>"
            );
        },
        true,
    )
}

fn links_tiny(bytes: usize) -> Vec<u8> {
    html(
        bytes,
        |i, s| {
            s.push_str(if i % 2 == 0 {
                "<a href=x>y</a>"
            } else {
                "<img src=y>"
            });
        },
        false,
    )
}

fn links_javascript(bytes: usize) -> Vec<u8> {
    html(
        bytes,
        |i, s| {
            let _ = write!(s, "<a href=\"javascript:go({i})\">item {i}</a>");
        },
        true,
    )
}

fn text_urls(bytes: usize) -> Vec<u8> {
    repeat("Content-Type: text/plain\n", bytes, "\n", |i, s| {
        if i % 2 == 0 {
            let _ = writeln!(
                s,
                "see https://www{i}.example{}.net/page?id={i} and http://10.0.{}.{}/x",
                i % 97,
                i % 250,
                i % 200
            );
        } else {
            s.push_str("http://a.bc http://d.ef http://g.hi http://j.kl\n");
        }
    })
}

fn mime_parts(bytes: usize) -> Vec<u8> {
    repeat(
        "Content-Type: multipart/mixed; boundary=\"b\"\n",
        bytes,
        "--b--\n",
        |i, s| {
            let _ = write!(s, "--b\nContent-Type: text/plain\n\npart {i}\n");
        },
    )
}

fn mime_nesting(bytes: usize) -> Vec<u8> {
    grow(HEAD, bytes, "\nthe end\n", |i, s| {
        let _ = write!(
            s,
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n"
        );
    })
}

fn rfc822_nesting(bytes: usize) -> Vec<u8> {
    grow(HEAD, bytes, "\nthe end\n", |i, s| {
        let _ = write!(
            s,
            "Content-Type: message/rfc822\n\nFrom: a{i}@example.com\nSubject: level {i}\n"
        );
    })
}

fn alternatives_many(bytes: usize) -> Vec<u8> {
    repeat(
        "Content-Type: multipart/mixed; boundary=\"m\"\n",
        bytes,
        "--m--\n",
        |i, s| {
            let _ = write!(
                s,
                "--m\nContent-Type: multipart/alternative; boundary=\"a{i}\"\n\n--a{i}\nContent-Type: text/plain\n\nSee https://www.plain{i}.example.com/ for the offer number {i} today\n--a{i}\nContent-Type: text/html\n\n<p>Something else entirely <a href=\"https://www.other{i}.example.net/\">here</a></p>\n--a{i}--\n"
            );
        },
    )
}

fn attachments_many(bytes: usize) -> Vec<u8> {
    repeat(
        "Content-Type: multipart/mixed; boundary=\"b\"\n",
        bytes,
        "--b--\n",
        |i, s| {
            let _ = write!(
                s,
                "--b\nContent-Type: application/octet-stream; name=\"invoice{i}.pdf.exe\"\nContent-Disposition: attachment; filename=\"invoice{i}.pdf.exe\"\nContent-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\n"
            );
        },
    )
}

fn parts_8bit(bytes: usize) -> Vec<u8> {
    repeat(
        "Content-Type: multipart/mixed; boundary=\"b\"\n",
        bytes,
        "--b--\n",
        |i, s| {
            let _ = write!(
                s,
                "--b\nContent-Type: text/plain\n\ncaf\u{e9} cr\u{e8}me {i}\n"
            );
        },
    )
}

fn headers_tiny(bytes: usize) -> Vec<u8> {
    grow(
        HEAD,
        bytes,
        "Content-Type: text/plain\n\nhello\n",
        |_, s| {
            s.push_str("a:\n");
        },
    )
}

fn headers_8bit(bytes: usize) -> Vec<u8> {
    grow(
        HEAD,
        bytes,
        "Content-Type: text/plain\n\nhello\n",
        |i, s| {
            let _ = writeln!(
                s,
                "X-Caf\u{e9}-{i}: cr\u{e8}me br\u{fb}l\u{e9}e x=?utf-8?q?glued?=y"
            );
        },
    )
}

fn headers_duplicate(bytes: usize) -> Vec<u8> {
    grow(
        HEAD,
        bytes,
        "Content-Type: text/plain\n\nhello\n",
        |i, s| {
            let _ = write!(
                s,
                "Subject: again {i}\nFrom: Other <o{i}@example.net>\nDate: Tue, 02 Jun 2026 10:00:00 +0000\nMessage-ID: <{i}@example.net>\nTo: r{i}@example.org\n"
            );
        },
    )
}

fn recipients_encoded(bytes: usize) -> Vec<u8> {
    grow(
        "From: Sender <news@sender.example.com>\nSubject: hostile\nTo: a@example.org",
        bytes,
        "\nContent-Type: text/plain\n\nhello\n",
        |i, s| {
            let _ = write!(
                s,
                ",\n =?utf-8?q?Reader_{i}?= \"x\" <reader{i}@example{}.org>",
                i % 50
            );
        },
    )
}

fn headers_many(bytes: usize) -> Vec<u8> {
    grow(
        HEAD,
        bytes,
        "Content-Type: text/plain\n\nhello\n",
        |i, s| {
            let _ = writeln!(s, "X-Header-{}: value {i} =?utf-8?q?caf=C3=A9?=", i % 1000);
        },
    )
}

fn recipients_many(bytes: usize) -> Vec<u8> {
    grow(
        "From: Sender <news@sender.example.com>\nSubject: hostile\nTo: a@example.org",
        bytes,
        "\nContent-Type: text/plain\n\nhello\n",
        |i, s| {
            let _ = write!(s, ",\n \"Reader {i}\" <reader{i}@example{}.org>", i % 50);
        },
    )
}

fn subject_huge(bytes: usize) -> Vec<u8> {
    grow(
        "From: Sender <news@sender.example.com>\nTo: reader@example.org\nSubject: ACT NOW",
        bytes,
        "\nContent-Type: text/plain\n\nhello\n",
        |i, s| {
            if i % 2 == 0 {
                s.push_str("\n =?utf-8?q?FREE_caf=C3=A9_money!!!?=");
            } else {
                let _ = write!(s, "\n ACT NOW http://x{i}.example.com/ $$$ {i}");
            }
        },
    )
}

fn long_line(bytes: usize) -> Vec<u8> {
    repeat("Content-Type: text/plain\n", bytes, "\n", |i, s| {
        let _ = write!(s, "word{} ", i % 1000);
    })
}

fn empty_lines(bytes: usize) -> Vec<u8> {
    repeat("Content-Type: text/plain\n", bytes, "end\n", |_, s| {
        s.push('\n')
    })
}

fn long_lines(bytes: usize) -> Vec<u8> {
    repeat("Content-Type: text/plain\n", bytes, "\n", |i, s| {
        let start = s.len();
        while s.len() - start < 2000 {
            let _ = write!(s, "word{} ", i % 1000);
        }
        s.push('\n');
    })
}

/// Fixed pseudo-random bytes (xorshift64*), which neither compress nor sniff as a format.
fn noise(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        v.extend(x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    v.truncate(n);
    v
}

/// Standard base64 with padding (RFC 4648 §4), for building test messages.
fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= c.len() {
                T[(n >> (18 - 6 * i)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    out
}

/// Base64 in 76-column lines.
fn base64_lines(data: &[u8]) -> String {
    let b = base64(data);
    let mut s = String::with_capacity(b.len() + b.len() / 76 + 1);
    for chunk in b.as_bytes().chunks(76) {
        s.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        s.push('\n');
    }
    s
}

/// Bytes of data whose base64 lines take about `bytes`.
fn data_for(bytes: usize) -> usize {
    bytes / 4 * 3 / 77 * 76
}

fn attachment(headers: &str, data: &[u8]) -> Vec<u8> {
    let mut s = String::with_capacity(data.len() * 4 / 3 + 1024);
    s.push_str(HEAD);
    s.push_str("Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nSee the file.\n--b\n");
    s.push_str(headers);
    s.push_str("Content-Transfer-Encoding: base64\n\n");
    s.push_str(&base64_lines(data));
    s.push_str("--b--\n");
    s.into_bytes()
}

fn base64_attachment(bytes: usize) -> Vec<u8> {
    attachment(
        "Content-Type: application/octet-stream; name=\"data.bin\"\nContent-Disposition: attachment; filename=\"data.bin\"\n",
        &noise(data_for(bytes)),
    )
}

fn base64_text(bytes: usize) -> Vec<u8> {
    let mut text = String::with_capacity(bytes);
    let mut i = 0;
    while text.len() < data_for(bytes) {
        let _ = write!(text, "Hello reader {i}, ACT NOW http://w{i}.example.com/ ");
        if i % 10 == 9 {
            text.push('\n');
        }
        i += 1;
    }
    attachment("Content-Type: text/plain; charset=utf-8\n", text.as_bytes())
}

fn html_huge(bytes: usize) -> Vec<u8> {
    html(
        bytes,
        |i, s| {
            let _ = write!(
                s,
                "<div><table><tr><td style=\"display:none\">hidden {i} viagra</td><td><font size=7 color=red>FREE</font><img src=\"https://img.example.com/{i}.png\" width=1 height=1><span>wo<!-- -->rd</span>"
            );
        },
        true,
    )
}

/// A zip of stored members named `f{i}.txt` with a few bytes each (CRCs left zero:
/// preflight does not check them).
fn zip(members: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for i in 0..members {
        let name = format!("dir{}/f{i}.txt", i % 10);
        let data = b"hello";
        let offset = out.len() as u32;
        out.extend(b"PK\x03\x04\x14\0\0\0\0\0");
        out.extend([0u8; 8]);
        out.extend((data.len() as u32).to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out.extend((name.len() as u16).to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(name.as_bytes());
        out.extend(data);
        central.extend(b"PK\x01\x02\x14\0\x14\0\0\0\0\0");
        central.extend([0u8; 8]);
        central.extend((data.len() as u32).to_le_bytes());
        central.extend((data.len() as u32).to_le_bytes());
        central.extend((name.len() as u16).to_le_bytes());
        central.extend([0u8; 12]);
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let cd = out.len() as u32;
    let n16 = members.min(0xFFFF) as u16;
    out.extend(&central);
    out.extend(b"PK\x05\x06\0\0\0\0");
    out.extend(n16.to_le_bytes());
    out.extend(n16.to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn zip_members(bytes: usize) -> Vec<u8> {
    // About 115 bytes of zip a member, a third more in base64 lines.
    attachment(
        "Content-Type: application/zip; name=\"files.zip\"\nContent-Disposition: attachment; filename=\"files.zip\"\n",
        &zip((bytes / 155).max(1)),
    )
}

fn phrases_repeated(bytes: usize) -> Vec<u8> {
    repeat("Content-Type: text/plain\n", bytes, "\n", |i, s| {
        let _ = writeln!(s, "ACT NOW and get it free, act now! {i}");
    })
}

fn merge_tags(bytes: usize) -> Vec<u8> {
    repeat("Content-Type: text/plain\n", bytes, "\n", |i, s| {
        let _ = writeln!(
            s,
            "Dear {{{{first_name}}}}, your code is [CODE{i}] %%NAME%%"
        );
    })
}

fn obfuscated_words(bytes: usize) -> Vec<u8> {
    repeat("Content-Type: text/plain\n", bytes, "\n", |i, s| {
        let _ = writeln!(
            s,
            "Get F R E E v1agra NoPrescription V.I.A.G.R.A ca$h n0w {i} BuyNowCheap"
        );
    })
}
