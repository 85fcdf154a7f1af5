//! Batch scanning of drafts: `preflight scan`.
//!
//! [`scan`] walks directories (recursively), mbox files and Maildir folders, checks every
//! message on worker threads and hands the results to a callback **in input order**, one
//! [`Item`] at a time, so output is the same from run to run and memory holds reports,
//! not messages:
//!
//! * a producer thread walks the inputs and sends jobs (a file to read, or one message of
//!   a large mbox, streamed) through a bounded channel, [`BATCH`] at a time;
//! * the workers read and check them; identical drafts (same bytes) are checked once;
//! * the calling thread puts the results back in order and calls `on_item`.
//!
//! Jobs and results cross threads in batches: handed over one by one, every message cost
//! two thread wake-ups, a tenth of a one-worker scan's time.
//!
//! What counts as a draft: in a directory, `.eml` files and files without an extension
//! are mail (one that is not is an error); files with a well-known non-mail extension
//! (`.md`, `.json`, `.png`, ...) are skipped with a notice; any other file is read and
//! skipped with a notice when it does not look like mail. A file named on the command
//! line is always meant as mail. A Maildir (a folder with `cur` and `new`) gives the
//! files in `cur` and `new`, and its Maildir++ subfolders (`.Sent`, ...). A file that
//! starts with an mbox `From ` line and holds more than one message (or is named
//! `.mbox`/`.mbx`) is an mbox: each message is a draft, numbered from 1.

pub mod mbox;
mod summary;

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};

pub use mbox::MboxReader;
pub use summary::{LabelTally, Labels, RuleTally, Summary, exit_status};

use crate::engine::Engine;
use crate::envelope::Envelope;
use crate::report::Report;

/// Exit status (sysexits): an input is not a mail message.
pub const EX_DATAERR: i32 = 65;
/// Exit status (sysexits): an input cannot be opened.
pub const EX_NOINPUT: i32 = 66;
/// Exit status (sysexits): internal software error (a check panicked).
pub const EX_SOFTWARE: i32 = 70;
/// Exit status (sysexits): read error.
pub const EX_IOERR: i32 = 74;

/// Files larger than this that start with an mbox `From ` line are read as a stream of
/// messages instead of whole.
const STREAM_MBOX_BYTES: u64 = 32 * 1024 * 1024;

/// Files up to this size are read by the walk, ahead of the workers; larger ones by the
/// worker that checks them. (At most `2 × workers + 1` batches of [`BATCH`] jobs wait, so
/// what is read ahead stays under a few tens of MiB.)
const READ_AHEAD_BYTES: u64 = 256 * 1024;

/// Extensions of files that are certainly not mail drafts: skipped without reading.
const NOT_MAIL: &[&str] = &[
    "7z", "a", "avi", "bin", "bmp", "bz2", "c", "cfg", "class", "conf", "css", "csv", "db", "dll",
    "doc", "docx", "exe", "gif", "go", "gz", "h", "htm", "html", "ico", "ini", "iso", "jar",
    "java", "jpeg", "jpg", "js", "json", "lock", "md", "mov", "mp3", "mp4", "o", "odt", "ods",
    "pdf", "php", "png", "ppt", "pptx", "py", "rar", "rb", "rs", "rst", "sh", "so", "sqlite",
    "svg", "tar", "tgz", "toml", "tsv", "ttf", "wav", "webp", "woff", "woff2", "xls", "xlsx",
    "xml", "xz", "yaml", "yml", "zip", "zst",
];

/// Where a draft came from: a file, or message `index` (from 1) of an mbox file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    /// The path as given or found under a given directory.
    pub path: String,
    /// Message number in an mbox file, from 1.
    pub index: Option<usize>,
}

impl Draft {
    /// `path`, or `path#3` for the third message of an mbox.
    pub fn display(&self) -> String {
        match self.index {
            Some(i) => format!("{}#{i}", self.path),
            None => self.path.clone(),
        }
    }
}

/// What became of one draft.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Checked (or the same bytes as an earlier draft, whose report it shares).
    Checked {
        /// The report.
        report: Arc<Report>,
        /// The first draft with the same bytes, when this one is a duplicate.
        duplicate_of: Option<String>,
        /// Size in bytes.
        bytes: usize,
    },
    /// Could not be read, is not mail, or its check failed: sysexits `code` and why.
    Error {
        /// 65 not mail, 66 a given path does not exist, 70 internal error, 74 cannot read.
        code: i32,
        /// What went wrong, without the path.
        message: String,
    },
    /// Not a draft (a non-mail file found in a directory): why it was skipped.
    Skipped {
        /// Why it is not taken for mail.
        reason: String,
    },
}

/// One draft and its outcome, as [`scan`] hands them over.
#[derive(Clone, Debug)]
pub struct Item {
    /// Where it came from.
    pub draft: Draft,
    /// What became of it.
    pub outcome: Outcome,
}

/// How to scan.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Worker threads; 0 uses every core.
    pub threads: usize,
    /// In evaluation mode, the labels: a file they name is meant as mail, so one that
    /// is not is an error rather than a skipped file.
    pub labels: Option<Arc<Labels>>,
    /// Where the checks that need DNS get their answers (every worker shares it, and so
    /// its cache); `None`: those checks do not run.
    pub dns: Option<Arc<dyn crate::dns::Source>>,
}

/// Work for the pool, numbered in input order.
enum Job {
    /// A file of `len` bytes to read (or read already, `bytes`); `strict`: not being mail
    /// is an error (else a skip).
    File {
        path: PathBuf,
        shown: String,
        strict: bool,
        bytes: Option<Vec<u8>>,
        len: u64,
    },
    /// One message of a streamed mbox.
    Message { draft: Draft, bytes: Vec<u8> },
    /// Known without reading.
    Done(Item),
}

/// Identical drafts share one check: 128 bits of two independently keyed hashes and
/// the length.
type Key = (u64, u64, usize);

/// How many reports the duplicate cache keeps alive; older ones are only remembered
/// weakly, so memory stays flat however many drafts there are. (A duplicate whose
/// original was checked more than this many distinct drafts earlier, and whose report is
/// gone, is checked again.)
const KEEP_REPORTS: usize = 1024;

enum Cached {
    Strong(Arc<OnceLock<Checked>>),
    Weak(std::sync::Weak<OnceLock<Checked>>),
}

#[derive(Default)]
struct Seen {
    map: HashMap<Key, Cached>,
    /// Keys held strongly, oldest first.
    order: std::collections::VecDeque<Key>,
}

struct Dedup {
    /// Two independently seeded hashers: a 128-bit key with the length.
    hashers: [foldhash::quality::SeedableRandomState; 2],
    seen: Mutex<Seen>,
    /// The answers of the checks that need DNS, when they run.
    dns: Option<Arc<dyn crate::dns::Source>>,
}

impl Dedup {
    fn new(dns: Option<Arc<dyn crate::dns::Source>>) -> Dedup {
        // foldhash, seeded at random per process: a draft's bytes are hashed twice, and
        // SipHash (std's) over a whole corpus took 3% of a scan's time where foldhash
        // takes a tenth of that.
        static SEEDS: OnceLock<[foldhash::SharedSeed; 2]> = OnceLock::new();
        let seeds = SEEDS.get_or_init(|| {
            let random = |i: u64| RandomState::new().hash_one(i);
            [
                foldhash::SharedSeed::from_u64(random(0)),
                foldhash::SharedSeed::from_u64(random(1)),
            ]
        });
        let state = |i: usize| {
            foldhash::quality::SeedableRandomState::with_seed(
                RandomState::new().hash_one(i),
                &seeds[i],
            )
        };
        Dedup {
            hashers: [state(0), state(1)],
            seen: Mutex::new(Seen::default()),
            dns,
        }
    }

    fn key(&self, bytes: &[u8]) -> Key {
        let hash = |s: &foldhash::quality::SeedableRandomState| {
            let mut h = s.build_hasher();
            h.write(bytes);
            h.finish()
        };
        (hash(&self.hashers[0]), hash(&self.hashers[1]), bytes.len())
    }

    /// The report for `bytes`: checked here, or taken from (or waited for from) the
    /// thread that checks the same bytes.
    fn check(&self, engine: &Engine, bytes: &[u8]) -> Result<(Key, Arc<Report>), String> {
        let key = self.key(bytes);
        let cell = {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            let alive = match seen.map.get(&key) {
                Some(Cached::Strong(c)) => Some(Arc::clone(c)),
                Some(Cached::Weak(w)) => w.upgrade(),
                None => None,
            };
            match alive {
                Some(c) => c,
                None => {
                    let c: Arc<OnceLock<Checked>> = Arc::default();
                    seen.map.insert(key, Cached::Strong(Arc::clone(&c)));
                    seen.order.push_back(key);
                    if seen.order.len() > KEEP_REPORTS
                        && let Some(old) = seen.order.pop_front()
                        && let Some(entry) = seen.map.get_mut(&old)
                        && let Cached::Strong(strong) = entry
                    {
                        *entry = Cached::Weak(Arc::downgrade(strong));
                    }
                    c
                }
            }
        };
        let checked = cell.get_or_init(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &self.dns {
                Some(dns) => engine.check_online(bytes, &Envelope::default(), &*dns.session()),
                None => engine.check(bytes, &Envelope::default()),
            }))
            .map(Arc::new)
            .map_err(|_| "internal error: the check panicked".to_string())
        });
        checked.clone().map(|r| (key, r))
    }
}

/// How many jobs the producer hands over at once, and so the most results a worker hands
/// back at once.
pub const BATCH: usize = 32;

/// A check's result, shared by identical drafts.
type Checked = Result<Arc<Report>, String>;

/// A finished job: its items with their dedup keys.
type Done = (usize, Vec<(Item, Option<Key>)>);

/// Scans `inputs` with `engine`, calling `on_item` for every draft in input order, and
/// `on_found` each time the producer finds more drafts (for a progress bar). Stops at the
/// first error `on_item` returns.
pub fn scan(
    engine: &Engine,
    inputs: &[PathBuf],
    options: &Options,
    mut on_found: impl FnMut(u64) + Send,
    mut on_item: impl FnMut(Item) -> io::Result<()>,
) -> io::Result<()> {
    let workers = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        options.threads
    };
    // With a core to spare beside the workers, the walk reads the small files itself, so
    // the workers' time goes to checking: with one worker on two cores, reading in the
    // worker cost 7% of a scan. With as many workers as cores the walk would only take
    // their time, so they read. (A file the walk cannot read is left to the worker,
    // which reports why.)
    let read_ahead = workers < std::thread::available_parallelism().map_or(1, usize::from);
    let (job_tx, job_rx) = mpsc::sync_channel::<Vec<(usize, Job)>>(workers * 2);
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::sync_channel::<Vec<Done>>(workers * 4);
    let dedup = Dedup::new(options.dns.clone());
    // Set when `on_item` fails (the reader of the output went away): stop early.
    let stop = &AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut seq = 0;
            let mut batch = Vec::with_capacity(BATCH);
            let mut send = |mut job: Job| {
                if stop.load(Ordering::Relaxed) {
                    return false;
                }
                if let Job::File {
                    path,
                    bytes: bytes @ None,
                    len,
                    ..
                } = &mut job
                    && read_ahead
                    && *len <= READ_AHEAD_BYTES
                {
                    *bytes = read_file(path).ok();
                }
                on_found(1);
                batch.push((seq, job));
                seq += 1;
                if batch.len() < BATCH {
                    return true;
                }
                job_tx
                    .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .is_ok()
            };
            for input in inputs {
                if !walk_input(input, &mut send) {
                    break;
                }
            }
            if !batch.is_empty() {
                let _ = job_tx.send(batch);
            }
        });
        let (dedup, job_rx) = (&dedup, &job_rx);
        let labels = options.labels.as_deref();
        let mut started = 0;
        let mut spawn_error = None;
        for i in 0..workers {
            let done_tx = done_tx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("preflight-scan-{i}"))
                .spawn_scoped(s, move || {
                    loop {
                        // The lock is held only to take a batch, never while checking.
                        let next = job_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok(batch) = next else { break };
                        let done: Vec<Done> = batch
                            .into_iter()
                            .filter(|_| !stop.load(Ordering::Relaxed))
                            .map(|(seq, job)| (seq, run_job(engine, dedup, job, labels)))
                            .collect();
                        if done_tx.send(done).is_err() {
                            break;
                        }
                    }
                });
            match spawned {
                Ok(_) => started += 1,
                Err(e) => {
                    spawn_error = Some(e);
                    break;
                }
            }
        }
        drop(done_tx);
        if started == 0 {
            // No worker: stop the producer and take what it already sent, so it ends.
            stop.store(true, Ordering::Relaxed);
            while job_rx
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .recv()
                .is_ok()
            {}
            return Err(spawn_error.unwrap_or_else(|| io::Error::other("no scan worker started")));
        }
        // Back in input order; the first draft with given bytes is the original.
        let mut pending: BTreeMap<usize, Vec<(Item, Option<Key>)>> = BTreeMap::new();
        let mut next = 0;
        let mut first: HashMap<Key, String> = HashMap::new();
        let mut result = Ok(());
        for (seq, items) in done_rx.iter().flatten() {
            if result.is_err() {
                continue; // drain so the workers finish
            }
            pending.insert(seq, items);
            while let Some(items) = pending.remove(&next) {
                next += 1;
                for (mut item, key) in items {
                    if let (Some(key), Outcome::Checked { duplicate_of, .. }) =
                        (key, &mut item.outcome)
                    {
                        match first.entry(key) {
                            Entry::Occupied(o) => *duplicate_of = Some(o.get().clone()),
                            Entry::Vacant(v) => {
                                v.insert(item.draft.display());
                            }
                        }
                    }
                    if let Err(e) = on_item(item) {
                        result = Err(e);
                        stop.store(true, Ordering::Relaxed);
                        break;
                    }
                }
                if result.is_err() {
                    break;
                }
            }
        }
        result
    })
}

/// Checks one job's message(s).
fn run_job(
    engine: &Engine,
    dedup: &Dedup,
    job: Job,
    labels: Option<&Labels>,
) -> Vec<(Item, Option<Key>)> {
    match job {
        Job::Done(item) => vec![(item, None)],
        Job::Message { draft, bytes } => vec![check_one(engine, dedup, draft, &bytes)],
        Job::File {
            path,
            shown,
            strict,
            bytes,
            len: _,
        } => {
            let draft = Draft {
                path: shown,
                index: None,
            };
            let read = match bytes {
                Some(b) => Ok(b),
                None => read_file(&path),
            };
            let bytes = match read {
                Ok(b) => b,
                Err((code, message)) => {
                    return vec![(
                        Item {
                            draft,
                            outcome: Outcome::Error { code, message },
                        },
                        None,
                    )];
                }
            };
            // An mbox with several messages: each is a draft.
            if holds_several_messages(&bytes) {
                return MboxReader::new(&bytes[..])
                    .enumerate()
                    .map(|(i, m)| {
                        let d = Draft {
                            path: draft.path.clone(),
                            index: Some(i + 1),
                        };
                        check_one(engine, dedup, d, &m)
                    })
                    .collect();
            }
            if let Err(why) = crate::message::looks_like_mail(&bytes) {
                let labelled = labels.is_some_and(|l| l.get(&draft.path).is_some());
                let outcome = if strict || labelled {
                    not_mail(&why)
                } else {
                    Outcome::Skipped {
                        reason: format!("does not look like mail: {why}"),
                    }
                };
                return vec![(Item { draft, outcome }, None)];
            }
            vec![check_one(engine, dedup, draft, &bytes)]
        }
    }
}

/// Whether `bytes` is an mbox of more than one message: it starts with a `From ` line
/// and another follows after a blank line. (A file that holds one message after a `From `
/// line is that message; a file named `.mbox` or `.mbx` is an mbox however many it holds,
/// see [`is_mbox_name`].)
pub fn holds_several_messages(bytes: &[u8]) -> bool {
    bytes.starts_with(b"From ") && MboxReader::new(bytes).nth(1).is_some()
}

/// Whether a file's name says it is an mbox (`.mbox`, `.mbx`).
pub fn is_mbox_name(path: &Path) -> bool {
    matches!(extension(path).as_deref(), Some("mbox" | "mbx"))
}

fn not_mail(why: &str) -> Outcome {
    Outcome::Error {
        code: EX_DATAERR,
        message: format!("not a mail message: {why}"),
    }
}

fn check_one(engine: &Engine, dedup: &Dedup, draft: Draft, bytes: &[u8]) -> (Item, Option<Key>) {
    if draft.index.is_some()
        && let Err(why) = crate::message::looks_like_mail(bytes)
    {
        let outcome = not_mail(&why);
        return (Item { draft, outcome }, None);
    }
    match dedup.check(engine, bytes) {
        Ok((key, report)) => (
            Item {
                draft,
                outcome: Outcome::Checked {
                    report,
                    duplicate_of: None,
                    bytes: bytes.len(),
                },
            },
            Some(key),
        ),
        Err(message) => (
            Item {
                draft,
                outcome: Outcome::Error {
                    code: EX_SOFTWARE,
                    message,
                },
            },
            None,
        ),
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, (i32, String)> {
    // Found and then unreadable (permissions, vanished, I/O): a read error, 74. (A path
    // given on the command line that does not exist is 66, see `walk_input`.)
    let mut f = std::fs::File::open(path).map_err(|e| (EX_IOERR, format!("cannot open: {e}")))?;
    let mut buf = Vec::with_capacity(f.metadata().map_or(0, |m| m.len() as usize + 1));
    f.read_to_end(&mut buf)
        .map_err(|e| (EX_IOERR, format!("read error: {e}")))?;
    Ok(buf)
}

fn shown(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() && dir.join("new").is_dir()
}

fn done(path: &Path, outcome: Outcome) -> Job {
    Job::Done(Item {
        draft: Draft {
            path: shown(path),
            index: None,
        },
        outcome,
    })
}

/// A job that is an error about `path`, known without reading it.
fn failed(path: &Path, code: i32, message: String) -> Job {
    done(path, Outcome::Error { code, message })
}

/// Walks one command-line input; false when the receiver is gone.
fn walk_input(input: &Path, send: &mut dyn FnMut(Job) -> bool) -> bool {
    match std::fs::metadata(input) {
        Err(e) => send(failed(input, EX_NOINPUT, format!("cannot open: {e}"))),
        Ok(m) if m.is_dir() => walk_dir(input, send),
        Ok(m) => file(input, m.len(), true, send),
    }
}

/// A file: an mbox to stream, or one to read in the pool.
fn file(path: &Path, len: u64, strict: bool, send: &mut dyn FnMut(Job) -> bool) -> bool {
    if is_mbox_name(path) || (len > STREAM_MBOX_BYTES && starts_with_from(path)) {
        return stream_mbox(path, send);
    }
    send(Job::File {
        path: path.to_path_buf(),
        shown: shown(path),
        strict,
        bytes: None,
        len,
    })
}

fn starts_with_from(path: &Path) -> bool {
    let mut head = [0u8; 5];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"From "
}

/// Streams an mbox file message by message, so a large one is never held whole.
fn stream_mbox(path: &Path, send: &mut dyn FnMut(Job) -> bool) -> bool {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            return send(failed(path, EX_NOINPUT, format!("cannot open: {e}")));
        }
    };
    let mut reader = MboxReader::new(io::BufReader::with_capacity(256 * 1024, f));
    let mut index = 0;
    for bytes in reader.by_ref() {
        index += 1;
        let draft = Draft {
            path: shown(path),
            index: Some(index),
        };
        if !send(Job::Message { draft, bytes }) {
            return false;
        }
    }
    if let Some(e) = reader.error() {
        return send(failed(
            path,
            EX_IOERR,
            format!("read error after message {index}: {e}"),
        ));
    }
    if index == 0 {
        return send(failed(
            path,
            EX_DATAERR,
            "not an mbox: no message starts with a `From ` line".into(),
        ));
    }
    true
}

/// Walks a directory in name order: a Maildir's `cur` and `new` (and its Maildir++
/// subfolders), or every file and subdirectory; hidden entries and symbolic links to
/// directories are left out.
fn walk_dir(dir: &Path, send: &mut dyn FnMut(Job) -> bool) -> bool {
    if is_maildir(dir) {
        for sub in ["cur", "new"] {
            for (path, meta) in entries(&dir.join(sub), send).unwrap_or_default() {
                if meta.is_file() && !file(&path, meta.len(), true, send) {
                    return false;
                }
            }
        }
        for (path, meta) in entries(dir, &mut |_| true).unwrap_or_default() {
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if hidden && meta.is_dir() && is_maildir(&path) && !walk_dir(&path, send) {
                return false;
            }
        }
        return true;
    }
    let Some(list) = entries(dir, send) else {
        return true;
    };
    for (path, meta) in list {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        let ok = if meta.is_dir() {
            walk_dir(&path, send)
        } else if !meta.is_file() {
            true
        } else {
            match extension(&path) {
                None => file(&path, meta.len(), true, send),
                Some(e) if e == "eml" => file(&path, meta.len(), true, send),
                Some(e) if NOT_MAIL.contains(&e.as_str()) => send(done(
                    &path,
                    Outcome::Skipped {
                        reason: format!("a .{e} file is not mail"),
                    },
                )),
                Some(_) => file(&path, meta.len(), false, send),
            }
        };
        if !ok {
            return false;
        }
    }
    true
}

/// A directory's entries sorted by name, with metadata (symbolic links to files are
/// followed; to directories, not). An unreadable directory is reported and gives `None`.
fn entries(
    dir: &Path,
    send: &mut dyn FnMut(Job) -> bool,
) -> Option<Vec<(PathBuf, std::fs::Metadata)>> {
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) => {
            send(failed(
                dir,
                EX_NOINPUT,
                format!("cannot read directory: {e}"),
            ));
            return None;
        }
    };
    let mut list: Vec<(PathBuf, std::fs::Metadata)> = Vec::new();
    let mut broken: Vec<(PathBuf, String)> = Vec::new();
    for e in read.filter_map(Result::ok) {
        let path = e.path();
        let Ok(meta) = e.metadata() else { continue };
        if meta.file_type().is_symlink() {
            match std::fs::metadata(&path) {
                // Links to directories are not followed (no loops).
                Ok(target) if target.is_file() => list.push((path, target)),
                Ok(_) => {}
                Err(e) => broken.push((path, format!("broken symbolic link: {e}"))),
            }
            continue;
        }
        list.push((path, meta));
    }
    broken.sort();
    for (path, message) in broken {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden {
            send(failed(&path, EX_IOERR, message));
        }
    }
    list.sort_by(|a, b| a.0.cmp(&b.0));
    Some(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_dir(dir: &Path) -> Vec<Item> {
        let engine = Engine::new(crate::Config::default()).unwrap();
        let mut items = Vec::new();
        scan(
            &engine,
            &[dir.to_path_buf()],
            &Options {
                threads: 2,
                labels: None,
                dns: None,
            },
            |_| {},
            |i| {
                items.push(i);
                Ok(())
            },
        )
        .unwrap();
        items
    }

    #[test]
    fn walks_files_mbox_and_maildir_in_order_and_dedups() {
        let dir = std::env::temp_dir().join(format!("preflight-scan-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let good = include_bytes!("../../samples/good-personal-reply.eml");
        let canary = include_bytes!("../../samples/canary.eml");
        std::fs::create_dir_all(dir.join("maildir/cur")).unwrap();
        std::fs::create_dir_all(dir.join("maildir/new")).unwrap();
        std::fs::create_dir_all(dir.join("maildir/tmp")).unwrap();
        std::fs::write(dir.join("a.eml"), good).unwrap();
        std::fs::write(dir.join("b-copy.eml"), good).unwrap();
        std::fs::write(dir.join("notes.md"), "# not mail").unwrap();
        std::fs::write(dir.join("data.bin2"), [0u8, 1, 2, 3]).unwrap();
        std::fs::write(dir.join("broken"), "just words, no headers\n").unwrap();
        let mut mbox = b"From a@example.com Mon Nov 23 10:00:00 2026\n".to_vec();
        mbox.extend_from_slice(good);
        mbox.extend_from_slice(b"\nFrom b@example.com Mon Nov 23 10:00:01 2026\n");
        mbox.extend_from_slice(canary);
        std::fs::write(dir.join("c.mbox"), &mbox).unwrap();
        std::fs::write(dir.join("maildir/cur/1.host:2,S"), canary).unwrap();
        std::fs::write(dir.join("maildir/tmp/ignored"), canary).unwrap();
        let items = scan_dir(&dir);
        let shown: Vec<String> = items
            .iter()
            .map(|i| {
                let tag = match &i.outcome {
                    Outcome::Checked {
                        report,
                        duplicate_of,
                        ..
                    } => format!(
                        "{}{}",
                        report.verdict.as_str(),
                        if duplicate_of.is_some() { " dup" } else { "" }
                    ),
                    Outcome::Error { code, .. } => format!("error {code}"),
                    Outcome::Skipped { .. } => "skipped".into(),
                };
                let d = i.draft.display();
                format!("{} {tag}", &d[dir.to_string_lossy().len() + 1..])
            })
            .collect();
        assert_eq!(
            shown,
            [
                "a.eml pass",
                "b-copy.eml pass dup",
                "broken error 65",
                "c.mbox#1 pass dup",
                "c.mbox#2 reject",
                "data.bin2 skipped",
                "maildir/cur/1.host:2,S reject dup",
                "notes.md skipped",
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
