//! Cron specs as Nomad's periodic dispatcher reads them (the cronexpr library): fields,
//! predefined specs, the next launch after a time, and the fixed UTC offsets the simulator knows.
//!
//! Five fields are `minute hour day-of-month month day-of-week`; six add a year at the end;
//! seven add seconds at the front (`second minute hour day-of-month month day-of-week year`).
//! Fields take `*`, numbers, names (`JAN`, `MON`), ranges, lists and steps; day-of-week 7 is
//! Sunday. When both day fields are restricted, a day matches if either does (crontab's rule).

/// The last year cronexpr matches.
const LAST_YEAR: i64 = 2099;
/// The first year cronexpr matches.
const FIRST_YEAR: i64 = 1970;

/// A parsed cron spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronSpec {
    /// The spec as written.
    pub text: String,
    seconds: u64,
    minutes: u64,
    hours: u32,
    days_of_month: u32,
    months: u16,
    days_of_week: u8,
    /// Allowed years from 1970, one flag each; `None` is every year.
    years: Option<Vec<bool>>,
    dom_restricted: bool,
    dow_restricted: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Parses one field into the set of its values (as bits), between `min` and `max`.
fn field(text: &str, what: &str, min: i64, max: i64, names: &[&str]) -> Result<Vec<i64>, String> {
    let value = |t: &str| -> Result<i64, String> {
        if let Ok(v) = t.parse::<i64>() {
            return Ok(v);
        }
        let lower = t.to_ascii_lowercase();
        if let Some(i) = names.iter().position(|n| *n == lower) {
            // Month names start at 1, day names at 0.
            return Ok(i as i64 + if names.len() == 12 { 1 } else { 0 });
        }
        if t.contains(['L', 'W', '#', 'l', 'w']) {
            return Err(format!(
                "{what} {text:?}: the L, W and # forms are not modelled by the simulator yet"
            ));
        }
        Err(format!("{what} {text:?}: {t:?} is not a number"))
    };
    let mut out = Vec::new();
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: i64 = s
                    .parse()
                    .map_err(|_| format!("{what} {text:?}: step {s:?} is not a number"))?;
                if step < 1 {
                    return Err(format!("{what} {text:?}: a step must be at least 1"));
                }
                (r, Some(step))
            }
            None => (item, None),
        };
        let (lo, hi) = if range == "*" || range == "?" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let a = value(range)?;
            // `a/step` runs from `a` to the field's end.
            (a, if step.is_some() { max } else { a })
        };
        let top = if max == 6 { 7 } else { max };
        if lo < min || hi > top || lo > hi {
            return Err(format!("{what} {text:?}: {range:?} is outside {min}-{max}"));
        }
        let mut v = lo;
        while v <= hi {
            // Day-of-week 7 is Sunday, as in crontab.
            out.push(if max == 6 && v == 7 { 0 } else { v });
            v += step.unwrap_or(1);
        }
    }
    Ok(out)
}

fn bits(values: &[i64]) -> u64 {
    values.iter().fold(0u64, |b, &v| b | (1u64 << v))
}

impl CronSpec {
    /// Parses a spec as cronexpr does, or says why it cannot.
    pub fn parse(text: &str) -> Result<CronSpec, String> {
        let t = text.trim();
        let expanded = match t {
            "@yearly" | "@annually" => "0 0 0 1 1 * *",
            "@monthly" => "0 0 0 1 * * *",
            "@weekly" => "0 0 0 * * 0 *",
            "@daily" => "0 0 0 * * * *",
            "@hourly" => "0 0 * * * * *",
            _ if t.starts_with('@') => {
                return Err(format!(
                    "cron spec {t:?}: Nomad's cron parser knows @yearly, @annually, @monthly, @weekly, @daily and @hourly only"
                ))
            }
            _ => t,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let (sec, rest, year) = match fields.len() {
            5 => ("0", &fields[..], "*"),
            6 => ("0", &fields[..5], fields[5]),
            7 => (fields[0], &fields[1..6], fields[6]),
            n => {
                return Err(format!(
                    "cron spec {t:?} has {n} fields: expected 5 (minute hour day month weekday), 6 (with a year) or 7 (with seconds and a year)"
                ))
            }
        };
        let seconds = bits(&field(sec, "seconds", 0, 59, &[])?);
        let minutes = bits(&field(rest[0], "minutes", 0, 59, &[])?);
        let hours = bits(&field(rest[1], "hours", 0, 23, &[])?) as u32;
        let days_of_month = bits(&field(rest[2], "day of month", 1, 31, &[])?) as u32;
        let months = bits(&field(rest[3], "month", 1, 12, &MONTHS)?) as u16;
        let days_of_week = bits(&field(rest[4], "day of week", 0, 6, &DAYS)?) as u8;
        let years = if year == "*" || year == "?" {
            None
        } else {
            let mut flags = vec![false; (LAST_YEAR - FIRST_YEAR + 1) as usize];
            for y in field(year, "year", FIRST_YEAR, LAST_YEAR, &[])? {
                flags[(y - FIRST_YEAR) as usize] = true;
            }
            Some(flags)
        };
        let unrestricted = |f: &str| f == "*" || f == "?";
        Ok(CronSpec {
            text: t.to_string(),
            seconds,
            minutes,
            hours,
            days_of_month,
            months,
            days_of_week,
            years,
            dom_restricted: !unrestricted(rest[2]),
            dow_restricted: !unrestricted(rest[4]),
        })
    }

    fn day_matches(&self, dom: i64, dow: i64) -> bool {
        let by_dom = self.days_of_month & (1 << dom) != 0;
        let by_dow = self.days_of_week & (1 << dow) != 0;
        match (self.dom_restricted, self.dow_restricted) {
            (true, true) => by_dom || by_dow,
            (true, false) => by_dom,
            (false, true) => by_dow,
            (false, false) => true,
        }
    }

    /// The first second of the day at or after `from_sod` that matches, if any.
    fn time_in_day(&self, from_sod: i64) -> Option<i64> {
        let (h0, m0, s0) = (from_sod / 3600, from_sod / 60 % 60, from_sod % 60);
        for h in h0..24 {
            if self.hours & (1 << h) == 0 {
                continue;
            }
            let first_m = if h == h0 { m0 } else { 0 };
            for m in first_m..60 {
                if self.minutes & (1 << m) == 0 {
                    continue;
                }
                let first_s = if h == h0 && m == m0 { s0 } else { 0 };
                if let Some(s) = (first_s..60).find(|s| self.seconds & (1 << s) != 0) {
                    return Some(h * 3600 + m * 60 + s);
                }
            }
        }
        None
    }

    /// The first matching Unix second strictly after `after_s`, reading the spec in a zone
    /// `utc_offset_s` ahead of UTC; `None` when nothing matches up to 2099.
    pub fn next_after_s(&self, after_s: i64, utc_offset_s: i64) -> Option<i64> {
        let local = after_s + utc_offset_s + 1;
        let mut day = local.div_euclid(86_400);
        let mut from_sod = local.rem_euclid(86_400);
        loop {
            let (y, m, d) = civil_from_days(day);
            if y > LAST_YEAR {
                return None;
            }
            let year_ok = self
                .years
                .as_ref()
                .is_none_or(|f| y >= FIRST_YEAR && f[(y - FIRST_YEAR) as usize]);
            if !year_ok {
                day = days_from_civil(y + 1, 1, 1);
                from_sod = 0;
                continue;
            }
            if self.months & (1 << m) == 0 {
                day = if m == 12 {
                    days_from_civil(y + 1, 1, 1)
                } else {
                    days_from_civil(y, m + 1, 1)
                };
                from_sod = 0;
                continue;
            }
            // 1970-01-01 was a Thursday.
            let dow = (day + 4).rem_euclid(7);
            if self.day_matches(d, dow) {
                if let Some(sod) = self.time_in_day(from_sod) {
                    return Some(day * 86_400 + sod - utc_offset_s);
                }
            }
            day += 1;
            from_sod = 0;
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The UTC offset in seconds of a periodic block's `time_zone`: UTC and its aliases, the tz
/// database's fixed zones `Etc/GMT+N` / `Etc/GMT-N` (signs inverted, as there), and, as the
/// simulator's own shorthand, `+HH:MM` / `-HH:MM`. A named zone with daylight saving is
/// refused here: the scenario loader reads it from its bundled time zone database and gives
/// the core its offset changes (`PeriodicSpec::offset_changes`).
pub fn utc_offset_s(zone: &str) -> Result<i64, String> {
    let z = zone.trim();
    const UTC: [&str; 14] = [
        "",
        "UTC",
        "Etc/UTC",
        "GMT",
        "Etc/GMT",
        "Z",
        "UCT",
        "Etc/UCT",
        "Zulu",
        "Etc/Zulu",
        "Universal",
        "Etc/Universal",
        "Greenwich",
        "Etc/Greenwich",
    ];
    if UTC.contains(&z) {
        return Ok(0);
    }
    let refuse = || {
        format!(
            "time zone {z:?} is not UTC, Etc/GMT+N / Etc/GMT-N or a fixed offset such as +05:30: a named zone is read from the time zone database, which only the scenario loader carries"
        )
    };
    let not_an_offset =
        || format!("{z:?} is not a UTC offset: use +HH:MM from -14:00 to +14:00, such as +05:30");
    if let Some(rest) = z.strip_prefix("Etc/GMT") {
        let (sign, n) = rest.split_at(1.min(rest.len()));
        let hours: i64 = n.parse().map_err(|_| refuse())?;
        return match sign {
            "+" if hours <= 12 => Ok(-hours * 3600),
            "-" if hours <= 14 => Ok(hours * 3600),
            _ => Err(refuse()),
        };
    }
    let (sign, rest) = match z.as_bytes().first() {
        Some(b'+') => (1, &z[1..]),
        Some(b'-') => (-1, &z[1..]),
        _ => return Err(refuse()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    let ok = digits.chars().all(|c| c.is_ascii_digit())
        && (digits.len() == 2 || digits.len() == 4)
        && (rest.len() != 5 || rest.as_bytes()[2] == b':');
    if !ok {
        return Err(not_an_offset());
    }
    let h: i64 = digits[..2].parse().map_err(|_| not_an_offset())?;
    let m: i64 = if digits.len() == 4 {
        digits[2..].parse().map_err(|_| not_an_offset())?
    } else {
        0
    };
    if h > 14 || m > 59 || (h == 14 && m > 0) {
        return Err(not_an_offset());
    }
    Ok(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 1, 5), 20_458);
        for z in [-1000, 0, 59, 20_458, 47_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn both_day_fields_restricted_match_either() {
        // The 1st of the month or any Friday, at midnight: from Monday 2026-01-05 the next is
        // Friday 2026-01-09, then Friday the 16th, ..., then Sunday 2026-02-01.
        let spec = CronSpec::parse("0 0 1 * FRI").unwrap();
        let monday = days_from_civil(2026, 1, 5) * 86_400;
        assert_eq!(
            spec.next_after_s(monday, 0),
            Some(days_from_civil(2026, 1, 9) * 86_400)
        );
        let jan30 = days_from_civil(2026, 1, 30) * 86_400;
        assert_eq!(
            spec.next_after_s(jan30, 0),
            Some(days_from_civil(2026, 2, 1) * 86_400)
        );
    }
}
