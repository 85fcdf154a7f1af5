//! What the test modules share: the repository's files, the fixed clock and the engine
//! set to it, the corpus beside the repository, fresh scratch directories and a seeded
//! generator; the `preflight` binary as users run it ([`binary`]); generated hostile
//! messages ([`hostile`]) and measured runs of the binary ([`measure`]), the last two
//! also built into `benches/hostile.rs` (`#[path]`); a real DNS server, NSD on
//! 127.0.0.1, serving the zones a test writes ([`nsd`]).

pub mod binary;
pub mod hostile;
pub mod measure;
pub mod nsd;

use std::path::{Path, PathBuf};

use preflight::{Config, Engine};

/// The fixed `now` of the tests, rule fixtures and corpus runs: 2026-11-23 00:00:00 UTC.
pub const NOW: i64 = 1_795_392_000;

/// The repository's root directory.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The repository's file or directory `rel` (`samples/canary.eml`).
pub fn path(rel: &str) -> PathBuf {
    root().join(rel)
}

/// The bytes of the repository's file `rel`.
pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The text of the repository's file `rel`.
pub fn read_text(rel: &str) -> String {
    std::fs::read_to_string(path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A sample message of `samples/`.
pub fn sample(name: &str) -> Vec<u8> {
    read(&format!("samples/{name}"))
}

/// The files under `dir` (at any depth) whose extension is `ext`, sorted.
pub fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                walk(&p, ext, out);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, ext, &mut out);
    out.sort();
    out
}

/// The rule fixtures, `tests/fixtures/rules/<ID>-<what>.eml`, sorted.
pub fn rule_fixtures() -> Vec<PathBuf> {
    files_under(&path("tests/fixtures/rules"), "eml")
}

/// A fresh directory `name` under the target dir, removed first if it is there.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The labelled corpus, `../shared/corpus` beside the repository or `PREFLIGHT_CORPUS`,
/// when its `MANIFEST.tsv` is there.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PREFLIGHT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| path("../shared/corpus"));
    dir.join("MANIFEST.tsv").is_file().then_some(dir)
}

/// The shipped configuration at [`NOW`].
pub fn config() -> Config {
    Config {
        now: Some(NOW),
        ..Config::default()
    }
}

/// An engine with the shipped rules at [`NOW`].
pub fn engine() -> Engine {
    Engine::new(config()).expect("shipped rules load")
}

/// splitmix64: a tiny, well-mixed generator; the same seed gives the same numbers.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// One of `v`, which must not be empty.
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}
