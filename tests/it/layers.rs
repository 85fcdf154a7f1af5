//! The modules depend on each other one way only: each may use the modules of the layers
//! below its own and none above. Read from the source: every `crate::NAME` path outside
//! comments and outside `#[cfg(test)] mod` blocks (tests may reach up, for example to
//! drive the milter's reply policy from an engine test).

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::{files_under, path};

/// The layers, lowest first. DESIGN.md ("Layout") says what each holds and why.
const LAYERS: &[&[&str]] = &[
    &["util", "error", "envelope", "family"],
    &["report", "dns"],
    &["message"],
    &["config"],
    &["rules"],
    &["model"],
    &["checks"],
    &["verdict"],
    &["engine"],
    &["scan"],
    &["render"],
    &["daemon"],
    &["milter"],
    &["cli"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level module a file under `src/` belongs to (`checks/links.rs` -> `checks`).
fn module_of(rel: &Path) -> String {
    let first = rel.components().next().expect("a path under src");
    let s = first.as_os_str().to_string_lossy();
    s.strip_suffix(".rs").unwrap_or(&s).to_string()
}

/// Where the item that opens at the first `{` of `text` closes (the byte after its `}`),
/// reading strings, raw strings, character literals and comments as Rust does, so a
/// brace inside them does not count.
fn item_end(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut i, mut depth, mut opened) = (0usize, 0usize, false);
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                i += 2 + hashes;
                while i < b.len() && !b[i..].starts_with(&close) {
                    i += 1;
                }
                i += close.len() - 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            // A character literal ('{', '\'', '\u{7b}'); a lifetime ('a) has no closing quote.
            b'\'' => {
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 2;
                } else if let Some(c) = text[i + 1..].chars().next()
                    && text[i + 1 + c.len_utf8()..].starts_with('\'')
                {
                    i += c.len_utf8() + 1;
                }
            }
            b'{' => {
                depth += 1;
                opened = true;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                if opened && depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// The code of a file without comments and without its test modules (`#[cfg(test)]`
/// then `mod`).
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut at = 0;
    while at < text.len() {
        let line_end = text[at..].find('\n').map_or(text.len(), |e| at + e + 1);
        let line = &text[at..line_end];
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            let next = text[line_end..].trim_start();
            if next.starts_with("mod ")
                || next.starts_with("pub mod ")
                || next.starts_with("pub(crate) mod ")
            {
                let from = text.len() - next.len();
                at = from + item_end(&text[from..]);
                continue;
            }
        }
        if !t.starts_with("//") {
            out.push_str(line);
        }
        at = line_end;
    }
    out
}

/// The leading name of a path (`config::Config` -> `config`).
fn head(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The items of a `{...}` group's top level (`a::B, c::{d, e}` -> `a::B`, `c::{d, e}`),
/// and where the group ends in `group` (the text after the opening brace).
fn group_items(group: &str) -> (Vec<&str>, usize) {
    let (mut depth, mut from) = (1usize, 0usize);
    let mut items = Vec::new();
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    items.push(&group[from..i]);
                    return (items, i);
                }
            }
            ',' if depth == 1 => {
                items.push(&group[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    items.push(&group[from..]);
    (items, group.len())
}

/// The top-level modules `code` names after `crate::` (`crate::rules::Rule`,
/// `use crate::{config::Config, message}`).
fn uses(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let (items, end) = group_items(group);
            found.extend(items.into_iter().map(head).filter(|n| !n.is_empty()));
            rest = &group[end..];
        } else {
            let n = head(rest);
            if !n.is_empty() {
                found.insert(n);
            }
        }
    }
    found
}

#[test]
fn modules_depend_one_way() {
    let src = path("src");
    let files = files_under(&src, "rs");
    let mut wrong = Vec::new();
    let mut placed = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let module = module_of(rel);
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = layer(&module) else {
            wrong.push(format!(
                "{}: module `{module}` is in no layer",
                rel.display()
            ));
            continue;
        };
        placed.insert(module.clone());
        let text = std::fs::read_to_string(f).expect("a source file is readable");
        for used in uses(&code(&text)) {
            if used == module {
                continue;
            }
            match layer(&used) {
                Some(l) if l < own => {}
                Some(_) => wrong.push(format!(
                    "{}: `{module}` uses `crate::{used}`, which is not below it",
                    rel.display()
                )),
                // Items re-exported at the crate root (crate::Config, crate::Engine).
                None => {}
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
    // Every layer names a module that exists.
    for l in LAYERS.iter().flat_map(|l| l.iter()) {
        assert!(placed.contains(*l), "no module `{l}` under src/");
    }
}

#[test]
fn the_reader_sees_groups_and_paths() {
    let c = code(concat!(
        "use crate::{config::Config, message::{self, text}};\n// crate::cli\n",
        "fn f() { crate::rules::x(); }\n#[cfg(test)]\nmod tests {\n",
        "    const B: char = '}'; const S: &str = \"}}\"; const R: &str = r#\"}\"#;\n",
        "    fn g<'a>(x: &'a str) -> &'a str { x }\n    use crate::milter;\n}\n",
        "fn h() { crate::scan::y(); }\n",
    ));
    let u: Vec<String> = uses(&c).into_iter().collect();
    assert_eq!(u, ["config", "message", "rules", "scan"]);
}
