//! Dates of header fields: RFC 5322 §3.3 date-times (with the obsolete forms of §4.3)
//! and civil-date arithmetic, for the checks and the command line's `--now`.

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// 1 for `Jan` ... 12 for `Dec`, any case.
fn month_index(s: &str) -> Option<i64> {
    const M: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    M.iter()
        .position(|m| s.eq_ignore_ascii_case(m))
        .map(|i| i as i64 + 1)
}

/// A zone's offset from UTC in seconds: `+hhmm`/`-hhmm` or an obsolete name.
fn zone_offset(z: &str) -> Option<i64> {
    let b = z.as_bytes();
    if b.len() == 5 && (b[0] == b'+' || b[0] == b'-') && b[1..].iter().all(u8::is_ascii_digit) {
        let h: i64 = z[1..3].parse().ok()?;
        let m: i64 = z[3..5].parse().ok()?;
        if m > 59 {
            return None;
        }
        let off = h * 3600 + m * 60;
        return Some(if b[0] == b'-' { -off } else { off });
    }
    // Obsolete zones (RFC 5322 §4.3).
    let off = match z.to_ascii_uppercase().as_str() {
        "UT" | "GMT" | "Z" => 0,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        s if s.len() == 1 && s.bytes().all(|c| c.is_ascii_alphabetic() && c != b'J') => 0,
        _ => return None,
    };
    Some(off * 3600)
}

/// Parses an RFC 5322 §3.3 date-time (obsolete forms of §4.3 accepted) into Unix seconds.
/// `Err` names what is wrong.
pub fn parse(value: &str) -> Result<i64, &'static str> {
    // Drop comments, then tokenise on white space and commas.
    let mut s = String::with_capacity(value.len());
    let mut depth = 0usize;
    for c in value.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => s.push(c),
            _ => {}
        }
    }
    let mut toks: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    if toks.is_empty() {
        return Err("the Date is empty");
    }
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    if DAYS.iter().any(|d| toks[0].eq_ignore_ascii_case(d)) {
        toks.remove(0);
    } else if toks[0].bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err("the day of the week is not one of Mon..Sun");
    }
    if toks.len() < 4 {
        return Err("expected `day month year hh:mm[:ss] zone`");
    }
    let day: i64 = toks[0].parse().map_err(|_| "the day is not a number")?;
    let month = month_index(toks[1]).ok_or("the month is not one of Jan..Dec")?;
    let mut year: i64 = toks[2].parse().map_err(|_| "the year is not a number")?;
    if toks[2].len() == 2 {
        year += if year < 50 { 2000 } else { 1900 };
    } else if toks[2].len() == 3 {
        year += 1900;
    } else if toks[2].len() != 4 {
        return Err("the year does not have four digits");
    }
    let tparts: Vec<&str> = toks[3].split(':').collect();
    if !(2..=3).contains(&tparts.len())
        || tparts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("the time is not hh:mm or hh:mm:ss");
    }
    let hh: i64 = tparts[0].parse().unwrap_or(99);
    let mm: i64 = tparts[1].parse().unwrap_or(99);
    let ss: i64 = tparts.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
    if hh > 23 || mm > 59 || ss > 60 {
        return Err("the time is out of range");
    }
    let dim = [
        31,
        if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 {
            29
        } else {
            28
        },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if day < 1 || day > dim[(month - 1) as usize] {
        return Err("the day does not exist in that month");
    }
    let zone = toks.get(4).ok_or("the time zone is missing")?;
    let off = zone_offset(zone).ok_or("the time zone is not +hhmm/-hhmm or a known name")?;
    if toks.len() > 5 {
        return Err("there is text after the time zone");
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hh * 3600 + mm * 60 + ss - off)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse("Thu, 1 Jan 1970 00:00:00 +0000"), Ok(0));
        assert_eq!(parse("Mon, 23 Nov 2026 10:00:00 +0100"), Ok(1_795_424_400));
        assert!(parse("23 Nov 2026 10:00 GMT").is_ok());
        assert!(parse("Mon, 23 Nov 02 10:00:00 -0800 (PST)").is_ok());
        for bad in [
            "",
            "yesterday",
            "Mon, 31 Feb 2026 10:00:00 +0000",
            "Mon, 23 Nov 2026 25:00:00 +0000",
            "Mon, 23 Nov 2026 10:00:00",
            "2026-11-23T10:00:00Z",
            "Mon, 23 Nov 2026 10:00:00 +0000 extra",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
