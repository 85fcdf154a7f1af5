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
        &["HTML001", "HTML002"]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        if cx.on("HTML002") {
            let (mut big, mut red) = (0, 0);
            for tp in msg.text.parts.iter().filter(|t| t.kind == TextKind::Html) {
                if let Some(html) = &tp.html {
                    let (b, r) = shouting_fonts(html);
                    big += b;
                    red += r;
                }
            }
            if big + red >= 2 {
                cx.hit(
                    "HTML002",
                    format!("The HTML has {big} huge-font and {red} red-font <font> tag(s)"),
                    vec![],
                );
            }
        }
        self.image_mostly(msg, cx);
    }
}

/// The value of attribute `name` in the inside of a tag (`font size="+2" color=red`).
fn attr<'h>(tag: &'h str, name: &str) -> Option<&'h str> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before_ok = at == 0 || !lower.as_bytes()[at - 1].is_ascii_alphanumeric();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let off = tag.len() - rest.len() + 1;
        let v = tag[off..].trim_start();
        let v = v.trim_start_matches(['"', '\'']);
        let end = v
            .find(|c: char| c == '"' || c == '\'' || c.is_whitespace() || c == '>')
            .unwrap_or(v.len());
        return Some(&v[..end]);
    }
    None
}

/// `<font>` tags with a huge size (5 to 7, or +2 and more) and with a red colour.
fn shouting_fonts(html: &str) -> (usize, usize) {
    let (mut big, mut red) = (0, 0);
    let b = html.as_bytes();
    for (i, _) in html.match_indices('<') {
        if !b
            .get(i + 1..i + 6)
            .is_some_and(|t| t.eq_ignore_ascii_case(b"font "))
        {
            continue;
        }
        let Some(end) = html[i..].find('>') else {
            break;
        };
        let tag = &html[i + 6..i + end];
        if let Some(size) = attr(tag, "size") {
            let n: Option<i32> = size.trim_start_matches('+').parse().ok();
            if let Some(n) = n
                && ((size.starts_with('+') && n >= 2) || (!size.starts_with(['+', '-']) && n >= 5))
            {
                big += 1;
            }
        }
        if let Some(c) = attr(tag, "color") {
            let c = c.trim_start_matches('#').to_ascii_lowercase();
            if matches!(c.as_str(), "red" | "ff0000" | "f00") {
                red += 1;
            }
        }
    }
    (big, red)
}

impl HtmlCheck {
    fn image_mostly(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
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

    #[test]
    fn shouting_font_tags() {
        assert_eq!(
            super::shouting_fonts(
                "<FONT SIZE=+3>A</FONT><font color='red'>B</font><font size=\"7\" color=#ff0000>C"
            ),
            (2, 2)
        );
        assert_eq!(
            super::shouting_fonts("<font size=-1>a</font><font face=x size=3 color=blue>b"),
            (0, 0)
        );
        assert_eq!(super::shouting_fonts("<font size=\"5"), (0, 0));
        assert_eq!(super::attr(" fontsize=9 size='+2'", "size"), Some("+2"));
        assert_eq!(
            ids("<font size=6>FREE</font> <font color=red>NOW</font>"),
            ["HTML002"]
        );
    }
}
