//! Docs that are tested: every command in README.md and docs/*.md runs, and the output the
//! docs show is compared with what it prints.
//!
//! The rules, for whoever writes docs:
//! - A fenced `sh` block is commands (one per line, `\` continues a line, `# ...` comments).
//!   A plain fenced block right after it is the output of its last command.
//! - In any other block, a line `$ command` is a command and the lines after it its output.
//! - Before a block (blank lines between are fine), HTML comments change that:
//!   `<!-- not run: why -->` (a command the test cannot run: a real cluster, `cargo` itself),
//!   `<!-- abbreviated -->` on an output block (every shown line must appear, in order; `...`
//!   lines stand for the rest), `<!-- output not compared: why -->` (figures that differ from
//!   run to run or machine to machine, such as wall-clock times), `<!-- exit: N -->` (the
//!   command's expected exit status; default 0), `<!-- session: serve ARGS -->` on a block of
//!   `$` commands (the test starts `nomad-sim serve ARGS` on a free port, runs the block's
//!   commands in one shell, so variables carry over, with `127.0.0.1:4646` and
//!   `localhost:4646` pointing at that server, and compares each command's output).
//! - Plain blocks with no `$` (synopses, YAML, diagrams) are not commands.
//!
//! Commands run with `bash` in a scratch directory that links the checkout's `scenarios`,
//! `docs`, `crates` and `benches`, with both binaries first on the PATH (`cargo run ... --`
//! and `target/release/...` stand for them). Output is standard output, then standard error.
//! `NOMAD_SIM_UPDATE_DOCS=1` rewrites output blocks that are compared in full.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nomad_sim_output::ScratchDir;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A fenced block of a Markdown file.
#[derive(Debug)]
struct Block {
    /// Line number of the opening fence (1-based).
    line: usize,
    lang: String,
    /// The lines inside, and the index in the file of the first.
    body: Vec<String>,
    first: usize,
    /// `<!-- ... -->` comments just before the block.
    markers: Vec<String>,
    /// True when only blank lines and markers separate it from the previous block.
    follows: bool,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut markers = Vec::new();
    let mut since_block_only_blank = false;
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let Some(lang) = l.trim_start().strip_prefix("```") {
            let start = i;
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with("```") {
                body.push(lines[i].to_string());
                i += 1;
            }
            out.push(Block {
                line: start + 1,
                lang: lang.trim().to_string(),
                body,
                first: start + 1,
                markers: std::mem::take(&mut markers),
                follows: since_block_only_blank,
            });
            since_block_only_blank = true;
        } else if l.trim().starts_with("<!--") && l.trim().ends_with("-->") {
            markers.push(
                l.trim()
                    .trim_start_matches("<!--")
                    .trim_end_matches("-->")
                    .trim()
                    .to_string(),
            );
        } else if !l.trim().is_empty() {
            markers.clear();
            since_block_only_blank = false;
        }
        i += 1;
    }
    out
}

fn marker<'a>(b: &'a Block, name: &str) -> Option<&'a str> {
    b.markers.iter().find_map(|m| {
        m.strip_prefix(name)
            .map(|r| r.trim_start_matches(':').trim())
    })
}

/// Strips a `# comment` outside quotes.
fn strip_comment(line: &str) -> String {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev.is_whitespace() => return line[..i].trim_end().to_string(),
            _ => {}
        }
        prev = c;
    }
    line.trim_end().to_string()
}

/// The commands of a `sh` block: continuation lines joined, comments and blank lines dropped.
fn sh_commands(body: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for l in body {
        let l = strip_comment(l);
        if let Some(head) = l.strip_suffix('\\') {
            current.push_str(head.trim_end());
            current.push(' ');
            continue;
        }
        current.push_str(l.trim());
        let c = std::mem::take(&mut current);
        if !c.trim().is_empty() {
            out.push(c.trim().to_string());
        }
    }
    out
}

/// What a command runs as: project binaries by their names.
fn rewrite(command: &str) -> String {
    command
        .replace(
            "cargo run --release -p nomad-sim-report --",
            "nomad-sim-report",
        )
        .replace("cargo run --release -p nomad-sim-cli --", "nomad-sim")
        .replace("cargo run --release --", "nomad-sim")
        .replace("target/release/nomad-sim-report", "nomad-sim-report")
        .replace("target/release/nomad-sim", "nomad-sim")
}

/// True when every program the command runs is one of ours (or a shell builtin around them).
fn runnable(command: &str) -> bool {
    let c = rewrite(command);
    let words: Vec<&str> = c
        .split(['|', ';', '&'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.strip_prefix("do ").unwrap_or(p))
        .filter_map(|p| p.split_whitespace().next())
        .collect();
    !words.is_empty()
        && words.iter().all(|w| {
            matches!(
                *w,
                "nomad-sim"
                    | "nomad-sim-report"
                    | "for"
                    | "do"
                    | "done"
                    | "wait"
                    | "ls"
                    | "head"
                    | "tail"
                    | "grep"
                    | "cat"
                    | "sed"
                    | "echo"
            )
        })
}

struct Workdir {
    dir: ScratchDir,
    bin: PathBuf,
}

fn workdir(name: &str) -> Workdir {
    let dir = ScratchDir::create(std::env::temp_dir().join(format!(
        "nomad-sim-docs-{}-{}",
        std::process::id(),
        name.replace('/', "-")
    )))
    .expect("a scratch directory");
    for link in ["scenarios", "docs", "crates", "benches"] {
        std::os::unix::fs::symlink(root().join(link), dir.join(link)).unwrap();
    }
    let bin = dir.join(".bin");
    std::fs::create_dir_all(&bin).unwrap();
    let report = PathBuf::from(env!("CARGO_BIN_EXE_nomad-sim-report"));
    let sim = report.with_file_name("nomad-sim");
    assert!(
        sim.exists(),
        "{} is not built: run the docs test with `cargo test --workspace` (or build nomad-sim-cli first)",
        sim.display()
    );
    std::os::unix::fs::symlink(&report, bin.join("nomad-sim-report")).unwrap();
    std::os::unix::fs::symlink(&sim, bin.join("nomad-sim")).unwrap();
    Workdir { dir, bin }
}

/// Runs a command; returns (exit code, stdout then stderr).
fn execute(w: &Workdir, command: &str) -> (i32, String) {
    let path = format!(
        "{}:{}",
        w.bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out_file = w.dir.join(".out");
    let err_file = w.dir.join(".err");
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(rewrite(command))
        .current_dir(&w.dir)
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(std::fs::File::create(&err_file).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(600) {
            let _ = child.kill();
            panic!("{command}: still running after 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut text = std::fs::read_to_string(&out_file).unwrap_or_default();
    text.push_str(&std::fs::read_to_string(&err_file).unwrap_or_default());
    (status.code().unwrap_or(-1), text)
}

fn normal(lines: &[String]) -> Vec<String> {
    let mut v: Vec<String> = lines.iter().map(|l| l.trim_end().to_string()).collect();
    while v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    while v.first().is_some_and(|l| l.is_empty()) {
        v.remove(0);
    }
    v
}

/// Every shown line (but `...`) appears in the output, in order.
fn abbreviated_matches(shown: &[String], actual: &[String]) -> Result<(), String> {
    let mut at = 0;
    for s in shown.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        if s == "..." || s.starts_with("... ") {
            continue;
        }
        match actual[at..].iter().position(|a| a.trim() == s) {
            Some(i) => at += i + 1,
            None => {
                return Err(format!(
                    "the shown line {s:?} is not in the output (in order)"
                ))
            }
        }
    }
    Ok(())
}

/// One command and what the docs show of its output.
struct Case {
    command: String,
    line: usize,
    /// The shown output: its lines, where they sit in the file (first line index), and marks.
    shown: Option<(Vec<String>, usize, bool, bool)>,
    exit: i32,
    /// For a block run against a server: the `serve` arguments and the block's line.
    session: Option<(String, usize)>,
}

fn cases(text: &str) -> (Vec<Case>, Vec<String>) {
    let all = blocks(text);
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let b = &all[i];
        let exit: i32 = marker(b, "exit").and_then(|e| e.parse().ok()).unwrap_or(0);
        let not_run = marker(b, "not run").is_some();
        if matches!(b.lang.as_str(), "sh" | "bash" | "shell") {
            let next = all.get(i + 1).filter(|n| {
                n.follows
                    && matches!(n.lang.as_str(), "" | "text" | "console")
                    && !n.body.iter().any(|l| l.starts_with("$ "))
            });
            if not_run {
                i += 1 + usize::from(next.is_some());
                continue;
            }
            let commands = sh_commands(&b.body);
            for (k, c) in commands.iter().enumerate() {
                if !runnable(c) {
                    problems.push(format!(
                        "line {}: `{c}` is not a command the docs test can run; mark the block <!-- not run: why -->",
                        b.line
                    ));
                    continue;
                }
                let shown = if k + 1 == commands.len() {
                    next.map(|n| {
                        (
                            n.body.clone(),
                            n.first,
                            marker(n, "abbreviated").is_some(),
                            marker(n, "output not compared").is_some(),
                        )
                    })
                } else {
                    None
                };
                out.push(Case {
                    command: c.clone(),
                    line: b.line,
                    shown,
                    exit,
                    session: None,
                });
            }
            i += 1 + usize::from(next.is_some());
            continue;
        }
        if b.body.iter().any(|l| l.starts_with("$ ")) && !not_run {
            let abbreviated = marker(b, "abbreviated").is_some();
            let uncompared = marker(b, "output not compared").is_some();
            let session = marker(b, "session")
                .and_then(|m| m.strip_prefix("serve "))
                .map(|args| (args.trim().to_string(), b.line));
            let mut k = 0;
            while k < b.body.len() {
                if let Some(c) = b.body[k].strip_prefix("$ ") {
                    let mut end = k + 1;
                    while end < b.body.len() && !b.body[end].starts_with("$ ") {
                        end += 1;
                    }
                    if session.is_none() && !runnable(c) {
                        problems.push(format!(
                            "line {}: `{c}` is not a command the docs test can run; mark the block <!-- not run: why -->",
                            b.line
                        ));
                    } else {
                        out.push(Case {
                            command: c.to_string(),
                            line: b.line,
                            shown: Some((
                                b.body[k + 1..end].to_vec(),
                                b.first + k + 1,
                                abbreviated,
                                uncompared,
                            )),
                            exit,
                            session: session.clone(),
                        });
                    }
                    k = end;
                } else {
                    k += 1;
                }
            }
        }
        i += 1;
    }
    (out, problems)
}

/// Starts `nomad-sim serve ARGS` on a free port and runs `commands` in one shell against it;
/// returns each command's exit status and output (standard error merged, in order).
fn run_session(w: &Workdir, serve_args: &str, commands: &[&str]) -> Vec<(i32, String)> {
    use std::io::BufRead;
    let mut server = Command::new(w.bin.join("nomad-sim"))
        .arg("serve")
        .args(serve_args.split_whitespace())
        .args(["--addr", "127.0.0.1:0"])
        .current_dir(&w.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("serve {serve_args} did not say where it listens: {first:?}"))
        .to_string();
    const SEP: &str = "@@nomad-sim-docs@@";
    let mut script = String::new();
    for c in commands {
        let c = rewrite(c)
            .replace("127.0.0.1:4646", &addr)
            .replace("localhost:4646", &addr);
        // A newline first, for output that does not end with one (normal() drops the blank).
        script.push_str(&format!(
            "{{ {c}\n}} 2>&1; __rc=$?; printf '\\n%s %s\\n' '{SEP}' \"$__rc\"\n"
        ));
    }
    let (_, text) = execute(w, &script);
    let _ = server.kill();
    let _ = server.wait();
    let mut results = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        match line.strip_prefix(SEP) {
            Some(code) => {
                results.push((
                    code.trim().parse().unwrap_or(-1),
                    std::mem::take(&mut current),
                ));
            }
            None => {
                current.push_str(line);
                current.push('\n');
            }
        }
    }
    assert_eq!(
        results.len(),
        commands.len(),
        "the session stopped early:\n{text}"
    );
    results
}

fn doc_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

#[test]
fn every_command_in_the_docs_runs_and_prints_what_the_docs_show() {
    let update = std::env::var_os("NOMAD_SIM_UPDATE_DOCS").is_some();
    let mut failures = Vec::new();
    let mut ran = 0;
    for file in doc_files() {
        let name = file
            .strip_prefix(root())
            .unwrap_or(&file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let (cases, problems) = cases(&text);
        failures.extend(problems.into_iter().map(|p| format!("{name}: {p}")));
        if cases.is_empty() {
            continue;
        }
        let w = workdir(&name);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut rewrites: Vec<(usize, usize, Vec<String>)> = Vec::new();
        let mut session_results: Vec<(i32, String)> = Vec::new();
        for (k, case) in cases.iter().enumerate() {
            ran += 1;
            let started = Instant::now();
            let (code, output) = match &case.session {
                None => execute(&w, &case.command),
                Some(session) => {
                    // The first command of a session runs the whole block against one server.
                    if k == 0 || cases[k - 1].session.as_ref() != Some(session) {
                        let commands: Vec<&str> = cases[k..]
                            .iter()
                            .take_while(|c| c.session.as_ref() == Some(session))
                            .map(|c| c.command.as_str())
                            .collect();
                        session_results = run_session(&w, &session.0, &commands);
                        session_results.reverse();
                    }
                    session_results.pop().expect("a result per session command")
                }
            };
            println!(
                "{name}:{}: {} ({:.1} s)",
                case.line,
                case.command,
                started.elapsed().as_secs_f64()
            );
            if code != case.exit {
                failures.push(format!(
                    "{name}:{}: `{}` exited {code}, not {}:\n{output}",
                    case.line, case.command, case.exit
                ));
                continue;
            }
            let Some((shown, first, abbreviated, uncompared)) = &case.shown else {
                continue;
            };
            if *uncompared {
                continue;
            }
            let actual: Vec<String> = output.lines().map(str::to_string).collect();
            let (want, got) = (normal(shown), normal(&actual));
            if *abbreviated {
                if let Err(e) = abbreviated_matches(&want, &got) {
                    failures.push(format!(
                        "{name}:{}: `{}`: {e}\n--- output\n{}",
                        case.line,
                        case.command,
                        got.join("\n")
                    ));
                }
            } else if want != got {
                if update {
                    rewrites.push((*first, shown.len(), got.clone()));
                } else {
                    failures.push(format!(
                        "{name}:{}: `{}` prints something else than the docs show (NOMAD_SIM_UPDATE_DOCS=1 rewrites it; mark it <!-- abbreviated --> or <!-- output not compared: why --> if it should differ)\n--- docs\n{}\n--- output\n{}",
                        case.line,
                        case.command,
                        want.join("\n"),
                        got.join("\n")
                    ));
                }
            }
        }
        if !rewrites.is_empty() {
            // Back to front, so earlier positions stay valid.
            rewrites.sort_by_key(|r| std::cmp::Reverse(r.0));
            for (first, len, new) in rewrites {
                lines.splice(first..first + len, new);
            }
            let mut t = lines.join("\n");
            t.push('\n');
            std::fs::write(&file, t).unwrap();
        }
    }
    assert!(ran > 10, "only {ran} commands found in the docs");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_rules_read_blocks_as_documented() {
    let doc = "intro\n\n<!-- not run: needs a cluster -->\n```sh\nnomad job run x\n```\n\n```sh\nnomad-sim run a.yaml \\\n  --seed 3   # a comment\n```\n\n<!-- abbreviated -->\n```\nline\n...\n```\n\n```\n$ nomad-sim validate a.yaml\nok\n```\n\n```\nnomad-sim run <scenario.yaml> [--seed N]\n```\n";
    let (c, problems) = cases(doc);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].command, "nomad-sim run a.yaml --seed 3");
    let (shown, _, abbreviated, _) = c[0].shown.as_ref().unwrap();
    assert_eq!(shown, &vec!["line".to_string(), "...".to_string()]);
    assert!(abbreviated);
    assert_eq!(c[1].command, "nomad-sim validate a.yaml");
    let (_, problems) = cases("```sh\njq . x.json\n```\n");
    assert_eq!(problems.len(), 1);
    assert!(abbreviated_matches(
        &["a".into(), "...".into(), "c".into()],
        &["a".into(), "b".into(), "c".into()]
    )
    .is_ok());
    assert!(abbreviated_matches(&["c".into(), "a".into()], &["a".into(), "c".into()]).is_err());
}

/// The examples of a `--help` page: the lines after `Examples:` up to the first blank line,
/// as commands (`\` continues a line, `# ...` is a comment).
fn help_examples(page: &str) -> Vec<String> {
    let Some(start) = page.find("Examples:\n") else {
        return Vec::new();
    };
    let body: Vec<String> = page[start + "Examples:\n".len()..]
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    sh_commands(&body)
}

/// The subcommands a `--help` page lists (without `help`).
fn subcommands(page: &str) -> Vec<String> {
    page.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// Every `--help` page of both binaries has examples, and every example runs and exits 0.
/// Lines for a real cluster (`curl`, `nomad`) are stand-ins: the scratch directory gets the
/// files they would write (`nodes.json` from a published node payload, `build.json` from
/// `nomad-sim jobspec -json`). `serve` runs until stopped; its examples are checked by
/// tests/serve.rs and the python-nomad script instead.
#[test]
fn every_help_example_runs() {
    let w = workdir("help-examples");
    std::fs::copy(
        root().join("crates/nomad-sim-cli/tests/fixtures/node-detail.comma-fixed.json"),
        w.dir.join("nodes.json"),
    )
    .unwrap();
    let (code, text) = execute(
        &w,
        "nomad-sim jobspec docs/jobs/nomad-sim-sweep.nomad.hcl -json > build.json",
    );
    assert_eq!(code, 0, "{text}");
    let mut ran = 0;
    for bin in ["nomad-sim", "nomad-sim-report"] {
        let (code, main_page) = execute(&w, &format!("{bin} --help"));
        assert_eq!(code, 0, "{main_page}");
        let mut pages = vec![(bin.to_string(), main_page.clone())];
        for sub in subcommands(&main_page) {
            let (code, page) = execute(&w, &format!("{bin} {sub} --help"));
            assert_eq!(code, 0, "{page}");
            pages.push((format!("{bin} {sub}"), page));
        }
        for (name, page) in pages {
            let examples = help_examples(&page);
            assert!(!examples.is_empty(), "`{name} --help` has no examples");
            if name == "nomad-sim serve" {
                continue;
            }
            for example in examples.iter().filter(|e| runnable(e)) {
                let (code, text) = execute(&w, example);
                assert_eq!(
                    code, 0,
                    "`{name} --help` example `{example}` failed:\n{text}"
                );
                ran += 1;
            }
        }
    }
    assert!(ran >= 25, "only {ran} examples ran");
}
