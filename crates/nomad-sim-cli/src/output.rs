//! Where `nomad-sim` writes: standard output that may close early, files that are never the
//! command's own inputs, and an `--out` directory that an early stop does not leave empty.

use std::path::{Path, PathBuf};

use nomad_sim_output::check_not_input;

/// Prints to standard output. A closed pipe ends the output quietly; another write error
/// (a full disk behind a redirection) is returned as the message for exit status 1.
pub fn stdout(text: &str) -> Result<(), String> {
    nomad_sim_output::print(text).map_err(|e| format!("writing to standard output: {e}"))
}

/// Writes a whole file (atomically when it is a regular file). The message names the file.
pub fn write(path: &Path, content: &str) -> Result<(), String> {
    nomad_sim_output::write_file(path, content.as_bytes())
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Checks the outputs of `run` before the run starts: none may be an input, two may not be
/// the same file, and `--out` must be (or become) a directory. Creates `--out` and registers
/// it for removal should the run stop early. Errors are bad input (exit 2).
pub fn prepare_run_outputs(
    inputs: &[PathBuf],
    trace: Option<&Path>,
    out: Option<&Path>,
) -> Result<(), String> {
    let trace = trace.filter(|t| !nomad_sim_output::is_stdout(t));
    if let Some(t) = trace {
        check_not_input("--trace", t, inputs)?;
        if t.is_dir() {
            return Err(format!("--trace {}: is a directory", t.display()));
        }
    }
    if let Some(dir) = out {
        check_not_input("--out", dir, inputs)?;
        let files = [dir.join("report.json"), dir.join("summary.txt")];
        for f in &files {
            check_not_input("--out", f, inputs)?;
            if trace.is_some_and(|t| nomad_sim_output::same_file(t, f)) {
                return Err(format!(
                    "--trace {} is also where --out writes {}: pick another name",
                    f.display(),
                    f.file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().to_string())
                ));
            }
        }
        if dir.exists() && !dir.is_dir() {
            return Err(format!(
                "--out {}: exists and is not a directory",
                dir.display()
            ));
        }
        nomad_sim_output::create_dir(dir)
            .map_err(|e| format!("--out {}: cannot create: {e}", dir.display()))?;
    }
    Ok(())
}
