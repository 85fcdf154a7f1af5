//! The `html` family's code rules: the balance of text and images, tracking pixels,
//! hidden text, risky constructs (scripts, forms, frames, objects, meta refresh, external
//! style sheets, `data:` URIs), broken or evasive markup, alternatives that disagree and
//! HTML large enough for Gmail to clip. The markup facts come from one streaming pass per
//! part, made with the part's text ([`crate::message::html`]).

use super::{Check, Ctx};
use crate::message::Message;
use crate::message::html::HtmlFacts;
use crate::message::links::Source;
use crate::message::text::{TextKind, TextPart};
use crate::rules::lists::owner_label;
use std::collections::HashSet;

/// HTML checks.
pub(crate) struct HtmlCheck;

/// Fewer visible words than this next to images is "image mostly".
const FEW_WORDS: usize = 40;

impl Check for HtmlCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[
            "HTML001", "HTML002", "HTML003", "HTML004", "HTML005", "HTML006", "HTML007", "HTML008",
            "HTML009", "HTML010", "HTML011", "HTML012", "HTML013", "HTML014", "HTML015", "HTML016",
            "HTML017", "HTML018", "HTML019", "HTML020", "HTML021",
        ]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let (big, red) = msg
            .html_facts()
            .iter()
            .fold((0, 0), |(b, r), (_, f)| (b + f.huge_fonts, r + f.red_fonts));
        if big + red >= 2 {
            cx.hit(
                "HTML002",
                format!("The HTML has {big} huge-font and {red} red-font <font> tag(s)"),
                vec![],
            );
        }
        self.image_mostly(msg, cx);
        // Whether no text/plain part says anything: asked once, not per HTML part.
        let alone = !msg
            .text
            .parts
            .iter()
            .any(|t| t.kind == TextKind::Plain && !t.decoded.trim().is_empty());
        for (i, facts) in msg.html_facts() {
            let tp = &msg.text.parts[*i];
            markup(msg, tp, facts, alone, cx);
        }
        alternatives_disagree(msg, cx);
    }
}

fn part_name(tp: &TextPart) -> &str {
    if tp.part.is_empty() {
        "1"
    } else {
        tp.part.as_str()
    }
}

fn remote(url: &str) -> bool {
    let u = url.trim_start();
    u.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("http://"))
        || u.get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        || u.starts_with("//")
}

/// Gmail clips HTML past about 102 KB ("[Message clipped] View entire message").
const GMAIL_CLIP: usize = 102 * 1024;

/// The markup rules for one HTML part; `alone`: no text/plain part has any text.
fn markup(msg: &Message<'_>, tp: &TextPart, f: &HtmlFacts, alone: bool, cx: &mut Ctx<'_>) {
    let part = part_name(tp);
    let html = tp.html.as_deref().unwrap_or("");
    let pixels: Vec<&str> = f
        .images
        .iter()
        .filter(|i| remote(&i.src) && i.is_pixel())
        .map(|i| i.src.as_str())
        .collect();
    if !pixels.is_empty() {
        cx.hit_with("HTML003", None, || {
            (
                format!(
                    "Part {part} loads {} tracking pixel(s) (1x1 or zero-sized remote images), e.g. {}",
                    pixels.len(),
                    crate::util::truncate_str(pixels[0], 100)
                ),
                msg.part_evidence(&tp.part),
            )
        });
    }
    let content_images: Vec<_> = f.images.iter().filter(|i| !i.is_pixel()).collect();
    let no_alt = content_images.iter().filter(|i| !i.alt).count();
    if content_images.len() >= 3 && no_alt == content_images.len() {
        cx.hit_with("HTML004", None, || {
            (
                format!("None of the {no_alt} images in part {part} has alt text"),
                msg.part_evidence(&tp.part),
            )
        });
    }
    let hidden_words: usize = f.hidden.iter().map(|h| h.words()).sum();
    if hidden_words >= 30 {
        let first = &f.hidden[0];
        cx.hit_with("HTML005", None, || {
            (
                format!(
                    "Part {part} hides {hidden_words} words from the reader ({}: \u{201c}{}\u{201d})",
                    first.how,
                    crate::util::truncate_str(&first.text, 80)
                ),
                msg.part_evidence(&tp.part),
            )
        });
    }
    if !f.hidden.is_empty() && cx.on("HTML006") {
        hidden_bait(msg, tp, f, cx);
    }
    if f.scripts > 0 {
        cx.hit_with("HTML007", None, || {
            (
                format!("Part {part} has {} <script> element(s)", f.scripts),
                msg.part_evidence(&tp.part),
            )
        });
    }
    for form in &f.forms {
        let target =
            crate::util::truncate_str(form.action.as_deref().unwrap_or("(no action)"), 100);
        if let Some(action) = form.action.as_deref()
            && let Some(to) = crate::message::links::make_public(action)
            && let Some(domain) = to.domain.as_deref()
            && cx.on("HTML020")
        {
            let sender = super::links::from_domain(msg);
            let sender_reg = sender
                .as_deref()
                .and_then(crate::message::links::registrable);
            if sender_reg.as_deref() != Some(domain)
                && sender.as_deref().map(owner_label) != Some(owner_label(domain))
            {
                cx.hit_with("HTML020", None, || {
                    (
                        format!(
                            "Part {part} has a form that sends what is typed to {} (the sender is {})",
                            crate::util::defang(domain),
                            sender.as_deref().unwrap_or("unknown")
                        ),
                        msg.find_evidence(&tp.part, action),
                    )
                });
            }
        }
        if form.password {
            cx.hit_with("HTML009", None, || {
                (
                    format!("Part {part} has a form with a password field (action {target})"),
                    msg.part_evidence(&tp.part),
                )
            });
        } else {
            cx.hit_with("HTML008", None, || {
                (
                    format!("Part {part} has a form (action {target})"),
                    msg.part_evidence(&tp.part),
                )
            });
        }
    }
    if !f.frames.is_empty() {
        cx.hit_with("HTML010", None, || {
            (
                format!(
                    "Part {part} embeds {} frame(s), e.g. {}",
                    f.frames.len(),
                    crate::util::truncate_str(&f.frames[0], 100)
                ),
                msg.part_evidence(&tp.part),
            )
        });
    }
    if f.objects > 0 {
        cx.hit_with("HTML011", None, || {
            (
                format!(
                    "Part {part} has {} <object>/<embed>/<applet> element(s)",
                    f.objects
                ),
                msg.part_evidence(&tp.part),
            )
        });
    }
    if let Some(to) = &f.meta_refresh {
        cx.hit_with("HTML012", None, || {
            (
                format!(
                    "Part {part} redirects by <meta http-equiv=refresh> to {}",
                    crate::util::truncate_str(to, 100)
                ),
                msg.part_evidence(&tp.part),
            )
        });
    }
    let sheets: Vec<_> = f.stylesheets.iter().filter(|h| remote(h)).collect();
    if !sheets.is_empty() {
        cx.hit_with("HTML013", None, || {
            (
                format!(
                    "Part {part} loads an external style sheet: {}",
                    crate::util::truncate_str(sheets[0], 100)
                ),
                msg.part_evidence(&tp.part),
            )
        });
    }
    if let Some(d) = f.data_uris.first() {
        cx.hit_with("HTML014", None, || {
            (
                format!(
                    "Part {part} has {} data: URI(s) in src or href, e.g. {}",
                    f.data_uris.len(),
                    crate::util::truncate_str(d, 60)
                ),
                msg.part_evidence(&tp.part),
            )
        });
    }
    if f.unclosed >= 5 {
        cx.hit_with("HTML015", None, || {
            (
                format!(
                    "Part {part} leaves {} container tags (div, span, a, table, font, ...) unclosed",
                    f.unclosed
                ),
                msg.part_evidence(&tp.part),
            )
        });
    }
    if let Some(m) = f.split_words.first() {
        cx.hit_with("HTML016", None, || {
            (
                format!(
                    "Part {part} splits words with comments or empty tags: {}",
                    crate::util::truncate_str(m, 80)
                ),
                msg.part_evidence(&tp.part),
            )
        });
    }
    if alone && f.visible_words == 0 && f.images.is_empty() {
        cx.hit_with("HTML017", None, || {
            (
                format!(
                    "Part {part} is HTML with no text and no images: the reader sees an empty message"
                ),
                msg.part_evidence(&tp.part),
            )
        });
    }
    if html.len() > GMAIL_CLIP {
        cx.hit_with("HTML019", None, || {
            (
                format!(
                    "Part {part} is {} of HTML; Gmail clips messages past about 102 KB and hides the rest",
                    super::size::human_bytes(html.len())
                ),
                msg.part_evidence(&tp.part),
            )
        });
    }
}

/// A first hidden run shorter than this is a preheader.
const PREHEADER_WORDS: usize = 40;

/// Hidden text that carries what the content rules look for: words put there for filters,
/// not for the reader.
fn hidden_bait(msg: &Message<'_>, tp: &TextPart, f: &HtmlFacts, cx: &mut Ctx<'_>) {
    // A newsletter's preheader (the preview line inboxes show, hidden in the body) is
    // the first short hidden run and often says "20% off today only": it is left out.
    let mut text = String::new();
    for (k, h) in f.hidden.iter().enumerate() {
        if k == 0 && h.words() < PREHEADER_WORDS {
            continue;
        }
        text.push_str(&h.text);
        text.push('\n');
    }
    if text.is_empty() {
        return;
    }
    let probe = TextPart::new(tp.part.clone(), TextKind::Plain, text, None);
    let found = cx.content_phrases(&probe);
    if found.is_empty() {
        return;
    }
    // One entry per phrase, with every rule that caught it.
    let mut by_phrase: Vec<(String, Vec<&str>)> = Vec::new();
    for (id, m) in &found {
        let m = m.to_lowercase();
        match by_phrase.iter_mut().find(|(p, _)| *p == m) {
            Some((_, ids)) => ids.push(id),
            None => by_phrase.push((m, vec![id])),
        }
    }
    let list: Vec<String> = by_phrase
        .iter()
        .take(5)
        .map(|(m, ids)| {
            format!(
                "\u{201c}{}\u{201d} ({})",
                crate::util::truncate_str(m, 60),
                ids.join(", ")
            )
        })
        .collect();
    cx.hit_with("HTML006", None, || {
        (
            format!(
                "Part {} hides text the content rules catch: {}",
                part_name(tp),
                list.join(", ")
            ),
            msg.part_evidence(&tp.part),
        )
    });
}

/// Words of each alternative compared: the first few thousand say what a text is about,
/// and a long newsletter costs no more than a short one.
const COMPARED_WORDS: usize = 3000;

/// The distinct words of a normalised (lower-cased) text, three letters or more, sorted
/// (the first [`COMPARED_WORDS`]).
fn words(s: &str) -> Vec<&str> {
    let mut w: Vec<&str> = s
        .split(|c: char| {
            if c.is_ascii() {
                !c.is_ascii_alphanumeric()
            } else {
                !c.is_alphanumeric()
            }
        })
        .filter(|w| w.len() >= 3)
        .take(COMPARED_WORDS)
        .collect();
    w.sort_unstable();
    w.dedup();
    w
}

/// How many words two sorted, distinct word lists share.
fn shared_words(a: &[&str], b: &[&str]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// A text/plain and a text/html alternative that say different things.
fn alternatives_disagree(msg: &Message<'_>, cx: &mut Ctx<'_>) {
    use std::collections::HashMap;
    let mime = &msg.mime;
    if !mime
        .parts
        .iter()
        .any(|p| p.content_type == "multipart/alternative")
        || !(cx.on("HTML018") || cx.on("HTML021"))
    {
        return;
    }
    // Text parts and link domains by part path, built once: looked up per alternative,
    // a search of every text part and every link was quadratic in the part count.
    let mut texts: HashMap<(&str, bool), &TextPart> = HashMap::new();
    for t in &msg.text.parts {
        if matches!(t.kind, TextKind::Plain | TextKind::Html) {
            texts
                .entry((t.part.as_str(), t.kind == TextKind::Html))
                .or_insert(t);
        }
    }
    // Click trackers stand in for the real sites in the HTML of most campaigns.
    let mut link_domains: HashMap<&str, HashSet<&str>> = HashMap::new();
    if cx.on("HTML021") {
        for l in msg.links() {
            if l.is_web()
                && l.source != Source::Src
                && !l
                    .host
                    .as_deref()
                    .is_some_and(|h| cx.lists.is_click_tracker(h))
                && let Some(d) = l.domain.as_deref()
            {
                link_domains.entry(l.part.as_str()).or_default().insert(d);
            }
        }
    }
    for alt in mime
        .parts
        .iter()
        .filter(|p| p.content_type == "multipart/alternative")
    {
        // The first text part of each kind among the alternative's children.
        let find = |html: bool| {
            alt.children
                .iter()
                .find_map(|&c| texts.get(&(mime.parts[c].path.as_str(), html)).copied())
        };
        let (Some(plain), Some(html)) = (find(false), find(true)) else {
            continue;
        };
        let none = HashSet::new();
        let la = link_domains.get(plain.part.as_str()).unwrap_or(&none);
        let lb = link_domains.get(html.part.as_str()).unwrap_or(&none);
        if !la.is_empty() && !lb.is_empty() && la.is_disjoint(lb) {
            let mut pa: Vec<&str> = la.iter().copied().collect();
            let mut pb: Vec<&str> = lb.iter().copied().collect();
            pa.sort_unstable();
            pb.sort_unstable();
            pa.truncate(3);
            pb.truncate(3);
            cx.hit_with("HTML021", None, || {
                (
                    format!(
                        "The text/plain ({}) and text/html ({}) alternatives link to different sites: {} against {}",
                        plain.part,
                        html.part,
                        crate::util::defang(&pa.join(", ")),
                        crate::util::defang(&pb.join(", "))
                    ),
                    msg.part_evidence(&html.part),
                )
            });
        }
        if !cx.on("HTML018") {
            continue;
        }
        let (a, b) = (words(&plain.normalized), words(&html.normalized));
        if a.len() < 20 || b.len() < 20 {
            continue;
        }
        let shared = shared_words(&a, &b);
        let overlap = shared as f64 / a.len().min(b.len()) as f64;
        if overlap < 0.1 {
            cx.hit_with("HTML018", None, || {
                (
                    format!(
                        "The text/plain ({}) and text/html ({}) alternatives share {:.0}% of their words: they say different things",
                        plain.part,
                        html.part,
                        overlap * 100.0
                    ),
                    msg.part_evidence(&html.part),
                )
            });
        }
    }
}

impl HtmlCheck {
    fn image_mostly(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        if msg.html_facts().is_empty() {
            return;
        }
        // Only when HTML is what the reader gets: a plain alternative with real text means
        // the message still says something without its pictures (counted up to the limit).
        let plain_words: usize = msg
            .text
            .parts
            .iter()
            .filter(|t| t.kind == TextKind::Plain)
            .map(|t| t.decoded.split_whitespace().take(FEW_WORDS).count())
            .sum();
        if plain_words >= FEW_WORDS {
            return;
        }
        for (i, f) in msg.html_facts() {
            let tp = &msg.text.parts[*i];
            // Tracking pixels show nothing: they do not make a message image-mostly.
            let images = f.images.iter().filter(|i| !i.is_pixel()).count();
            let remote_images = f
                .images
                .iter()
                .filter(|i| !i.is_pixel() && remote(&i.src))
                .count();
            let words = tp.decoded.split_whitespace().count();
            if images >= 1 && words < FEW_WORDS {
                cx.hit_with("HTML001", None, || {
                    (
                        format!(
                            "Part {} is {images} image(s) ({remote_images} loaded from the web) and only {words} word(s) of text",
                            part_name(tp)
                        ),
                        msg.part_evidence(&tp.part),
                    )
                });
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
            ids("<font size=6>FREE</font> <font color=red>NOW</font>"),
            ["HTML002"]
        );
        assert_eq!(
            ids("<FONT SIZE=+3>A</FONT><font size=\"7\" color=#ff0000>C"),
            ["HTML002"]
        );
        assert!(
            ids("<font size=-1>a</font><font face=x size=3 color=blue>b</font><font size=\"5")
                .is_empty()
        );
    }
}
