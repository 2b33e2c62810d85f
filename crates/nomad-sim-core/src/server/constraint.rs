//! Nomad constraints: target resolution (`${node.class}`, `${attr.*}`, `${meta.*}`) and operators.

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A constraint operator, as Nomad spells it in a job's `constraint` block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operand {
    /// `=`, `==` or `is`.
    Eq,
    /// `!=` or `not`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `regexp`.
    Regexp,
    /// `is_set`.
    IsSet,
    /// `is_not_set`.
    IsNotSet,
    /// `set_contains` / `set_contains_all`.
    SetContains,
    /// `set_contains_any`.
    SetContainsAny,
    /// `distinct_hosts`: handled by its own check, always passes here.
    DistinctHosts,
    /// `version`: the value is a version constraint (`>= 1.2, < 2.0`, `~> 1.4`).
    Version,
    /// `semver`: a version constraint with Semantic Versioning's pre-release order.
    Semver,
}

impl Operand {
    /// Parses Nomad's spelling of an operator.
    pub fn parse(text: &str) -> Option<Operand> {
        Some(match text {
            "=" | "==" | "is" => Operand::Eq,
            "!=" | "not" => Operand::Ne,
            "<" => Operand::Lt,
            "<=" => Operand::Le,
            ">" => Operand::Gt,
            ">=" => Operand::Ge,
            "regexp" => Operand::Regexp,
            "is_set" => Operand::IsSet,
            "is_not_set" => Operand::IsNotSet,
            "set_contains" | "set_contains_all" => Operand::SetContains,
            "set_contains_any" => Operand::SetContainsAny,
            "distinct_hosts" => Operand::DistinctHosts,
            "version" => Operand::Version,
            "semver" => Operand::Semver,
            _ => return None,
        })
    }

    /// Nomad's canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Operand::Eq => "=",
            Operand::Ne => "!=",
            Operand::Lt => "<",
            Operand::Le => "<=",
            Operand::Gt => ">",
            Operand::Ge => ">=",
            Operand::Regexp => "regexp",
            Operand::IsSet => "is_set",
            Operand::IsNotSet => "is_not_set",
            Operand::SetContains => "set_contains",
            Operand::SetContainsAny => "set_contains_any",
            Operand::DistinctHosts => "distinct_hosts",
            Operand::Version => "version",
            Operand::Semver => "semver",
        }
    }
}

/// One constraint: `attribute operator value`.
#[derive(Clone, Debug)]
pub struct Constraint {
    /// The left target, e.g. `${node.class}`.
    pub ltarget: String,
    /// The operator.
    pub operand: Operand,
    /// The right target, e.g. `linux-64bit`.
    pub rtarget: String,
    /// The compiled pattern when the operator is `regexp`.
    pub regex: Option<regex::Regex>,
    /// The parsed version constraint when the operator is `version` or `semver`.
    version: Option<crate::server::version::VersionConstraint>,
    /// The operator as the job spelled it (`is`, `==`), which Nomad's metrics keep.
    operand_text: String,
}

impl Constraint {
    /// Builds a constraint, compiling the pattern of a `regexp` constraint.
    pub fn new(
        ltarget: &str,
        operand: Operand,
        rtarget: &str,
    ) -> Result<Constraint, crate::error::InputError> {
        let regex = if operand == Operand::Regexp {
            Some(regex::Regex::new(rtarget).map_err(|e| {
                crate::error::InputError::new(
                    crate::error::InputErrorKind::Constraint,
                    format!("invalid regexp {rtarget:?}: {e}"),
                )
            })?)
        } else {
            None
        };
        let version = match operand {
            Operand::Version | Operand::Semver => Some(
                crate::server::version::VersionConstraint::parse(
                    rtarget,
                    operand == Operand::Semver,
                )
                .ok_or_else(|| {
                    crate::error::InputError::new(
                        crate::error::InputErrorKind::Constraint,
                        format!("invalid version constraint {rtarget:?}"),
                    )
                })?,
            ),
            _ => None,
        };
        Ok(Constraint {
            ltarget: ltarget.to_string(),
            operand,
            rtarget: rtarget.to_string(),
            regex,
            version,
            operand_text: operand.as_str().to_string(),
        })
    }

    /// Builds a constraint from the operator as written (`is`, `==`, `set_contains_all`), which
    /// [`Constraint::describe`] keeps, as Nomad's metrics do.
    pub fn spelled(ltarget: &str, operator: &str, rtarget: &str) -> Result<Constraint, String> {
        let operand = Operand::parse(operator)
            .ok_or_else(|| format!("unknown constraint operator {operator:?}"))?;
        let mut c = Constraint::new(ltarget, operand, rtarget)?;
        c.operand_text = operator.to_string();
        Ok(c)
    }

    /// The string Nomad uses for the constraint in filter metrics: `"<LTarget> <Operand>
    /// <RTarget>"`, with the operator as the job wrote it.
    pub fn describe(&self) -> String {
        format!("{} {} {}", self.ltarget, self.operand_text, self.rtarget)
    }

    /// True when the constraint escapes the computed-class cache (it names a `unique.` target).
    pub fn escapes_class(&self) -> bool {
        [&self.ltarget, &self.rtarget].iter().any(|t| {
            t.starts_with("${unique.")
                || t.starts_with("${node.unique.")
                || t.starts_with("${attr.unique.")
                || t.starts_with("${meta.unique.")
        })
    }

    /// Checks the constraint against a node's properties.
    pub fn check(&self, node: &NodeProperties<'_>) -> bool {
        let left = node.resolve(&self.ltarget);
        let right = node.resolve(&self.rtarget);
        match self.operand {
            Operand::DistinctHosts => true,
            Operand::Eq => matches!((left, right), (Some(l), Some(r)) if l == r),
            Operand::Ne => left != right,
            Operand::Lt | Operand::Le | Operand::Gt | Operand::Ge => match (left, right) {
                (Some(l), Some(r)) => {
                    let ord = compare_values(l, r);
                    match self.operand {
                        Operand::Lt => ord == Ordering::Less,
                        Operand::Le => ord != Ordering::Greater,
                        Operand::Gt => ord == Ordering::Greater,
                        _ => ord != Ordering::Less,
                    }
                }
                _ => false,
            },
            Operand::Regexp => match (left, &self.regex) {
                (Some(l), Some(re)) => re.is_match(l),
                _ => false,
            },
            Operand::Version | Operand::Semver => match (left, &self.version) {
                (Some(l), Some(v)) => v.matches(l),
                _ => false,
            },
            Operand::IsSet => left.is_some(),
            Operand::IsNotSet => left.is_none(),
            Operand::SetContains | Operand::SetContainsAny => match (left, right) {
                (Some(l), Some(r)) => {
                    let have: Vec<&str> = l.split(',').map(str::trim).collect();
                    let mut want = r.split(',').map(str::trim);
                    if self.operand == Operand::SetContains {
                        want.all(|w| have.contains(&w))
                    } else {
                        want.any(|w| have.contains(&w))
                    }
                }
                _ => false,
            },
        }
    }
}

/// Compares as integers when both parse, else as floats, else lexically, like Nomad.
fn compare_values(left: &str, right: &str) -> Ordering {
    if let (Ok(l), Ok(r)) = (left.parse::<i64>(), right.parse::<i64>()) {
        return l.cmp(&r);
    }
    if let (Ok(l), Ok(r)) = (left.parse::<f64>(), right.parse::<f64>()) {
        return l.partial_cmp(&r).unwrap_or(Ordering::Equal);
    }
    left.cmp(right)
}

/// The properties of a node that constraint targets can name.
#[derive(Clone, Copy, Debug)]
pub struct NodeProperties<'a> {
    /// The node's ID.
    pub id: &'a str,
    /// The node's name.
    pub name: &'a str,
    /// The datacenter.
    pub datacenter: &'a str,
    /// The node class.
    pub node_class: &'a str,
    /// The node pool.
    pub pool: &'a str,
    /// Fingerprinted attributes (`${attr.X}`).
    pub attributes: &'a BTreeMap<String, String>,
    /// User metadata (`${meta.X}`).
    pub meta: &'a BTreeMap<String, String>,
}

impl<'a> NodeProperties<'a> {
    /// The properties of a node of `pool` with this ID and name.
    pub fn of_pool(pool: &'a crate::config::PoolConfig, id: &'a str, name: &'a str) -> Self {
        NodeProperties {
            id,
            name,
            datacenter: &pool.datacenter,
            node_class: &pool.node_class,
            pool: &pool.node_pool,
            attributes: &pool.attributes,
            meta: &pool.meta,
        }
    }

    /// Resolves a target: an interpolation names a node property; anything else is a literal.
    pub fn resolve<'b>(&self, target: &'b str) -> Option<&'b str>
    where
        'a: 'b,
    {
        let Some(inner) = target.strip_prefix("${").and_then(|t| t.strip_suffix('}')) else {
            return Some(target);
        };
        match inner {
            "node.unique.id" => Some(self.id),
            "node.unique.name" => Some(self.name),
            "node.datacenter" => Some(self.datacenter),
            "node.class" => Some(self.node_class),
            "node.pool" => Some(self.pool),
            _ => {
                if let Some(key) = inner.strip_prefix("attr.") {
                    self.attributes.get(key).map(String::as_str)
                } else if let Some(key) = inner.strip_prefix("meta.") {
                    self.meta.get(key).map(String::as_str)
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_node(check: impl FnOnce(&NodeProperties<'_>)) {
        let mut attributes = BTreeMap::new();
        attributes.insert("kernel.name".to_string(), "linux".to_string());
        attributes.insert("cpu.numcores".to_string(), "8".to_string());
        attributes.insert("os.version".to_string(), "22.04".to_string());
        let mut meta = BTreeMap::new();
        meta.insert("features".to_string(), "docker,arm64, gpu".to_string());
        let node = NodeProperties {
            id: "id-1",
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
    fn equality_and_inequality() {
        with_node(|n| {
            assert!(c("${node.class}", "=", "linux-64bit").check(n));
            assert!(!c("${node.class}", "=", "windows").check(n));
            assert!(c("${node.datacenter}", "!=", "dc2").check(n));
            assert!(!c("${attr.missing}", "=", "x").check(n));
            assert!(c("${attr.missing}", "!=", "x").check(n));
            assert!(c("${node.pool}", "is", "linux").check(n));
        });
    }

    #[test]
    fn ordering_is_numeric_when_both_parse() {
        with_node(|n| {
            assert!(c("${attr.cpu.numcores}", ">=", "8").check(n));
            assert!(c("${attr.cpu.numcores}", ">", "10").check(n) == (8 > 10));
            assert!(c("${attr.cpu.numcores}", "<", "10").check(n));
            assert!(c("${attr.os.version}", "<", "22.10").check(n));
            assert!(!c("${attr.missing}", "<", "1").check(n));
        });
    }

    #[test]
    fn regexp_set_and_presence() {
        with_node(|n| {
            assert!(c("${attr.kernel.name}", "regexp", "^lin").check(n));
            assert!(!c("${attr.kernel.name}", "regexp", "^win").check(n));
            assert!(c("${meta.features}", "set_contains", "docker,gpu").check(n));
            assert!(!c("${meta.features}", "set_contains", "docker,x86").check(n));
            assert!(c("${meta.features}", "set_contains_any", "x86,gpu").check(n));
            assert!(c("${attr.kernel.name}", "is_set", "").check(n));
            assert!(c("${attr.nope}", "is_not_set", "").check(n));
        });
    }

    #[test]
    fn bad_regexp_is_an_error_and_unique_escapes() {
        assert!(Constraint::new("${attr.x}", Operand::Regexp, "(").is_err());
        assert!(c("${node.unique.name}", "=", "linux-1").escapes_class());
        assert!(!c("${node.class}", "=", "x").escapes_class());
        // The operator keeps its spelling, as in Nomad's constraint metrics.
        assert_eq!(
            c("${node.class}", "==", "x").describe(),
            "${node.class} == x"
        );
        assert_eq!(c("${node.pool}", "is", "a").describe(), "${node.pool} is a");
        assert_eq!(
            Constraint::new("${node.class}", Operand::Eq, "x")
                .unwrap()
                .describe(),
            "${node.class} = x"
        );
    }
}
