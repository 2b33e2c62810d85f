//! The JSON Schema of scenario files: `docs/scenario.schema.json` is what the loader's types
//! generate, every shipped scenario validates against it (checked by an independent
//! validator), and it refuses what the loader refuses for its shape.
//! Set NOMAD_SIM_UPDATE_SCHEMA=1 to rewrite the file after changing the scenario types.

use std::path::{Path, PathBuf};

use nomad_sim_scenario::json_schema::scenario_schema_text;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(&scenario_schema_text()).unwrap();
    jsonschema::validator_for(&schema).expect("the schema is valid JSON Schema")
}

fn yaml_as_json(text: &str) -> serde_json::Value {
    let v: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
    serde_json::to_value(v).unwrap()
}

#[test]
fn the_shipped_schema_is_up_to_date() {
    let path = root().join("docs/scenario.schema.json");
    let want = scenario_schema_text();
    if std::env::var_os("NOMAD_SIM_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date: run NOMAD_SIM_UPDATE_SCHEMA=1 cargo test -p nomad-sim-scenario --test json_schema",
        path.display()
    );
}

#[test]
fn every_shipped_scenario_validates() {
    let v = validator();
    let mut n = 0;
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let doc = yaml_as_json(&std::fs::read_to_string(&path).unwrap());
            let errors: Vec<String> = v
                .iter_errors(&doc)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            n += 1;
        }
    }
    assert!(n >= 5, "only {n} scenarios found");
}

#[test]
fn the_schema_refuses_what_the_loader_refuses() {
    let v = validator();
    let base = "name: x\nhorizon: 1h\nnode_pools:\n  - { name: a, count: 1, resources: { cpu: 100, memory: 100 } }\n\
                workloads:\n  - { name: w, arrivals: { poisson: { rate: 10/h } }, resources: { cpu: 10, memory: 10 }, duration: 5m }\n";
    assert!(v.is_valid(&yaml_as_json(base)));
    assert!(nomad_sim_scenario::parse_str(base, "x.yaml", Path::new(".")).is_ok());
    for (bad, what) in [
        ("colour: red\n", "an unknown key"),
        ("seed: -1\n", "a negative seed"),
        ("nomad_version: 1.10\n", "an unquoted version"),
    ] {
        let text = format!("{base}{bad}");
        assert!(
            !v.is_valid(&yaml_as_json(&text)),
            "the schema accepts {what}"
        );
        assert!(
            nomad_sim_scenario::parse_str(&text, "x.yaml", Path::new(".")).is_err(),
            "the loader accepts {what}"
        );
    }
    for (from, to, what) in [
        (
            "horizon: 1h",
            "horizon: 1 hour",
            "a duration without a Go unit",
        ),
        ("rate: 10/h", "rate: 10", "a rate without a unit"),
        ("duration: 5m", "duration: 5", "a run time without a unit"),
        ("count: 1,", "count: -1,", "a negative count"),
        (
            "poisson: { rate: 10/h }",
            "poisson: { rate: 10/h }, at: [1m]",
            "two arrival processes",
        ),
    ] {
        let text = base.replace(from, to);
        assert_ne!(text, base, "{from}");
        assert!(
            !v.is_valid(&yaml_as_json(&text)),
            "the schema accepts {what}"
        );
        assert!(
            nomad_sim_scenario::parse_str(&text, "x.yaml", Path::new(".")).is_err(),
            "the loader accepts {what}"
        );
    }
}
