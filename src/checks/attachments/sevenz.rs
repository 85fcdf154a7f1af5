//! Listing a 7-Zip archive: the file names from its header, which is usually LZMA
//! compressed (decoded with lzma-rs, bounded by the message's budget), and whether its
//! contents or its names are AES encrypted. Member contents are not decoded.

/// The 7z signature.
pub(super) const MAGIC: &[u8] = b"7z\xbc\xaf\x27\x1c";

/// A 7z listing.
#[derive(Debug, Default)]
pub(super) struct Listing {
    /// File names (directories left out), at most the entry limit.
    pub names: Vec<String>,
    /// Some folder is AES encrypted: the files cannot be scanned.
    pub encrypted: bool,
    /// The header itself is encrypted: even the names are hidden.
    pub names_encrypted: bool,
    /// More entries than the limit.
    pub truncated: bool,
    /// Bytes decoded to read the header (charged to the budget).
    pub header_bytes: u64,
}

/// Why a 7z archive was not listed.
#[derive(Debug)]
pub(super) enum Error {
    /// A limit was hit.
    Limit(String),
    /// The archive is damaged or uses something this reader does not decode.
    Unreadable(&'static str),
}

type R<T> = Result<T, Error>;

fn bad<T>(why: &'static str) -> R<T> {
    Err(Error::Unreadable(why))
}

struct Cur<'a> {
    d: &'a [u8],
    at: usize,
}

impl<'a> Cur<'a> {
    fn byte(&mut self) -> R<u8> {
        let b = *self
            .d
            .get(self.at)
            .ok_or(Error::Unreadable("header cut short"))?;
        self.at += 1;
        Ok(b)
    }
    fn bytes(&mut self, n: u64) -> R<&'a [u8]> {
        let n = usize::try_from(n).map_err(|_| Error::Unreadable("header field too large"))?;
        let end = self
            .at
            .checked_add(n)
            .ok_or(Error::Unreadable("header field too large"))?;
        let s = self
            .d
            .get(self.at..end)
            .ok_or(Error::Unreadable("header cut short"))?;
        self.at = end;
        Ok(s)
    }
    /// 7z's variable-length NUMBER: leading one bits count the extra little-endian bytes.
    fn number(&mut self) -> R<u64> {
        let first = self.byte()?;
        let mut mask = 0x80u8;
        let mut value = 0u64;
        for i in 0..8 {
            if first & mask == 0 {
                let high = u64::from(first & mask.wrapping_sub(1));
                return Ok(value | (high << (8 * i)));
            }
            value |= u64::from(self.byte()?) << (8 * i);
            mask >>= 1;
        }
        Ok(value)
    }
    fn count(&mut self, max: u64) -> R<usize> {
        let n = self.number()?;
        if n > max {
            return bad("implausible count in header");
        }
        Ok(n as usize)
    }
    fn bits(&mut self, n: usize) -> R<Vec<bool>> {
        // The bytes must be there before the vector is allocated: `n` comes from the
        // archive.
        if n.div_ceil(8) > self.d.len().saturating_sub(self.at) {
            return bad("header cut short");
        }
        let mut out = Vec::with_capacity(n);
        let mut b = 0;
        for i in 0..n {
            if i % 8 == 0 {
                b = self.byte()?;
            }
            out.push(b & (0x80 >> (i % 8)) != 0);
        }
        Ok(out)
    }
    /// A digest list: "all defined" byte or a bit vector, then CRCs. `n` comes from
    /// the archive (substream counts multiply), so the CRCs must be there before the
    /// vector is allocated.
    fn digests(&mut self, n: usize) -> R<Vec<bool>> {
        if self.byte()? != 0 {
            self.bytes((n as u64).saturating_mul(4))?;
            return Ok(vec![true; n]);
        }
        let defined = self.bits(n)?;
        let k = defined.iter().filter(|d| **d).count();
        self.bytes(4 * k as u64)?;
        Ok(defined)
    }
}

const AES: &[u8] = &[0x06, 0xF1, 0x07, 0x01];
const LZMA: &[u8] = &[0x03, 0x01, 0x01];
const LZMA2: &[u8] = &[0x21];
const COPY: &[u8] = &[0x00];

struct Coder {
    id: Vec<u8>,
    props: Vec<u8>,
}

#[derive(Default)]
struct Streams {
    pack_pos: u64,
    pack_sizes: Vec<u64>,
    folders: Vec<Vec<Coder>>,
    unpack_sizes: Vec<u64>,
}

/// Most folders, coders or files believed from one header.
const MAX_ITEMS: u64 = 1 << 20;

fn streams_info(c: &mut Cur<'_>) -> R<Streams> {
    let mut s = Streams::default();
    let mut folder_crc = Vec::new();
    loop {
        match c.byte()? {
            0x00 => return Ok(s),
            0x06 => {
                s.pack_pos = c.number()?;
                let n = c.count(MAX_ITEMS)?;
                loop {
                    match c.byte()? {
                        0x00 => break,
                        0x09 => {
                            for _ in 0..n {
                                s.pack_sizes.push(c.number()?);
                            }
                        }
                        0x0A => {
                            c.digests(n)?;
                        }
                        _ => return bad("unknown pack info property"),
                    }
                }
            }
            0x07 => {
                if c.byte()? != 0x0B {
                    return bad("expected folder list");
                }
                let n = c.count(MAX_ITEMS)?;
                if c.byte()? != 0 {
                    return bad("external folder list");
                }
                let mut outs = Vec::new();
                for _ in 0..n {
                    let (coders, total_out) = folder(c)?;
                    s.folders.push(coders);
                    outs.push(total_out);
                }
                if c.byte()? != 0x0C {
                    return bad("expected unpack sizes");
                }
                for total_out in outs {
                    // The folder's last out stream is its result (single-chain folders).
                    let mut last = 0;
                    for _ in 0..total_out {
                        last = c.number()?;
                    }
                    s.unpack_sizes.push(last);
                }
                loop {
                    match c.byte()? {
                        0x00 => break,
                        0x0A => folder_crc = c.digests(n)?,
                        _ => return bad("unknown unpack info property"),
                    }
                }
            }
            0x08 => substreams(c, &s, &folder_crc)?,
            _ => return bad("unknown streams info property"),
        }
    }
}

/// One folder: its coders; returns them and its total out-stream count.
fn folder(c: &mut Cur<'_>) -> R<(Vec<Coder>, usize)> {
    let n = c.count(64)?;
    let mut coders = Vec::with_capacity(n);
    let (mut total_in, mut total_out) = (0usize, 0usize);
    for _ in 0..n {
        let flags = c.byte()?;
        let id = c.bytes(u64::from(flags & 0x0F))?.to_vec();
        if flags & 0x10 != 0 {
            total_in += c.count(64)?;
            total_out += c.count(64)?;
        } else {
            total_in += 1;
            total_out += 1;
        }
        let props = if flags & 0x20 != 0 {
            let len = c.number()?;
            c.bytes(len)?.to_vec()
        } else {
            Vec::new()
        };
        coders.push(Coder { id, props });
    }
    let bind_pairs = total_out.saturating_sub(1);
    for _ in 0..bind_pairs {
        c.number()?;
        c.number()?;
    }
    let packed = total_in.saturating_sub(bind_pairs);
    if packed > 1 {
        for _ in 0..packed {
            c.number()?;
        }
    }
    Ok((coders, total_out))
}

fn substreams(c: &mut Cur<'_>, s: &Streams, folder_crc: &[bool]) -> R<()> {
    let mut per_folder = vec![1usize; s.folders.len()];
    loop {
        match c.byte()? {
            0x00 => return Ok(()),
            0x0D => {
                for n in per_folder.iter_mut() {
                    *n = c.count(MAX_ITEMS)?;
                }
            }
            0x09 => {
                for &n in &per_folder {
                    for _ in 1..n {
                        c.number()?;
                    }
                }
            }
            0x0A => {
                let k = per_folder
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| {
                        if n == 1 && folder_crc.get(i) == Some(&true) {
                            0
                        } else {
                            n
                        }
                    })
                    .sum();
                c.digests(k)?;
            }
            _ => return bad("unknown substreams property"),
        }
    }
}

fn files_info(c: &mut Cur<'_>, max: usize, out: &mut Listing) -> R<()> {
    let n = c.count(MAX_ITEMS)?;
    let mut names = Vec::new();
    let mut empty_stream = vec![false; n];
    let mut empty_file = Vec::new();
    loop {
        let t = c.byte()?;
        if t == 0 {
            break;
        }
        let size = c.number()?;
        let body = c.bytes(size)?;
        let mut p = Cur { d: body, at: 0 };
        match t {
            0x0E => empty_stream = p.bits(n)?,
            0x0F => {
                let k = empty_stream.iter().filter(|e| **e).count();
                empty_file = p.bits(k)?;
            }
            0x11 => {
                if p.byte()? != 0 {
                    return bad("external names");
                }
                let units: Vec<u16> = body[1..]
                    .chunks_exact(2)
                    .map(|u| u16::from_le_bytes([u[0], u[1]]))
                    .collect();
                names = units
                    .split(|&u| u == 0)
                    .take(n)
                    .map(String::from_utf16_lossy)
                    .collect();
            }
            _ => {}
        }
    }
    // A directory is an empty stream that is not an empty file.
    let mut k = 0;
    for (i, name) in names.into_iter().enumerate() {
        let dir = if empty_stream.get(i) == Some(&true) {
            let is_file = empty_file.get(k) == Some(&true);
            k += 1;
            !is_file
        } else {
            false
        };
        if dir {
            continue;
        }
        if out.names.len() >= max {
            out.truncated = true;
            break;
        }
        out.names.push(name);
    }
    Ok(())
}

fn header(c: &mut Cur<'_>, max: usize, out: &mut Listing) -> R<()> {
    loop {
        match c.byte()? {
            0x00 => return Ok(()),
            0x02 => loop {
                if c.byte()? == 0 {
                    break;
                }
                let n = c.number()?;
                c.bytes(n)?;
            },
            0x03 | 0x04 => {
                let s = streams_info(c)?;
                if s.folders.iter().flatten().any(|k| k.id == AES) {
                    out.encrypted = true;
                }
            }
            0x05 => files_info(c, max, out)?,
            _ => return bad("unknown header property"),
        }
    }
}

/// A sink that refuses to grow past `cap` bytes, whatever the decoder is told.
struct Capped {
    v: Vec<u8>,
    cap: usize,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.v.len() + buf.len() > self.cap {
            return Err(std::io::Error::other(
                "more output than the header declares",
            ));
        }
        self.v.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Decodes the packed header described by `s`, at most `budget` bytes.
fn decode_header(d: &[u8], s: &Streams, budget: u64, out: &mut Listing) -> R<Vec<u8>> {
    let (Some(coders), Some(&size), Some(&packed)) = (
        s.folders.first(),
        s.unpack_sizes.first(),
        s.pack_sizes.first(),
    ) else {
        return bad("encoded header without a folder");
    };
    if coders.iter().any(|k| k.id == AES) {
        out.names_encrypted = true;
        return Ok(Vec::new());
    }
    if size > budget.min(64 << 20) {
        return Err(Error::Limit(format!(
            "its header would decode to {size} bytes, past the budget"
        )));
    }
    let start = 32u64.saturating_add(s.pack_pos);
    let input = usize::try_from(start)
        .ok()
        .and_then(|a| d.get(a..a.checked_add(usize::try_from(packed).ok()?)?))
        .ok_or(Error::Unreadable("packed header outside the file"))?;
    let [coder] = coders.as_slice() else {
        return bad("header coder chain not supported");
    };
    let memlimit = usize::try_from(budget.min(64 << 20)).unwrap_or(usize::MAX);
    // A third-party decoder on hostile input: a panic in it is a damaged archive.
    let decoded = std::panic::catch_unwind(|| -> Option<Vec<u8>> {
        let mut v = Capped {
            v: Vec::new(),
            cap: usize::try_from(size).ok()?,
        };
        if coder.id == LZMA {
            // lzma-rs reads the 5 property bytes in front of the stream; 7z keeps them in
            // the coder and gives the size in the folder.
            let mut with_props = Vec::with_capacity(5 + input.len());
            with_props.extend_from_slice(coder.props.get(..5)?);
            with_props.extend_from_slice(input);
            let opts = lzma_rs::decompress::Options {
                unpacked_size: lzma_rs::decompress::UnpackedSize::UseProvided(Some(size)),
                memlimit: Some(memlimit),
                allow_incomplete: false,
            };
            lzma_rs::lzma_decompress_with_options(&mut &with_props[..], &mut v, &opts).ok()?;
        } else if coder.id == LZMA2 {
            lzma_rs::lzma2_decompress(&mut &input[..], &mut v).ok()?;
        } else if coder.id == COPY {
            v.v.extend_from_slice(input);
        } else {
            return None;
        }
        Some(v.v)
    });
    let plain = decoded.ok().flatten().unwrap_or_default();
    if plain.is_empty() {
        return bad("its header uses a coder this reader cannot decode, or is damaged");
    }
    out.header_bytes = plain.len() as u64;
    Ok(plain)
}

/// Lists a 7z archive: at most `max` names, at most `budget` bytes decoded.
pub(super) fn list(d: &[u8], max: usize, budget: u64) -> R<Listing> {
    if !d.starts_with(MAGIC) || d.len() < 32 {
        return bad("not a 7z archive");
    }
    let off = u64::from_le_bytes(d[12..20].try_into().unwrap_or_default());
    let size = u64::from_le_bytes(d[20..28].try_into().unwrap_or_default());
    let start = 32u64
        .checked_add(off)
        .ok_or(Error::Unreadable("bad header offset"))?;
    let hdr = usize::try_from(start)
        .ok()
        .and_then(|a| d.get(a..a.checked_add(usize::try_from(size).ok()?)?))
        .ok_or(Error::Unreadable("header outside the file (cut short?)"))?;
    let mut out = Listing::default();
    if hdr.is_empty() {
        return Ok(out);
    }
    let mut c = Cur { d: hdr, at: 0 };
    match c.byte()? {
        0x01 => header(&mut c, max, &mut out)?,
        0x17 => {
            let s = streams_info(&mut c)?;
            let plain = decode_header(d, &s, budget, &mut out)?;
            if out.names_encrypted {
                return Ok(out);
            }
            let mut c = Cur { d: &plain, at: 0 };
            if c.byte()? != 0x01 {
                return bad("decoded header is not a header");
            }
            header(&mut c, max, &mut out)?;
        }
        _ => return bad("unknown header type"),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 7z archive whose plain header is `h`.
    fn archive(h: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([0, 4, 0, 0, 0, 0]);
        out.extend(0u64.to_le_bytes());
        out.extend((h.len() as u64).to_le_bytes());
        out.extend([0u8; 4]);
        out.extend(h);
        out
    }

    /// 2^20 folders of 2^20 substreams each, then "all CRCs defined": the digest list
    /// was allocated for 2^40 entries before its CRCs were read (the allocation failing
    /// aborts the process), from a header of a few megabytes.
    #[test]
    fn digest_counts_are_checked_against_the_header_before_allocating() {
        let folders = 1usize << 20;
        let mut h = vec![0x01, 0x04, 0x07, 0x0B, 0xD0, 0x00, 0x00, 0x00];
        for _ in 0..folders {
            h.extend([0x01, 0x01, 0x00]); // one COPY coder
        }
        h.push(0x0C);
        h.extend(std::iter::repeat_n(0x01, folders)); // unpack sizes
        h.extend([0x00, 0x08, 0x0D]);
        for _ in 0..folders {
            h.extend([0xD0, 0x00, 0x00]); // 2^20 substreams
        }
        h.extend([0x0A, 0x01]);
        let Err(Error::Unreadable(why)) = list(&archive(&h), 100, 1 << 20) else {
            panic!("a header that does not hold its CRCs is unreadable");
        };
        assert_eq!(why, "header cut short");
        // The same with a bit vector that is not there.
        let n = h.len();
        h[n - 1] = 0x00;
        assert!(matches!(
            list(&archive(&h), 100, 1 << 20),
            Err(Error::Unreadable("header cut short"))
        ));
    }
}
