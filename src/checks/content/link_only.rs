//! CNT056: a body that is nothing but links (at most three other words, no attachment). A
//! rule of its own: it counts words and URLs over the body parts, which no other rule
//! does.

use super::{body_parts, evidence};
use crate::checks::Ctx;
use crate::message::Message;

/// Words of a text that are not URLs, and how many URLs it has; the count stops past
/// `max_words` words (the caller only needs to know there are more).
fn words_and_urls(text: &str, max_words: usize) -> (usize, usize) {
    let (mut words, mut urls) = (0, 0);
    for w in text.split_whitespace() {
        if words > max_words {
            break;
        }
        let l = w.trim_matches(|c: char| !c.is_alphanumeric() && c != ':' && c != '/');
        if l.starts_with("http://") || l.starts_with("https://") || l.starts_with("www.") {
            urls += 1;
        } else if l.chars().any(char::is_alphabetic) {
            words += 1;
        }
    }
    (words, urls)
}

/// A body that is nothing but links (CNT056).
pub(super) fn links_only(msg: &Message<'_>, cx: &mut Ctx<'_>) {
    // A body that is nothing but links.
    if cx.on("CNT056") {
        let (mut words, mut urls) = (0, 0);
        let mut first = None;
        for tp in body_parts(msg) {
            let (w, u) = words_and_urls(&tp.decoded, 3);
            words += w;
            urls += u;
            if u > 0 && first.is_none() {
                first = Some(tp);
            }
        }
        if urls > 0 && words <= 3 && msg.mime.attachments().next().is_none() {
            let ev = first
                .map(|tp| vec![evidence(tp, 0, tp.decoded.len().min(120))])
                .unwrap_or_default();
            cx.hit(
                "CNT056",
                format!("The body is {urls} link(s) and {words} other word(s)"),
                ev,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ids, msg};

    #[test]
    fn link_only_bodies() {
        assert_eq!(
            ids(&msg(
                "Hi",
                "http://a.example/x http://a.example/y unsubscribe"
            )),
            ["CNT056"]
        );
        assert!(
            ids(&msg(
                "Hi",
                "Here are the minutes: https://example.com/minutes see you Tuesday at ten."
            ))
            .is_empty()
        );
    }
}
