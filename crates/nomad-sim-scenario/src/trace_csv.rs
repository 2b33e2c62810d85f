//! Reads arrival traces: CSV rows of submit time, parallelism, cpu, memory and duration.
//!
//! The CSV is what spreadsheets and `COPY ... TO CSV` write: an optional byte order mark,
//! fields optionally in double quotes (with `""` for a quote inside), `#` comment lines.
//! Every problem names the file, the line and the column of the field.

use std::path::Path;

use nomad_sim_core::config::TraceArrival;
use nomad_sim_core::time::parse_duration_ms;

use crate::schema::MAX_DURATION_MS;

/// The columns a trace must have, in any order.
pub const COLUMNS: [&str; 5] = ["submit", "parallelism", "cpu", "memory", "duration"];

/// The largest trace file the loader reads (256 MiB, about ten million rows).
pub const MAX_TRACE_BYTES: u64 = 256 * 1024 * 1024;

/// The most rows a trace may have.
pub const MAX_TRACE_ROWS: usize = 5_000_000;

/// The largest CPU (MHz) or memory (MB) a row may ask for, as in scenarios.
const MAX_ASK: u64 = 1_000_000_000;

/// Problems reported before giving up on a trace.
const MAX_PROBLEMS: usize = 10;

/// One row of a trace, with where its fields are (for messages about the ask).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The arrival the row describes.
    pub arrival: TraceArrival,
    /// The row's line in the file, from 1.
    pub line: usize,
    /// The column of each field of [`COLUMNS`], from 1.
    pub columns: [usize; 5],
}

/// Reads a trace file. Times are Go durations (`90s`) or plain seconds; rows may come in any order.
pub fn read(path: &Path) -> Result<Vec<Row>, Vec<String>> {
    let label = path.display().to_string();
    let text =
        crate::read_text(path, MAX_TRACE_BYTES, "trace").map_err(|p| vec![format!("{p}")])?;
    parse(&text, &label)
}

/// Splits one CSV line into fields and their 1-based columns. Quoted fields keep commas;
/// `""` inside quotes is one quote.
fn split(line: &str) -> Result<Vec<(String, usize)>, (usize, String)> {
    let chars: Vec<char> = line.chars().collect();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        // Spaces before a quoted field are allowed, as many writers put them.
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        if j < chars.len() && chars[j] == '"' {
            let mut value = String::new();
            let mut k = j + 1;
            loop {
                match chars.get(k) {
                    None => {
                        return Err((
                            j + 1,
                            "unterminated quoted field (a field may not span lines)".to_string(),
                        ))
                    }
                    Some('"') if chars.get(k + 1) == Some(&'"') => {
                        value.push('"');
                        k += 2;
                    }
                    Some('"') => {
                        k += 1;
                        break;
                    }
                    Some(c) => {
                        value.push(*c);
                        k += 1;
                    }
                }
            }
            while k < chars.len() && chars[k] == ' ' {
                k += 1;
            }
            fields.push((value, j + 2));
            match chars.get(k) {
                None => return Ok(fields),
                Some(',') => i = k + 1,
                Some(_) => {
                    return Err((
                        k + 1,
                        "text after a closing quote (expected a comma)".to_string(),
                    ))
                }
            }
        } else {
            let mut k = i;
            while k < chars.len() && chars[k] != ',' {
                k += 1;
            }
            let value: String = chars[start..k].iter().collect();
            fields.push((value, start + 1));
            if k >= chars.len() {
                return Ok(fields);
            }
            i = k + 1;
        }
    }
}

/// A time field: plain seconds or a Go duration, at most 100 years.
fn time(value: &str) -> Result<u64, String> {
    let v = value.trim();
    if v.starts_with('-') {
        return Err(format!("{v:?} must not be negative"));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if !secs.is_finite() {
            return Err(format!("{v:?} is not a finite number of seconds"));
        }
        let ms = (secs * 1000.0).round();
        if ms > MAX_DURATION_MS as f64 {
            return Err(format!(
                "{v} s is longer than 100 years, the most the simulator accepts"
            ));
        }
        return Ok(ms as u64);
    }
    let ms = parse_duration_ms(v)?;
    if ms > MAX_DURATION_MS {
        return Err(format!(
            "{v} is longer than 100 years, the most the simulator accepts"
        ));
    }
    Ok(ms)
}

/// A whole-number field within `1..=max`.
fn count(value: &str, max: u64) -> Result<u64, String> {
    let v = value.trim();
    if v.starts_with('-') {
        return Err(format!("{v:?} must not be negative"));
    }
    let n: u64 = v
        .parse()
        .map_err(|_| format!("{v:?} is not a whole number"))?;
    if n == 0 {
        return Err("must be at least 1".to_string());
    }
    if n > max {
        return Err(format!("{n} is more than the simulator accepts ({max})"));
    }
    Ok(n)
}

/// Parses trace text; `label` names the file in messages. Every problem found (up to ten)
/// is reported, each as `file:line:column: message`.
pub fn parse(text: &str, label: &str) -> Result<Vec<Row>, Vec<String>> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((header_no, header)) = lines.next() else {
        return Err(vec![format!(
            "{label}: the trace is empty (expected a header: {})",
            COLUMNS.join(",")
        )]);
    };
    let names: Vec<(String, usize)> = split(header)
        .map_err(|(c, e)| vec![format!("{label}:{}:{c}: {e}", header_no + 1)])?
        .into_iter()
        .map(|(h, c)| (h.trim().to_ascii_lowercase(), c))
        .collect();
    let mut index = [0usize; 5];
    for (k, col) in COLUMNS.iter().enumerate() {
        index[k] = names.iter().position(|(n, _)| n == col).ok_or_else(|| {
            vec![format!(
                "{label}:{}:1: the header lacks column {col:?} (expected {})",
                header_no + 1,
                COLUMNS.join(",")
            )]
        })?;
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (line_no, line) in lines {
        let line_no = line_no + 1;
        if rows.len() >= MAX_TRACE_ROWS {
            problems.push(format!(
                "{label}:{line_no}:1: more than {MAX_TRACE_ROWS} rows, the most a trace may have"
            ));
            break;
        }
        let fields = match split(line) {
            Ok(f) => f,
            Err((c, e)) => {
                problems.push(format!("{label}:{line_no}:{c}: {e}"));
                if problems.len() >= MAX_PROBLEMS {
                    break;
                }
                continue;
            }
        };
        let mut values: [&str; 5] = [""; 5];
        let mut columns = [0usize; 5];
        let mut missing = false;
        for k in 0..5 {
            match fields.get(index[k]) {
                Some((v, c)) => {
                    values[k] = v.as_str();
                    columns[k] = *c;
                }
                None => {
                    problems.push(format!(
                        "{label}:{line_no}:{}: missing column {:?}",
                        line.chars().count() + 1,
                        COLUMNS[k]
                    ));
                    missing = true;
                    break;
                }
            }
        }
        if !missing {
            let mut field = |k: usize, r: Result<u64, String>| -> u64 {
                r.unwrap_or_else(|e| {
                    problems.push(format!(
                        "{label}:{line_no}:{}: {}: {e}",
                        columns[k], COLUMNS[k]
                    ));
                    0
                })
            };
            let submit_ms = field(0, time(values[0]));
            let parallelism = field(1, count(values[1], u64::from(u32::MAX)));
            let cpu_mhz = field(2, count(values[2], MAX_ASK));
            let memory_mb = field(3, count(values[3], MAX_ASK));
            let duration_ms = field(4, time(values[4]));
            rows.push(Row {
                arrival: TraceArrival {
                    submit_ms,
                    parallelism: u32::try_from(parallelism).unwrap_or(u32::MAX),
                    cpu_mhz,
                    memory_mb,
                    duration_ms,
                },
                line: line_no,
                columns,
            });
        }
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
    }
    if !problems.is_empty() {
        problems.truncate(MAX_PROBLEMS);
        return Err(problems);
    }
    rows.sort_by_key(|r| r.arrival.submit_ms);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrivals(text: &str) -> Vec<TraceArrival> {
        parse(text, "t.csv")
            .unwrap()
            .into_iter()
            .map(|r| r.arrival)
            .collect()
    }

    #[test]
    fn parses_rows_in_any_column_order() {
        let rows = arrivals("# a comment\nsubmit,cpu,memory,duration,parallelism\n90s,2048,4096,5m,2\n10,1024,2048,30,1\n");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].submit_ms, 10_000);
        assert_eq!(rows[0].duration_ms, 30_000);
        assert_eq!(rows[1].parallelism, 2);
        assert_eq!(rows[1].duration_ms, 300_000);
    }

    #[test]
    fn quoted_fields_are_unquoted() {
        let rows = arrivals(
            "\u{FEFF}\"submit\",\"parallelism\",\"cpu\",\"memory\",\"duration\"\r\n\"90\", \"2\",\"2048\",\"4096\",\"5m\"\r\n",
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].cpu_mhz, 2048);
        assert_eq!(rows[0].parallelism, 2);
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = parse(
            "submit,parallelism,cpu,memory,duration\n1,x,2,3,4\n",
            "t.csv",
        )
        .unwrap_err();
        assert!(err[0].starts_with("t.csv:2:3:"), "{err:?}");
        let err = parse("submit,cpu\n", "t.csv").unwrap_err();
        assert!(err[0].contains("lacks column \"parallelism\""), "{err:?}");
        let err = parse(
            "submit,parallelism,cpu,memory,duration\n1,1,2,3,1e300\n0,-1,2,3,4\n",
            "t.csv",
        )
        .unwrap_err();
        assert!(
            err[0].starts_with("t.csv:2:9: duration:") && err[0].contains("100 years"),
            "{err:?}"
        );
        assert!(
            err[1].starts_with("t.csv:3:3: parallelism:") && err[1].contains("negative"),
            "{err:?}"
        );
        let err = parse(
            "submit,parallelism,cpu,memory,duration\n1,1,\"2,3,4\n",
            "t.csv",
        )
        .unwrap_err();
        assert!(err[0].starts_with("t.csv:2:5:"), "{err:?}");
    }
}
