//! Listing zip, gzip and tar containers from their bytes, without extracting anything to
//! disk. The parsers only read structure: decompression, with its limits, is the
//! inspector's job.

/// The bytes of one archive member as stored.
#[derive(Clone, Copy, Debug)]
pub(super) enum Stored<'a> {
    /// Stored as is.
    Plain(&'a [u8]),
    /// Raw deflate.
    Deflated(&'a [u8]),
    /// A compression method preflight does not decode.
    Unsupported,
    /// The central directory points outside the file.
    Missing,
}

/// One member of an archive.
#[derive(Clone, Debug)]
pub(super) struct Member<'a> {
    /// Path inside the archive.
    pub name: String,
    /// A directory entry.
    pub dir: bool,
    /// Password-protected (zip flag bit 0, or AES method 99).
    pub encrypted: bool,
    /// Compressed and uncompressed sizes as the directory declares them (0 when unknown).
    pub sizes: (u64, u64),
    /// Its bytes.
    pub data: Stored<'a>,
}

/// A listing, possibly cut short at the entry limit.
#[derive(Debug, Default)]
pub(super) struct Listing<'a> {
    /// The members read.
    pub members: Vec<Member<'a>>,
    /// More members than the limit allowed were there.
    pub truncated: bool,
}

/// `d[at..at + len]`, or `None` when it is not all there. Offsets come from the archive
/// (zip64 ones are 64 bits), so `at + len` may not fit in a `usize`.
fn field(d: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    d.get(at..at.checked_add(len)?)
}
fn u16le(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(field(d, at, 2)?.try_into().ok()?))
}
fn u32le(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(field(d, at, 4)?.try_into().ok()?))
}
fn u64le(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(field(d, at, 8)?.try_into().ok()?))
}

/// Where the central directory starts: from the end-of-central-directory record (the
/// last `PK\5\6` in the final 64 KiB), through the zip64 locator when the offset is
/// saturated.
fn central_directory(d: &[u8]) -> Option<usize> {
    let from = d.len().saturating_sub(65_557);
    let eocd = memchr::memmem::rfind(&d[from..], b"PK\x05\x06")? + from;
    let off = u32le(d, eocd + 16)?;
    if off != u32::MAX {
        return usize::try_from(off).ok();
    }
    // Zip64: the locator sits 20 bytes before the EOCD and points at the zip64 record.
    let loc = eocd.checked_sub(20)?;
    if field(d, loc, 4)? != b"PK\x06\x07" {
        return None;
    }
    let rec = usize::try_from(u64le(d, loc + 8)?).ok()?;
    if field(d, rec, 4)? != b"PK\x06\x06" {
        return None;
    }
    usize::try_from(u64le(d, rec + 48)?).ok()
}

/// Lists a zip file from its central directory; at most `max` members are read.
pub(super) fn zip(d: &[u8], max: usize) -> Result<Listing<'_>, &'static str> {
    let mut at = central_directory(d).ok_or("no central directory (damaged or cut short)")?;
    let mut out = Listing::default();
    while field(d, at, 4) == Some(b"PK\x01\x02") {
        if out.members.len() >= max {
            out.truncated = true;
            break;
        }
        let h = d.get(at..at + 46).ok_or("central directory cut short")?;
        let flags = u16le(h, 8).unwrap_or(0);
        let method = u16le(h, 10).unwrap_or(0);
        let mut csize = u64::from(u32le(h, 20).unwrap_or(0));
        let mut usize_ = u64::from(u32le(h, 24).unwrap_or(0));
        let (nlen, xlen, clen) = (
            usize::from(u16le(h, 28).unwrap_or(0)),
            usize::from(u16le(h, 30).unwrap_or(0)),
            usize::from(u16le(h, 32).unwrap_or(0)),
        );
        let mut local = u64::from(u32le(h, 42).unwrap_or(0));
        let name_bytes = d
            .get(at + 46..at + 46 + nlen)
            .ok_or("member name cut short")?;
        let extra = d.get(at + 46 + nlen..at + 46 + nlen + xlen).unwrap_or(&[]);
        // Zip64 extra field: the saturated sizes and offset, in this order.
        let mut x = 0;
        while x + 4 <= extra.len() {
            let (id, len) = (
                u16le(extra, x).unwrap_or(0),
                usize::from(u16le(extra, x + 2).unwrap_or(0)),
            );
            if id == 1 {
                let mut f = x + 4;
                if usize_ == u64::from(u32::MAX) {
                    usize_ = u64le(extra, f).unwrap_or(usize_);
                    f += 8;
                }
                if csize == u64::from(u32::MAX) {
                    csize = u64le(extra, f).unwrap_or(csize);
                    f += 8;
                }
                if local == u64::from(u32::MAX) {
                    local = u64le(extra, f).unwrap_or(local);
                }
            }
            x += 4 + len;
        }
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        let encrypted = flags & 1 != 0 || method == 99;
        let data = member_data(d, local, csize).map_or(Stored::Missing, |b| match method {
            0 => Stored::Plain(b),
            8 => Stored::Deflated(b),
            _ => Stored::Unsupported,
        });
        out.members.push(Member {
            dir: name.ends_with('/'),
            name,
            encrypted,
            sizes: (csize, usize_),
            data,
        });
        at += 46 + nlen + xlen + clen;
    }
    Ok(out)
}

/// The stored bytes of a member from its local header.
fn member_data(d: &[u8], local: u64, csize: u64) -> Option<&[u8]> {
    let local = usize::try_from(local).ok()?;
    if field(d, local, 4)? != b"PK\x03\x04" {
        return None;
    }
    let start =
        local + 30 + usize::from(u16le(d, local + 26)?) + usize::from(u16le(d, local + 28)?);
    let end = start.checked_add(usize::try_from(csize).ok()?)?;
    d.get(start..end.min(d.len()))
}

/// A gzip member: the file name it records (FNAME) and its raw deflate stream.
pub(super) fn gzip(d: &[u8]) -> Result<(Option<String>, &[u8]), &'static str> {
    if d.len() < 18 || d[0] != 0x1f || d[1] != 0x8b || d[2] != 8 {
        return Err("not a deflate gzip stream");
    }
    let flags = d[3];
    let mut at = 10;
    if flags & 4 != 0 {
        at += 2 + usize::from(u16le(d, at).ok_or("cut short")?);
    }
    let mut name = None;
    for bit in [8u8, 16] {
        if flags & bit != 0 {
            let rest = d.get(at..).ok_or("cut short")?;
            let end = memchr::memchr(0, rest).ok_or("unterminated header field")?;
            if bit == 8 {
                name = Some(String::from_utf8_lossy(&rest[..end]).into_owned());
            }
            at += end + 1;
        }
    }
    if flags & 2 != 0 {
        at += 2;
    }
    Ok((name, d.get(at..).ok_or("cut short")?))
}

/// Lists a tar archive (POSIX ustar, GNU long names, pax `path`); at most `max` members.
pub(super) fn tar(d: &[u8], max: usize) -> Listing<'_> {
    let mut out = Listing::default();
    let mut at = 0;
    let mut long_name: Option<String> = None;
    while let Some(h) = d.get(at..at + 512) {
        if h.iter().all(|&b| b == 0) {
            break;
        }
        if out.members.len() >= max {
            out.truncated = true;
            break;
        }
        let Some(size) = octal(&h[124..136]) else {
            break;
        };
        let data_start = at + 512;
        let data = d
            .get(data_start..data_start.saturating_add(size).min(d.len()))
            .unwrap_or(&[]);
        let field = |r: std::ops::Range<usize>| {
            let f = &h[r];
            let end = memchr::memchr(0, f).unwrap_or(f.len());
            String::from_utf8_lossy(&f[..end]).into_owned()
        };
        match h[156] {
            b'L' => long_name = Some(field_text(data)),
            b'x' => {
                // pax extended header: "LEN path=NAME\n" records.
                long_name = field_text(data)
                    .lines()
                    .find_map(|l| l.split_once(" path=").map(|(_, p)| p.to_string()));
            }
            b'g' => {}
            kind => {
                let name = long_name.take().unwrap_or_else(|| {
                    let (prefix, name) = (field(345..500), field(0..100));
                    if &h[257..262] == b"ustar" && !prefix.is_empty() {
                        format!("{prefix}/{name}")
                    } else {
                        name
                    }
                });
                out.members.push(Member {
                    dir: kind == b'5' || name.ends_with('/'),
                    name,
                    encrypted: false,
                    sizes: (data.len() as u64, data.len() as u64),
                    data: Stored::Plain(data),
                });
            }
        }
        at = data_start.saturating_add(size.div_ceil(512) * 512);
    }
    out
}

fn field_text(d: &[u8]) -> String {
    let end = memchr::memchr(0, d).unwrap_or(d.len());
    String::from_utf8_lossy(&d[..end]).trim_end().to_string()
}

/// A tar number field: octal digits, space or NUL padded. Base-256 sizes (high bit set)
/// are over 8 GiB and end the listing.
fn octal(f: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(f).ok()?;
    let s = s.trim_matches(|c: char| c == '\0' || c == ' ');
    if s.is_empty() {
        return Some(0);
    }
    usize::from_str_radix(s, 8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An end-of-central-directory record pointing at `offset`.
    fn eocd(offset: u32) -> Vec<u8> {
        let mut e = b"PK\x05\x06".to_vec();
        e.extend([0u8; 12]);
        e.extend(offset.to_le_bytes());
        e.extend([0u8; 2]);
        e
    }

    /// A zip64 locator pointing at `record`, then an EOCD that defers to it.
    fn zip64_tail(record: u64) -> Vec<u8> {
        let mut t = b"PK\x06\x07".to_vec();
        t.extend([0u8; 4]);
        t.extend(record.to_le_bytes());
        t.extend([0u8; 4]);
        t.extend(eocd(u32::MAX));
        t
    }

    /// 64-bit offsets near `u64::MAX` from the archive used to overflow `at + 4` (a
    /// panic where overflow checks are on, as in tests and debug builds).
    #[test]
    fn offsets_near_the_top_of_the_address_space_are_damage() {
        let huge = u64::MAX - 1;
        // The zip64 locator points past the end of memory.
        assert!(zip(&zip64_tail(huge), 10).is_err());
        // The zip64 record is there and puts the central directory there.
        let mut d = b"PK\x06\x06".to_vec();
        d.extend([0u8; 44]);
        d.extend(huge.to_le_bytes());
        d.extend(zip64_tail(0));
        assert!(zip(&d, 10).unwrap().members.is_empty());
        // A member whose zip64 extra field puts its local header there.
        let mut d = b"PK\x01\x02".to_vec();
        d.extend([0u8; 24]);
        d.extend([1, 0, 12, 0, 0, 0]); // name 1 byte, extra 12 bytes, no comment
        d.extend([0u8; 8]);
        d.extend(u32::MAX.to_le_bytes()); // local header offset: see zip64 extra
        d.push(b'a');
        d.extend([1, 0, 8, 0]);
        d.extend(huge.to_le_bytes());
        d.extend(eocd(0));
        let l = zip(&d, 10).unwrap();
        assert_eq!(l.members.len(), 1);
        assert!(matches!(l.members[0].data, Stored::Missing));
    }
}
