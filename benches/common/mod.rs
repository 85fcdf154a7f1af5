//! Shared by the bench targets: the dev corpus beside the repository.

use std::path::Path;

/// Every `step`-th message of `../shared/corpus/MANIFEST.tsv`, read into memory; `None`
/// when there is no corpus.
pub fn corpus_messages(step: usize) -> Option<Vec<Vec<u8>>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).ok()?;
    Some(
        manifest
            .lines()
            .skip(1)
            .step_by(step)
            .filter_map(|l| l.split('\t').next())
            .filter_map(|p| std::fs::read(dir.join(p)).ok())
            .collect(),
    )
}
