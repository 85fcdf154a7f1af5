//! The `attachments` family's code rules: file names (extension weights from
//! `rules/lists/attachment-extensions.txt`, double extensions, bidi controls, padding), the
//! EICAR test file, what the bytes really are (magic numbers), archives listed recursively
//! under a per-message budget (zip, gzip, tar, 7z; RAR detected), Office macros and
//! encryption, PDF active content, and HTML attachments.

mod archive;
mod inspect;
pub(crate) mod kind;
mod office;
mod pdf;
mod sevenz;
#[cfg(test)]
mod tests_archives;

use std::borrow::Cow;

use memchr::memmem;

use super::{Check, Ctx};
use crate::message::Message;
use crate::rules::lists::Lists;
use kind::Class;

/// Attachment checks.
pub(crate) struct AttachmentsCheck;

/// The EICAR anti-virus test string (the standard file starts with it).
const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// The searcher for [`EICAR`], built once (building one costs more than searching a short
/// part).
static EICAR_FINDER: std::sync::LazyLock<memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memmem::Finder::new(EICAR));

/// Extensions a file pretends to have in front of the real one (`invoice.pdf.exe`).
const DECOY: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "txt", "csv", "jpg", "jpeg", "png",
    "gif", "bmp", "tif", "tiff", "mp3", "mp4", "avi", "mov", "wav", "zip", "rar", "htm", "html",
    "odt", "ods", "eml", "msg",
];

/// One leaf part: the message's text bodies and its files.
struct File<'m> {
    path: Cow<'m, str>,
    name: Option<&'m str>,
    /// An attachment or a named inline file, not a body text.
    is_file: bool,
    ctype: (&'m str, &'m str),
    data: Cow<'m, [u8]>,
    header_start: usize,
    body_start: usize,
}

/// Every leaf part of the MIME tree (EICAR is looked for in all of them), including the
/// parts of attached messages ([`Message::leaf_parts`]). Names come decoded (RFC 2231,
/// RFC 2047) from mail-parser; bytes from mail-parser for binary parts and body texts,
/// and decoded from the raw body where mail-parser turned a file into text (a zip
/// declared text/richtext) or did not see the part at all (a boundary parameter folded
/// onto its own line).
fn files<'m>(msg: &'m Message<'_>) -> Vec<File<'m>> {
    let mut out = Vec::new();
    for part in msg.leaf_parts() {
        // (Every part `leaf_parts` gives has its leaf.)
        let Some(leaf) = part.leaf() else { continue };
        let name = part.name();
        // The tree's reading of the disposition (the decoded text reads mail-parser's).
        let is_file = name.is_some()
            || part.disposition() == Some("attachment")
            || !(leaf.is_text() || leaf.is_multipart());
        out.push(File {
            path: part.path(),
            name,
            is_file,
            ctype: part.content_type(),
            data: part.bytes(!is_file),
            header_start: leaf.header_start,
            body_start: leaf.body_start,
        });
    }
    out
}

/// The extension after the last dot, lower-cased, trailing dots and spaces ignored.
pub(crate) fn extension(name: &str) -> Option<String> {
    let n = name.trim_end_matches(['.', ' ']);
    let (stem, ext) = n.rsplit_once('.')?;
    (!stem.trim().is_empty() && !ext.is_empty() && ext.len() <= 20)
        .then(|| ext.to_ascii_lowercase())
}

/// Bidi controls that reorder how a name is shown (`gnp.exe` shown as `exe.png`).
fn bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn shown(name: &str) -> String {
    name.chars()
        .map(|c| {
            if bidi_control(c) {
                format!("<U+{:04X}>", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The name rules for one file name: (rule, weight, what was seen). Inside an archive a
/// listed extension reports as ATT010, outside as ATT002 (ATT003 for disk images).
pub(crate) fn name_findings(
    lists: &Lists,
    name: &str,
    in_archive: bool,
) -> Vec<(&'static str, Option<f64>, String)> {
    let mut out = Vec::new();
    if name.chars().any(bidi_control) {
        out.push((
            "ATT005",
            None,
            "has a bidi control in its name that reorders how the name is shown".to_string(),
        ));
    }
    let clean: String = name.chars().filter(|c| !bidi_control(*c)).collect();
    let Some(ext) = extension(&clean) else {
        return out;
    };
    let weight = lists.extension(&ext);
    if let Some(w) = weight {
        let id = match (in_archive, w.class.as_str()) {
            (true, _) => "ATT010",
            (false, "disk-image") => "ATT003",
            (false, _) => "ATT002",
        };
        let what = w.class.replace('-', " ");
        out.push((id, w.score, format!("is a .{ext} file ({what})")));
    }
    let stem = clean.trim_end_matches(['.', ' ']);
    let stem = &stem[..stem.len() - ext.len() - 1];
    if weight.is_some()
        && let Some(decoy) = extension(stem.trim_end())
        && DECOY.contains(&decoy.as_str())
    {
        out.push((
            "ATT004",
            None,
            format!("shows a .{decoy} extension in front of the real .{ext}"),
        ));
    }
    // Spaces that push the real extension out of sight ("invoice.pdf      .exe").
    let gap = stem.len() - stem.trim_end_matches([' ', '_', '\u{a0}']).len();
    if gap >= 5 || stem.contains("     ") {
        out.push((
            "ATT006",
            None,
            format!("has a name padded with a run of blanks before .{ext}"),
        ));
    }
    out
}

/// Markers of a phishing page in an HTML attachment: a password field, a form posting
/// elsewhere, or script that redirects or unpacks itself.
fn html_phishing_markers(data: &[u8]) -> Vec<&'static str> {
    let lower = data[..data.len().min(512 * 1024)].to_ascii_lowercase();
    let has = |n: &str| memmem::find(&lower, n.as_bytes()).is_some();
    let mut out = Vec::new();
    if has("type=\"password\"") || has("type='password'") || has("type=password") {
        out.push("a password field");
    }
    if has("<form") && (has("action=\"http") || has("action='http") || has("action=http")) {
        out.push("a form that posts to a web site");
    }
    if has("window.location") || has("location.href") || has("location.replace") {
        out.push("script that redirects the browser");
    }
    if has("atob(") || has("unescape(") || has("fromcharcode") {
        out.push("script that decodes hidden content");
    }
    if has("http-equiv=\"refresh\"") || has("http-equiv=refresh") || has("http-equiv='refresh'") {
        out.push("a meta refresh to another page");
    }
    out
}

impl Check for AttachmentsCheck {
    fn ids(&self) -> &'static [&'static str] {
        &[
            "ATT001", "ATT002", "ATT003", "ATT004", "ATT005", "ATT006", "ATT007", "ATT008",
            "ATT010", "ATT011", "ATT012", "ATT013", "ATT014", "ATT015", "ATT017", "ATT020",
            "ATT021", "ATT030", "ATT031", "ATT032", "ATT033", "ATT040", "ATT041",
        ]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        let lists = cx.lists;
        let limits = &cx.config.limits;
        let mut inspector = inspect::Inspector::new(lists, limits);
        for f in files(msg) {
            let ev = || vec![msg.raw_evidence(f.header_start, f.body_start)];
            let mut label = match &f.name {
                Some(n) => format!("part {} \u{201c}{}\u{201d}", f.path, shown(n)),
                None => format!("part {}", f.path),
            };
            if f.data.len() >= EICAR.len() && EICAR_FINDER.find(&f.data).is_some() {
                cx.hit(
                    "ATT001",
                    format!("{label} is the EICAR anti-virus test file"),
                    ev(),
                );
            }
            if !f.is_file {
                continue;
            }
            // Files are named with what they claim to be and what they are.
            let det = kind::detect(&f.data);
            let declared = format!("{}/{}", f.ctype.0, f.ctype.1);
            label.push_str(&format!(
                " (declared {declared}, detected {})",
                det.format.name()
            ));
            let name = f.name.unwrap_or("");
            for (id, score, text) in name_findings(lists, name, false) {
                cx.hit_weighted(id, score, format!("{label} {text}"), ev());
            }
            let ext = extension(name);
            let listed = ext.as_deref().is_some_and(|e| lists.extension(e).is_some());
            if det.class == Class::Executable && !listed {
                cx.hit(
                    "ATT007",
                    format!("{label} is {} by its content", det.describe()),
                    ev(),
                );
            }
            let claimed = ext
                .as_deref()
                .and_then(kind::class_of_extension)
                .map(|c| (c, format!("named .{}", ext.as_deref().unwrap_or(""))))
                .or_else(|| {
                    kind::class_of_media_type(f.ctype.0, f.ctype.1)
                        .map(|c| (c, format!("declared {declared}")))
                });
            if let Some((c, how)) = claimed
                && kind::disagrees(c, det.class)
            {
                cx.hit(
                    "ATT008",
                    format!("{label} is {how} but its content is {}", det.describe()),
                    ev(),
                );
            }
            // Word and Excel save HTML under .doc and .xls: those are not HTML attachments.
            let office_name = ext.as_deref().and_then(kind::class_of_extension) == Some(Class::Ole);
            let html = (det.class == Class::Html && !office_name)
                || f.ctype == ("text", "html")
                || ext
                    .as_deref()
                    .is_some_and(|e| matches!(e, "htm" | "html" | "xhtml" | "shtml"));
            if html && f.name.is_some() {
                cx.hit(
                    "ATT040",
                    format!("{label} is an HTML file attached to the message"),
                    ev(),
                );
                let markers = html_phishing_markers(&f.data);
                if !markers.is_empty() {
                    cx.hit(
                        "ATT041",
                        format!("{label} is an HTML attachment with {}", markers.join(", ")),
                        ev(),
                    );
                }
            }
            let mut chain = Vec::new();
            if !name.is_empty() {
                chain.push(name.to_string());
            }
            inspector.inspect(&mut chain, &f.data, det, 0);
            for found in inspector.found.drain(..) {
                let text = if found.member.is_empty() || found.member == name {
                    format!("{label} {}", found.text)
                } else {
                    let inner = found
                        .member
                        .strip_prefix(name)
                        .map_or(found.member.as_str(), |m| {
                            m.trim_start_matches(" \u{203a} ")
                        });
                    format!("{label}: member {} {}", shown(inner), found.text)
                };
                cx.hit_weighted(found.id, found.score, text, ev());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fired;

    fn with_file(name: &str, body: &str) -> String {
        format!(
            "From: a@example.com\nTo: b@example.org\nSubject: files\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\nSee the file.\n--B\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"{name}\"\n\n{body}\n--B--\n"
        )
    }

    fn ids(raw: &str) -> Vec<String> {
        fired("attachments", crate::Config::default(), raw.as_bytes())
    }

    #[test]
    fn names() {
        assert_eq!(ids(&with_file("setup.exe", "MZ")), ["ATT002"]);
        assert_eq!(
            ids(&with_file("invoice.pdf.exe", "MZ")),
            ["ATT002", "ATT004"]
        );
        assert_eq!(ids(&with_file("disk.iso", "x")), ["ATT003"]);
        assert_eq!(
            ids(&with_file("invoice.pdf          .scr", "x")),
            ["ATT002", "ATT004", "ATT006"]
        );
        assert_eq!(
            ids(&with_file("photo\u{202E}gpj.exe", "x")),
            ["ATT002", "ATT005"]
        );
        for ok in [
            "report.pdf",
            "photo.jpg",
            "archive.tar.gz",
            "notes.txt",
            "v1.2.docx",
        ] {
            assert!(ids(&with_file(ok, "x")).is_empty(), "{ok}");
        }
    }

    #[test]
    fn eicar_anywhere_and_encoded_names() {
        let eicar = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
        assert_eq!(ids(&with_file("eicar.com.txt", eicar)), ["ATT001"]);
        // RFC 2231 and RFC 2047 names are decoded before they are judged.
        let rfc2231 = "From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf.exe\n\nMZ\n--B--\n";
        assert_eq!(ids(rfc2231), ["ATT002", "ATT004"]);
        let rfc2047 = "From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: application/octet-stream; name=\"=?UTF-8?B?c2V0dXAuZXhl?=\"\n\nMZ\n--B--\n";
        assert_eq!(ids(rfc2047), ["ATT002"]);
    }
}
