//! Constraint operators and targets, checked one by one against a node as Nomad's
//! `checkConstraint` and `resolveTarget` answer them.

use std::collections::BTreeMap;

use nomad_sim_core::constraint::{Constraint, NodeProperties, Operand};

fn with_node(check: impl FnOnce(&NodeProperties<'_>)) {
    let attributes: BTreeMap<String, String> = [
        ("kernel.name", "linux"),
        ("cpu.numcores", "8"),
        ("cpu.frequency", "9.5"),
        ("os.name", "ubuntu"),
        ("nomad.version", "1.7.3"),
        ("unique.hostname", "ip-10-0-0-1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let meta: BTreeMap<String, String> = [("rack", "r12"), ("features", "docker,arm64, gpu")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let node = NodeProperties {
        id: "5a1f0c2e-0000-4000-8000-000000000001",
        name: "linux-1",
        datacenter: "dc1",
        node_class: "linux-64bit",
        pool: "linux",
        attributes: &attributes,
        meta: &meta,
    };
    check(&node);
}

fn c(l: &str, op: &str, r: &str) -> Constraint {
    Constraint::spelled(l, op, r).unwrap()
}

#[test]
fn every_spelling_parses_to_its_operator() {
    let cases = [
        ("=", Operand::Eq),
        ("==", Operand::Eq),
        ("is", Operand::Eq),
        ("!=", Operand::Ne),
        ("not", Operand::Ne),
        ("<", Operand::Lt),
        ("<=", Operand::Le),
        (">", Operand::Gt),
        (">=", Operand::Ge),
        ("regexp", Operand::Regexp),
        ("is_set", Operand::IsSet),
        ("is_not_set", Operand::IsNotSet),
        ("set_contains", Operand::SetContains),
        ("set_contains_all", Operand::SetContains),
        ("set_contains_any", Operand::SetContainsAny),
        ("distinct_hosts", Operand::DistinctHosts),
        ("version", Operand::Version),
        ("semver", Operand::Semver),
    ];
    for (text, operand) in cases {
        assert_eq!(Operand::parse(text), Some(operand), "{text}");
    }
    assert_eq!(Operand::parse("~="), None);
    assert_eq!(Operand::parse(""), None);
    assert!(Constraint::spelled("${node.class}", "like", "x").is_err());
}

#[test]
fn canonical_spellings() {
    let cases = [
        (Operand::Eq, "="),
        (Operand::Ne, "!="),
        (Operand::Lt, "<"),
        (Operand::Le, "<="),
        (Operand::Gt, ">"),
        (Operand::Ge, ">="),
        (Operand::Regexp, "regexp"),
        (Operand::IsSet, "is_set"),
        (Operand::IsNotSet, "is_not_set"),
        (Operand::SetContains, "set_contains"),
        (Operand::SetContainsAny, "set_contains_any"),
        (Operand::DistinctHosts, "distinct_hosts"),
        (Operand::Version, "version"),
        (Operand::Semver, "semver"),
    ];
    for (operand, text) in cases {
        assert_eq!(operand.as_str(), text);
        assert_eq!(Operand::parse(text), Some(operand));
    }
}

#[test]
fn describe_keeps_the_operator_as_written() {
    assert_eq!(
        c("${attr.cpu.numcores}", "<=", "8").describe(),
        "${attr.cpu.numcores} <= 8"
    );
    assert_eq!(
        c("${meta.features}", "set_contains_all", "gpu").describe(),
        "${meta.features} set_contains_all gpu"
    );
    let spelled = c("${node.class}", "not", "windows");
    assert_eq!(spelled.operand, Operand::Ne);
    assert_eq!(spelled.describe(), "${node.class} not windows");
}

#[test]
fn every_node_target_resolves() {
    with_node(|n| {
        assert!(c(
            "${node.unique.id}",
            "=",
            "5a1f0c2e-0000-4000-8000-000000000001"
        )
        .check(n));
        assert!(c("${node.unique.name}", "=", "linux-1").check(n));
        assert!(c("${node.datacenter}", "=", "dc1").check(n));
        assert!(!c("${node.datacenter}", "=", "dc2").check(n));
        assert!(c("${node.class}", "=", "linux-64bit").check(n));
        assert!(c("${node.pool}", "=", "linux").check(n));
        assert!(c("${attr.os.name}", "=", "ubuntu").check(n));
        assert!(c("${meta.rack}", "=", "r12").check(n));
        // The target may be on either side.
        assert!(c("dc1", "=", "${node.datacenter}").check(n));
        assert!(c("${node.datacenter}", "=", "${node.datacenter}").check(n));
        // An unknown interpolation resolves to nothing; a plain word is a literal.
        assert!(!c("${node.rack}", "=", "${node.rack}").check(n));
        assert!(c("${node.rack}", "is_not_set", "").check(n));
        assert!(c("dc1", "=", "dc1").check(n));
    });
    with_node(|n| {
        assert_eq!(n.resolve("${node.datacenter}"), Some("dc1"));
        assert_eq!(n.resolve("${node.unique.name}"), Some("linux-1"));
        assert_eq!(n.resolve("${attr.cpu.numcores}"), Some("8"));
        assert_eq!(n.resolve("${meta.rack}"), Some("r12"));
        assert_eq!(n.resolve("${attr.nope}"), None);
        assert_eq!(n.resolve("${meta.nope}"), None);
        assert_eq!(n.resolve("${nope}"), None);
        assert_eq!(n.resolve("linux"), Some("linux"));
        assert_eq!(n.resolve("${node.class"), Some("${node.class"));
    });
}

#[test]
fn equality_needs_both_sides_and_inequality_does_not() {
    with_node(|n| {
        assert!(c("${node.class}", "==", "linux-64bit").check(n));
        assert!(!c("${node.class}", "=", "windows").check(n));
        assert!(c("${node.class}", "!=", "windows").check(n));
        assert!(!c("${node.class}", "!=", "linux-64bit").check(n));
        // Nomad: `=` needs both found; `!=` is "not deeply equal", so a missing attribute
        // differs from a literal, and two missing values are equal.
        assert!(!c("${attr.missing}", "=", "x").check(n));
        assert!(c("${attr.missing}", "!=", "x").check(n));
        assert!(!c("${attr.missing}", "!=", "${meta.missing}").check(n));
    });
}

#[test]
fn ordering_operators_at_below_and_above_the_bound() {
    with_node(|n| {
        // cpu.numcores is 8: compared as integers, so 8 < 10 although "8" > "10" as text.
        let l = "${attr.cpu.numcores}";
        for (op, r, want) in [
            ("<", "7", false),
            ("<", "8", false),
            ("<", "10", true),
            ("<=", "7", false),
            ("<=", "8", true),
            ("<=", "10", true),
            (">", "7", true),
            (">", "8", false),
            (">", "10", false),
            (">=", "7", true),
            (">=", "8", true),
            (">=", "10", false),
        ] {
            assert_eq!(c(l, op, r).check(n), want, "8 {op} {r}");
        }
        // cpu.frequency is 9.5: compared as floats, so 9.5 < 10.25 although "9.5" > "10.25".
        assert!(c("${attr.cpu.frequency}", "<", "10.25").check(n));
        assert!(c("${attr.cpu.frequency}", "<=", "9.5").check(n));
        assert!(!c("${attr.cpu.frequency}", ">", "10.25").check(n));
        // Neither parses: compared as text.
        assert!(c("${attr.os.name}", ">", "debian").check(n));
        assert!(!c("${attr.os.name}", "<=", "debian").check(n));
        assert!(c("${attr.os.name}", "<=", "ubuntu").check(n));
        // A missing side fails every ordering.
        for op in ["<", "<=", ">", ">="] {
            assert!(!c("${attr.missing}", op, "1").check(n), "missing {op} 1");
        }
    });
}

#[test]
fn regexp_version_and_sets() {
    with_node(|n| {
        assert!(c("${attr.kernel.name}", "regexp", "^li.ux$").check(n));
        assert!(!c("${attr.kernel.name}", "regexp", "^win").check(n));
        assert!(!c("${attr.missing}", "regexp", ".*").check(n));
        assert!(c("${attr.nomad.version}", "version", ">= 1.6, < 2.0").check(n));
        assert!(!c("${attr.nomad.version}", "version", ">= 1.8").check(n));
        assert!(c("${attr.nomad.version}", "semver", "~> 1.7.0").check(n));
        assert!(!c("${attr.missing}", "version", ">= 0.1").check(n));
        // features is "docker,arm64, gpu" (items are trimmed).
        assert!(c("${meta.features}", "set_contains", "docker,gpu").check(n));
        assert!(!c("${meta.features}", "set_contains", "docker,x86").check(n));
        assert!(c("${meta.features}", "set_contains_all", "arm64").check(n));
        assert!(c("${meta.features}", "set_contains_any", "x86,gpu").check(n));
        assert!(!c("${meta.features}", "set_contains_any", "x86,sse").check(n));
        assert!(!c("${meta.missing}", "set_contains_any", "gpu").check(n));
        assert!(c("${attr.kernel.name}", "is_set", "").check(n));
        assert!(!c("${attr.nope}", "is_set", "").check(n));
        assert!(c("${attr.nope}", "is_not_set", "").check(n));
        assert!(!c("${attr.kernel.name}", "is_not_set", "").check(n));
        // distinct_hosts is checked elsewhere; as a constraint it always passes.
        assert!(c("${attr.nope}", "distinct_hosts", "").check(n));
    });
}

#[test]
fn invalid_patterns_are_errors() {
    assert!(Constraint::new("${attr.x}", Operand::Regexp, "(").is_err());
    assert!(Constraint::new("${attr.x}", Operand::Version, ">= one").is_err());
}

#[test]
fn each_unique_prefix_escapes_the_class_cache() {
    for target in [
        "${unique.network.ip-address}",
        "${node.unique.id}",
        "${node.unique.name}",
        "${attr.unique.hostname}",
        "${meta.unique.serial}",
    ] {
        assert!(c(target, "=", "x").escapes_class(), "{target} on the left");
        assert!(c("x", "=", target).escapes_class(), "{target} on the right");
    }
    for target in [
        "${node.class}",
        "${attr.kernel.name}",
        "${meta.rack}",
        "unique",
    ] {
        assert!(!c(target, "=", "x").escapes_class(), "{target}");
    }
}
