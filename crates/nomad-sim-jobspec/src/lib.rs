//! Nomad job files read as Nomad reads them: HCL2 (`job.nomad.hcl`, with variables, locals and
//! functions) or API JSON (`nomad job run -output`, `GET /v1/job/:id`), normalised into a model
//! shaped like Nomad's API `Job` with Nomad's defaults filled in.
//!
//! ```
//! let text = r#"
//! job "build" {
//!   type = "batch"
//!   group "compile" {
//!     count = 2
//!     task "make" {
//!       driver = "exec"
//!       config { command = "make" }
//!       resources {
//!         cpu    = 2000
//!         memory = 1024
//!       }
//!     }
//!   }
//! }"#;
//! let loaded = nomad_sim_jobspec::parse_str(text, "build.nomad.hcl", &Default::default()).unwrap();
//! let group = &loaded.job.task_groups[0];
//! assert_eq!((group.name.as_str(), group.count), ("compile", 2));
//! assert_eq!(group.ask().cpu, 2000);
//! assert_eq!(loaded.job.datacenters, ["*"]);
//! assert!(loaded.warnings.is_empty() && loaded.unsupported.is_empty());
//! ```
//!
//! A file that Nomad would refuse (a syntax error, an unknown variable, a value of the wrong
//! type, `count = -1`) gives an [`Error`] whose messages carry file, line and column. A file
//! Nomad accepts gives a [`Loaded`] job, with `warnings` for fields that do not affect
//! scheduling and are dropped, and `unsupported` for scheduling content the simulator cannot
//! model yet. Which field is which is one table, [`fields::FIELDS`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod decode;
mod diag;
pub mod duration;
pub mod fields;
mod hcl;
mod json;
mod model;

use std::collections::BTreeMap;
use std::path::Path;

pub use diag::{Diagnostic, Error, Pos};
pub use model::*;

/// A job file as the simulator reads it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The normalised job.
    pub job: Job,
    /// Fields present in the file that do not affect scheduling and are dropped, each kind
    /// listed once (at its first place, with how many places it appears).
    pub warnings: Vec<Diagnostic>,
    /// Scheduling content the simulator cannot model yet: a scenario must refuse the job.
    pub unsupported: Vec<Diagnostic>,
}

/// The two formats Nomad reads job files in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// HCL2, as `nomad job run job.nomad.hcl` reads it.
    Hcl,
    /// API JSON, bare or wrapped in `{"Job": ...}`.
    Json,
}

impl Format {
    /// Guesses the format: `.json` files and text that starts with `{` are JSON.
    pub fn detect(name: &str, text: &str) -> Format {
        if name.ends_with(".json") || text.trim_start().starts_with('{') {
            Format::Json
        } else {
            Format::Hcl
        }
    }
}

/// Reads a job file; `vars` are HCL input variables as `-var name=value` gives them (values
/// are parsed according to the variable's type; JSON files take none).
pub fn load_file(path: &Path, vars: &BTreeMap<String, String>) -> Result<Loaded, Error> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::one(
            &name,
            Pos::default(),
            format!("cannot read the job file: {e}"),
        )
    })?;
    parse_str(&text, &name, vars)
}

/// Reads job file text; `file` names it in messages and decides the format with
/// [`Format::detect`].
pub fn parse_str(text: &str, file: &str, vars: &BTreeMap<String, String>) -> Result<Loaded, Error> {
    parse_as(Format::detect(file, text), text, file, vars)
}

/// Reads job file text in the given format.
pub fn parse_as(
    format: Format,
    text: &str,
    file: &str,
    vars: &BTreeMap<String, String>,
) -> Result<Loaded, Error> {
    let (job, locator) = match format {
        Format::Hcl => {
            let t = hcl::read(text, file, vars)?;
            (t.job, t.locator)
        }
        Format::Json => {
            if let Some(name) = vars.keys().next() {
                return Err(Error::one(
                    file,
                    Pos::default(),
                    format!("--var {name}: a JSON job file has no variables"),
                ));
            }
            let r = json::read(text, file)?;
            (r.job, r.locator)
        }
    };
    let d = decode::decode(&job, file, &locator)?;
    Ok(Loaded {
        job: d.job,
        warnings: d.warnings,
        unsupported: d.unmodelled,
    })
}

/// Splits `name=value` as `-var` takes it.
pub fn parse_var(text: &str) -> Option<(String, String)> {
    let (k, v) = text.split_once('=')?;
    let k = k.trim();
    if k.is_empty() {
        return None;
    }
    Some((k.to_string(), v.to_string()))
}
