//! The `preflight` command line.

/// Runs the CLI with the process arguments and returns the exit status.
pub fn main() -> i32 {
    0
}
