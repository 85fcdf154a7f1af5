//! One streaming pass over an HTML part (no DOM): the links with their anchor text,
//! images with their size and alt text, forms, scripts, frames, embedded objects, meta
//! refreshes, style sheets, the visible and the hidden text, tags left open, and the
//! text a reader gets (which the content rules read). The pass runs once per HTML part
//! when the message is parsed; the `html` and `links` families read its facts.
//!
//! The tokenizer is our own: a memchr walk from `<` to `<` that reads tag names and
//! attributes (quoted or not), skips comments, declarations and the raw text of `script`
//! and `style`, and keeps a bounded stack of open elements for hidden styles, anchors and
//! tags left unclosed. lol_html was measured first: a full pass over every tag and text
//! node cost about 1.2 M instructions per HTML part on the corpus slice (16% of the whole
//! check, 7 times mail-parser's HTML-to-text), against a budget of about 2.2 M per
//! message for everything; this walk does the same job in a fraction of that.

use std::borrow::Cow;

/// A link (`<a href>`, `<area href>`) and the text it shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    /// The `href` value, entities decoded, trimmed.
    pub href: String,
    /// The visible anchor text, white space collapsed (image-only links: empty).
    pub text: String,
}

/// An `<img>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    /// The `src` value.
    pub src: String,
    /// Width and height from attributes or the style, in pixels, when given.
    pub width: Option<u32>,
    /// See `width`.
    pub height: Option<u32>,
    /// Whether an `alt` attribute is present (empty `alt` counts: it marks decoration).
    pub alt: bool,
}

impl Image {
    /// A tracking pixel's shape: one pixel or less wide or high. It shows nothing.
    pub fn is_pixel(&self) -> bool {
        self.width.is_some_and(|w| w <= 1) || self.height.is_some_and(|h| h <= 1)
    }
}

/// A `<form>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form {
    /// Its `action`, when it has one.
    pub action: Option<String>,
    /// Whether it holds a password input.
    pub password: bool,
}

/// Text a reader does not see, and how it is hidden.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hidden {
    /// `display:none`, `font-size:0`, `same colour as background`, ...
    pub how: &'static str,
    /// The hidden text, white space collapsed, at most 2,000 characters.
    pub text: String,
}

impl Hidden {
    /// The words of the run: white-space separated tokens with a letter or digit (the
    /// `&zwnj;&nbsp;` padding after a preheader is not words).
    pub fn words(&self) -> usize {
        self.text
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .count()
    }
}

/// What one HTML part holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HtmlFacts {
    /// Links with their anchor text.
    pub links: Vec<Link>,
    /// Images.
    pub images: Vec<Image>,
    /// Forms.
    pub forms: Vec<Form>,
    /// Links (`<a>`/`<area>` with an href) past [`MAX_ITEMS`], counted, not kept.
    pub links_not_kept: usize,
    /// `<font>` tags with a huge size (5 to 7, or +2 and more).
    pub huge_fonts: usize,
    /// `<font>` tags in red.
    pub red_fonts: usize,
    /// `<script>` elements.
    pub scripts: usize,
    /// `<iframe>`/`<frame>` sources.
    pub frames: Vec<String>,
    /// `<object>`, `<embed>` and `<applet>` elements.
    pub objects: usize,
    /// The target of a `<meta http-equiv=refresh>`.
    pub meta_refresh: Option<String>,
    /// External style sheets (`<link rel=stylesheet href>`).
    pub stylesheets: Vec<String>,
    /// `data:` URIs in `src` or `href`.
    pub data_uris: Vec<String>,
    /// Words of visible text.
    pub visible_words: usize,
    /// Words split by a comment or an empty inline element (`Via<!-- -->gra`), as
    /// written (at most 5).
    pub split_words: Vec<String>,
    /// Hidden text runs (at most 20).
    pub hidden: Vec<Hidden>,
    /// Container tags (`div`, `span`, `a`, `table`, `font`, ...) still open at the end of
    /// the document: opened and never closed.
    pub unclosed: usize,
    /// The text of the document as a reader gets it, hidden text included: character
    /// references decoded, white space collapsed, a line break for `<br>` and at the
    /// edges of block elements, a space between table cells; no script, style or title.
    pub text: String,
}

#[derive(Default)]
struct State<'h> {
    facts: HtmlFacts,
    /// Links, images, forms, frames and style sheets kept (see [`MAX_ITEMS`]).
    max_items: usize,
    /// The link whose anchor text is being collected.
    in_link: Option<usize>,
    /// Open elements: name (lower case), hidden how, whether it is an anchor.
    stack: Vec<Open<'h>>,
    /// Whether text here is hidden, how, and whether a descendant can show it again.
    vis: Option<Hiding>,
    /// The hidden run being collected.
    run: String,
    /// The last visible character was part of a word.
    in_word: bool,
    /// What separates the next text from `facts.text`.
    gap: Gap,
}

/// What goes between two pieces of text.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
enum Gap {
    /// Nothing: the pieces join (`Via<b></b>gra`).
    #[default]
    None,
    /// One space.
    Space,
    /// A line break.
    Line,
}

/// How a tag separates the text around it: a line break for block elements and `<br>`,
/// a space for table cells, nothing for inline elements.
fn gap_of(name: &str) -> Gap {
    match name {
        "br" | "p" | "div" | "tr" | "li" | "ul" | "ol" | "dl" | "dt" | "dd" | "h1" | "h2"
        | "h3" | "h4" | "h5" | "h6" | "table" | "tbody" | "thead" | "tfoot" | "blockquote"
        | "pre" | "hr" | "center" | "address" | "section" | "article" | "header" | "footer"
        | "nav" | "aside" | "main" | "form" | "fieldset" | "figure" | "figcaption" | "caption"
        | "body" | "html" | "head" | "title" | "option" | "legend" => Gap::Line,
        "td" | "th" | "img" | "input" | "button" | "select" | "textarea" | "label" => Gap::Space,
        _ => Gap::None,
    }
}

struct Open<'h> {
    name: Cow<'h, str>,
    /// The hiding in force outside this element, restored when it closes.
    prev: Option<Hiding>,
    /// This element started a hidden run (text outside it was visible).
    starts_run: bool,
    anchor: bool,
}

/// Hidden text: how, and whether a descendant can show it again (a zero font size or
/// `visibility:hidden` can be undone inside; `display:none` cannot).
#[derive(Clone, Copy)]
struct Hiding {
    how: &'static str,
    revocable: bool,
}

const TINY_FONT: &str = "a font size of zero or one pixel";
const SAME_COLOUR: &str = "text the same colour as its background";

/// The value of declaration `prop` in a style attribute, `!important` left on.
fn style_value<'s>(style: &'s str, prop: &str) -> Option<&'s str> {
    style.split(';').rev().find_map(|d| {
        let (k, v) = d.split_once(':')?;
        k.trim().eq_ignore_ascii_case(prop).then(|| v.trim())
    })
}

/// Whether an element shows again what an ancestor hid in a revocable way: a template's
/// `font-size:0` cell whose children set their own size, a `visibility:visible` child.
fn reveals(how: &str, name: &str, a: &Attrs<'_>) -> bool {
    let style = a.get("style").unwrap_or("");
    match how {
        TINY_FONT => {
            style_value(style, "font-size").is_some_and(|v| !tiny_length(&v.to_ascii_lowercase()))
                || (name == "font" && a.has("size"))
        }
        "visibility:hidden" => {
            style_value(style, "visibility").is_some_and(|v| v.eq_ignore_ascii_case("visible"))
        }
        SAME_COLOUR => style_value(style, "color").is_some() || (name == "font" && a.has("color")),
        _ => false,
    }
}

/// Elements without content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen", "basefont", "frame", "isindex",
];

/// The deepest nesting followed; deeper elements are read but not tracked.
const MAX_STACK: usize = 256;

/// Links, images, forms, frames and style sheets recorded per part: past this many the
/// rest are not kept (35 MB of `<a href=x>` would be two million entries).
pub const MAX_ITEMS: usize = 20_000;

/// Tags whose missing end tag means broken markup (others may omit it legitimately).
const CONTAINERS: &[&str] = &[
    "div", "span", "a", "table", "font", "center", "form", "b", "i", "u", "strong", "em",
];

/// Whether a style hides what it styles, and how. One pass over the declarations, no
/// allocation (this runs on every styled element of every newsletter).
pub fn hidden_by_style(style: &str) -> Option<&'static str> {
    let (mut fg, mut bg) = (None, None);
    for decl in style.split(';') {
        let Some((k, v)) = decl.split_once(':') else {
            continue;
        };
        let k = k.trim();
        let v = v.trim();
        let v = v
            .len()
            .checked_sub(10)
            .filter(|&i| {
                v.get(i..)
                    .is_some_and(|t| t.eq_ignore_ascii_case("!important"))
            })
            .map_or(v, |i| v[..i].trim_end());
        let is = |name: &str| k.eq_ignore_ascii_case(name);
        if is("display") && v.eq_ignore_ascii_case("none") {
            return Some("display:none");
        }
        if is("visibility") && v.eq_ignore_ascii_case("hidden") {
            return Some("visibility:hidden");
        }
        if is("opacity") && v.parse::<f64>().is_ok_and(|o| o == 0.0) {
            return Some("opacity:0");
        }
        if is("font-size") && tiny_length(&v.to_ascii_lowercase()) {
            return Some(TINY_FONT);
        }
        if (is("left") || is("top") || is("text-indent") || is("margin-left"))
            && let Some(n) = v.strip_prefix('-')
            && n.trim_end_matches("px")
                .trim()
                .parse::<f64>()
                .is_ok_and(|n| n >= 1000.0)
        {
            return Some("a position far off-screen");
        }
        if is("color") {
            fg = Some(v);
        } else if is("background-color") || is("background") {
            bg = Some(v);
        }
    }
    match (fg, bg) {
        (Some(f), Some(b)) if !f.is_empty() && same_colour(f, b) => Some(SAME_COLOUR),
        _ => None,
    }
}

/// Two colour values written the same way, white space and case aside.
fn same_colour(a: &str, b: &str) -> bool {
    fn squeeze(s: &str) -> impl Iterator<Item = u8> + '_ {
        s.bytes()
            .filter(|c| !c.is_ascii_whitespace())
            .map(|c| c.to_ascii_lowercase())
    }
    squeeze(a).eq(squeeze(b))
}

fn tiny_length(v: &str) -> bool {
    let v = v.trim_end_matches("!important");
    let n = v
        .trim_end_matches("px")
        .trim_end_matches("pt")
        .trim_end_matches("em")
        .trim_end_matches('%');
    n.parse::<f64>().is_ok_and(|n| {
        if v.ends_with("em") {
            n < 0.1
        } else if v.ends_with('%') {
            n < 10.0
        } else {
            n <= 1.0
        }
    })
}

/// A pixel size from an attribute (`1`, `1px`) or a style declaration.
fn pixels(v: &str) -> Option<u32> {
    let v = v.trim().trim_end_matches("px").trim();
    v.parse::<f64>()
        .ok()
        .filter(|n| *n >= 0.0)
        .map(|n| n as u32)
}

fn style_pixels(style: &str, name: &str) -> Option<u32> {
    let s = style.to_ascii_lowercase();
    s.split(';').find_map(|d| {
        let (k, v) = d.split_once(':')?;
        (k.trim() == name).then(|| pixels(v)).flatten()
    })
}

/// Appends a run of text between tags (references decoded) to the reader's text.
fn read_text(st: &mut State<'_>, decoded: &str) {
    let out = &mut st.facts.text;
    for (k, word) in decoded.split_ascii_whitespace().enumerate() {
        let gap = if k == 0 && decoded.starts_with(|c: char| c.is_ascii_whitespace()) {
            st.gap.max(Gap::Space)
        } else if k == 0 {
            st.gap
        } else {
            Gap::Space
        };
        if !out.is_empty() {
            match gap {
                Gap::Line if !out.ends_with('\n') => out.push('\n'),
                Gap::Space if !out.ends_with('\n') => out.push(' '),
                _ => {}
            }
        }
        out.push_str(word);
        st.gap = Gap::None;
    }
    if decoded.ends_with(|c: char| c.is_ascii_whitespace()) {
        st.gap = st.gap.max(Gap::Space);
    }
}

fn push_text(st: &mut State<'_>, text: &str) {
    if text.is_empty() {
        return;
    }
    let decoded = decode_entities(text);
    read_text(st, &decoded);
    if let Some(i) = st.in_link {
        let t = &mut st.facts.links[i].text;
        if t.len() < 500 {
            t.push_str(&decoded);
        }
    }
    if st.vis.is_some() {
        if st.run.len() < 2000 {
            st.run.push_str(text);
        }
    } else {
        // Count the starts of words (text runs between tags can split a word).
        for &c in text.as_bytes() {
            let word = !c.is_ascii_whitespace();
            if word && !st.in_word {
                st.facts.visible_words += 1;
            }
            st.in_word = word;
        }
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decodes the character references that matter for reading links and text:
/// `&amp; &lt; &gt; &quot; &apos; &nbsp;` and numeric ones.
pub fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map_or(rest.len(), |e| e + 1);
        let name = &rest[1..end];
        let ch = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            // Invisible and spacing characters of preheader padding and hidden text.
            "zwnj" => Some('\u{200c}'),
            "zwj" => Some('\u{200d}'),
            "shy" => Some('\u{ad}'),
            "lrm" => Some('\u{200e}'),
            "rlm" => Some('\u{200f}'),
            "ensp" => Some('\u{2002}'),
            "emsp" => Some('\u{2003}'),
            "thinsp" => Some('\u{2009}'),
            "copy" => Some('\u{a9}'),
            "reg" => Some('\u{ae}'),
            "trade" => Some('\u{2122}'),
            "hellip" => Some('\u{2026}'),
            "mdash" => Some('\u{2014}'),
            "ndash" => Some('\u{2013}'),
            "rsquo" => Some('\u{2019}'),
            "lsquo" => Some('\u{2018}'),
            "rdquo" => Some('\u{201d}'),
            "ldquo" => Some('\u{201c}'),
            "bull" => Some('\u{2022}'),
            "middot" => Some('\u{b7}'),
            "euro" => Some('\u{20ac}'),
            "pound" => Some('\u{a3}'),
            n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                .ok()
                .and_then(char::from_u32),
            n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
            // The rest of the HTML named references (`&eacute;`), from mail-parser's
            // table, when written with their semicolon.
            n if (2..=32).contains(&n.len()) && rest[end..].starts_with(';') => {
                let mut one = String::new();
                mail_parser::decoders::html::add_html_token(
                    &mut one,
                    &rest.as_bytes()[..=end],
                    false,
                );
                let mut chars = one.chars();
                chars.next().filter(|_| chars.next().is_none())
            }
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end..];
                if rest.starts_with(';') {
                    rest = &rest[1..];
                }
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// One tag's attributes: (name as written, value with entities decoded).
struct Attrs<'h>(Vec<(&'h str, Cow<'h, str>)>);

/// A tag name in lower case, borrowed when it already is.
fn lower(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|c| c.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

impl Attrs<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}

/// Reads the attributes of a tag from `b[at..]` up to its `>`; returns them and the
/// offset after the `>` (the end of input when it is missing) and whether it self-closes.
fn attributes<'h>(
    html: &'h str,
    mut at: usize,
    mut attrs: Vec<(&'h str, Cow<'h, str>)>,
) -> (Attrs<'h>, usize, bool) {
    let b = html.as_bytes();
    attrs.clear();
    let mut self_closing = false;
    loop {
        while at < b.len() && (b[at].is_ascii_whitespace() || b[at] == b'/') {
            self_closing = b[at] == b'/';
            at += 1;
        }
        if at >= b.len() {
            return (Attrs(attrs), b.len(), self_closing);
        }
        if b[at] == b'>' {
            return (Attrs(attrs), at + 1, self_closing);
        }
        self_closing = false;
        let start = at;
        while at < b.len() && !b[at].is_ascii_whitespace() && !matches!(b[at], b'=' | b'>' | b'/') {
            at += 1;
        }
        let name = &html[start..at];
        while at < b.len() && b[at].is_ascii_whitespace() {
            at += 1;
        }
        let mut value: &str = "";
        if at < b.len() && b[at] == b'=' {
            at += 1;
            while at < b.len() && b[at].is_ascii_whitespace() {
                at += 1;
            }
            if at < b.len() && (b[at] == b'"' || b[at] == b'\'') {
                let q = b[at];
                let vs = at + 1;
                let ve = memchr::memchr(q, &b[vs..]).map_or(b.len(), |e| vs + e);
                value = &html[vs..ve];
                at = (ve + 1).min(b.len());
            } else {
                let vs = at;
                while at < b.len() && !b[at].is_ascii_whitespace() && b[at] != b'>' {
                    at += 1;
                }
                value = &html[vs..at];
            }
        }
        if attrs.len() < 64 && !name.is_empty() {
            attrs.push((name, decode_entities(value)));
        }
        // Skip one character (not one byte: `at` must stay on a character boundary; after
        // a quoted value it may sit on any character, as in `<p ="x"é>`).
        if name.is_empty() && at < b.len() && b[at] != b'>' {
            at += html[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
}

fn is_data_uri(v: &str) -> bool {
    v.trim_start()
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("data:"))
}

impl<'h> State<'h> {
    fn start(&mut self, name: Cow<'h, str>, a: &Attrs<'_>, self_closing: bool) {
        // Tags separate words (an inline tag inside a word is an evasion, and counting
        // it as two words errs on the safe side).
        self.in_word = false;
        let max_items = self.max_items;
        let f = &mut self.facts;
        for attr in ["src", "href"] {
            if let Some(v) = a.get(attr)
                && is_data_uri(v)
                && f.data_uris.len() < 20
            {
                f.data_uris.push(v.chars().take(80).collect());
            }
        }
        let mut anchor = false;
        match &*name {
            "a" | "area" => {
                if a.get("href").is_some() && f.links.len() >= max_items {
                    f.links_not_kept += 1;
                }
                if let Some(h) = a.get("href")
                    && f.links.len() < max_items
                {
                    f.links.push(Link {
                        href: h.trim().to_string(),
                        text: String::new(),
                    });
                    if name == "a" {
                        self.in_link = Some(f.links.len() - 1);
                        anchor = true;
                    }
                }
            }
            "img" if f.images.len() < max_items => {
                let style = a.get("style").unwrap_or("");
                f.images.push(Image {
                    src: a.get("src").unwrap_or("").trim().to_string(),
                    width: a
                        .get("width")
                        .and_then(pixels)
                        .or_else(|| style_pixels(style, "width")),
                    height: a
                        .get("height")
                        .and_then(pixels)
                        .or_else(|| style_pixels(style, "height")),
                    alt: a.has("alt"),
                });
            }
            "form" if f.forms.len() < max_items => f.forms.push(Form {
                action: a.get("action").map(|v| v.trim().to_string()),
                password: false,
            }),
            "input"
                if a.get("type")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("password")) =>
            {
                match f.forms.last_mut() {
                    Some(form) => form.password = true,
                    None => f.forms.push(Form {
                        action: None,
                        password: true,
                    }),
                }
            }
            "script" => f.scripts += 1,
            "font" => {
                if let Some(size) = a.get("size") {
                    let size = size.trim();
                    let n: Option<i32> = size.trim_start_matches('+').parse().ok();
                    if n.is_some_and(|n| {
                        (size.starts_with('+') && n >= 2)
                            || (!size.starts_with(['+', '-']) && n >= 5)
                    }) {
                        f.huge_fonts += 1;
                    }
                }
                if let Some(c) = a.get("color") {
                    let c = c.trim().trim_start_matches('#');
                    if ["red", "ff0000", "f00"]
                        .iter()
                        .any(|r| c.eq_ignore_ascii_case(r))
                    {
                        f.red_fonts += 1;
                    }
                }
            }
            "iframe" | "frame" if f.frames.len() < max_items => {
                f.frames.push(a.get("src").unwrap_or("").to_string())
            }
            "object" | "embed" | "applet" => f.objects += 1,
            "meta"
                if a.get("http-equiv")
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("refresh")) =>
            {
                let content = a.get("content").unwrap_or("");
                let target = content
                    .split_once(['=', ';'])
                    .map(|(_, t)| {
                        let t = t.trim();
                        let t = t
                            .get(..4)
                            .filter(|p| p.eq_ignore_ascii_case("url="))
                            .map_or(t, |_| &t[4..]);
                        t.trim_matches(['\'', '"', ' ']).to_string()
                    })
                    .unwrap_or_default();
                f.meta_refresh = Some(target);
            }
            "link" => {
                if a.get("rel")
                    .is_some_and(|r| r.to_ascii_lowercase().contains("stylesheet"))
                    && let Some(h) = a.get("href")
                    && f.stylesheets.len() < max_items
                {
                    f.stylesheets.push(h.to_string());
                }
            }
            _ => {}
        }
        if VOID.contains(&&*name) || self_closing || self.stack.len() >= MAX_STACK {
            return;
        }
        let own = a
            .get("style")
            .and_then(hidden_by_style)
            .or_else(|| a.has("hidden").then_some("the hidden attribute"));
        let prev = self.vis;
        self.vis = match (prev, own) {
            (Some(h), _) if !h.revocable => Some(h),
            (_, Some(how)) => Some(Hiding {
                how,
                revocable: matches!(how, TINY_FONT | SAME_COLOUR | "visibility:hidden"),
            }),
            (Some(h), None) if reveals(h.how, &name, a) => None,
            (v, None) => v,
        };
        self.stack.push(Open {
            name,
            prev,
            starts_run: prev.is_none() && self.vis.is_some(),
            anchor,
        });
    }

    /// Closes the innermost open `name` and everything opened inside it.
    fn end(&mut self, name: &str) {
        self.in_word = false;
        let Some(pos) = self.stack.iter().rposition(|o| o.name == name) else {
            return;
        };
        // Elements opened inside and not closed are closed with it (misnested markup
        // such as <b><a></b></a> is common in honest mail and is not counted).
        while self.stack.len() > pos {
            let o = self.stack.pop().expect("stack is longer than pos");
            self.close(o, false);
        }
    }

    fn close(&mut self, o: Open<'h>, implied: bool) {
        if implied && CONTAINERS.contains(&&*o.name) {
            self.facts.unclosed += 1;
        }
        if o.anchor
            && let Some(l) = self.in_link.take()
        {
            let t = collapse(&self.facts.links[l].text);
            self.facts.links[l].text = t;
        }
        let how = self.vis.map(|h| h.how);
        self.vis = o.prev;
        if o.starts_run
            && let Some(how) = how
        {
            let run = std::mem::take(&mut self.run);
            let text = collapse(&decode_entities(&run));
            if !text.is_empty() && self.facts.hidden.len() < 20 {
                self.facts.hidden.push(Hidden { how, text });
            }
        }
    }
}

/// Scans one HTML document.
pub fn scan(html: &str) -> HtmlFacts {
    scan_with(html, MAX_ITEMS)
}

/// [`scan`], keeping at most `max_items` links, images, forms, frames and style sheets
/// (`limits.max_links`).
pub fn scan_with(html: &str, max_items: usize) -> HtmlFacts {
    let b = html.as_bytes();
    let mut st = State {
        max_items,
        ..State::default()
    };
    let mut at = 0;
    // One attribute buffer for every tag.
    let mut spare = Vec::new();
    while let Some(p) = memchr::memchr(b'<', &b[at..]) {
        let lt = at + p;
        push_text(&mut st, &html[at..lt]);
        let rest = &b[lt + 1..];
        if rest.starts_with(b"!--") {
            at = memchr::memmem::find(&b[lt + 4..], b"-->").map_or(b.len(), |e| lt + 4 + e + 3);
            glued(&mut st.facts, html, lt, at);
        } else if rest.first().is_some_and(|c| matches!(c, b'!' | b'?')) {
            at = memchr::memchr(b'>', rest).map_or(b.len(), |e| lt + 1 + e + 1);
        } else if rest.first() == Some(&b'/') && rest.get(1).is_some_and(u8::is_ascii_alphabetic) {
            let ns = lt + 2;
            let mut ne = ns;
            while ne < b.len() && (b[ne].is_ascii_alphanumeric() || b[ne] == b'-') {
                ne += 1;
            }
            let name = lower(&html[ns..ne]);
            at = memchr::memchr(b'>', &b[ne..]).map_or(b.len(), |e| ne + e + 1);
            st.gap = st.gap.max(gap_of(&name));
            st.end(&name);
        } else if rest.first().is_some_and(u8::is_ascii_alphabetic) {
            let ns = lt + 1;
            let mut ne = ns;
            while ne < b.len() && (b[ne].is_ascii_alphanumeric() || b[ne] == b'-' || b[ne] == b':')
            {
                ne += 1;
            }
            let name = lower(&html[ns..ne]);
            st.gap = st.gap.max(gap_of(&name));
            let (attrs, next, self_closing) = attributes(html, ne, std::mem::take(&mut spare));
            st.start(name.clone(), &attrs, self_closing);
            spare = attrs.0;
            at = next;
            // An inline element with nothing inside, between letters: `Ci<b></b>alis`.
            if INLINE.contains(&&*name)
                && b.get(at..at + 2) == Some(b"</")
                && b.get(at + 2..at + 2 + name.len())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
                && b.get(at + 2 + name.len()) == Some(&b'>')
            {
                glued(&mut st.facts, html, lt, at + 3 + name.len());
            }
            // Raw text: nothing in it is markup or visible text.
            if matches!(
                &*name,
                "script"
                    | "style"
                    | "title"
                    | "textarea"
                    | "xmp"
                    | "iframe"
                    | "noembed"
                    | "noframes"
            ) {
                let close = format!("</{name}");
                let end = find_ci(&b[at..], close.as_bytes()).map_or(b.len(), |e| at + e);
                at = end;
            }
        } else {
            push_text(&mut st, "<");
            at = lt + 1;
        }
    }
    push_text(&mut st, &html[at..]);
    // Whatever is still open at the end of the document.
    while let Some(o) = st.stack.pop() {
        st.close(o, true);
    }
    st.facts
}

/// Inline elements that render nothing when empty.
const INLINE: &[&str] = &["b", "i", "u", "s", "em", "strong", "span", "font"];

/// Records `html[start..end]` (a comment or an empty element) when it sits between two
/// letters on each side.
fn glued(f: &mut HtmlFacts, html: &str, start: usize, end: usize) {
    let b = html.as_bytes();
    let letters = |r: std::ops::Range<usize>| {
        b.get(r)
            .is_some_and(|w| w.iter().all(u8::is_ascii_alphabetic))
    };
    if start >= 2 && letters(start - 2..start) && letters(end..end + 2) && f.split_words.len() < 5 {
        let from = html.floor_char_boundary(start - 2);
        let to = html.ceil_char_boundary((end + 2).min(html.len()));
        f.split_words
            .push(html[from..to].chars().take(80).collect());
    }
}

/// Case-insensitive search for an ASCII needle.
fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle.first()?;
    let mut from = 0;
    while let Some(p) = memchr::memchr2(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        &hay[from..],
    ) {
        let i = from + p;
        if hay
            .get(i..i + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
        {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_images_forms() {
        let f = scan(
            r#"<html><head><title>T</title><style>p{}</style><link rel="stylesheet" href="https://x.example/a.css"></head>
            <body><p>Hello <a href=" https://bank.example/login ">www.bank.example</a> and
            <a href="https://t.example/c"><img src="https://t.example/logo.png" width="120" height="40" alt=""></a></p>
            <img src="https://t.example/open.gif" width="1" height="1">
            <form action="https://evil.example/post"><input type="password" name="p"></form>
            <script>var x = "not text";</script><iframe src="https://f.example/"></iframe>
            <meta http-equiv="refresh" content="0; url=https://r.example/">
            </body></html>"#,
        );
        assert_eq!(f.links.len(), 2);
        assert_eq!(f.links[0].href, "https://bank.example/login");
        assert_eq!(f.links[0].text, "www.bank.example");
        assert_eq!(f.links[1].text, "");
        assert_eq!(f.images.len(), 2);
        assert_eq!(
            (f.images[1].width, f.images[1].height, f.images[1].alt),
            (Some(1), Some(1), false)
        );
        assert!(f.images[0].alt);
        assert_eq!(
            f.forms,
            [Form {
                action: Some("https://evil.example/post".into()),
                password: true
            }]
        );
        assert_eq!((f.scripts, f.frames.len()), (1, 1));
        assert_eq!(f.meta_refresh.as_deref(), Some("https://r.example/"));
        assert_eq!(f.stylesheets, ["https://x.example/a.css"]);
        assert_eq!(f.visible_words, 3, "{f:?}");
        assert_eq!(f.unclosed, 0);
    }

    #[test]
    fn hidden_text_and_unclosed_tags() {
        let f = scan(
            r##"<div style="display: none !important">cheap pills</div><p>Visible words here</p>
            <span style="font-size:0px">viagra</span><font color="#fff" style="color:#fff;background-color:#fff">x y</font>
            <div><div><span>open"##,
        );
        let hows: Vec<_> = f.hidden.iter().map(|h| (h.how, h.text.as_str())).collect();
        assert_eq!(hows[0], ("display:none", "cheap pills"));
        assert_eq!(hows[1], ("a font size of zero or one pixel", "viagra"));
        assert_eq!(hows[2].0, "text the same colour as its background");
        assert_eq!(f.unclosed, 3);
        assert!(f.visible_words >= 3);
    }

    #[test]
    fn descendants_can_show_what_a_tiny_font_hid() {
        // Newsletter templates zero the font size of a cell to close gaps between
        // inline blocks, and set it again inside.
        let f = scan(
            r#"<td style="font-size:0px"> <div style="font-size:14px">Spring sale starts now</div>
            <span style="visibility:hidden"><b style="visibility:visible">shown</b></span></td>"#,
        );
        assert!(f.hidden.is_empty(), "{:?}", f.hidden);
        assert_eq!(f.visible_words, 5);
        // display:none cannot be undone inside; a tiny font without a new size stays hidden.
        let f = scan(
            r#"<div style="display:none"><p style="font-size:14px">a b</p></div><div style="font-size:1px">c <span>d</span></div>"#,
        );
        let texts: Vec<_> = f.hidden.iter().map(|h| h.text.as_str()).collect();
        assert_eq!(texts, ["a b", "c d"]);
        assert_eq!(f.visible_words, 0);
    }

    #[test]
    fn styles() {
        assert_eq!(hidden_by_style("DISPLAY:NONE"), Some("display:none"));
        assert_eq!(
            hidden_by_style("position:absolute; left:-9999px"),
            Some("a position far off-screen")
        );
        assert_eq!(hidden_by_style("font-size: 12px; color: #333"), None);
        assert_eq!(hidden_by_style("max-height:0; overflow:hidden"), None);
    }

    #[test]
    fn broken_markup_never_panics() {
        let base = "<html><body><p style='color:red;background:red'>é <a href=\"https://x.example/?a=1&amp;b=2\">ünï <b></b>code</a><!-- c --><img src=x width=1></p><script>x</script></body></html>";
        for cut in 0..=base.len() {
            if base.is_char_boundary(cut) {
                let _ = scan(&base[..cut]);
            }
        }
        for odd in [
            "<",
            "</",
            "<a",
            "<a href='",
            "<!--",
            "<script>",
            "<a href=\u{e9}\u{e9}>x",
            "<<<>>>",
            "</ >",
            "<a =x>",
            "&#xFFFFFFFF; &#99999999;",
            "<p style=\"left:-\">",
        ] {
            let _ = scan(odd);
        }
        let f = scan("<a href=\"https://x.example/?a=1&amp;b=2\">x &amp; y</a>");
        assert_eq!(f.links[0].href, "https://x.example/?a=1&b=2");
        assert_eq!(f.links[0].text, "x & y");
    }

    /// A nameless attribute whose quoted value is followed by a multi-byte character used
    /// to step one byte into it and panic slicing the next name (issue 20).
    #[test]
    fn nameless_attribute_before_a_multibyte_character() {
        for html in [
            "<p =\"x\"\u{e9}>text</p>",
            "<a ='\u{1f600}'\u{20ac}\u{20ac} href=\"https://x.example/\">link</a>",
            "<b =\"\"\u{e9}",
        ] {
            let _ = scan(html);
        }
        let f = scan("<a ='x'\u{20ac} href=\"https://x.example/\">link</a>");
        assert_eq!(f.links[0].href, "https://x.example/");
        assert_eq!(f.links[0].text, "link");
    }
}
