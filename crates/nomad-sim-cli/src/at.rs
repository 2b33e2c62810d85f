//! `--at`: a moment of the simulation, as a duration from the start (`90m`, `1d2h`) or as an
//! RFC 3339 timestamp like the ones the views print (`2026-01-05T14:30:00Z`).

use nomad_sim_core::time::parse_duration_ms;

const DAY_MS: u64 = 86_400_000;

/// Parses `--at` into milliseconds from the scenario's start (`start_unix_ms`, its `start:`).
pub fn parse_at(text: &str, start_unix_ms: u64) -> Result<u64, String> {
    let t = text.trim();
    if t.starts_with("--") {
        return Err(format!(
            "--at needs a value before the next flag {t:?}: give a duration such as 90m or 1d2h, or a time such as 2026-01-05T14:30:00Z"
        ));
    }
    if t.is_empty() {
        return Err("--at: empty; give a duration such as 90m or 1d2h, or a time such as 2026-01-05T14:30:00Z".to_string());
    }
    if t.contains('T') && t.contains('-') && !t.starts_with('-') {
        let unix = parse_timestamp(t).map_err(|e| format!("--at {text:?}: {e}"))?;
        return unix.checked_sub(start_unix_ms).ok_or_else(|| {
            format!(
                "--at {text:?}: before the scenario's start ({})",
                crate::format::iso8601(start_unix_ms)
            )
        });
    }
    parse_days_duration(t).map_err(|e| format!("--at {text:?}: {e}"))
}

/// A Go duration that may start with whole days: `1d`, `1d2h`, `2d30m`, `90m`.
pub fn parse_days_duration(text: &str) -> Result<u64, String> {
    if text.starts_with('-') {
        return Err(format!(
            "{text:?} is before the start: give a duration from the start (90m, 1d2h) or an RFC 3339 time"
        ));
    }
    let (days, rest) = match text.find('d') {
        Some(i) if text[..i].bytes().all(|b| b.is_ascii_digit()) && i > 0 => {
            let days: u64 = text[..i]
                .parse()
                .map_err(|_| format!("{:?} is not a number of days", &text[..i]))?;
            (days, &text[i + 1..])
        }
        _ => (0, text),
    };
    let rest_ms = if rest.is_empty() {
        if days == 0 {
            return Err("empty duration".to_string());
        }
        0
    } else {
        parse_duration_ms(rest)
            .map_err(|e| format!("{e}; whole days (d) may lead, as in 1d2h30m"))?
    };
    days.checked_mul(DAY_MS)
        .and_then(|d| d.checked_add(rest_ms))
        .filter(|ms| *ms <= nomad_sim_scenario::schema::MAX_DURATION_MS)
        .ok_or_else(|| "longer than 100 years, the most the simulator accepts".to_string())
}

/// An RFC 3339 timestamp (`2026-01-05T14:30:00Z`, `2026-01-05T15:30:00+01:00`, fractions of a
/// second allowed) in milliseconds since the Unix epoch.
fn parse_timestamp(text: &str) -> Result<u64, String> {
    let expected = "expected an RFC 3339 time such as 2026-01-05T14:30:00Z";
    let (date, time) = text.split_once('T').ok_or_else(|| expected.to_string())?;
    // The offset: `Z`, or `+hh:mm` / `-hh:mm` after the time.
    let (clock, offset_ms): (&str, i64) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0)
    } else if let Some(i) = time.rfind(['+', '-']) {
        let (c, off) = time.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, m) = off[1..]
            .split_once(':')
            .ok_or_else(|| format!("offset {off:?}: {expected}"))?;
        let h: i64 = h
            .parse()
            .map_err(|_| format!("offset {off:?}: {expected}"))?;
        let m: i64 = m
            .parse()
            .map_err(|_| format!("offset {off:?}: {expected}"))?;
        if h > 23 || m > 59 {
            return Err(format!("offset {off:?}: {expected}"));
        }
        (c, sign * (h * 3600 + m * 60) * 1000)
    } else {
        return Err(format!("no time zone (add Z for UTC): {expected}"));
    };
    let (whole, fraction_ms) = match clock.split_once('.') {
        Some((w, f)) => {
            if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                return Err(expected.to_string());
            }
            let digits: String = f.chars().chain("000".chars()).take(3).collect();
            (w, digits.parse::<u64>().map_err(|_| expected.to_string())?)
        }
        None => (clock, 0),
    };
    let utc = nomad_sim_scenario::parse_rfc3339_utc(&format!("{date}T{whole}Z"))
        .map_err(|_| expected.to_string())?;
    let ms = i128::from(utc) + i128::from(fraction_ms) - i128::from(offset_ms);
    u64::try_from(ms).map_err(|_| "before 1970".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: u64 = nomad_sim_scenario::DEFAULT_START_UNIX_MS;

    #[test]
    fn durations_with_days() {
        assert_eq!(parse_at("90m", START), Ok(90 * 60_000));
        assert_eq!(parse_at("1d", START), Ok(DAY_MS));
        assert_eq!(parse_at("1d2h", START), Ok(DAY_MS + 2 * 3_600_000));
        assert_eq!(parse_at("0", START), Ok(0));
        assert!(parse_at("d", START).is_err());
        assert!(parse_at("1x", START).is_err());
        assert!(parse_at("99999999999d", START).is_err());
        assert!(parse_at("-5m", START).is_err());
    }

    #[test]
    fn timestamps_as_the_views_print_them() {
        assert_eq!(
            parse_at("2026-01-05T14:30:00Z", START),
            Ok(14 * 3_600_000 + 30 * 60_000)
        );
        assert_eq!(parse_at("2026-01-06T00:00:00Z", START), Ok(DAY_MS));
        assert_eq!(
            parse_at("2026-01-05T15:30:00+01:00", START),
            Ok(14 * 3_600_000 + 30 * 60_000)
        );
        assert_eq!(parse_at("2026-01-05T00:00:01.5Z", START), Ok(1500));
        let early = parse_at("2026-01-04T23:00:00Z", START).unwrap_err();
        assert!(early.contains("before the scenario's start"), "{early}");
        assert!(parse_at("2026-01-05T14:30:00", START).is_err());
        assert!(parse_at("2026-13-05T14:30:00Z", START).is_err());
    }
}
