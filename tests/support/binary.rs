//! The `preflight` binary as the tests run it, and what they read of its output.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The binary Cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_preflight");

/// The binary, run from the repository root, without the user's colour and width.
pub fn bin() -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(super::root())
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS");
    c
}

/// Runs the binary with `args` to the end.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("runs")
}

/// Runs the binary with `args`, `input` on its standard input.
pub fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// The exit status.
pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

/// Output bytes as text (they must be UTF-8).
pub fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("utf-8 output")
}

/// Standard output as text (it must be UTF-8).
pub fn stdout(o: &Output) -> String {
    text(&o.stdout)
}

/// Standard error as text, any bytes that are not UTF-8 replaced.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output then standard error, as text, any bytes that are not UTF-8 replaced.
pub fn output(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
