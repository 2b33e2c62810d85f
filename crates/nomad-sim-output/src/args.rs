//! Command-line habits both binaries share: Nomad's single-dash long flags (`-json`) and one
//! way of printing errors (`nomad-sim: error: ...`).

use std::ffi::OsString;

/// Rewrites Nomad's single-dash spellings of long flags into clap's: `-json` becomes `--json`,
/// `-seed=3` becomes `--seed=3`, `-help` becomes `--help`. Only names that are long flags of
/// the (sub)command being parsed are rewritten, so a value such as `-1` or a file named `-x`
/// is left alone, and so is everything after `--` and every value of a flag that takes one.
pub fn nomad_flags(
    command: &clap::Command,
    args: impl IntoIterator<Item = OsString>,
) -> Vec<OsString> {
    let mut args = args.into_iter();
    let mut out: Vec<OsString> = args.next().into_iter().collect();
    let mut current = command.clone();
    let mut rest_verbatim = false;
    let mut value_next = false;
    for arg in args {
        if rest_verbatim || value_next {
            value_next = false;
            out.push(arg);
            continue;
        }
        let Some(text) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        if text == "--" {
            rest_verbatim = true;
            out.push(arg);
            continue;
        }
        if let Some(sub) = current.find_subcommand(text) {
            let sub = sub.clone();
            current = sub;
            out.push(arg);
            continue;
        }
        let long = match text.strip_prefix("--") {
            Some(name) => Some(name),
            None => text.strip_prefix('-').filter(|n| n.len() > 1),
        };
        let Some(long) = long else {
            out.push(arg);
            continue;
        };
        let (name, inline_value) = match long.split_once('=') {
            Some((n, _)) => (n, true),
            None => (long, false),
        };
        if name == "help" || name == "version" {
            out.push(OsString::from(format!("--{long}")));
            continue;
        }
        let found = current.get_arguments().find(|a| {
            a.get_long() == Some(name)
                || a.get_all_aliases()
                    .is_some_and(|aliases| aliases.contains(&name))
        });
        match found {
            Some(a) => {
                value_next = !inline_value && a.get_action().takes_values();
                out.push(OsString::from(format!("--{long}")));
            }
            None => out.push(arg),
        }
    }
    out
}

/// The error line a binary prints: `<program>: error: <message>`. A message that already
/// starts with `error: ` (clap's) is not given a second one.
pub fn error_text(program: &str, message: &str) -> String {
    let message = message.trim();
    let message = message.strip_prefix("error: ").unwrap_or(message);
    format!("{program}: error: {message}")
}

/// Prints a command-line parsing error (or `--help` / `--version`) and returns the exit code:
/// 0 for help and version on standard output, 2 for an error on standard error, prefixed as
/// [`error_text`] does, and 2 for the help alone on standard error when no command was given.
pub fn clap_exit(program: &str, e: &clap::Error) -> u8 {
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // No command at all: the help, on standard error, is the answer, not an error text.
        crate::warn(e.render().to_string().trim_end());
        return 2;
    }
    if e.use_stderr() {
        let rendered = e.render().to_string();
        crate::warn(&error_text(program, &rendered));
        2
    } else {
        let _ = crate::print(&e.render().to_string());
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction, Command};

    fn cli() -> Command {
        Command::new("x")
            .subcommand(
                Command::new("run")
                    .arg(Arg::new("scenario"))
                    .arg(Arg::new("json").long("json").action(ArgAction::SetTrue))
                    .arg(Arg::new("seed").long("seed"))
                    .arg(Arg::new("out").long("out")),
            )
            .subcommand(Command::new("merge"))
    }

    fn rewrite(args: &[&str]) -> Vec<String> {
        nomad_flags(&cli(), args.iter().map(OsString::from))
            .into_iter()
            .map(|a| a.to_string_lossy().to_string())
            .collect()
    }

    #[test]
    fn single_dash_long_flags_become_double_dash() {
        assert_eq!(
            rewrite(&["x", "run", "s.yaml", "-json", "-seed=3", "-seed", "4"]),
            ["x", "run", "s.yaml", "--json", "--seed=3", "--seed", "4"]
        );
        assert_eq!(rewrite(&["x", "run", "-help"]), ["x", "run", "--help"]);
    }

    #[test]
    fn values_and_unknown_names_are_left_alone() {
        // A value that looks like a flag or a subcommand stays a value.
        assert_eq!(
            rewrite(&["x", "run", "--out", "-json", "-nope", "--", "-json"]),
            ["x", "run", "--out", "-json", "-nope", "--", "-json"]
        );
        assert_eq!(
            rewrite(&["x", "run", "--out", "merge", "-j"]),
            ["x", "run", "--out", "merge", "-j"]
        );
    }

    #[test]
    fn errors_are_prefixed_once() {
        assert_eq!(error_text("p", "error: bad\n"), "p: error: bad");
        assert_eq!(error_text("p", "bad"), "p: error: bad");
    }
}
