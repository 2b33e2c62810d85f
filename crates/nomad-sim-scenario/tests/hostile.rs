//! Hostile scenario files: each gets a clear, located answer, and none costs quadratic time
//! or unbounded memory. Every case here was once a panic, a hang or an unlocated message.

use std::path::Path;

use nomad_sim_scenario::{load_file, parse_str, ScenarioError};

use nomad_sim_output::ScratchDir;

const HEAD: &str = "name: t\nhorizon: 24h\nnode_pools:\n  - name: linux\n    count: 2\n    resources: { cpu: 8000, memory: 16000 }\n";
const WORK: &str = "workloads:\n  - name: w\n    arrivals: { poisson: { rate: 10/h } }\n    resource_class: medium\n    duration: 5m\n";

fn valid() -> String {
    format!("{HEAD}{WORK}")
}

fn tmpdir(name: &str) -> ScratchDir {
    ScratchDir::create(
        std::env::temp_dir().join(format!("nomad-sim-hostile-{}-{name}", std::process::id())),
    )
    .expect("a scratch directory")
}

fn err(text: &str) -> ScenarioError {
    match parse_str(text, "s.yaml", Path::new(".")) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

/// Asserts the first problem is at `line:col` and mentions `needle`.
fn assert_at(e: &ScenarioError, line: usize, col: usize, needle: &str) {
    let first = e.problems[0].to_string();
    assert!(
        first.starts_with(&format!("s.yaml:{line}:{col}: ")),
        "expected s.yaml:{line}:{col}, got {e}"
    );
    assert!(first.contains(needle), "expected {needle:?} in {e}");
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let s = parse_str(&format!("\u{FEFF}{}", valid()), "s.yaml", Path::new("."));
    assert!(s.is_ok(), "{:?}", s.err());
}

#[test]
fn characters_yaml_cannot_carry_are_located() {
    let text = valid().replace("count: 2", "count: 2\0");
    assert_at(&err(&text), 5, 13, "NUL");
    let text = valid().replace("count: 2", "count: 2\r  x: 1");
    assert_at(&err(&text), 5, 13, "carriage return");
    let text = valid().replace("count: 2", "count: \u{7}2");
    assert_at(&err(&text), 5, 12, "U+0007");
    // CRLF line endings are fine.
    let crlf = valid().replace('\n', "\r\n");
    assert!(parse_str(&crlf, "s.yaml", Path::new(".")).is_ok());
}

#[test]
fn a_second_document_is_located() {
    let e = err(&format!("{}---\nname: again\n", valid()));
    assert_at(&e, 12, 1, "second YAML document");
}

#[test]
fn a_second_document_is_located_when_the_first_does_not_scan() {
    // A double-quoted value continued on a line of its own at column 1 (found by the fuzz
    // harness): serde_yaml reads it, the scanner that finds second documents stops at it,
    // and serde_yaml's own complaint about the second document has no location.
    let text = format!(
        "{}---\n",
        valid().replace("horizon: 24h", "horizon: \"\n24h\"")
    );
    assert_at(&err(&text), 13, 1, "second YAML document");
    let text = format!(
        "{}...\nname: again\n",
        valid().replace("horizon: 24h", "horizon: \"\n24h\"")
    );
    assert_at(&err(&text), 14, 1, "second YAML document");
}

#[test]
fn a_duplicate_key_is_located_at_the_second_key() {
    let text = valid().replace("    count: 2\n", "    count: 2\n    count: 3\n");
    assert_at(
        &err(&text),
        6,
        5,
        "node_pools[0].count: duplicate key (first given at line 5, column 5)",
    );
}

#[test]
fn keys_with_dots_are_not_duplicates_of_nested_keys() {
    // The class "a.cpu" and the key cpu of the class "a" share a dotted path, not a mapping.
    let text = format!(
        "{}resource_classes:\n  \"a.cpu\": {{ cpu: 100, memory: 100 }}\n  a: {{ cpu: 100, memory: 100 }}\n",
        valid()
    );
    let s = parse_str(&text, "s.yaml", Path::new("."));
    assert!(s.is_ok(), "{:?}", s.err());
}

#[test]
fn invalid_utf8_is_located() {
    let dir = tmpdir("utf8");
    let path = dir.join("s.yaml");
    let mut bytes = valid().into_bytes();
    let at = bytes.windows(7).position(|w| w == b"name: w").unwrap() + 7;
    bytes.insert(at, 0xFF);
    std::fs::write(&path, bytes).unwrap();
    let e = load_file(&path).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}:8:12: invalid UTF-8 (byte 0xFF)",
            path.display()
        )),
        "{e}"
    );
}

#[test]
fn deep_flow_nesting_is_refused_before_parsing() {
    // 150,000 levels: a YAML parser would take minutes (quadratic) or overflow its stack.
    let deep = format!(
        "{}description: {}{}\n",
        valid(),
        "[".repeat(150_000),
        "]".repeat(150_000)
    );
    assert_at(&err(&deep), 12, 78, "nesting deeper than 64 levels");
    let deep_map = format!("{}description: {}\n", valid(), "{a: ".repeat(150_000));
    assert_at(&err(&deep_map), 12, 270, "nesting deeper than 64 levels");
    let deep_block = format!("{}description:\n  {}x\n", valid(), "- ".repeat(150_000));
    assert_at(&err(&deep_block), 13, 129, "nesting deeper than 64 levels");
    // Brackets inside quotes, comments, plain scalars and block scalars are not nesting.
    let fine = format!(
        "{}description: |\n  {}\n# {}\n",
        valid(),
        "[".repeat(100),
        "{".repeat(100)
    );
    assert!(parse_str(&fine, "s.yaml", Path::new(".")).is_ok());
    let quoted = valid().replace("name: t\n", &format!("name: \"{}\"\n", "[".repeat(100)));
    assert!(parse_str(&quoted, "s.yaml", Path::new(".")).is_ok());
}

#[test]
fn alias_bombs_are_refused() {
    // Billion laughs: ten levels of ten aliases each.
    let mut text = valid();
    text.push_str("description: &a0 \"lol\"\n");
    let mut laughs = String::from("x0: &b0 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]\n");
    for i in 1..10 {
        laughs.push_str(&format!(
            "x{i}: &b{i} [{}]\n",
            vec![format!("*b{}", i - 1); 10].join(", ")
        ));
    }
    let text = format!(
        "{text}resource_classes:\n  {}",
        laughs.replace('\n', "\n  ")
    );
    let e = err(&text);
    assert!(e.to_string().contains("aliases (*name) expand"), "{e}");
    // One megabyte of aliases of a long string.
    let big = format!(
        "{}description: &s \"{}\"\nresource_classes: {{ x: [{}] }}\n",
        valid(),
        "y".repeat(1000),
        vec!["*s"; 400_000].join(",")
    );
    assert!(big.len() > 1_000_000);
    let e = err(&big);
    assert!(e.problems[0].position.is_some());
    assert!(e.to_string().contains("aliases (*name) expand"), "{e}");
}

#[test]
fn files_too_large_are_refused_without_reading_them_whole() {
    let e = load_file(Path::new("/dev/zero")).unwrap_err().to_string();
    assert!(e.contains("larger than 16 MiB"), "{e}");
    let dir = tmpdir("dir");
    let e = load_file(&dir).unwrap_err().to_string();
    assert!(e.contains("directory"), "{e}");
}

#[test]
fn operations_must_name_nodes_that_exist() {
    for (name, needle) in [
        ("linux-99", "pool linux has 2 nodes at this time"),
        ("linux-2", "pool linux has 2 nodes at this time"),
        ("linux-01", "nodes are named <pool>-<index>"),
        ("linux-+1", "nodes are named <pool>-<index>"),
        ("windows-0", "nodes are named <pool>-<index>"),
    ] {
        let text = format!(
            "{}operations:\n  - at: 1h\n    node_drain: {{ nodes: [{name}], deadline: 1h }}\n",
            valid()
        );
        assert_at(&err(&text), 14, 27, needle);
    }
    // A node a scale-up created earlier exists.
    let text = format!(
        "{}operations:\n  - at: 1h\n    scale_up: {{ pool: linux, count: 1 }}\n  - at: 2h\n    node_fail: {{ nodes: [linux-2] }}\n",
        valid()
    );
    assert!(parse_str(&text, "s.yaml", Path::new(".")).is_ok());
}

#[test]
fn operations_past_the_horizon_are_refused() {
    let text = format!(
        "{}operations:\n  - at: 25h\n    scale_up: {{ pool: linux, count: 1 }}\n",
        valid()
    );
    assert_at(&err(&text), 13, 9, "past the horizon");
}

#[test]
fn impossible_dates_are_refused() {
    let text = format!("start: \"2026-02-31T00:00:00Z\"\n{}", valid());
    assert_at(&err(&text), 1, 8, "2026-02 has 28 days");
}

#[test]
fn absurd_durations_are_refused() {
    let text = valid().replace("duration: 5m", "duration: 1000000h");
    let e = err(&text);
    assert!(e.to_string().contains("longer than 100 years"), "{e}");
}

fn trace_scenario(dir: &Path, csv: &[u8]) -> Result<nomad_sim_scenario::Scenario, String> {
    std::fs::write(dir.join("t.csv"), csv).unwrap();
    std::fs::write(
        dir.join("s.yaml"),
        format!("{HEAD}workloads:\n  - name: r\n    arrivals: {{ trace: {{ file: t.csv }} }}\n"),
    )
    .unwrap();
    load_file(&dir.join("s.yaml")).map_err(|e| e.to_string())
}

#[test]
fn spreadsheet_traces_are_read_and_rows_checked() {
    let dir = tmpdir("trace");
    let s = trace_scenario(
        &dir,
        b"\xEF\xBB\xBF\"submit\",\"parallelism\",\"cpu\",\"memory\",\"duration\"\r\n\"0\",\"2\",\"2048\",\"4096\",\"5m\"\r\n",
    )
    .unwrap();
    assert_eq!(s.inputs.len(), 2, "the scenario and its trace are inputs");
    let csv = dir.join("t.csv").display().to_string();
    for (row, needle) in [
        ("0,1,99999,4096,5m", ":2:5: asks 99999 MHz"),
        ("0,1,2048,4096,1e300", ":2:15: duration:"),
        (
            "-5,1,2048,4096,5m",
            ":2:1: submit: \"-5\" must not be negative",
        ),
        (
            "0,-1,2048,4096,5m",
            ":2:3: parallelism: \"-1\" must not be negative",
        ),
        (
            "0,1,-2048,4096,5m",
            ":2:5: cpu: \"-2048\" must not be negative",
        ),
    ] {
        let e = trace_scenario(
            &dir,
            format!("submit,parallelism,cpu,memory,duration\n{row}\n").as_bytes(),
        )
        .unwrap_err();
        assert!(e.contains(&format!("{csv}{needle}")), "{row}: {e}");
    }
}

#[test]
fn runs_beyond_the_allocation_limit_are_refused_up_front() {
    // A high rate over a long horizon.
    let text = valid()
        .replace("rate: 10/h", "rate: 100/s")
        .replace("horizon: 24h", "horizon: 720h");
    let e = err(&text).to_string();
    assert!(e.contains("about 259,200,000 allocations"), "{e}");
    assert!(e.contains("limits.max_allocations = 20,000,000"), "{e}");
    assert!(e.contains("limits: { max_allocations:"), "{e}");
    // A fan-out of a million.
    let text = valid().replace(
        "    resource_class",
        "    parallelism: 1000000\n    resource_class",
    );
    let e = err(&text).to_string();
    assert!(e.contains("about 240,000,000 allocations"), "{e}");
    // Raising the limit lets it load.
    let raised = format!(
        "{}limits: {{ max_allocations: 300000000 }}\n",
        valid().replace(
            "    resource_class",
            "    parallelism: 1000000\n    resource_class"
        )
    );
    assert!(parse_str(&raised, "s.yaml", Path::new(".")).is_ok());
    let absurd = format!("{}limits: {{ max_allocations: 99000000000 }}\n", valid());
    assert!(err(&absurd)
        .to_string()
        .contains("beyond what the simulator accepts"));
}

#[test]
fn a_diurnal_peak_in_a_quiet_profile_is_bounded() {
    // Twenty-three quiet hours and one at a billion per hour, on a one-hour horizon: no
    // arrival falls inside it. The core spends each hour at its own rate, so the run draws
    // one number and ends at once (it used to draw a billion candidates at the peak rate).
    let mut rates = vec!["0/h"; 24];
    rates[23] = "1000000000/h";
    let text = valid().replace("horizon: 24h", "horizon: 1h").replace(
        "{ poisson: { rate: 10/h } }",
        &format!("{{ diurnal: {{ rates: [{}] }} }}", rates.join(", ")),
    );
    let scenario = parse_str(&text, "s.yaml", Path::new(".")).expect("loads");
    let mut sim = nomad_sim_core::Simulation::new(scenario.config);
    sim.run();
    assert_eq!(sim.report().allocations.placed, 0);
    assert_eq!(
        sim.report().perf.events,
        2,
        "the two nodes turn ready, nothing arrives"
    );
    // A realistic profile with quiet nights loads.
    let mut rates = vec!["0/h"; 24];
    rates[12] = "600/h";
    let text = valid().replace(
        "{ poisson: { rate: 10/h } }",
        &format!("{{ diurnal: {{ rates: [{}] }} }}", rates.join(", ")),
    );
    assert!(parse_str(&text, "s.yaml", Path::new(".")).is_ok());
}
