//! CNT055: decorative symbols and mathematical letters in the sender's display name or the
//! Subject. The two names a recipient reads before opening the message are looked at
//! together and reported as one finding.

use super::evidence;
use crate::checks::Ctx;
use crate::message::Message;

/// Characters spam decorates names and subjects with: arrows, mathematical and technical
/// symbols, and the "mathematical" bold and italic letters that dodge word filters. Emoji
/// (what honest newsletters use) are not among them.
fn is_decoration(c: char) -> bool {
    matches!(c as u32,
        0x2190..=0x21FF       // arrows
        | 0x2300..=0x23FF     // miscellaneous technical
        | 0x25A0..=0x25FF     // geometric shapes
        | 0x27F0..=0x27FF     // supplemental arrows A
        | 0x2900..=0x297F     // supplemental arrows B
        | 0x2980..=0x29FF     // miscellaneous mathematical symbols B
        | 0x2A00..=0x2AFF     // supplemental mathematical operators
        | 0x2B00..=0x2BFF     // miscellaneous symbols and arrows
        | 0x1D400..=0x1D7FF   // mathematical alphanumeric symbols
    )
}

/// The display name of the From field, as written (decoded by mail-parser).
fn from_display_name(msg: &Message<'_>) -> Option<String> {
    msg.from_mailboxes().first()?.name.clone()
}

/// A decorated sender name or Subject (CNT055).
pub(super) fn decorated_names(msg: &Message<'_>, cx: &mut Ctx<'_>) {
    // Decorated sender name or Subject.
    if cx.on("CNT055") {
        let mut places = Vec::new();
        let name = from_display_name(msg).unwrap_or_default();
        let subject = msg.text.subject.as_ref().map_or("", |s| s.decoded.as_str());
        for (what, text) in [("From name", name.as_str()), ("Subject", subject)] {
            let n = text.chars().filter(|&c| is_decoration(c)).count();
            if n >= 2 {
                places.push(format!(
                    "{what} \u{201c}{}\u{201d}",
                    crate::util::truncate_str(text.trim(), 80)
                ));
            }
        }
        if !places.is_empty() {
            let ev = msg
                .text
                .subject
                .as_ref()
                .filter(|_| places.iter().any(|p| p.starts_with("Subject")))
                .map(|s| vec![evidence(s, 0, s.decoded.len())])
                .unwrap_or_default();
            cx.hit(
                "CNT055",
                format!(
                    "Decorative symbols or mathematical letters in the {}",
                    places.join(" and the ")
                ),
                ev,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ids, msg};

    #[test]
    fn decorations() {
        assert_eq!(
            ids(&msg(
                "\u{2913}\u{2913} Don't miss out",
                "Hello there, see the offer."
            )),
            ["CNT055"]
        );
        let from = "From: \u{1d7ef}_\u{1d5d7}\u{1d5ee}\u{1d06} Deals <a@example.com>\nSubject: Hi\n\nHello there.\n";
        assert_eq!(ids(from), ["CNT055"]);
        assert!(
            ids(&msg("Our autumn sale \u{1f342}\u{1f389}", "Hello there.")).is_empty(),
            "emoji are fine"
        );
    }
}
