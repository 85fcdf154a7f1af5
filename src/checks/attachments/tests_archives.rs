//! Archive, document and limit tests. Every archive is generated here, in memory.

use std::io::Write;
use std::time::{Duration, Instant};

use super::office::tests::ole_file;
use crate::checks::fired;
use crate::config::Config;

/// A zip file: (name, bytes, deflate?, encrypted?) per member. CRCs are left zero:
/// preflight never checks them.
pub(crate) fn zip(members: &[(&str, &[u8], bool, bool)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data, deflate, enc) in members {
        let stored = if *deflate {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        } else {
            data.to_vec()
        };
        raw_member(
            &mut out,
            &mut central,
            name,
            &stored,
            data.len() as u32,
            *deflate,
            *enc,
        );
    }
    finish(out, central, members.len())
}

fn raw_member(
    out: &mut Vec<u8>,
    central: &mut Vec<u8>,
    name: &str,
    stored: &[u8],
    size: u32,
    deflate: bool,
    enc: bool,
) {
    let offset = out.len() as u32;
    let method: u16 = if deflate { 8 } else { 0 };
    let flags: u16 = u16::from(enc);
    out.extend(b"PK\x03\x04\x14\0");
    out.extend(flags.to_le_bytes());
    out.extend(method.to_le_bytes());
    out.extend([0u8; 8]); // time, date, crc
    out.extend((stored.len() as u32).to_le_bytes());
    out.extend(size.to_le_bytes());
    out.extend((name.len() as u16).to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(name.as_bytes());
    out.extend(stored);
    central.extend(b"PK\x01\x02\x14\0\x14\0");
    central.extend(flags.to_le_bytes());
    central.extend(method.to_le_bytes());
    central.extend([0u8; 8]);
    central.extend((stored.len() as u32).to_le_bytes());
    central.extend(size.to_le_bytes());
    central.extend((name.len() as u16).to_le_bytes());
    central.extend([0u8; 12]); // extra, comment, disk, internal and external attributes
    central.extend(offset.to_le_bytes());
    central.extend(name.as_bytes());
}

fn finish(mut out: Vec<u8>, central: Vec<u8>, n: usize) -> Vec<u8> {
    let cd = out.len() as u32;
    let n16 = n.min(0xFFFF) as u16;
    out.extend(&central);
    out.extend(b"PK\x05\x06\0\0\0\0");
    out.extend(n16.to_le_bytes());
    out.extend(n16.to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn message(name: &str, data: &[u8]) -> Vec<u8> {
    let b64 = crate::util::base64(data);
    let mut m = format!(
        "From: a@example.com\r\nTo: b@example.org\r\nSubject: files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nSee the file.\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    .into_bytes();
    for line in b64.as_bytes().chunks(76) {
        m.extend(line);
        m.extend(b"\r\n");
    }
    m.extend(b"--B--\r\n");
    m
}

fn ids_with(config: Config, name: &str, data: &[u8]) -> Vec<String> {
    fired("attachments", config, &message(name, data))
}

fn ids(name: &str, data: &[u8]) -> Vec<String> {
    ids_with(Config::default(), name, data)
}

fn report(name: &str, data: &[u8]) -> crate::report::Report {
    let config = Config {
        select: vec!["attachments".into()],
        ..Config::default()
    };
    crate::Engine::new(config)
        .unwrap()
        .check(&message(name, data), &crate::Envelope::default())
}

const MZ: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0@\0\0\0";

#[test]
fn zip_members_by_name_and_content() {
    let z = zip(&[
        ("docs/readme.txt", b"hello", true, false),
        ("docs/setup.exe", MZ, true, false),
    ]);
    assert_eq!(ids("docs.zip", &z), ["ATT010"]);
    let z = zip(&[("invoice.exe", MZ, true, false)]);
    assert_eq!(ids("invoice.zip", &z), ["ATT010", "ATT011"]);
    // A program named as a picture, inside the archive.
    let z = zip(&[
        ("scan.jpg", MZ, false, false),
        ("b.txt", b"x", false, false),
    ]);
    assert_eq!(ids("scans.zip", &z), ["ATT007"]);
    let r = report("scans.zip", &z);
    let m = &r.findings[0].message;
    assert!(
        m.contains("member scan.jpg") && m.contains("MS-DOS Executable"),
        "{m}"
    );
    // Documents only: nothing.
    let docx = zip(&[
        ("[Content_Types].xml", b"<Types/>", true, false),
        ("word/document.xml", b"<w/>", true, false),
    ]);
    let z = zip(&[
        ("a.pdf", b"%PDF-1.4\n%%EOF", true, false),
        ("b.docx", &docx, false, false),
    ]);
    assert!(ids("docs.zip", &z).is_empty());
}

#[test]
fn encrypted_and_nested_archives() {
    let inner = zip(&[("a.txt", b"x", false, false)]);
    let z = zip(&[("inner.zip", &inner, false, false)]);
    assert_eq!(ids("outer.zip", &z), ["ATT012"]);
    let z = zip(&[
        ("a.pdf", b"%PDF", false, true),
        ("b.pdf", b"%PDF", false, true),
    ]);
    assert_eq!(ids("secret.zip", &z), ["ATT013"]);
    let z = zip(&[("inner.zip", &inner, false, true)]);
    assert_eq!(ids("secret.zip", &z), ["ATT017", "ATT013"]);
    // An executable inside a nested archive is still found, with its member path.
    let deep = zip(&[("run.scr", MZ, true, false), ("x.txt", b"x", false, false)]);
    let z = zip(&[
        ("inner.zip", &deep, true, false),
        ("y.txt", b"y", false, false),
    ]);
    let r = report("outer.zip", &z);
    let att010 = r
        .findings
        .iter()
        .find(|f| f.id == "ATT010")
        .expect("ATT010");
    assert!(
        att010.message.contains("inner.zip \u{203a} run.scr"),
        "{}",
        att010.message
    );
}

#[test]
fn gzip_and_tar() {
    let mut tar = Vec::new();
    for (name, data) in [
        ("notes.txt", &b"hello"[..]),
        ("tools/run.ps1", b"Write-Host hi"),
    ] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        tar.extend(h);
        tar.extend(data);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.extend([0u8; 1024]);
    assert_eq!(ids("backup.tar", &tar), ["ATT010"]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    assert_eq!(ids("backup.tar.gz", &gz), ["ATT010"]);
    let r = report("backup.tgz", &gz);
    assert!(
        r.findings[0]
            .message
            .contains("backup.tar \u{203a} tools/run.ps1"),
        "{}",
        r.findings[0].message
    );
    // A gzipped program.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(MZ).unwrap();
    assert_eq!(ids("update.gz", &gz.finish().unwrap()), ["ATT007"]);
}

/// A 7z archive with a plain header and one COPY folder holding `names` (all in one
/// stream), or with that header LZMA-encoded.
fn sevenz(names: &[&str], aes: bool, encode: bool) -> Vec<u8> {
    let content = b"data";
    let mut h = vec![0x01, 0x04]; // Header, MainStreamsInfo
    h.extend([0x06, 0x00, 0x01, 0x09, content.len() as u8, 0x00]); // PackInfo
    h.extend([0x07, 0x0B, 0x01, 0x00]); // UnPackInfo, one folder
    if aes {
        h.extend([0x01, 0x24, 0x06, 0xF1, 0x07, 0x01, 0x01, 0x00]);
    } else {
        h.extend([0x01, 0x01, 0x00]);
    }
    h.extend([0x0C, content.len() as u8, 0x00]);
    h.extend([0x08, 0x0D, names.len() as u8]); // SubStreamsInfo
    if names.len() > 1 {
        h.push(0x09);
        h.extend(std::iter::repeat_n(0x00, names.len() - 1));
    }
    h.extend([0x00, 0x00]); // end SubStreams, end StreamsInfo
    let mut utf16 = vec![0u8];
    for n in names {
        for u in n.encode_utf16().chain([0]) {
            utf16.extend(u.to_le_bytes());
        }
    }
    h.extend([0x05, names.len() as u8, 0x11, utf16.len() as u8]);
    h.extend(&utf16);
    h.extend([0x00, 0x00]);
    let mut packed = content.to_vec();
    let header = if encode {
        let mut lz = Vec::new();
        lzma_rs::lzma_compress(&mut &h[..], &mut lz).unwrap();
        let (props, body) = (&lz[..5], &lz[13..]);
        let pack_pos = packed.len() as u8;
        packed.extend(body);
        let mut e = vec![0x17, 0x06, pack_pos, 0x01, 0x09];
        e.extend(number(body.len() as u64));
        e.extend([
            0x00, 0x07, 0x0B, 0x01, 0x00, 0x01, 0x23, 0x03, 0x01, 0x01, 0x05,
        ]);
        e.extend(props);
        e.push(0x0C);
        e.extend(number(h.len() as u64));
        e.extend([0x00, 0x00]);
        e
    } else {
        h
    };
    let mut out = b"7z\xbc\xaf\x27\x1c\x00\x04".to_vec();
    out.extend([0u8; 4]);
    out.extend((packed.len() as u64).to_le_bytes());
    out.extend((header.len() as u64).to_le_bytes());
    out.extend([0u8; 4]);
    out.extend(packed);
    out.extend(header);
    out
}

/// 7z NUMBER encoding (up to 2 bytes is all the tests need).
fn number(v: u64) -> Vec<u8> {
    if v < 0x80 {
        vec![v as u8]
    } else {
        assert!(v < 0x4000);
        vec![0x80 | (v >> 8) as u8, v as u8]
    }
}

#[test]
fn sevenzip_listing() {
    assert_eq!(
        ids("a.7z", &sevenz(&["notes.txt", "run.exe"], false, false)),
        ["ATT010"]
    );
    assert_eq!(
        ids("a.7z", &sevenz(&["invoice.exe"], false, true)),
        ["ATT010", "ATT011"]
    );
    assert_eq!(
        ids("a.7z", &sevenz(&["a.pdf", "b.pdf"], true, true)),
        ["ATT013"]
    );
    assert!(ids("a.7z", &sevenz(&["a.pdf", "b.txt"], false, true)).is_empty());
    // Cut short: reported as not inspectable, never a panic.
    let whole = sevenz(&["a.pdf"], false, true);
    assert_eq!(ids("a.7z", &whole[..whole.len() - 5]), ["ATT014"]);
}

#[test]
fn office_documents() {
    let doc = ole_file(&[
        (
            "/WordDocument",
            &[0xEC, 0xA5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..],
        ),
        ("/Macros/VBA/_VBA_PROJECT", b"x"),
    ]);
    assert_eq!(ids("letter.doc", &doc), ["ATT020"]);
    let plain = ole_file(&[(
        "/WordDocument",
        &[0xEC, 0xA5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..],
    )]);
    assert!(ids("letter.doc", &plain).is_empty());
    let enc = ole_file(&[("/EncryptionInfo", b"x"), ("/EncryptedPackage", b"y")]);
    assert_eq!(ids("salary.xlsx", &enc), ["ATT021"]);
    let xlsm = zip(&[
        ("[Content_Types].xml", b"<Types/>", true, false),
        ("xl/vbaProject.bin", b"x", true, false),
    ]);
    assert_eq!(ids("book.xlsm", &xlsm), ["ATT020"]);
    // A macro document inside a zip is found too.
    let z = zip(&[
        ("book.xlsm", &xlsm, false, false),
        ("a.txt", b"x", false, false),
    ]);
    assert_eq!(ids("docs.zip", &z), ["ATT020"]);
}

/// A raw deflate stream of `gib` GiB of zeros, about 1 MB per GiB: one block repeated.
fn zeros_bomb(mib: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let zeros = vec![0u8; 1 << 20];
    let mut c = Compress::new(Compression::best(), false);
    let mut first = Vec::with_capacity(1 << 16);
    c.compress_vec(&zeros, &mut first, FlushCompress::Sync)
        .unwrap();
    let mut again = Vec::with_capacity(1 << 16);
    c.compress_vec(&zeros, &mut again, FlushCompress::Sync)
        .unwrap();
    let mut out = first;
    for _ in 1..mib {
        out.extend(&again);
    }
    out.extend([0x03, 0x00]); // a final empty fixed-Huffman block
    out
}

/// The attachment findings for `name`, asserting that the check itself (engine built
/// beforehand) takes under a second.
fn timed(name: &str, data: &[u8]) -> Vec<String> {
    let config = Config {
        select: vec!["attachments".into()],
        ..Config::default()
    };
    let engine = crate::Engine::new(config).unwrap();
    let m = message(name, data);
    let t = Instant::now();
    let r = engine.check(&m, &crate::Envelope::default());
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t.elapsed()
    );
    r.findings.into_iter().map(|f| f.id).collect()
}

#[test]
fn zip_bomb_is_stopped_by_the_ratio_limit() {
    // A single-layer bomb: 1 GiB of zeros in about 1 MB, its size declared honestly.
    let bomb = zeros_bomb(1024);
    let mut out = Vec::new();
    let mut central = Vec::new();
    raw_member(
        &mut out,
        &mut central,
        "data.bin",
        &bomb,
        1 << 30,
        true,
        false,
    );
    let z = finish(out, central, 1);
    assert_eq!(timed("bomb.zip", &z), ["ATT015"]);
    let rep = report("bomb.zip", &z);
    assert!(
        rep.findings[0].message.contains("decompression bomb"),
        "{}",
        rep.findings[0].message
    );
    // A nested one that lies about its size: a zip header followed by a GiB of zeros,
    // which preflight starts to open because it looks like an archive.
    let mut lying = Vec::with_capacity(64);
    let mut c = flate2::Compress::new(flate2::Compression::best(), false);
    c.compress_vec(b"PK\x03\x04", &mut lying, flate2::FlushCompress::Sync)
        .unwrap();
    let tail = zeros_bomb(1024);
    lying.reserve(tail.len());
    // Raw deflate blocks concatenate: the zip header block, then the zeros.
    lying.extend(&tail);
    let mut out = Vec::new();
    let mut central = Vec::new();
    raw_member(
        &mut out,
        &mut central,
        "inner.zip",
        &lying,
        1000,
        true,
        false,
    );
    let z = finish(out, central, 1);
    let r = timed("nested-bomb.zip", &z);
    assert!(r.contains(&"ATT015".to_string()), "{r:?}");
}

#[test]
fn deep_nesting_is_stopped_by_the_depth_limit() {
    let mut z = zip(&[("payload.txt", b"x", false, false)]);
    for i in 0..50 {
        z = zip(&[(&format!("level{i}.zip"), &z, false, false)]);
    }
    let r = timed("nested.zip", &z);
    assert!(r.contains(&"ATT015".to_string()), "{r:?}");
}

#[test]
fn many_entries_are_stopped_by_the_entry_limit() {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for i in 0..100_000 {
        raw_member(
            &mut out,
            &mut central,
            &format!("f{i}.txt"),
            b"",
            0,
            false,
            false,
        );
    }
    let z = finish(out, central, 100_000);
    assert_eq!(timed("many.zip", &z), ["ATT015"]);
}

#[test]
fn byte_budget_and_time_limit() {
    // 3 MiB of text in a nested zip, with a 1 MiB budget.
    let text: Vec<u8> = (0..3 << 20).map(|i| b'a' + (i % 26) as u8).collect();
    let inner = zip(&[("big.txt", &text, false, false)]);
    let inner_tar_like = zip(&[("inner.zip", &inner, true, false)]);
    let mut c = Config::default();
    c.limits.archive_max_bytes = 1 << 20;
    let z = zip(&[
        ("a.zip", &inner_tar_like, true, false),
        ("b.txt", b"x", false, false),
    ]);
    let r = ids_with(c, "outer.zip", &z);
    assert!(r.contains(&"ATT015".to_string()), "{r:?}");
}

#[test]
fn damaged_archives_are_findings_not_panics() {
    let z = zip(&[("a.txt", b"hello world", true, false)]);
    for cut in [z.len() - 1, z.len() / 2, 10] {
        let r = ids("cut.zip", &z[..cut]);
        assert!(r.iter().all(|id| id == "ATT014"), "{r:?}");
    }
    let doc = ole_file(&[("/WordDocument", &[0xEC, 0xA5][..])]);
    for cut in [doc.len() / 2, 600, 513] {
        let _ = ids("letter.doc", &doc[..cut]);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&[7u8; 100_000]).unwrap();
    let gz = gz.finish().unwrap();
    let _ = ids("x.gz", &gz[..gz.len() / 3]);
}

#[test]
fn pdfs() {
    let js =
        b"%PDF-1.4\n1 0 obj<</OpenAction 2 0 R>>endobj 2 0 obj<</S/JavaScript/JS(x)>>endobj\n%%EOF";
    assert_eq!(ids("a.pdf", js), ["ATT030"]);
    let enc = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj trailer<</Encrypt 3 0 R>>\n%%EOF";
    assert_eq!(ids("statement.pdf", enc), ["ATT033"]);
    let r = report("statement.pdf", enc);
    assert_eq!(r.verdict, crate::report::Verdict::Pass);
}

/// Damaged containers of every kind, fed straight to the inspector: byte flips and
/// truncations at many places never panic and never run past the time limit.
#[test]
fn mutated_containers_never_panic() {
    let limits = crate::config::Limits::default();
    let lists = crate::rules::lists::Lists::shipped();
    let inner = zip(&[
        ("a.txt", b"hello hello hello", true, false),
        ("b.exe", MZ, true, false),
    ]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&inner).unwrap();
    let samples: Vec<Vec<u8>> = vec![
        zip(&[
            ("inner.zip", &inner, true, false),
            ("c.pdf", b"%PDF-1.5 /JS", false, false),
        ]),
        gz.finish().unwrap(),
        sevenz(&["a.pdf", "b.exe"], false, true),
        sevenz(&["a.pdf"], false, false),
        ole_file(&[
            ("/Macros/VBA/_VBA_PROJECT", b"x"),
            (
                "/WordDocument",
                &[0xEC, 0xA5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1][..],
            ),
        ]),
    ];
    // A small deterministic generator (xorshift) for the mutation positions.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for s in &samples {
        for round in 0..300 {
            let mut m = s.clone();
            if round % 3 == 0 {
                m.truncate((next() as usize) % s.len());
            } else {
                for _ in 0..1 + round % 4 {
                    let i = (next() as usize) % m.len();
                    m[i] = next() as u8;
                }
            }
            let det = super::kind::detect(&m);
            let mut ins = super::inspect::Inspector::new(&lists, &limits);
            let t = Instant::now();
            ins.inspect(&mut vec!["x".into()], &m, det, 0);
            assert!(t.elapsed() < Duration::from_secs(1));
        }
    }
}

/// What honest senders attach passes with every family on: a PDF invoice, an encrypted
/// PDF statement, a calendar invite, a photo, a .docx and an .xlsx without macros, and a
/// zip of documents.
#[test]
fn legitimate_attachments_pass() {
    let docx = zip(&[
        ("[Content_Types].xml", b"<Types><Override ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>", true, false),
        ("word/document.xml", b"<w:document/>", true, false),
    ]);
    let xlsx = zip(&[
        ("[Content_Types].xml", b"<Types/>", true, false),
        ("xl/workbook.xml", b"<workbook/>", true, false),
    ]);
    let pdf = b"%PDF-1.7\n1 0 obj<</Type/Catalog/OpenAction[3 0 R/Fit]>>endobj\n%%EOF".to_vec();
    let enc_pdf =
        b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj trailer<</Encrypt 5 0 R>>\n%%EOF".to_vec();
    let docs_zip = zip(&[
        ("invoice.pdf", &pdf, true, false),
        ("terms.docx", &docx, false, false),
    ]);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    let ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Review\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".to_vec();
    let files: Vec<(&str, &str, Vec<u8>)> = vec![
        ("invoice.pdf", "application/pdf", pdf.clone()),
        ("statement.pdf", "application/pdf", enc_pdf),
        ("invite.ics", "text/calendar", ics),
        ("photo.png", "image/png", png),
        (
            "terms.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            docx,
        ),
        (
            "figures.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx,
        ),
        ("documents.zip", "application/zip", docs_zip),
    ];
    let mut m = String::from(
        "From: Accounts <accounts@example.com>\r\nTo: jo@example.org\r\nSubject: Your documents for March\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\nMessage-ID: <docs-1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Jo,\r\n\r\nattached are the invoice, the statement and the meeting invite.\r\n\r\nRegards,\r\nAccounts\r\n",
    );
    for (name, ctype, data) in &files {
        m.push_str(&format!("--B\r\nContent-Type: {ctype}\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"));
        for line in crate::util::base64(data).as_bytes().chunks(76) {
            m.push_str(std::str::from_utf8(line).unwrap());
            m.push_str("\r\n");
        }
    }
    m.push_str("--B--\r\n");
    let config = Config {
        now: Some(1_795_424_400),
        ..Config::default()
    };
    let r = crate::Engine::new(config)
        .unwrap()
        .check(m.as_bytes(), &crate::Envelope::default());
    assert_eq!(
        r.verdict,
        crate::report::Verdict::Pass,
        "{:?}",
        r.rule_ids()
    );
    let att: Vec<_> = r
        .rule_ids()
        .into_iter()
        .filter(|i| i.starts_with("ATT"))
        .collect();
    assert_eq!(att, ["ATT033"]);
}

#[test]
fn macro_enabled_content_type() {
    let docm = zip(&[
        ("[Content_Types].xml", b"<Types><Override ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/></Types>", true, false),
        ("word/document.xml", b"<w:document/>", true, false),
    ]);
    assert_eq!(ids("letter.docm", &docm), ["ATT020"]);
}

/// A PDF stuffed with object-stream tokens and no streams stays fast.
#[test]
fn pdf_token_flood_is_linear() {
    let mut pdf = b"%PDF-1.5\n".to_vec();
    for _ in 0..200_000 {
        pdf.extend(b"/ObjStm /JS ");
    }
    let t = Instant::now();
    let r = ids("flood.pdf", &pdf);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(r, ["ATT030"]);
}

/// Files inside a forwarded message are inspected too, under their part path.
#[test]
fn attached_messages_are_inspected() {
    let inner =
        String::from_utf8(message("docs.zip", &zip(&[("setup.exe", MZ, true, false)]))).unwrap();
    let outer = format!(
        "From: a@example.com\r\nTo: b@example.org\r\nSubject: Fwd: files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=OUT\r\n\r\n--OUT\r\nContent-Type: text/plain\r\n\r\nForwarding.\r\n--OUT\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--OUT--\r\n"
    );
    let config = Config {
        select: vec!["attachments".into()],
        ..Config::default()
    };
    let r = crate::Engine::new(config)
        .unwrap()
        .check(outer.as_bytes(), &crate::Envelope::default());
    let f = r
        .findings
        .iter()
        .find(|f| f.id == "ATT010")
        .expect("ATT010");
    assert!(
        f.message.starts_with(
            "part 2.1.2 \u{201c}docs.zip\u{201d} (declared application/octet-stream, detected ZIP): member setup.exe"
        ),
        "{}",
        f.message
    );
}
