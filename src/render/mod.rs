//! Renderers for reports, rule documentation and example runs: human text ([`human`]) and
//! JSON ([`json`]), and the outputs of `preflight scan` (`scan`, `scan_html`, with the
//! `scan` feature).
//!
//! Both are pure functions from data to a `String`, so they are easy to test and the CLI
//! decides where the text goes. Neither reads the clock or the environment: the caller
//! passes the colour choice and the width in [`HumanOptions`].

pub mod human;
pub mod json;
#[cfg(feature = "scan")]
pub mod scan;
#[cfg(feature = "scan")]
pub mod scan_html;

pub use human::HumanOptions;

/// Formats a score without noise: `6`, `2.5`, `0.25`.
pub fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_read_naturally() {
        for (x, s) in [
            (6.0, "6"),
            (2.5, "2.5"),
            (0.25, "0.25"),
            (0.0, "0"),
            (-1.5, "-1.5"),
            (10.123, "10.12"),
        ] {
            assert_eq!(super::num(x), s);
        }
    }
}
