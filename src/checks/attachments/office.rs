//! Office documents: VBA macros and encryption in OLE compound files (legacy .doc, .xls,
//! .ppt, and encrypted OOXML, which is an OLE wrapper) and macros in OOXML zip packages.

use std::io::{Cursor, Read};

/// What an OLE compound file shows.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct OleFacts {
    /// Where the VBA project is (`Macros/VBA`, `_VBA_PROJECT_CUR`, ...).
    pub macros: Option<String>,
    /// How the document is encrypted, when it is.
    pub encrypted: Option<&'static str>,
}

/// Most storages and streams looked at in one file.
const MAX_ENTRIES: usize = 10_000;

/// Reads an OLE compound file's directory. `Err` when it is not a readable compound file.
pub(super) fn ole(data: &[u8]) -> Result<OleFacts, String> {
    // A third-party parser on hostile input: a panic in it is a damaged file, not a crash.
    std::panic::catch_unwind(|| ole_inner(data))
        .unwrap_or_else(|_| Err("the compound file parser gave up".into()))
}

fn ole_inner(data: &[u8]) -> Result<OleFacts, String> {
    let mut cf = cfb::CompoundFile::open(Cursor::new(data)).map_err(|e| e.to_string())?;
    let mut facts = OleFacts::default();
    let mut streams = Vec::new();
    for e in cf.walk().take(MAX_ENTRIES) {
        let name = e.name();
        let path = e.path().to_string_lossy().into_owned();
        if facts.macros.is_none()
            && (name.eq_ignore_ascii_case("_VBA_PROJECT")
                || (e.is_storage()
                    && ["VBA", "Macros", "_VBA_PROJECT_CUR"]
                        .iter()
                        .any(|m| name.eq_ignore_ascii_case(m))))
        {
            facts.macros = Some(path.trim_start_matches('/').to_string());
        }
        if e.is_stream() {
            streams.push((name.to_string(), path));
        }
    }
    let has = |n: &str| streams.iter().any(|(s, _)| s == n);
    if has("EncryptedPackage") || has("EncryptionInfo") {
        facts.encrypted = Some("an encrypted Office Open XML package (EncryptedPackage)");
    } else if has("EncryptedSummary") {
        facts.encrypted = Some("an encrypted PowerPoint file");
    } else if has("WordDocument") {
        // Word's FIB: fEncrypted is bit 8 of the flags word at offset 0x0A.
        let mut fib = [0u8; 12];
        if let Ok(mut s) = cf.open_stream("/WordDocument")
            && s.read_exact(&mut fib).is_ok()
            && fib[0..2] == [0xEC, 0xA5]
            && fib[0x0B] & 0x01 != 0
        {
            facts.encrypted = Some("a password-protected Word document");
        }
    } else if let Some((_, path)) = streams.iter().find(|(s, _)| s == "Workbook" || s == "Book") {
        // Excel BIFF: a FILEPASS record (0x002F) near the start of the workbook stream.
        let mut head = Vec::new();
        if let Ok(s) = cf.open_stream(path.as_str()) {
            let _ = s.take(16_384).read_to_end(&mut head);
        }
        let mut at = 0;
        for _ in 0..64 {
            let (Some(t), Some(l)) = (head.get(at..at + 2), head.get(at + 2..at + 4)) else {
                break;
            };
            if u16::from_le_bytes([t[0], t[1]]) == 0x002F {
                facts.encrypted = Some("a password-protected Excel workbook");
                break;
            }
            at += 4 + usize::from(u16::from_le_bytes([l[0], l[1]]));
        }
    }
    Ok(facts)
}

/// Where an OOXML package keeps macros, from its member names: a VBA project
/// (`word/vbaProject.bin`) or Excel 4.0 macro sheets (`xl/macrosheets/`).
pub(super) fn ooxml_macros<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    names.into_iter().find_map(|n| {
        let l = n.to_ascii_lowercase();
        (l.ends_with("vbaproject.bin") || l.starts_with("xl/macrosheets/")).then(|| n.to_string())
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// An OLE file with the given streams (test helper shared with the family's tests).
    pub(crate) fn ole_file(streams: &[(&str, &[u8])]) -> Vec<u8> {
        let mut cf =
            cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))
                .unwrap();
        for (path, data) in streams {
            let p = std::path::Path::new(path);
            if let Some(parent) = p.parent() {
                cf.create_storage_all(parent).unwrap();
            }
            cf.create_stream(p).unwrap().write_all(data).unwrap();
        }
        cf.flush().unwrap();
        cf.into_inner().into_inner()
    }

    #[test]
    fn macros_and_encryption() {
        let doc = ole_file(&[
            (
                "/WordDocument",
                &[0xEC, 0xA5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..],
            ),
            ("/Macros/VBA/_VBA_PROJECT", b"x"),
        ]);
        let f = ole(&doc).unwrap();
        assert_eq!(f.macros.as_deref(), Some("Macros"));
        assert_eq!(f.encrypted, None);
        let enc = ole_file(&[("/EncryptionInfo", b"x"), ("/EncryptedPackage", b"y")]);
        assert!(ole(&enc).unwrap().encrypted.is_some());
        let word = ole_file(&[(
            "/WordDocument",
            &[0xEC, 0xA5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1][..],
        )]);
        assert!(ole(&word).unwrap().encrypted.is_some());
        let xls = ole_file(&[("/Workbook", &[0x09, 0x08, 0, 0, 0x2F, 0, 0, 0][..])]);
        assert!(ole(&xls).unwrap().encrypted.is_some());
        assert!(ole(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 cut short").is_err());
    }

    /// Prints the ATT021 example attachment (`cargo test print_att021 -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn print_att021() {
        let f = ole_file(&[
            ("/EncryptionInfo", b"\x04\x00\x04\x00"),
            ("/EncryptedPackage", b"\x10\x00"),
        ]);
        println!("{}", crate::util::base64(&f));
    }

    #[test]
    fn ooxml() {
        assert!(ooxml_macros(["[Content_Types].xml", "word/vbaProject.bin"]).is_some());
        assert!(ooxml_macros(["[Content_Types].xml", "xl/macrosheets/sheet1.xml"]).is_some());
        assert!(ooxml_macros(["[Content_Types].xml", "word/document.xml"]).is_none());
    }
}
