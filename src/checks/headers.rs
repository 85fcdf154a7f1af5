//! The `headers` family: header validity (RFC 5322 §3.6, RFC 2045, RFC 2047).

use std::sync::LazyLock;

use regex::Regex;

use super::{Check, Ctx};
use crate::message::address::{is_fqdn, msg_id_rhs, valid_mailbox};
use crate::message::{HeaderField, Message};
use crate::report::Evidence;
use crate::rules::lists::{owner_label, word_runs};

/// Required, unique and well-formed header fields.
pub(crate) struct HeadersCheck;

/// Fields that may appear at most once (RFC 5322 §3.6 table) and whose repetition Gmail
/// is seen to refuse ("There are multiple To headers", "duplicate CC headers", ...):
/// HDR004, a hard reject.
const SINGLE_REFUSED: &[&str] = &[
    "From",
    "Date",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Message-ID",
    "Subject",
];

/// The other fields of the RFC 5322 §3.6 table that may appear only once: In-Reply-To and
/// References (git-send-email writes them twice, and such mail goes through Gmail's own
/// submission servers every day) and Bcc (submission servers remove it before relaying).
/// HDR031, scored.
const SINGLE_SCORED: &[&str] = &["Bcc", "In-Reply-To", "References"];

static ENCODED_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=").expect("valid regex"));
static EMAIL_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
        .expect("valid regex")
});

/// Undoes the look-alike spellings of brand names in display names: a capital `I` after a
/// lower-case letter ("WaImart", "PaypaI") and the digits `1` and `0` between letters
/// ("Rep1ica", "Micr0soft") become `l` and `o`, as does a `0` ending a word ("C0STC0").
fn undo_lookalike_letters(name: &str) -> String {
    let c: Vec<char> = name.chars().collect();
    let letter = |i: Option<usize>| i.and_then(|i| c.get(i)).is_some_and(|c| c.is_alphabetic());
    c.iter()
        .enumerate()
        .map(|(i, &ch)| {
            let prev_lower = i > 0 && c[i - 1].is_lowercase();
            let between = letter(i.checked_sub(1)) && letter(Some(i + 1));
            // A word-final 0 after two letters ("C0STC0").
            let word_end = letter(i.checked_sub(1))
                && letter(i.checked_sub(2))
                && !c.get(i + 1).is_some_and(|c| c.is_alphanumeric());
            match ch {
                'I' if prev_lower => 'l',
                // "BIueCross", "CIub": a capital I between a capital and a lower-case letter.
                'I' if i > 0
                    && c[i - 1].is_uppercase()
                    && c.get(i + 1).is_some_and(|n| n.is_lowercase()) =>
                {
                    'l'
                }
                '1' if between => 'l',
                '0' if between || word_end => 'o',
                _ => ch,
            }
        })
        .collect()
}

/// Whether a local part is a run of glued-together capitalised words
/// (`SignalDreamerTwilightHalcyonNexus`) or one very long unbroken word: what bulk tools
/// generate for throwaway senders. Role names (`newsletter`, `no-reply`) and people's names
/// (`ann.smith`, `j_doe`) are short or separated.
fn random_words_local_part(local: &str) -> bool {
    if !local.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let humps = local
        .as_bytes()
        .windows(2)
        .filter(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
        .count();
    (local.len() >= 24 && humps >= 3)
        || (local.len() >= 32 && local.chars().all(|c| c.is_ascii_alphabetic()))
}

/// Whether a Message-ID has the form Outlook and Outlook Express write:
/// `<` 12 hex digits `$` 8 hex digits `$` 8 hex digits `@`.
fn outlook_message_id(v: &str) -> bool {
    let Some(inner) = v.trim().strip_prefix('<') else {
        return false;
    };
    let Some((left, _)) = inner.split_once('@') else {
        return false;
    };
    let parts: Vec<&str> = left.split('$').collect();
    parts.len() == 3
        && [12, 8, 8]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The numeric zone of a Date value when no place on Earth uses it: hours beyond 14 or
/// minutes that are not a quarter hour (`+4500`, `-0817`), a mark of hand-rolled dates.
fn impossible_zone(value: &str) -> Option<&str> {
    let v = value.split('(').next().unwrap_or(value).trim_end();
    let z = v.rsplit(char::is_whitespace).next()?;
    let b = z.as_bytes();
    if b.len() != 5 || !(b[0] == b'+' || b[0] == b'-') || !b[1..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let h: u32 = z[1..3].parse().ok()?;
    let m: u32 = z[3..5].parse().ok()?;
    (h > 14 || (h == 14 && m > 0) || !matches!(m, 0 | 15 | 30 | 45)).then_some(z)
}

/// The date of the newest Received header (the message was in transit then).
fn newest_received(msg: &Message<'_>) -> Option<i64> {
    msg.headers_named("Received")
        .filter_map(|h| {
            // Only the date after the last `;` is read; no need to unfold the whole trace.
            let v = h.raw_value(msg.raw);
            let at = memchr::memrchr(b';', v)?;
            crate::message::date::parse(&crate::message::raw::unfold(&v[at + 1..])).ok()
        })
        .max()
}

fn ev(msg: &Message<'_>, h: &HeaderField) -> Vec<Evidence> {
    vec![msg.header_evidence(h)]
}

/// Reports under `id` every field of `names` that appears more than once.
fn duplicates(msg: &Message<'_>, cx: &mut Ctx<'_>, id: &'static str, names: &[&str]) {
    let mut dups = Vec::new();
    let mut evidence = Vec::new();
    let cap = cx.kept_per_rule();
    for name in names {
        let found: Vec<&HeaderField> = msg.headers_named(name).collect();
        if found.len() > 1 {
            // The first few lines and evidence: a field repeated 100,000 times is said in
            // one line.
            let lines: Vec<String> = found.iter().take(5).map(|h| h.line.to_string()).collect();
            let more = if found.len() > 5 { ", ..." } else { "" };
            dups.push(format!(
                "{name} appears {} times (lines {}{more})",
                found.len(),
                lines.join(", ")
            ));
            evidence.extend(
                found
                    .iter()
                    .skip(1)
                    .take(cap.saturating_sub(evidence.len()))
                    .map(|h| msg.header_evidence(h)),
            );
        }
    }
    if !dups.is_empty() {
        cx.hit(id, dups.join("; "), evidence);
    }
}

impl HeadersCheck {
    fn presence_and_duplicates(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        if msg.header("From").is_none() {
            cx.hit("HDR001", "The message has no From header", vec![]);
        }
        if msg.header("Date").is_none() {
            cx.hit("HDR002", "The message has no Date header", vec![]);
        }
        if msg.header("Message-ID").is_none() {
            cx.hit("HDR003", "The message has no Message-ID header", vec![]);
        }
        for (id, names) in [("HDR004", SINGLE_REFUSED), ("HDR031", SINGLE_SCORED)] {
            if cx.on(id) {
                duplicates(msg, cx, id, names);
            }
        }
    }

    /// From: presence of an address, several authors, the display name, and the
    /// poster's address (left alone on list traffic, `list`: the list sends it).
    fn check_from_fields(&self, msg: &Message<'_>, cx: &mut Ctx<'_>, list: bool) {
        let Some(from_h) = msg.header("From") else {
            return;
        };
        let boxes: Vec<(Option<&str>, Option<&str>)> = msg
            .from_mailboxes()
            .iter()
            .map(|m| (m.name.as_deref(), m.address.as_deref()))
            .collect();
        let raw_value = from_h.unfolded(msg.raw);
        let valid: Vec<&str> = boxes
            .iter()
            .filter_map(|(_, a)| *a)
            .filter(|a| valid_mailbox(a))
            .collect();
        if raw_value.is_empty()
            || valid.is_empty()
            || boxes
                .iter()
                .any(|(_, a)| a.is_none_or(|a| !valid_mailbox(a)))
        {
            let what = if raw_value.is_empty() {
                "From is empty".to_string()
            } else {
                format!(
                    "From \u{201c}{}\u{201d} has no valid address (local@domain.tld)",
                    crate::util::truncate_str(&raw_value, 100)
                )
            };
            cx.hit("HDR005", what, ev(msg, from_h));
        }
        if boxes.len() > 1 && msg.header("Sender").is_none() {
            cx.hit(
                "HDR006",
                format!(
                    "From lists {} mailboxes and there is no Sender header",
                    boxes.len()
                ),
                ev(msg, from_h),
            );
        }
        // Sender addresses made of random concatenated words (throwaway sending domains).
        if let Some(addr) = valid.first()
            && let Some(local) = addr.rsplit_once('@').map(|(l, _)| l)
            && random_words_local_part(local)
        {
            cx.hit(
                "HDR020",
                format!("The From address \u{201c}{addr}\u{201d} is built from random concatenated words"),
                ev(msg, from_h),
            );
        }
        // A brand in the display name, sent from a domain the brand does not own.
        if let Some((Some(name), Some(addr))) = boxes.first()
            && let Some((_, domain)) = addr.rsplit_once('@')
        {
            // A name that also names the sending domain's owner is co-branded mail from
            // that owner ("Amazon Benefits at Fidelity" from mail.fidelity.com).
            let owner = owner_label(domain).to_lowercase();
            let names_sender = owner.len() >= 3
                && [name.to_string(), undo_lookalike_letters(name)]
                    .iter()
                    .any(|n| word_runs(n, |r| r == owner));
            // A display name that is an address is HDR012's case.
            if !names_sender
                && !EMAIL_IN_TEXT.is_match(name)
                && let Some(b) = [name.to_string(), undo_lookalike_letters(name)]
                    .iter()
                    .find_map(|n| cx.lists.brand_named(n, |b| !b.owns(domain)))
                // A platform that sends for the brand (reviews, surveys, tickets) links
                // to the brand's own site; a disguise links elsewhere.
                && !msg
                    .links()
                    .iter()
                    .filter_map(|l| l.host.as_deref())
                    .any(|h| b.owns(h))
            {
                cx.hit(
                    "HDR024",
                    format!(
                        "The From display name \u{201c}{}\u{201d} names {} but the address is at {domain}, which is not one of its domains ({})",
                        crate::util::truncate_str(name, 80),
                        b.key,
                        b.domains.join(", ")
                    ),
                    ev(msg, from_h),
                );
            }
        }
        if let Some(addr) = valid.first()
            && let Some((local, domain)) = addr.rsplit_once('@')
            && !list
        {
            if cx.lists.is_freemail(domain) && local.bytes().filter(u8::is_ascii_digit).count() >= 3
            {
                cx.hit(
                    "HDR029",
                    format!("The From address {addr} is a numbered free-mail account"),
                    ev(msg, from_h),
                );
            }
            if let Some(tld) = cx.lists.abused_tld(domain) {
                cx.hit(
                    "HDR025",
                    format!("The From address {addr} is under .{tld}, a top-level domain dominated by throwaway spam registrations"),
                    ev(msg, from_h),
                );
            }
        }
        // Display names that show another address.
        for (name, addr) in &boxes {
            let (Some(name), Some(addr)) = (name, addr) else {
                continue;
            };
            if let Some(m) = EMAIL_IN_TEXT.find(name)
                && !m.as_str().eq_ignore_ascii_case(addr)
            {
                cx.hit(
                    "HDR012",
                    format!(
                        "The From display name shows \u{201c}{}\u{201d} but the address is {addr}",
                        m.as_str()
                    ),
                    ev(msg, from_h),
                );
                break;
            }
        }
    }

    fn date(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let Some(h) = msg.header("Date") else { return };
        let v = h.unfolded(msg.raw);
        match crate::message::date::parse(&v) {
            Err(why) => cx.hit(
                "HDR007",
                format!(
                    "Date \u{201c}{}\u{201d} is not an RFC 5322 date: {why}",
                    crate::util::truncate_str(&v, 80)
                ),
                ev(msg, h),
            ),
            Ok(t) => {
                if let Some(z) = impossible_zone(&v) {
                    cx.hit(
                        "HDR026",
                        format!("The Date's time zone {z} is not one any place uses (real offsets run from -1200 to +1400, in quarter hours)"),
                        ev(msg, h),
                    );
                }
                let (reference, what) = match newest_received(msg) {
                    Some(r) => (r, "its newest Received header"),
                    None => (cx.now, "now"),
                };
                let l = &cx.config.limits;
                let ahead = t - reference;
                let behind = reference - t;
                if ahead > l.date_future_hours * 3600 {
                    cx.hit(
                        "HDR008",
                        format!("Date is {} hours ahead of {what}", ahead / 3600),
                        ev(msg, h),
                    );
                } else if behind > l.date_past_days * 86_400 {
                    cx.hit(
                        "HDR009",
                        format!("Date is {} days before {what}", behind / 86_400),
                        ev(msg, h),
                    );
                }
            }
        }
    }

    /// Headers that bulk-mail software writes and real mail programs do not.
    fn mailer_marks(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        if let Some(h) = msg.header("X-Priority") {
            let v = h.unfolded(msg.raw);
            if v.trim_start().starts_with(['1', '2']) {
                cx.hit(
                    "HDR027",
                    format!(
                        "X-Priority is \u{201c}{}\u{201d}: the message is marked urgent",
                        crate::util::truncate_str(v.trim(), 40)
                    ),
                    ev(msg, h),
                );
            }
        }
        // Outlook's Message-ID form (`<12 hex$8 hex$8 hex@host>`) with none of the headers
        // Outlook writes: copied by a bulk tool.
        let x_mailer = msg.header("X-Mailer");
        let mailer = x_mailer.map(|h| h.unfolded(msg.raw)).unwrap_or_default();
        if let Some(h) = msg.header("Message-ID")
            && outlook_message_id(&h.unfolded(msg.raw))
            && !mailer.contains("Outlook")
            && !mailer.contains("Microsoft")
            && msg.header("X-MimeOLE").is_none()
        {
            cx.hit(
                "HDR028",
                "The Message-ID has Outlook's form but the message has none of the headers Outlook writes (X-Mailer, X-MimeOLE)".to_string(),
                ev(msg, h),
            );
            return;
        }
        if let Some(h) = x_mailer {
            let v = &mailer;
            // Outlook Express and Outlook 2002/2003 on Windows always write X-MimeOLE.
            let claims = (v.contains("Microsoft Outlook Express")
                || v.contains("Microsoft Outlook, Build")
                || v.contains("Microsoft Office Outlook, Build")
                || v.contains("Microsoft Outlook IMO"))
                && !v.contains("Macintosh");
            if claims && msg.header("X-MimeOLE").is_none() {
                cx.hit(
                    "HDR028",
                    format!(
                        "X-Mailer claims \u{201c}{}\u{201d}, which always writes X-MimeOLE, but there is none",
                        crate::util::truncate_str(v.trim(), 60)
                    ),
                    ev(msg, h),
                );
            }
        }
    }

    fn message_id(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let Some(h) = msg.header("Message-ID") else {
            return;
        };
        let v = h.unfolded(msg.raw);
        match msg_id_rhs(&v) {
            None => cx.hit("HDR010", format!("Message-ID \u{201c}{}\u{201d} is not <left@right>", crate::util::truncate_str(&v, 100)), ev(msg, h)),
            Some(rhs) if !is_fqdn(rhs) => cx.hit("HDR011", format!("The Message-ID's right side \u{201c}{rhs}\u{201d} is not a fully qualified domain name"), ev(msg, h)),
            Some(_) => {}
        }
    }

    fn encoded_words(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        const FORBIDDEN: &[&str] = &[
            "Date",
            "Message-ID",
            "In-Reply-To",
            "References",
            "Content-Type",
            "Content-Transfer-Encoding",
            "Content-ID",
            "MIME-Version",
            "Received",
            "Return-Path",
        ];
        const ADDRESS: &[&str] = &["From", "To", "Cc", "Bcc", "Reply-To", "Sender"];
        if !cx.on("HDR013") {
            return;
        }
        // The fields with a problem (the first few) and how many there are.
        let mut found: Vec<(String, &HeaderField)> = Vec::new();
        let mut fields = 0;
        for h in msg.facts.headers() {
            let raw = h.raw_value(msg.raw);
            if memchr::memmem::find(raw, b"=?").is_none() {
                continue;
            }
            let v = String::from_utf8_lossy(raw);
            let name = h.name.as_str();
            // Quotes and angle brackets before the current word, counted as the words go
            // by (counting from the start for each word was quadratic in a long field).
            let (mut seen, mut quotes, mut in_angle) = (0, 0, false);
            for m in ENCODED_WORD.find_iter(&v) {
                let problem = if FORBIDDEN.iter().any(|f| f.eq_ignore_ascii_case(name)) {
                    Some(format!("in {name}, where RFC 2047 §5 allows none"))
                } else if ADDRESS.iter().any(|f| f.eq_ignore_ascii_case(name)) {
                    let before = &v[..m.start()];
                    for b in v.as_bytes()[seen..m.start()].iter() {
                        match b {
                            b'"' => quotes += 1,
                            b'<' => in_angle = true,
                            b'>' => in_angle = false,
                            _ => {}
                        }
                    }
                    seen = m.start();
                    let in_quotes = quotes % 2 == 1;
                    if in_quotes {
                        Some(format!("inside a quoted string in {name}"))
                    } else if in_angle || v[m.end()..].starts_with('@') || before.ends_with('@') {
                        Some(format!("inside the address in {name}"))
                    } else {
                        None
                    }
                } else {
                    let b = v[..m.start()].chars().next_back();
                    let a = v[m.end()..].chars().next();
                    (b.is_some_and(|c| c.is_alphanumeric()) || a.is_some_and(|c| c.is_alphanumeric())).then(|| format!("glued to other text in {name} (RFC 2047 §5 needs white space around it)"))
                };
                if let Some(p) = problem {
                    fields += 1;
                    if found.len() < 5 {
                        found.push((
                            format!(
                                "\u{201c}{}\u{201d} {p}",
                                crate::util::truncate_str(m.as_str(), 60)
                            ),
                            h,
                        ));
                    }
                    break;
                }
            }
        }
        if !found.is_empty() {
            let msgs: Vec<String> = found.iter().map(|(m, _)| m.clone()).collect();
            let more = match fields - found.len() {
                0 => String::new(),
                n => format!("; and {n} more field(s)"),
            };
            let evs = found
                .iter()
                .take(3)
                .map(|(_, h)| msg.header_evidence(h))
                .collect();
            cx.hit(
                "HDR013",
                format!("Encoded-word {}{more}", msgs.join("; ")),
                evs,
            );
        }
    }

    fn mime_version(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        if msg.header("MIME-Version").is_some() {
            return;
        }
        let mime: Vec<&HeaderField> = msg
            .facts
            .headers()
            .iter()
            .filter(|h| h.is("Content-Type") || h.is("Content-Transfer-Encoding"))
            .collect();
        if let Some(first) = mime.first() {
            let names: Vec<&str> = mime.iter().map(|h| h.name.as_str()).collect();
            cx.hit(
                "HDR014",
                format!("{} without MIME-Version: 1.0", names.join(" and ")),
                ev(msg, first),
            );
        }
    }

    fn subject(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        match msg.header("Subject") {
            None => cx.hit("HDR016", "The message has no Subject header", vec![]),
            Some(h) => {
                let decoded = msg
                    .text
                    .subject
                    .as_ref()
                    .map(|s| s.decoded.trim().to_string())
                    .unwrap_or_else(|| h.unfolded(msg.raw));
                if decoded
                    .chars()
                    .all(|c| c.is_whitespace() || crate::message::text::is_invisible(c))
                {
                    cx.hit("HDR015", "The Subject is empty", ev(msg, h));
                }
            }
        }
    }

    fn syntax(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let bad: Vec<&HeaderField> = msg
            .facts
            .headers()
            .iter()
            .filter(|h| h.malformed.is_some())
            .collect();
        if !bad.is_empty() {
            let names: Vec<String> = bad
                .iter()
                .take(5)
                .map(|h| {
                    format!(
                        "\u{201c}{}\u{201d} (line {}): {}",
                        h.name,
                        h.line,
                        h.malformed.unwrap_or("")
                    )
                })
                .collect();
            cx.hit(
                "HDR017",
                format!(
                    "{} malformed header field name(s): {}",
                    bad.len(),
                    names.join("; ")
                ),
                bad.iter().take(3).map(|h| msg.header_evidence(h)).collect(),
            );
        }
        let b = &msg.facts.header_block;
        if let Some(at) = b.stray_line
            && !msg.facts.headers().is_empty()
        {
            let end = msg.raw[at..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(msg.raw.len(), |p| at + p);
            cx.hit("HDR018", format!("Line {} is not a header field and no empty line separates the header from the body", msg.line_of(at)), vec![msg.raw_evidence(at, end)]);
        }
        if let Some(at) = b.orphan_continuation {
            let end = msg.raw[at..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(msg.raw.len(), |p| at + p);
            cx.hit("HDR019", format!("Line {} starts with white space but there is no header field before it to continue", msg.line_of(at)), vec![msg.raw_evidence(at, end)]);
        }
    }
}

impl Check for HeadersCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[
            "HDR001", "HDR002", "HDR003", "HDR004", "HDR005", "HDR006", "HDR007", "HDR008",
            "HDR009", "HDR010", "HDR011", "HDR012", "HDR013", "HDR014", "HDR015", "HDR016",
            "HDR017", "HDR018", "HDR019", "HDR020", "HDR021", "HDR022", "HDR023", "HDR024",
            "HDR025", "HDR026", "HDR027", "HDR028", "HDR029", "HDR031",
        ]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        // List mail is judged as list mail: the list relays it to its members, so the
        // poster's address and the recipient fields say nothing about a bulk sender.
        let list = super::bulk::list_traffic(msg).is_some();
        self.presence_and_duplicates(msg, cx);
        self.check_from_fields(msg, cx, list);
        self.date(msg, cx);
        self.message_id(msg, cx);
        self.mailer_marks(msg, cx);
        self.encoded_words(msg, cx);
        self.mime_version(msg, cx);
        self.subject(msg, cx);
        self.syntax(msg, cx);
        if !list {
            self.recipients(msg, cx);
        }
    }
}

impl HeadersCheck {
    /// How the visible recipient fields look: hidden lists, mail to oneself, long lists
    /// (not asked of list traffic, whose To is the list).
    fn recipients(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let Some(to_h) = msg.header("To") else { return };
        let to = to_h.unfolded(msg.raw);
        let addrs: Vec<&str> = EMAIL_IN_TEXT.find_iter(&to).map(|m| m.as_str()).collect();
        if addrs.is_empty() && to.to_ascii_lowercase().contains("undisclosed") {
            cx.hit(
                "HDR022",
                format!(
                    "To is the empty group \u{201c}{}\u{201d}: every recipient is hidden in Bcc",
                    crate::util::truncate_str(to.trim(), 60)
                ),
                ev(msg, to_h),
            );
        }
        if addrs.len() >= 5 {
            cx.hit(
                "HDR023",
                format!(
                    "To lists {} addresses that every recipient can see",
                    addrs.len()
                ),
                ev(msg, to_h),
            );
        }
        let from = msg
            .from_mailboxes()
            .first()
            .and_then(|m| m.address.as_deref())
            .map(str::to_ascii_lowercase);
        if let (Some(from), [only]) = (from, addrs.as_slice())
            && only.eq_ignore_ascii_case(&from)
            && msg.header("Cc").is_none()
        {
            cx.hit(
                "HDR021",
                format!("The message is addressed To its own sender ({from}); the real recipients are hidden in Bcc"),
                ev(msg, to_h),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn outlook_message_ids() {
        assert!(super::outlook_message_id(
            "<002b01c26a4e$2c3e8a40$0100a8c0@home>"
        ));
        assert!(!super::outlook_message_id(
            "<002b01c26a4e$2c3e8a40$0100a8c0$@home>"
        ));
        assert!(!super::outlook_message_id("<1@example.com>"));
        assert!(!super::outlook_message_id(
            "002b01c26a4e$2c3e8a40$0100a8c0@home"
        ));
    }

    #[test]
    fn impossible_zones() {
        use super::impossible_zone as z;
        assert_eq!(z("Mon, 23 Nov 2026 10:00:00 +1700"), Some("+1700"));
        assert_eq!(z("Mon, 23 Nov 2026 10:00:00 -0817 (XYZ)"), Some("-0817"));
        assert_eq!(z("Mon, 23 Nov 2026 10:00:00 +0545"), None);
        assert_eq!(z("Mon, 23 Nov 2026 10:00:00 +1400"), None);
        assert_eq!(z("Mon, 23 Nov 2026 10:00:00 -1200"), None);
        assert_eq!(z("Mon, 23 Nov 2026 10:00:00 GMT"), None);
    }

    #[test]
    fn undone_lookalike_letters_in_display_names() {
        assert_eq!(
            super::undo_lookalike_letters("WaImart Welcome"),
            "Walmart Welcome"
        );
        assert_eq!(super::undo_lookalike_letters("PaypaI"), "Paypal");
        assert_eq!(
            super::undo_lookalike_letters("Micr0soft 365"),
            "Microsoft 365"
        );
        assert_eq!(
            super::undo_lookalike_letters("IKEA Ireland"),
            "IKEA Ireland"
        );
        assert_eq!(
            super::undo_lookalike_letters("C0STC0 member"),
            "CoSTCo member"
        );
        assert_eq!(
            super::undo_lookalike_letters("BIueCross PoIicy"),
            "BlueCross Policy"
        );
        assert_eq!(super::undo_lookalike_letters("Win10 R2D2"), "Win10 R2D2");
    }

    #[test]
    fn message_ids() {
        assert_eq!(
            msg_id_rhs("<abc.123@mail.example.com>"),
            Some("mail.example.com")
        );
        assert_eq!(msg_id_rhs("<abc@[192.0.2.1]>"), Some("[192.0.2.1]"));
        assert_eq!(msg_id_rhs("abc@example.com"), None);
        assert_eq!(msg_id_rhs("<no-at-sign>"), None);
        assert_eq!(msg_id_rhs("<a b@example.com>"), None);
        assert!(!is_fqdn("localhost"));
        assert!(is_fqdn("mail.example.com"));
    }

    fn ids(raw: &str) -> Vec<String> {
        let c = Config {
            now: Some(1_795_392_000),
            ..Config::default()
        };
        let mut v = super::super::fired("HDR", c, raw.as_bytes());
        v.sort();
        v
    }

    const OK: &str = "From: Ann <ann@example.com>\nTo: bob@example.org\nDate: Mon, 23 Nov 2026 00:00:00 +0000\nMessage-ID: <1@example.com>\nSubject: Hello\n";

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("X-Ok: 1\n", &[]),
            ("Subject: again\n", &["HDR004"]),
            ("Sender: s@example.com\nFrom: c@example.com\n", &["HDR004"]),
            ("Cc: c@example.org\ncc: d@example.org\n", &["HDR004"]),
            // git-send-email's doubled threading fields: scored, not refused.
            (
                "In-Reply-To: <1@example.com>\nReferences: <1@example.com>\nIn-Reply-To: <1@example.com>\nReferences: <1@example.com>\n",
                &["HDR031"],
            ),
            ("Bcc: b@example.org\nBcc: c@example.org\n", &["HDR031"]),
            (
                "Subject: again\nReferences: <1@example.com>\nReferences: <2@example.com>\n",
                &["HDR004", "HDR031"],
            ),
            ("Content-Type: text/plain\n", &["HDR014"]),
            (
                "Content-Type: text/plain; name=\"=?utf-8?q?a?=\"\nMIME-Version: 1.0\n",
                &["HDR013"],
            ),
            ("References: <=?utf-8?q?a?=@example.com>\n", &["HDR013"]),
            ("Fr om: x\n", &["HDR017"]),
        ];
        for (extra, want) in cases {
            let raw = format!("{OK}{extra}\nbody\n");
            assert_eq!(ids(&raw), *want, "{raw}");
        }
    }

    /// A git-send-email patch with In-Reply-To and References written twice: every rule
    /// on, it gets HDR031's score and passes; it is never refused (issue 21).
    #[test]
    fn git_send_email_doubled_threading_fields_are_not_refused() {
        let raw =
            include_str!("../../tests/fixtures/rules/HDR031-git-send-email-threading-twice.eml");
        let engine = crate::Engine::new(Config {
            now: Some(1_795_392_000),
            ..Config::default()
        })
        .unwrap();
        for raw in [raw.to_string(), raw.replace('\n', "\r\n")] {
            let r = engine.check(raw.as_bytes(), &crate::Envelope::default());
            assert_eq!(r.rule_ids(), ["HDR031"], "{:?}", r.findings);
            assert_eq!(r.verdict, crate::Verdict::Pass);
        }
    }

    /// On list traffic the To is the list and the From the poster (often rewritten to the
    /// list's address): the recipient rules and the poster-address rules stay quiet, the
    /// rest still apply.
    #[test]
    fn list_traffic_is_judged_as_list_mail() {
        let list = "List-Id: Dev <dev.lists.example.org>\nList-Post: <mailto:dev@lists.example.org>\nPrecedence: list\nSender: \"dev\" <dev-bounces@lists.example.org>\n";
        let base = "Date: Mon, 23 Nov 2026 00:00:00 +0000\nMessage-ID: <1@example.com>\nSubject: Re: [PATCH] fix\n";
        let cases: &[(&str, &[&str], &[&str])] = &[
            // Mailman's From rewrite: From and To are both the list.
            (
                "From: \"Ann via Dev\" <dev@lists.example.org>\nTo: dev@lists.example.org\n",
                &[],
                &["HDR021"],
            ),
            // Patch review with the maintainers in To.
            (
                "From: ann@example.com\nTo: a@example.org, b@example.org, c@example.org, d@example.org, e@example.org\n",
                &[],
                &["HDR023"],
            ),
            (
                "From: ann@example.xyz\nTo: dev@lists.example.org\n",
                &[],
                &["HDR025"],
            ),
            (
                "From: bob12345@gmail.com\nTo: dev@lists.example.org\n",
                &[],
                &["HDR029"],
            ),
            // Still a defect on list mail.
            (
                "From: ann@example.com\nTo: dev@lists.example.org\nSubject: again\n",
                &["HDR004"],
                &["HDR004"],
            ),
        ];
        for (fields, on_list, off_list) in cases {
            let with = format!("{fields}{base}{list}\nbody\n");
            let without = format!("{fields}{base}\nbody\n");
            assert_eq!(ids(&with), *on_list, "{with}");
            assert_eq!(ids(&without), *off_list, "{without}");
        }
        let swap = |from: &str, to: &str| ids(&format!("{}\nbody\n", OK.replace(from, to)));
        assert_eq!(swap("From: Ann <ann@example.com>\n", ""), ["HDR001"]);
        assert_eq!(
            swap("Date: Mon, 23 Nov 2026 00:00:00 +0000\n", ""),
            ["HDR002"]
        );
        assert_eq!(swap("Message-ID: <1@example.com>\n", ""), ["HDR003"]);
        assert_eq!(swap("Ann <ann@example.com>", "Ann <ann>"), ["HDR005"]);
        assert_eq!(swap("Ann <ann@example.com>", ""), ["HDR005"]);
        assert_eq!(
            swap("Ann <ann@example.com>", "a@example.com, b@example.com"),
            ["HDR006"]
        );
        assert_eq!(
            swap("Mon, 23 Nov 2026 00:00:00 +0000", "23/11/2026"),
            ["HDR007"]
        );
        assert_eq!(
            swap(
                "Mon, 23 Nov 2026 00:00:00 +0000",
                "Mon, 30 Nov 2026 10:00:00 +0000"
            ),
            ["HDR008"]
        );
        assert_eq!(
            swap(
                "Mon, 23 Nov 2026 00:00:00 +0000",
                "Mon, 23 Nov 2020 10:00:00 +0000"
            ),
            ["HDR009"]
        );
        assert_eq!(swap("<1@example.com>", "1@example.com"), ["HDR010"]);
        assert_eq!(swap("<1@example.com>", "<1@localhost>"), ["HDR011"]);
        assert_eq!(
            swap(
                "Ann <ann@example.com>",
                "\"service@paypal.com\" <x@evil.example>"
            ),
            ["HDR012"]
        );
        assert_eq!(
            swap(
                "Ann <ann@example.com>",
                "\"ann@example.com\" <ANN@example.com>"
            ),
            Vec::<String>::new()
        );
        assert_eq!(swap("Subject: Hello", "Subject: "), ["HDR015"]);
        assert_eq!(swap("Subject: Hello\n", ""), ["HDR016"]);
        assert_eq!(
            swap("Subject: Hello\n", "Subject: Hello\nthis is not a header\n"),
            ["HDR018"]
        );
        // A message relayed in 2002 is judged against its Received date, not today.
        let old = OK.replace(
            "Mon, 23 Nov 2026 00:00:00 +0000",
            "Tue, 3 Sep 2002 10:00:00 +0000",
        );
        assert_eq!(
            ids(&format!(
                "Received: from x by y; Tue, 3 Sep 2002 10:05:00 +0000\n{old}\nbody\n"
            )),
            Vec::<String>::new()
        );
    }
}
