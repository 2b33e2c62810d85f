//! Go duration strings (`"90s"`, `"1h30m"`, `"500ms"`), as Nomad's job files write them, to and
//! from nanoseconds.

/// Parses a Go duration into nanoseconds; negative durations are refused.
pub fn parse(text: &str) -> Result<u64, String> {
    let bad = || {
        format!("{text:?} is not a duration (use Go's form, such as \"30s\", \"5m\" or \"1h30m\")")
    };
    let s = text.trim();
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() || s.starts_with('-') {
        return Err(bad());
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut total: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let value: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    if total > 9.2e18 {
        return Err(format!("{text:?} is too long a duration"));
    }
    Ok(total.round() as u64)
}

/// Formats nanoseconds the way Go prints a duration (`1h30m0s`, `500ms`, `0s`).
pub fn format(ns: u64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    if ns < 1_000_000_000 {
        return if ns % 1_000_000 == 0 {
            format!("{}ms", ns / 1_000_000)
        } else if ns % 1_000 == 0 {
            format!("{}µs", ns / 1_000)
        } else {
            format!("{ns}ns")
        };
    }
    let h = ns / 3_600_000_000_000;
    let m = (ns / 60_000_000_000) % 60;
    let s_ns = ns % 60_000_000_000;
    let secs = if s_ns % 1_000_000_000 == 0 {
        format!("{}s", s_ns / 1_000_000_000)
    } else {
        let text = format!("{:.9}", s_ns as f64 / 1e9);
        format!("{}s", text.trim_end_matches('0').trim_end_matches('.'))
    };
    if h > 0 {
        format!("{h}h{m}m{secs}")
    } else if m > 0 {
        format!("{m}m{secs}")
    } else {
        secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_round_trip() {
        assert_eq!(parse("30s"), Ok(30_000_000_000));
        assert_eq!(parse("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse("250ms"), Ok(250_000_000));
        assert!(parse("5").is_err());
        assert!(parse("-5s").is_err());
        assert!(parse("5 minutes").is_err());
        assert_eq!(format(5_400_000_000_000), "1h30m0s");
        assert_eq!(format(30_000_000_000), "30s");
        assert_eq!(format(250_000_000), "250ms");
        assert_eq!(format(0), "0s");
    }
}
