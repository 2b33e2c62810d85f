//! The resource classes a scenario knows: CircleCI's built-in ones and the scenario's own
//! `resource_classes:`, for knobs that change a workload's class mix.

use nomad_sim_core::workload::builtin_resource_classes;
use nomad_sim_core::Resources;

/// The built-in classes, then the scenario file's own (which may redefine a built-in one).
/// A file that is not valid YAML has already been refused by the loader, so its classes are
/// simply the built-in ones here.
pub fn of_scenario(text: &[u8]) -> Vec<(String, Resources)> {
    let mut classes = builtin_resource_classes();
    let Ok(doc) = serde_yaml::from_slice::<serde_yaml::Value>(text) else {
        return classes;
    };
    let Some(own) = doc.get("resource_classes").and_then(|v| v.as_mapping()) else {
        return classes;
    };
    for (name, res) in own {
        let Some(name) = name.as_str() else { continue };
        let field = |k: &str| res.get(k).and_then(serde_yaml::Value::as_u64).unwrap_or(0);
        let r = Resources::new(field("cpu"), field("memory"), field("disk"));
        classes.retain(|(n, _)| n != name);
        classes.push((name.to_string(), r));
    }
    classes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_classes_join_the_built_in_ones() {
        let c = of_scenario(b"resource_classes:\n  gpu: { cpu: 8000, memory: 16000 }\n  medium: { cpu: 1, memory: 2 }\n");
        assert!(c.iter().any(|(n, r)| n == "gpu" && r.cpu_mhz == 8000));
        assert!(c.iter().any(|(n, r)| n == "medium" && r.cpu_mhz == 1));
        assert!(c.iter().any(|(n, _)| n == "large"));
        assert_eq!(of_scenario(b": not yaml: ["), builtin_resource_classes());
    }
}
