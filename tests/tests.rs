//! The integration tests, as one test binary (the crate is linked once, not once per
//! file): one module per topic in `tests/it/`, the helpers they share in
//! `tests/support/`. A module's tests are selected by its path, for example
//!
//! ```text
//! cargo test --test tests it::cli::
//! cargo test --release --test tests -- --ignored --nocapture it::corpus_sweep::
//! ```
//!
//! The `#[ignore]`d tests need `../shared/corpus`, Chromium, NSD or a release build;
//! `.ci/run` runs them by module path.

mod support;

mod it {
    mod cli;
    mod corpus_sweep;
    mod dns_online;
    mod dns_server;
    mod docs;
    mod hostile;
    mod lang;
    mod layers;
    mod learn;
    mod milter;
    mod model_sweep;
    mod mutation;
    mod robustness;
    mod rules_fixtures;
    mod samples;
    mod scan;
}
