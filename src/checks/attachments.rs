//! The `attachments` family's code rules. This module starts with what the file names and
//! the EICAR test file give away: executables and scripts, disk images, double extensions,
//! bidi controls and space padding in names. Magic bytes, archives, Office macros and PDF
//! actions build on the same inventory.

use memchr::memmem;

use super::{Check, Ctx};
use crate::message::Message;
use crate::message::text::{leaf_at, walk_leaves};

/// Attachment checks.
pub struct AttachmentsCheck;

/// The EICAR anti-virus test string (the standard file starts with it).
const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// Extensions of files that run code when opened: the set Gmail blocks (its help page
/// "File types blocked in Gmail"), disk images apart.
pub const EXECUTABLE: &[&str] = &[
    "ade",
    "adp",
    "apk",
    "appx",
    "appxbundle",
    "bat",
    "cab",
    "chm",
    "cmd",
    "com",
    "cpl",
    "diagcab",
    "diagcfg",
    "diagpack",
    "dll",
    "dmg",
    "ex",
    "ex_",
    "exe",
    "hta",
    "ins",
    "isp",
    "jar",
    "jnlp",
    "js",
    "jse",
    "lib",
    "lnk",
    "mde",
    "msc",
    "msi",
    "msix",
    "msixbundle",
    "msp",
    "mst",
    "nsh",
    "pif",
    "ps1",
    "scr",
    "sct",
    "shb",
    "sys",
    "vb",
    "vbe",
    "vbs",
    "vxd",
    "wsc",
    "wsf",
    "wsh",
    "xll",
];

/// Disk images: they mount as a drive and carry executables past attachment filters;
/// Gmail blocks .iso, .img and .vhd, Microsoft 365's common-attachment filter .vhdx too.
pub const DISK_IMAGE: &[&str] = &["iso", "img", "vhd", "vhdx"];

/// Extensions a file pretends to have in front of the real one (`invoice.pdf.exe`).
const DECOY: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "txt", "csv", "jpg", "jpeg", "png",
    "gif", "bmp", "tif", "tiff", "mp3", "mp4", "avi", "mov", "wav", "zip", "rar", "htm", "html",
    "odt", "ods", "eml", "msg",
];

/// One attached or inline file.
struct File<'m> {
    path: String,
    name: Option<String>,
    data: &'m [u8],
    header_start: usize,
    body_start: usize,
}

/// Every leaf part (for EICAR) with its file name, when it has one, including the parts
/// of attached messages.
fn files<'m>(msg: &'m Message<'_>) -> Vec<File<'m>> {
    use mail_parser::{MimeHeaders, PartType};
    let mut out = Vec::new();
    let Some(parsed) = &msg.parsed else {
        return out;
    };
    walk_leaves(msg.raw, parsed, &mut |header_start, i, part| {
        let data: &[u8] = match &part.body {
            PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
            PartType::Binary(b) | PartType::InlineBinary(b) => b.as_ref(),
            _ => return,
        };
        let leaf = leaf_at(&msg.mime, header_start);
        out.push(File {
            path: leaf.map_or_else(|| format!("?{i}"), |l| l.path.clone()),
            name: part.attachment_name().map(str::to_string),
            data,
            header_start,
            body_start: leaf.map_or(header_start, |l| l.body_start),
        });
    });
    out
}

/// The extension after the last dot, lower-cased, trailing dots and spaces ignored.
fn extension(name: &str) -> Option<String> {
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

impl Check for AttachmentsCheck {
    fn ids(&self) -> &'static [&'static str] {
        &["ATT001", "ATT002", "ATT003", "ATT004", "ATT005", "ATT006"]
    }

    fn run(&self, msg: &Message<'_>, cx: &mut Ctx<'_>) {
        for f in files(msg) {
            let ev = || vec![msg.raw_evidence(f.header_start, f.body_start)];
            let label = match &f.name {
                Some(n) => format!("part {} \u{201c}{}\u{201d}", f.path, shown(n)),
                None => format!("part {}", f.path),
            };
            if f.data.len() >= EICAR.len() && memmem::find(f.data, EICAR).is_some() {
                cx.hit(
                    "ATT001",
                    format!("{label} is the EICAR anti-virus test file"),
                    ev(),
                );
            }
            let Some(name) = f.name.as_deref() else {
                continue;
            };
            if name.chars().any(bidi_control) {
                cx.hit(
                    "ATT005",
                    format!("The file name of {label} holds a bidi control that reorders how it is shown"),
                    ev(),
                );
            }
            let clean: String = name.chars().filter(|c| !bidi_control(*c)).collect();
            let Some(ext) = extension(&clean) else {
                continue;
            };
            if EXECUTABLE.contains(&ext.as_str()) {
                cx.hit(
                    "ATT002",
                    format!("{label} is a .{ext} file: an executable or script"),
                    ev(),
                );
            } else if DISK_IMAGE.contains(&ext.as_str()) {
                cx.hit("ATT003", format!("{label} is a .{ext} disk image"), ev());
            }
            let dangerous =
                EXECUTABLE.contains(&ext.as_str()) || DISK_IMAGE.contains(&ext.as_str());
            let stem = clean.trim_end_matches(['.', ' ']);
            let stem = &stem[..stem.len() - ext.len() - 1];
            if dangerous
                && let Some(decoy) = extension(stem.trim_end())
                && DECOY.contains(&decoy.as_str())
            {
                cx.hit(
                    "ATT004",
                    format!("{label} shows a .{decoy} extension in front of the real .{ext}"),
                    ev(),
                );
            }
            // Spaces that push the real extension out of sight ("invoice.pdf      .exe").
            let gap = stem.len() - stem.trim_end_matches([' ', '_', '\u{a0}']).len();
            if gap >= 5 || stem.contains("     ") {
                cx.hit(
                    "ATT006",
                    format!(
                        "The file name of {label} is padded with a run of blanks before .{ext}"
                    ),
                    ev(),
                );
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
