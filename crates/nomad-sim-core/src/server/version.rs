//! Version constraints for the `version` and `semver` operators (`">= 1.2, < 2.0"`, `"~> 1.4"`).

use std::cmp::Ordering;

/// A parsed version: numeric segments (at least three, zero-padded), the number given, and
/// the pre-release part; build metadata is dropped, as comparisons ignore it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Version {
    segments: Vec<u64>,
    given: usize,
    pre: String,
}

fn parse_version(text: &str) -> Option<Version> {
    let text = text.trim();
    let text = text.strip_prefix('v').unwrap_or(text);
    let text = text.split_once('+').map_or(text, |(v, _)| v);
    let (core, pre) = match text.split_once('-') {
        Some((c, p)) if !p.is_empty() => (c, p.to_string()),
        Some(_) => return None,
        None => (text, String::new()),
    };
    let mut segments = Vec::new();
    for part in core.split('.') {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        segments.push(part.parse().ok()?);
    }
    let given = segments.len();
    while segments.len() < 3 {
        segments.push(0);
    }
    Some(Version {
        segments,
        given,
        pre,
    })
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (mut x, mut y) = (a.split('.'), b.split('.'));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let ord = match (p.parse::<u64>(), q.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    _ => p.cmp(q),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

fn compare(a: &Version, b: &Version) -> Ordering {
    let n = a.segments.len().max(b.segments.len());
    for i in 0..n {
        let (x, y) = (
            a.segments.get(i).copied().unwrap_or(0),
            b.segments.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return x.cmp(&y);
        }
    }
    compare_pre(&a.pre, &b.pre)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Pessimistic,
}

/// A parsed version constraint: every comma-separated part must hold.
#[derive(Clone, Debug)]
pub(crate) struct VersionConstraint {
    parts: Vec<(Op, Version)>,
    /// `semver` compares pre-releases by Semantic Versioning alone; `version` (go-version)
    /// also lets a pre-release match only a constraint with a pre-release of the same base.
    semver: bool,
}

impl VersionConstraint {
    /// Parses a constraint such as `">= 1.2, < 2.0"`; `None` when it is not one.
    pub(crate) fn parse(text: &str, semver: bool) -> Option<VersionConstraint> {
        let mut parts = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            let (op, rest) = [
                ("~>", Op::Pessimistic),
                (">=", Op::Ge),
                ("<=", Op::Le),
                ("!=", Op::Ne),
                (">", Op::Gt),
                ("<", Op::Lt),
                ("=", Op::Eq),
            ]
            .iter()
            .find_map(|(p, op)| part.strip_prefix(p).map(|r| (*op, r)))
            .unwrap_or((Op::Eq, part));
            parts.push((op, parse_version(rest)?));
        }
        if parts.is_empty() {
            return None;
        }
        Some(VersionConstraint { parts, semver })
    }

    /// True when the version text satisfies every part (an unparsable version never does).
    pub(crate) fn matches(&self, text: &str) -> bool {
        let Some(v) = parse_version(text) else {
            return false;
        };
        self.parts.iter().all(|(op, c)| self.check(*op, &v, c))
    }

    fn check(&self, op: Op, v: &Version, c: &Version) -> bool {
        let pre_ok = self.semver
            || match (v.pre.is_empty(), c.pre.is_empty()) {
                (false, false) => v.segments == c.segments,
                (false, true) => false,
                _ => true,
            };
        let ord = compare(v, c);
        match op {
            Op::Eq => ord == Ordering::Equal,
            Op::Ne => ord != Ordering::Equal,
            Op::Gt => pre_ok && ord == Ordering::Greater,
            Op::Lt => pre_ok && ord == Ordering::Less,
            Op::Ge => pre_ok && ord != Ordering::Less,
            Op::Le => pre_ok && ord != Ordering::Greater,
            Op::Pessimistic => {
                if !pre_ok || (!c.pre.is_empty() && v.pre.is_empty()) || ord == Ordering::Less {
                    return false;
                }
                let fixed = c.given.saturating_sub(1);
                (0..fixed).all(|i| v.segments.get(i) == c.segments.get(i))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(c: &str, v: &str) -> bool {
        VersionConstraint::parse(c, false).unwrap().matches(v)
    }

    #[test]
    fn ranges_and_pessimistic() {
        assert!(ok(">= 1.2, < 2.0", "1.10.3"));
        assert!(!ok(">= 1.2, < 2.0", "2.0.0"));
        assert!(ok("~> 1.4", "1.9.0"));
        assert!(!ok("~> 1.4", "2.0.0"));
        assert!(ok("~> 1.4.2", "1.4.9"));
        assert!(!ok("~> 1.4.2", "1.5.0"));
        assert!(ok("1.3", "v1.3.0"));
        assert!(ok("!= 1.3", "1.3.1"));
        assert!(!ok("> 1.0", "banana"));
        assert!(VersionConstraint::parse(">= x", false).is_none());
    }

    #[test]
    fn pre_releases() {
        // go-version: a pre-release matches only a constraint with a pre-release of its base.
        assert!(!ok(">= 1.0", "1.2.0-beta1"));
        assert!(ok(">= 1.2.0-alpha", "1.2.0-beta1"));
        // semver orders it plainly.
        assert!(VersionConstraint::parse(">= 1.0", true)
            .unwrap()
            .matches("1.2.0-beta1"));
        assert!(VersionConstraint::parse("< 1.2.0", true)
            .unwrap()
            .matches("1.2.0-rc.1"));
    }
}
