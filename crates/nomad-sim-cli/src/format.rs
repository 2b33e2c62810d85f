//! Nomad's CLI formatting: column tables, key/value blocks, dates, relative times, byte sizes.

/// A table as Nomad's `formatList` prints it: empty cells become `<none>`, every column but
/// the last is padded to its widest cell, columns are joined by two spaces.
pub fn columns(rows: &[Vec<String>]) -> String {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; width];
    let cell = |c: &String| {
        if c.trim().is_empty() {
            "<none>".to_string()
        } else {
            c.trim().to_string()
        }
    };
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell(c).chars().count());
        }
    }
    let mut out = String::new();
    for (r, row) in rows.iter().enumerate() {
        if r > 0 {
            out.push('\n');
        }
        for (i, c) in row.iter().enumerate() {
            let text = cell(c);
            out.push_str(&text);
            if i + 1 < row.len() {
                let pad = widths[i] - text.chars().count();
                out.push_str(&" ".repeat(pad + 2));
            }
        }
    }
    out
}

/// A key/value block as Nomad's `formatKV` prints it: keys padded, joined by ` = `.
pub fn key_values(pairs: &[(&str, String)]) -> String {
    let width = pairs
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| {
            let v = if v.trim().is_empty() {
                "<none>"
            } else {
                v.as_str()
            };
            format!("{k}{} = {v}", " ".repeat(width - k.chars().count()))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An ISO-8601 UTC time with seconds, as Nomad prints dates: `2026-01-05T10:00:00Z`.
pub fn iso8601(unix_ms: u64) -> String {
    let secs = (unix_ms / 1000) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// A relative time as Nomad's `prettyTimeDiff`: the two largest non-zero units, then ` ago`.
pub fn ago(now_ms: u64, then_ms: u64) -> String {
    let (diff, suffix) = if now_ms >= then_ms {
        ((now_ms - then_ms + 500) / 1000, "ago")
    } else {
        ((then_ms - now_ms + 500) / 1000, "from now")
    };
    if diff == 0 {
        return format!("0s {suffix}");
    }
    let units: [(&str, u64); 6] = [
        ("y", 365 * 86_400),
        ("mo", 30 * 86_400),
        ("d", 86_400),
        ("h", 3600),
        ("m", 60),
        ("s", 1),
    ];
    let mut left = diff;
    let mut parts = Vec::new();
    for (name, size) in units {
        let n = left / size;
        left %= size;
        if n > 0 || !parts.is_empty() {
            parts.push((n, name));
        }
        if parts.len() == 2 {
            break;
        }
    }
    let text: String = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{n}{name}"))
        .collect();
    format!("{text} {suffix}")
}

/// MB as `humanize.IBytes` prints the same number of MiB: `256 MiB`, `2.0 GiB`, `32 GiB`.
pub fn ibytes(mb: u64) -> String {
    let bytes = mb as f64 * 1024.0 * 1024.0;
    if bytes < 1024.0 {
        return format!("{bytes} B");
    }
    let units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    let e = (bytes.ln() / 1024f64.ln()).floor() as usize;
    let e = e.clamp(1, units.len());
    let value = (bytes / 1024f64.powi(e as i32) * 10.0 + 0.5).floor() / 10.0;
    if value < 10.0 {
        format!("{value:.1} {}", units[e - 1])
    } else {
        format!("{value:.0} {}", units[e - 1])
    }
}

/// The first eight characters of an ID, as the CLI shows IDs.
pub fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_pad_all_but_the_last_column() {
        let rows = vec![
            vec!["ID".to_string(), "Class".to_string(), "Status".to_string()],
            vec!["a72dfba2".to_string(), String::new(), "ready".to_string()],
        ];
        assert_eq!(
            columns(&rows),
            "ID        Class   Status\na72dfba2  <none>  ready"
        );
    }

    #[test]
    fn key_values_align() {
        let text = key_values(&[("ID", "x".to_string()), ("Submit Date", "y".to_string())]);
        assert_eq!(text, "ID          = x\nSubmit Date = y");
    }

    #[test]
    fn dates_and_relative_times() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            iso8601(1_767_571_200_000 + 36_000_000),
            "2026-01-05T10:00:00Z"
        );
        assert_eq!(iso8601(951_827_415_000), "2000-02-29T12:30:15Z");
        assert_eq!(ago(300_000, 0), "5m ago");
        assert_eq!(ago(3_780_000, 0), "1h3m ago");
        assert_eq!(ago(3_600_000, 0), "1h ago");
        assert_eq!(ago(400, 0), "0s ago");
        assert_eq!(ago(2 * 86_400_000 + 4 * 3_600_000 + 59_000, 0), "2d4h ago");
    }

    #[test]
    fn sizes_like_humanize() {
        assert_eq!(ibytes(256), "256 MiB");
        assert_eq!(ibytes(2048), "2.0 GiB");
        assert_eq!(ibytes(32768), "32 GiB");
        assert_eq!(ibytes(300), "300 MiB");
        assert_eq!(ibytes(30720), "30 GiB");
    }
}
