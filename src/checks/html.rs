//! The `html` family's code rules. This module starts with the image-to-text balance;
//! the markup analysis (hidden text, forms, scripts) builds on it.

use super::{Check, Ctx};
use crate::message::Message;
use crate::message::text::TextKind;

/// HTML checks.
pub struct HtmlCheck;

/// Fewer visible words than this next to images is "image mostly".
const FEW_WORDS: usize = 40;

/// Counts `<img` tags in HTML source (case-insensitive).
fn image_tags(html: &str) -> usize {
    let b = html.as_bytes();
    html.match_indices('<')
        .filter(|(i, _)| {
            b.get(i + 1..i + 4)
                .is_some_and(|t| t.eq_ignore_ascii_case(b"img"))
        })
        .count()
}

impl Check for HtmlCheck {
    fn ids(&self) -> &'static [&'static str] {
        &["HTML001"]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        // Only when HTML is what the reader gets: a plain alternative with real text means
        // the message still says something without its pictures.
        let plain_words: usize = msg
            .text
            .parts
            .iter()
            .filter(|t| t.kind == TextKind::Plain)
            .map(|t| t.decoded.split_whitespace().count())
            .sum();
        if plain_words >= FEW_WORDS {
            return;
        }
        for tp in msg.text.parts.iter().filter(|t| t.kind == TextKind::Html) {
            let Some(html) = &tp.html else { continue };
            let images = image_tags(html);
            let words = tp.decoded.split_whitespace().count();
            if images >= 1 && words < FEW_WORDS {
                cx.hit(
                    "HTML001",
                    format!(
                        "Part {} is {images} image(s) and only {words} word(s) of text",
                        if tp.part.is_empty() {
                            "1"
                        } else {
                            tp.part.as_str()
                        }
                    ),
                    vec![],
                );
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn ids(body: &str) -> Vec<String> {
        let raw = format!(
            "From: a@example.com\nSubject: x\nMIME-Version: 1.0\nContent-Type: text/html\n\n{body}\n"
        );
        super::super::fired("html", Config::default(), raw.as_bytes())
    }

    #[test]
    fn image_mostly_html() {
        assert_eq!(
            ids("<a href='http://x.example'><img src='http://x.example/a.jpg'></a>"),
            ["HTML001"]
        );
        assert_eq!(
            ids("<p>Big sale</p><IMG SRC='a.png'><img src='b.png'>"),
            ["HTML001"]
        );
        let text = "word ".repeat(60);
        assert!(ids(&format!("<p>{text}</p><img src='logo.png'>")).is_empty());
        assert!(ids("<p>No pictures here.</p>").is_empty());
    }
}
