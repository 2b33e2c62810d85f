//! The JSON Schema of scenario files, generated from the loader's own serde types (so it
//! cannot drift from what the loader reads), for editors: with the YAML language server, put
//! `# yaml-language-server: $schema=<path or URL of docs/scenario.schema.json>` at the top of
//! a scenario. The loader stays the judge: it checks what a schema cannot (a pool named by a
//! workload exists, a count fits the limits) and names the line and column.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use crate::schema::{
    CountDistFile, CountFile, Dur, DurationDistFile, DurationFile, Rate, ScalarText, ScenarioFile,
    VersionText,
};

/// A Go duration as the loader reads it: `250ms`, `90s`, `5m`, `1h30m`, `1.5h`.
const DURATION_PATTERN: &str = r"^\s*\+?(0|([0-9]*\.?[0-9]+(ns|us|µs|μs|ms|s|m|h))+)\s*$";

impl JsonSchema for Dur {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A Go duration: \"250ms\", \"90s\", \"5m\", \"1h30m\" (a bare 0 needs no unit).",
            "oneOf": [
                { "type": "string", "pattern": DURATION_PATTERN },
                { "const": 0 }
            ]
        })
    }
}

impl JsonSchema for Rate {
    fn schema_name() -> Cow<'static, str> {
        "Rate".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Arrivals per unit of time: \"300/h\", \"5/m\", \"0.5/s\", \"100/d\".",
            "type": "string",
            "pattern": r"^\s*[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$"
        })
    }
}

impl JsonSchema for ScalarText {
    fn schema_name() -> Cow<'static, str> {
        "Scalar".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A string, number or boolean (kept as text, as Nomad keeps attributes).",
            "type": ["string", "number", "boolean"]
        })
    }
}

impl JsonSchema for VersionText {
    fn schema_name() -> Cow<'static, str> {
        "NomadVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A quoted Nomad version such as \"1.11\" or \"1.10.6\" (unquoted, 1.10 reads as 1.1).",
            "type": "string",
            "pattern": r"^\s*v?[0-9]+(\.[0-9]+){0,2}\s*$"
        })
    }
}

impl JsonSchema for CountFile {
    fn schema_name() -> Cow<'static, str> {
        "Count".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let dist = generator.subschema_for::<CountDistFile>();
        json_schema!({
            "description": "A count, or a distribution: { uniform: { min, max } } or { weighted: [{ value, weight }, ...] }.",
            "oneOf": [
                { "type": "integer", "minimum": 0, "maximum": 4294967295u64 },
                dist
            ]
        })
    }
}

impl JsonSchema for DurationFile {
    fn schema_name() -> Cow<'static, str> {
        "RunTime".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let dist = generator.subschema_for::<DurationDistFile>();
        json_schema!({
            "description": "A run time: a duration such as \"5m\", or one of { constant, exponential, lognormal, uniform, empirical }.",
            "oneOf": [
                { "type": "string", "pattern": DURATION_PATTERN },
                dist
            ]
        })
    }
}

/// The schema of a scenario file, as pretty JSON with a trailing newline (what
/// `docs/scenario.schema.json` holds).
pub fn scenario_schema_text() -> String {
    let mut schema = schemars::schema_for!(ScenarioFile);
    schema.insert(
        "title".to_string(),
        serde_json::Value::String("nomad-sim scenario".to_string()),
    );
    schema.insert(
        "description".to_string(),
        serde_json::Value::String(
            "A nomad-sim scenario file (YAML). Generated from the loader's types by `NOMAD_SIM_UPDATE_SCHEMA=1 cargo test -p nomad-sim-scenario --test json_schema`; see docs/scenario-reference.md.".to_string(),
        ),
    );
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
