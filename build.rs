//! Embeds the shipped rule packs (`rules/*.yaml`), data lists (`rules/lists/*.txt`) and
//! receiver profiles (`rules/profiles/*.yaml`)
//! into the binary: writes `$OUT_DIR/embedded.rs` (packs and lists) and
//! `$OUT_DIR/profiles.rs` with one `include_str!` per file, in file-name order, so adding
//! a pack, a list or a profile needs no Rust edit.

use std::fmt::Write as _;
use std::path::Path;

fn files(dir: &Path, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(ext) && !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

fn table(out: &mut String, doc: &str, name: &str, root: &Path, sub: &str, ext: &str) {
    writeln!(out, "/// {doc}").unwrap();
    writeln!(out, "pub(super) const {name}: &[(&str, &str)] = &[").unwrap();
    for f in files(&root.join(sub), ext) {
        let rel = format!("{sub}/{f}");
        let abs = root.join(&rel);
        writeln!(
            out,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();
}

fn main() {
    let root =
        std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=rules/lists");
    println!("cargo:rerun-if-changed=rules/profiles");
    let mut out = String::new();
    table(
        &mut out,
        "The shipped rule packs, by path in the repository, in file-name order.",
        "PACKS",
        &root,
        "rules",
        ".yaml",
    );
    table(
        &mut out,
        "The shipped data and phrase lists (`literals_file: lists/NAME.txt`), by path.",
        "LISTS",
        &root,
        "rules/lists",
        ".txt",
    );
    write("embedded.rs", &out);
    // The profiles are read by the configuration, a layer below the rules.
    let mut profiles = String::new();
    table(
        &mut profiles,
        "The shipped receiver profiles (`limits.profile: NAME`), by path.",
        "PROFILES",
        &root,
        "rules/profiles",
        ".yaml",
    );
    write("profiles.rs", &profiles);
}

fn write(name: &str, text: &str) {
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets it")).join(name);
    std::fs::write(&dest, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}
