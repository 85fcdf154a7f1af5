//! What a file really is, from its first bytes (magic numbers, through the file-format
//! crate), and what its name or declared type claim it is.

use file_format::{FileFormat, Kind};

/// The classes of file the attachment rules tell apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Native or virtual-machine code: PE, ELF, Mach-O, Java classes, ...
    Executable,
    /// A zip container (plain zip, OOXML, OpenDocument, jar, ...).
    Zip,
    /// A gzip stream.
    Gzip,
    /// A POSIX or GNU tar archive.
    Tar,
    /// A 7-Zip archive.
    SevenZip,
    /// A RAR archive.
    Rar,
    /// Another archive format preflight does not list (cab, arj, ace, xz, bzip2, ...).
    OtherArchive,
    /// An OLE compound file (legacy Office, Outlook .msg, encrypted OOXML).
    Ole,
    /// A PDF document.
    Pdf,
    /// An HTML document.
    Html,
    /// A raster or vector image.
    Image,
    /// A disk image (ISO 9660, VHD, VHDX, DMG, ...).
    DiskImage,
    /// Text or anything else.
    Other,
}

impl Class {
    /// Whether preflight opens this class to list what it holds.
    pub(crate) fn is_container(self) -> bool {
        matches!(
            self,
            Class::Zip | Class::Gzip | Class::Tar | Class::SevenZip
        )
    }
    /// Whether this is an archive of any kind.
    pub(crate) fn is_archive(self) -> bool {
        self.is_container() || matches!(self, Class::Rar | Class::OtherArchive)
    }
}

/// The detected format of a file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Detected {
    /// The format file-format names.
    pub format: FileFormat,
    /// Its class.
    pub class: Class,
}

impl Detected {
    /// "PE executable (application/vnd.microsoft.portable-executable)".
    pub(crate) fn describe(&self) -> String {
        format!("{} ({})", self.format.name(), self.format.media_type())
    }
}

/// Detects the format of `data` (the whole file or at least its first few KB).
pub(crate) fn detect(data: &[u8]) -> Detected {
    quick(data).unwrap_or_else(|| full(data))
}

/// The formats mail carries most, by their leading bytes, and text: file-format tries
/// hundreds of signatures, which is most of the cost for a message full of small text
/// or image attachments.
fn quick(data: &[u8]) -> Option<Detected> {
    let (format, class) = if data.starts_with(b"%PDF-") {
        (FileFormat::PortableDocumentFormat, Class::Pdf)
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        (FileFormat::PortableNetworkGraphics, Class::Image)
    } else if data.starts_with(b"\xff\xd8\xff") {
        (FileFormat::JointPhotographicExpertsGroup, Class::Image)
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        (FileFormat::GraphicsInterchangeFormat, Class::Image)
    } else if is_text(data) {
        if looks_like_html(data) {
            (FileFormat::HypertextMarkupLanguage, Class::Html)
        } else {
            (FileFormat::PlainText, Class::Other)
        }
    } else {
        return None;
    };
    Some(Detected { format, class })
}

/// Text: the first 512 bytes hold no control bytes other than white space (binary
/// formats all have some in their headers). UTF-8 and 8-bit text both count.
fn is_text(data: &[u8]) -> bool {
    let head = &data[..data.len().min(512)];
    !head.is_empty()
        && head
            .iter()
            .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
}

fn full(data: &[u8]) -> Detected {
    let format = FileFormat::from_bytes(data);
    // Every ustar variant (POSIX "ustar\0", GNU "ustar  "), which file-format is strict about.
    if data.get(257..262) == Some(b"ustar") {
        return Detected {
            format: FileFormat::TapeArchive,
            class: Class::Tar,
        };
    }
    let class = match format {
        FileFormat::Zip => Class::Zip,
        FileFormat::Gzip => Class::Gzip,
        FileFormat::TapeArchive => Class::Tar,
        FileFormat::SevenZip => Class::SevenZip,
        FileFormat::RoshalArchive => Class::Rar,
        FileFormat::CompoundFileBinary => Class::Ole,
        FileFormat::PortableDocumentFormat => Class::Pdf,
        FileFormat::HypertextMarkupLanguage => Class::Html,
        f => match f.kind() {
            Kind::Executable => Class::Executable,
            Kind::Disk => Class::DiskImage,
            Kind::Image => Class::Image,
            Kind::Archive | Kind::Compressed => Class::OtherArchive,
            // Zip-based formats (docx, odt, jar, apk, ...) when a reader feature names them.
            _ if data.starts_with(b"PK\x03\x04") => Class::Zip,
            _ if looks_like_html(data) => Class::Html,
            _ => Class::Other,
        },
    };
    Detected { format, class }
}

/// HTML that file-format's signatures miss: a leading `<html`, `<head`, `<body`, `<form`,
/// `<script` or `<meta` tag after white space, a BOM or a comment-free prologue.
fn looks_like_html(data: &[u8]) -> bool {
    let head = &data[..data.len().min(512)];
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    let Some(rest) = start.map(|i| &head[i..]) else {
        return false;
    };
    [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<form",
        "<script",
        "<meta",
    ]
    .iter()
    .any(|t| rest.len() >= t.len() && rest[..t.len()].eq_ignore_ascii_case(t.as_bytes()))
}

/// The class a file name's extension promises, when it promises one.
pub(crate) fn class_of_extension(ext: &str) -> Option<Class> {
    Some(match ext {
        "pdf" => Class::Pdf,
        "doc" | "dot" | "xls" | "xlt" | "ppt" | "pps" | "msg" | "pub" | "vsd" => Class::Ole,
        "docx" | "docm" | "dotx" | "xlsx" | "xlsm" | "xltx" | "pptx" | "pptm" | "ppsx" | "odt"
        | "ods" | "odp" | "zip" | "epub" => Class::Zip,
        "jpg" | "jpeg" | "png" | "gif" | "bmp" | "tif" | "tiff" | "webp" => Class::Image,
        "gz" | "tgz" => Class::Gzip,
        "tar" => Class::Tar,
        "7z" => Class::SevenZip,
        "rar" => Class::Rar,
        "htm" | "html" | "xhtml" | "shtml" => Class::Html,
        "iso" | "img" | "vhd" | "vhdx" | "dmg" => Class::DiskImage,
        _ => return None,
    })
}

/// The class a declared media type promises, when it promises one
/// (`application/octet-stream` promises nothing).
pub(crate) fn class_of_media_type(ctype: &str, subtype: &str) -> Option<Class> {
    let sub = subtype.to_ascii_lowercase();
    Some(match ctype.to_ascii_lowercase().as_str() {
        "image" if !sub.contains("svg") => Class::Image,
        "application" => match sub.as_str() {
            "pdf" => Class::Pdf,
            "zip" | "x-zip-compressed" | "x-zip" => Class::Zip,
            "msword" | "vnd.ms-excel" | "vnd.ms-powerpoint" => Class::Ole,
            "gzip" | "x-gzip" => Class::Gzip,
            "x-tar" => Class::Tar,
            "x-7z-compressed" => Class::SevenZip,
            "x-rar-compressed" | "vnd.rar" | "x-rar" => Class::Rar,
            s if s.starts_with("vnd.openxmlformats-officedocument.") => Class::Zip,
            _ => return None,
        },
        _ => return None,
    })
}

/// Whether a file that claims class `claimed` but is `real` is a real disagreement, not
/// one of the harmless habits of common software: Office saves HTML under .doc and .xls,
/// an encrypted .docx is an OLE file, and images are often labelled with the wrong
/// image type.
pub(crate) fn disagrees(claimed: Class, real: Class) -> bool {
    if claimed == real || matches!(real, Class::Other | Class::Executable) {
        return false;
    }
    !matches!(
        (claimed, real),
        (Class::Ole, Class::Html) | (Class::Zip, Class::Ole) | (Class::Ole, Class::Zip)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(
            detect(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0").class,
            Class::Executable
        );
        assert_eq!(
            detect(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0").class,
            Class::Executable
        );
        assert_eq!(detect(b"PK\x03\x04\x14\0\0\0\0\0").class, Class::Zip);
        assert_eq!(detect(b"%PDF-1.7\n").class, Class::Pdf);
        assert_eq!(detect(b"\x1f\x8b\x08\0\0\0\0\0\0\x03").class, Class::Gzip);
        assert_eq!(detect(b"Rar!\x1a\x07\x01\0").class, Class::Rar);
        assert_eq!(detect(b"7z\xbc\xaf\x27\x1c\0\x04").class, Class::SevenZip);
        assert_eq!(
            detect(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0").class,
            Class::Ole
        );
        assert_eq!(detect(b"  <HTML><body>x").class, Class::Html);
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").class, Class::Image);
        assert_eq!(detect(b"hello world").class, Class::Other);
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(detect(&tar).class, Class::Tar);
    }

    #[test]
    fn disagreement_ignores_common_habits() {
        assert!(disagrees(Class::Pdf, Class::Zip));
        assert!(disagrees(Class::Image, Class::Html));
        assert!(!disagrees(Class::Ole, Class::Html));
        assert!(!disagrees(Class::Zip, Class::Ole));
        assert!(!disagrees(Class::Image, Class::Image));
        assert!(!disagrees(Class::Pdf, Class::Other));
    }
}
