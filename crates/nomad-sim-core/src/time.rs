//! Simulated time: integer milliseconds, and Go/Nomad duration strings.

/// A point in simulated time, in milliseconds since the start of the run.
pub type SimTime = u64;

/// Milliseconds in one second.
pub const SECOND_MS: u64 = 1_000;
/// Milliseconds in one minute.
pub const MINUTE_MS: u64 = 60 * SECOND_MS;
/// Milliseconds in one hour.
pub const HOUR_MS: u64 = 60 * MINUTE_MS;

/// The latest simulated time, about 8,900 years: the clock stops there however far a caller
/// (`serve`'s `/v1/sim/advance`, a fast `--speed`) asks it to go, since an alloc keeps its
/// times in 48 bits.
pub const MAX_SIM_TIME_MS: SimTime = (1 << 48) - 2;

/// Parses a Go duration string (`250ms`, `90s`, `5m`, `1h30m`, `1.5h`) into milliseconds.
///
/// Negative durations are rejected; a bare `0` is accepted as in Go.
/// Sub-millisecond parts (`us`, `µs`, `ns`) are accepted and rounded to the nearest millisecond.
pub fn parse_duration_ms(text: &str) -> Result<u64, crate::error::InputError> {
    parse_duration(text)
        .map_err(|m| crate::error::InputError::new(crate::error::InputErrorKind::Duration, m))
}

fn parse_duration(text: &str) -> Result<u64, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration".to_string());
    }
    if s.starts_with('-') {
        return Err(format!("negative duration {s:?}"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Ok(0);
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total_ns: f64 = 0.0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        if start == i {
            return Err(format!(
                "invalid duration {text:?}: expected a number at {:?}",
                &s[start..]
            ));
        }
        let number: f64 = s[start..i]
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: bad number {:?}", &s[start..i]))?;
        let unit_start = i;
        while i < bytes.len() && !(bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        let unit = &s[unit_start..i];
        let scale_ns = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => {
                return Err(format!(
                    "invalid duration {text:?}: missing unit (use ms, s, m or h, e.g. \"90s\")"
                ))
            }
            other => {
                return Err(format!(
                    "invalid duration {text:?}: unknown unit {other:?} (use ms, s, m or h)"
                ))
            }
        };
        total_ns += number * scale_ns;
    }
    let ms = (total_ns / 1e6).round();
    if !ms.is_finite() || ms > 1e15 {
        return Err(format!("duration {text:?} is too large"));
    }
    Ok(ms as u64)
}

/// Formats milliseconds the way Go prints a `time.Duration` (`1h30m0s`, `1.5s`, `250ms`).
pub fn format_duration_ms(ms: u64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    if ms < SECOND_MS {
        return format!("{ms}ms");
    }
    let hours = ms / HOUR_MS;
    let minutes = (ms % HOUR_MS) / MINUTE_MS;
    let secs_ms = ms % MINUTE_MS;
    let secs = if secs_ms % SECOND_MS == 0 {
        format!("{}s", secs_ms / SECOND_MS)
    } else {
        let text = format!("{:.3}", secs_ms as f64 / 1000.0);
        format!("{}s", text.trim_end_matches('0'))
    };
    if hours > 0 {
        format!("{hours}h{minutes}m{secs}")
    } else if minutes > 0 {
        format!("{minutes}m{secs}")
    } else {
        secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert_eq!(parse_duration_ms("90s"), Ok(90_000));
        assert_eq!(parse_duration_ms("5m"), Ok(300_000));
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("1.5h"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("0"), Ok(0));
        assert_eq!(parse_duration_ms("1500us"), Ok(2));
    }

    #[test]
    fn rejects_bad_durations() {
        assert!(parse_duration_ms("").is_err());
        assert!(parse_duration_ms("-5m").is_err());
        let e = parse_duration_ms("10").unwrap_err();
        assert_eq!(e.kind, crate::error::InputErrorKind::Duration);
        assert!(e.message().contains("missing unit"));
        assert!(parse_duration_ms("10d")
            .unwrap_err()
            .message()
            .contains("unknown unit"));
        assert!(parse_duration_ms("m").is_err());
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_duration_ms(0), "0s");
        assert_eq!(format_duration_ms(250), "250ms");
        assert_eq!(format_duration_ms(1_500), "1.5s");
        assert_eq!(format_duration_ms(5_400_000), "1h30m0s");
        assert_eq!(format_duration_ms(61_000), "1m1s");
    }
}
