//! The inspector: opens an attachment by what its bytes are, lists archives recursively
//! and reads Office and PDF structure, all under one budget per message (uncompressed
//! bytes, compression ratio, entries, depth and time from [`Limits`]). Hitting a limit
//! ends the inspection with a finding; nothing is written to disk.

use std::time::{Duration, Instant};

use super::archive::{self, Listing, Stored};
use super::kind::{Class, Detected, detect};
use super::{extension, name_findings, office, pdf, sevenz};
use crate::config::Limits;
use crate::rules::lists::Lists;

/// One thing the inspector found, to be reported under a rule id.
#[derive(Debug)]
pub(super) struct Found {
    /// Rule id.
    pub id: &'static str,
    /// A weight from the extension list in place of the rule's score.
    pub score: Option<f64>,
    /// The archive member path (`docs.zip › inner/run.exe`), empty for the file itself.
    pub member: String,
    /// What was seen.
    pub text: String,
}

/// Why inspection stopped early.
enum Stop {
    Limit(String),
    Corrupt,
}

/// How many bytes of a member are read to learn its type.
const HEAD: usize = 4096;
/// The ratio limit applies only past this much output: small files compress well.
const RATIO_FLOOR: u64 = 1 << 20;

/// Archive extensions: an archive member with one of these is an archive in an archive.
const ARCHIVE_EXT: &[&str] = &[
    "zip", "rar", "7z", "gz", "tgz", "tar", "bz2", "tbz", "xz", "txz", "cab", "ace", "arj", "lzh",
    "lha", "z", "zipx", "r00", "r01",
];

/// The inspector for one message.
pub(super) struct Inspector<'a> {
    lists: &'a Lists,
    limits: &'a Limits,
    started: Instant,
    bytes: u64,
    entries: usize,
    stopped: bool,
    /// What was found so far (drained per attachment by the caller).
    pub found: Vec<Found>,
}

impl<'a> Inspector<'a> {
    /// A fresh budget for one message.
    pub(super) fn new(lists: &'a Lists, limits: &'a Limits) -> Inspector<'a> {
        Inspector {
            lists,
            limits,
            started: Instant::now(),
            bytes: 0,
            entries: 0,
            stopped: false,
            found: Vec::new(),
        }
    }

    fn push(&mut self, id: &'static str, score: Option<f64>, chain: &[String], text: String) {
        self.found.push(Found {
            id,
            score,
            member: chain.join(" \u{203a} "),
            text,
        });
    }

    fn limit(&mut self, chain: &[String], why: String) {
        if !self.stopped {
            self.stopped = true;
            self.push(
                "ATT015",
                None,
                chain,
                format!("is too large to inspect: {why}"),
            );
        }
    }

    fn out_of_time(&self) -> bool {
        self.started.elapsed() > Duration::from_millis(self.limits.archive_max_millis)
    }

    /// Decompresses `comp` (raw deflate, or zlib when `zlib`), at most `cap` bytes, under
    /// the budget.
    fn inflate(&mut self, comp: &[u8], zlib: bool, cap: usize) -> Result<Vec<u8>, Stop> {
        use flate2::{Decompress, FlushDecompress, Status};
        let mut d = Decompress::new(zlib);
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let lim = self.limits;
        while out.len() < cap {
            let want = buf.len().min(cap - out.len());
            let used = d.total_in() as usize;
            let before = d.total_out();
            let status = d.decompress(
                &comp[used.min(comp.len())..],
                &mut buf[..want],
                FlushDecompress::None,
            );
            let n = (d.total_out() - before) as usize;
            out.extend_from_slice(&buf[..n]);
            match status {
                Ok(Status::StreamEnd) => break,
                // No progress: the input ran out (a stream cut short keeps what came out).
                Ok(_) if n == 0 && d.total_in() as usize == used => break,
                Ok(_) => {}
                Err(_) if !out.is_empty() => break,
                Err(_) => return Err(Stop::Corrupt),
            }
            if self.bytes + out.len() as u64 > lim.archive_max_bytes {
                return Err(Stop::Limit(format!(
                    "decompressing it would pass the limit of {} uncompressed bytes per message",
                    lim.archive_max_bytes
                )));
            }
            // The ratio of what came out to what went in so far: a bomb shows itself in
            // its first megabyte, whatever the rest of the stream holds.
            if out.len() as u64 > RATIO_FLOOR
                && out.len() as u64 > d.total_in().max(1).saturating_mul(lim.archive_max_ratio)
            {
                return Err(Stop::Limit(format!(
                    "it expands more than {}:1 (a decompression bomb)",
                    lim.archive_max_ratio
                )));
            }
            if self.out_of_time() {
                return Err(Stop::Limit(format!(
                    "inspecting it took longer than {} ms",
                    lim.archive_max_millis
                )));
            }
        }
        out.truncate(cap);
        self.bytes += out.len() as u64;
        Ok(out)
    }

    fn read_member(&mut self, chain: &[String], s: Stored<'_>, cap: usize) -> Option<Vec<u8>> {
        let r = match s {
            Stored::Plain(b) => Ok(b[..b.len().min(cap)].to_vec()),
            Stored::Deflated(b) => self.inflate(b, false, cap),
            Stored::Unsupported | Stored::Missing => return None,
        };
        match r {
            Ok(v) => Some(v),
            Err(Stop::Limit(why)) => {
                self.limit(chain, why);
                None
            }
            Err(Stop::Corrupt) => None,
        }
    }

    /// Inspects one file: the attachment itself (`chain` empty) or an archive member.
    pub(super) fn inspect(
        &mut self,
        chain: &mut Vec<String>,
        data: &[u8],
        det: Detected,
        depth: usize,
    ) {
        if self.stopped {
            return;
        }
        if det.class.is_container() && depth >= self.limits.archive_max_depth {
            self.limit(
                chain,
                format!(
                    "archives are nested more than {} deep",
                    self.limits.archive_max_depth
                ),
            );
            return;
        }
        match det.class {
            Class::Zip => self.zip(chain, data, depth),
            Class::Gzip => self.gzip(chain, data, depth),
            Class::Tar => {
                let left = self.entries_left();
                let l = archive::tar(data, left);
                self.members(chain, l, "tar archive", depth);
            }
            Class::SevenZip => self.sevenz(chain, data),
            Class::Rar => self.push(
                "ATT014",
                None,
                chain,
                "is a RAR archive, which preflight (like most gateways without unrar) cannot look inside".into(),
            ),
            Class::OtherArchive => self.push(
                "ATT014",
                None,
                chain,
                format!("is {}, an archive format preflight cannot look inside", det.describe()),
            ),
            Class::Ole => self.ole(chain, data),
            Class::Pdf => self.pdf(chain, data),
            _ => {}
        }
    }

    fn entries_left(&self) -> usize {
        self.limits.archive_max_entries.saturating_sub(self.entries)
    }

    fn zip(&mut self, chain: &mut Vec<String>, data: &[u8], depth: usize) {
        match archive::zip(data, self.entries_left()) {
            Ok(l) => {
                // An Office Open XML package is a document, not an archive of files.
                if let Some(types) = l.members.iter().find(|m| m.name == "[Content_Types].xml") {
                    let at = office::ooxml_macros(l.members.iter().map(|m| m.name.as_str()))
                        .or_else(|| {
                            // A macro-enabled main part declared in the content types.
                            let xml = self.read_member(chain, types.data, 64 * 1024)?;
                            memchr::memmem::find(&xml.to_ascii_lowercase(), b"macroenabled")
                                .map(|_| "a macro-enabled content type".to_string())
                        });
                    if let Some(at) = at {
                        self.push(
                            "ATT020",
                            None,
                            chain,
                            format!("is an Office document with macros ({at})"),
                        );
                    }
                    return;
                }
                self.members(chain, l, "zip archive", depth);
            }
            Err(why) => self.push(
                "ATT014",
                None,
                chain,
                format!("is a zip archive that cannot be read: {why}"),
            ),
        }
    }

    fn gzip(&mut self, chain: &mut Vec<String>, data: &[u8], depth: usize) {
        let Ok((name, stream)) = archive::gzip(data) else {
            self.push(
                "ATT014",
                None,
                chain,
                "is a gzip stream that cannot be read".into(),
            );
            return;
        };
        let head = match self.inflate(stream, false, HEAD) {
            Ok(h) => h,
            Err(Stop::Limit(why)) => return self.limit(chain, why),
            Err(Stop::Corrupt) => return,
        };
        let det = detect(&head);
        // The one file inside: named by the header, or by the outer name without .gz.
        let inner = name.unwrap_or_else(|| {
            let outer = chain.last().map_or("", String::as_str);
            let base = outer.rsplit('/').next().unwrap_or(outer);
            if let Some(stem) = base.strip_suffix(".tgz") {
                format!("{stem}.tar")
            } else {
                base.strip_suffix(".gz")
                    .unwrap_or("(gzip contents)")
                    .to_string()
            }
        });
        chain.push(inner.clone());
        if chain.len() > 1 || !inner.is_empty() {
            self.member_name(chain, &inner);
        }
        if det.class == Class::Executable && !self.listed(&inner) {
            self.push(
                "ATT007",
                None,
                chain,
                format!("is {} by its content", det.describe()),
            );
        }
        if worth_opening(det.class) {
            let left = self.limits.archive_max_bytes.saturating_sub(self.bytes) as usize;
            match self.inflate(stream, false, left.saturating_add(1)) {
                // gzip is a wrapper: the file inside counts at the same depth.
                Ok(full) => self.inspect(chain, &full, det, depth),
                Err(Stop::Limit(why)) => self.limit(chain, why),
                Err(Stop::Corrupt) => {}
            }
        }
        chain.pop();
    }

    /// An archive inside an archive: reported once per attachment, at the outermost level.
    fn nested(&mut self, chain: &[String], what: &str) {
        if !self.found.iter().any(|f| f.id == "ATT012") {
            self.push(
                "ATT012",
                None,
                chain,
                format!("is an archive inside the {what}"),
            );
        }
    }

    fn listed(&self, name: &str) -> bool {
        extension(name).is_some_and(|e| self.lists.extension(&e).is_some())
    }

    /// Name rules for an archive member.
    fn member_name(&mut self, chain: &[String], name: &str) {
        for (id, score, text) in name_findings(self.lists, name, true) {
            self.push(id, score, chain, text);
        }
    }

    fn members(&mut self, chain: &mut Vec<String>, l: Listing<'_>, what: &str, depth: usize) {
        self.entries += l.members.len();
        let files: Vec<_> = l.members.iter().filter(|m| !m.dir).collect();
        let mut encrypted = 0;
        let mut single_exe = None;
        for m in &files {
            if self.stopped || self.out_of_time() {
                break;
            }
            chain.push(m.name.clone());
            self.member_name(chain, &m.name);
            // A member whose declared size is out of all proportion: a decompression
            // bomb, found without decompressing it.
            let (csize, usize_) = m.sizes;
            if usize_ > self.limits.archive_max_bytes
                && usize_ > csize.max(1).saturating_mul(self.limits.archive_max_ratio)
            {
                self.limit(
                    chain,
                    format!(
                        "it declares {usize_} bytes from {csize} compressed, more than {}:1 (a decompression bomb)",
                        self.limits.archive_max_ratio
                    ),
                );
                chain.pop();
                break;
            }
            let ext = extension(&m.name);
            let archive_ext = ext.as_deref().is_some_and(|e| ARCHIVE_EXT.contains(&e));
            let dangerous = self.listed(&m.name);
            if m.encrypted {
                encrypted += 1;
                if archive_ext {
                    self.push(
                        "ATT017",
                        None,
                        chain,
                        "is an archive inside a password-protected archive".into(),
                    );
                }
            } else if let Some(head) = self.read_member(chain, m.data, HEAD) {
                let det = detect(&head);
                let exe = det.class == Class::Executable;
                if exe && !dangerous {
                    self.push(
                        "ATT007",
                        None,
                        chain,
                        format!("is {} by its content", det.describe()),
                    );
                }
                if exe || dangerous {
                    single_exe = Some(m.name.clone());
                }
                let zip_document = det.class == Class::Zip && !archive_ext;
                if archive_ext || (det.class.is_archive() && !zip_document) {
                    self.nested(chain, what);
                }
                if worth_opening(det.class) {
                    let left = self.limits.archive_max_bytes.saturating_sub(self.bytes) as usize;
                    if let Some(full) = self.read_member(chain, m.data, left.saturating_add(1)) {
                        self.inspect(chain, &full, det, depth + 1);
                    }
                }
            } else if archive_ext {
                self.nested(chain, what);
            }
            if dangerous && single_exe.is_none() {
                single_exe = Some(m.name.clone());
            }
            chain.pop();
        }
        self.wrap_up(chain, what, files.len(), encrypted, single_exe, l.truncated);
    }

    /// What a listing shows as a whole: encrypted members, a lone executable, a listing
    /// cut at the entry limit.
    fn wrap_up(
        &mut self,
        chain: &[String],
        what: &str,
        files: usize,
        encrypted: usize,
        exe: Option<String>,
        truncated: bool,
    ) {
        if encrypted > 0 {
            self.push(
                "ATT013",
                None,
                chain,
                format!(
                    "is a password-protected {what}: {encrypted} of its {files} files cannot be scanned"
                ),
            );
        }
        if files == 1
            && let Some(name) = exe
        {
            self.push(
                "ATT011",
                None,
                chain,
                format!("is a {what} holding a single file, the executable {name}"),
            );
        }
        if truncated {
            self.limit(
                chain,
                format!(
                    "it holds more than {} entries",
                    self.limits.archive_max_entries
                ),
            );
        }
    }

    fn sevenz(&mut self, chain: &mut Vec<String>, data: &[u8]) {
        let left = self.entries_left();
        let budget = self.limits.archive_max_bytes.saturating_sub(self.bytes);
        match sevenz::list(data, left, budget) {
            Ok(l) => {
                self.bytes += l.header_bytes;
                if l.names_encrypted {
                    self.push(
                        "ATT013",
                        None,
                        chain,
                        "is a 7-Zip archive with encrypted file names: nothing in it can be scanned".into(),
                    );
                    return;
                }
                self.entries += l.names.len();
                let mut exe = None;
                for n in &l.names {
                    chain.push(n.clone());
                    self.member_name(chain, n);
                    if extension(n).is_some_and(|e| ARCHIVE_EXT.contains(&e.as_str())) {
                        self.nested(chain, "7-Zip archive");
                    }
                    if self.listed(n) {
                        exe = Some(n.clone());
                    }
                    chain.pop();
                }
                let n = l.names.len();
                let encrypted = if l.encrypted { n } else { 0 };
                self.wrap_up(chain, "7-Zip archive", n, encrypted, exe, l.truncated);
            }
            Err(sevenz::Error::Limit(why)) => self.limit(chain, why),
            Err(sevenz::Error::Unreadable(why)) => self.push(
                "ATT014",
                None,
                chain,
                format!("is a 7-Zip archive that preflight cannot list: {why}"),
            ),
        }
    }

    fn ole(&mut self, chain: &[String], data: &[u8]) {
        let Ok(f) = office::ole(data) else {
            return;
        };
        if let Some(at) = f.macros {
            self.push(
                "ATT020",
                None,
                chain,
                format!("is an Office document with VBA macros ({at})"),
            );
        }
        if let Some(how) = f.encrypted {
            self.push("ATT021", None, chain, format!("is {how}"));
        }
    }

    fn pdf(&mut self, chain: &[String], data: &[u8]) {
        let mut stopped = None;
        let f = pdf::scan(data, &mut |comp| {
            if stopped.is_some() {
                return None;
            }
            match self.inflate(comp, true, usize::MAX) {
                Ok(v) => Some(v),
                Err(Stop::Limit(why)) => {
                    stopped = Some(why);
                    None
                }
                Err(Stop::Corrupt) => None,
            }
        });
        if let Some(why) = stopped {
            self.limit(chain, why);
        }
        if f.launch {
            self.push(
                "ATT031",
                None,
                chain,
                "is a PDF with a Launch action (it asks the reader to run a program or open a file)".into(),
            );
        }
        if f.javascript {
            let when = if f.auto_action {
                ", with an automatic action (/OpenAction or /AA) that can run it on opening"
            } else {
                ""
            };
            self.push(
                "ATT030",
                None,
                chain,
                format!("is a PDF with JavaScript{when}"),
            );
        }
        if f.embedded {
            self.push("ATT032", None, chain, "is a PDF with embedded files".into());
        }
        if f.encrypted {
            self.push("ATT033", None, chain, "is an encrypted PDF".into());
        }
    }
}

/// Classes whose insides are read: containers, Office compound files and PDFs.
fn worth_opening(c: Class) -> bool {
    c.is_container() || matches!(c, Class::Ole | Class::Pdf)
}
