//! Reads arrival traces: CSV rows of submit time, parallelism, cpu, memory and duration.

use std::path::Path;

use nomad_sim_core::config::TraceArrival;
use nomad_sim_core::time::parse_duration_ms;

/// The columns a trace must have, in any order.
const COLUMNS: [&str; 5] = ["submit", "parallelism", "cpu", "memory", "duration"];

/// Reads a trace file. Times are Go durations (`90s`) or plain seconds; rows may come in any order.
pub fn read(path: &Path) -> Result<Vec<TraceArrival>, String> {
    let label = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read trace {label}: {e}"))?;
    parse(&text, &label)
}

/// Parses trace text; `label` names the file in messages.
pub fn parse(text: &str, label: &str) -> Result<Vec<TraceArrival>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((_, header)) = lines.next() else {
        return Err(format!(
            "{label}: the trace is empty (expected a header: {})",
            COLUMNS.join(",")
        ));
    };
    let names: Vec<String> = header
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let mut index = [0usize; 5];
    for (k, col) in COLUMNS.iter().enumerate() {
        index[k] = names.iter().position(|n| n == col).ok_or_else(|| {
            format!(
                "{label}:1:1: the header lacks column {col:?} (expected {})",
                COLUMNS.join(",")
            )
        })?;
    }
    let mut rows = Vec::new();
    for (line_no, line) in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let mut columns = Vec::with_capacity(fields.len());
        let mut col = 1;
        for f in &fields {
            columns.push(col);
            col += f.len() + 1;
        }
        let at = |k: usize| -> Result<(&str, usize), String> {
            let i = index[k];
            fields
                .get(i)
                .map(|f| (f.trim(), columns[i]))
                .ok_or_else(|| {
                    format!(
                        "{label}:{}:{}: missing column {:?}",
                        line_no + 1,
                        line.len() + 1,
                        COLUMNS[k]
                    )
                })
        };
        let time = |k: usize| -> Result<u64, String> {
            let (v, c) = at(k)?;
            if let Ok(secs) = v.parse::<f64>() {
                if secs >= 0.0 && secs.is_finite() {
                    return Ok((secs * 1000.0).round() as u64);
                }
            }
            parse_duration_ms(v)
                .map_err(|e| format!("{label}:{}:{c}: {}: {e}", line_no + 1, COLUMNS[k]))
        };
        let int = |k: usize| -> Result<u64, String> {
            let (v, c) = at(k)?;
            v.parse::<u64>().map_err(|_| {
                format!(
                    "{label}:{}:{c}: {}: {v:?} is not a non-negative whole number",
                    line_no + 1,
                    COLUMNS[k]
                )
            })
        };
        let parallelism = int(1)?;
        if parallelism == 0 || parallelism > u64::from(u32::MAX) {
            let (_, c) = at(1)?;
            return Err(format!(
                "{label}:{}:{c}: parallelism must be at least 1",
                line_no + 1
            ));
        }
        let cpu = int(2)?;
        let memory = int(3)?;
        if cpu == 0 || memory == 0 {
            return Err(format!(
                "{label}:{}:1: cpu and memory must be more than 0",
                line_no + 1
            ));
        }
        rows.push(TraceArrival {
            submit_ms: time(0)?,
            parallelism: parallelism as u32,
            cpu_mhz: cpu,
            memory_mb: memory,
            duration_ms: time(4)?,
        });
    }
    rows.sort_by_key(|r| r.submit_ms);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_in_any_column_order() {
        let text = "# a comment\nsubmit,cpu,memory,duration,parallelism\n90s,2048,4096,5m,2\n10,1024,2048,30,1\n";
        let rows = parse(text, "t.csv").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].submit_ms, 10_000);
        assert_eq!(rows[0].duration_ms, 30_000);
        assert_eq!(rows[1].parallelism, 2);
        assert_eq!(rows[1].duration_ms, 300_000);
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = parse(
            "submit,parallelism,cpu,memory,duration\n1,x,2,3,4\n",
            "t.csv",
        )
        .unwrap_err();
        assert!(err.starts_with("t.csv:2:3:"), "{err}");
        let err = parse("submit,cpu\n", "t.csv").unwrap_err();
        assert!(err.contains("lacks column \"parallelism\""), "{err}");
    }
}
