//! Plain words for serde's messages: `expected u32` becomes `expected a whole number from 0 to
//! 4294967295`, `expected struct PoolFile` becomes `expected a mapping of node pool keys`.
//!
//! serde_yaml prefixes its message with the path of the value (`node_pools[0].count: `); the
//! path is kept and only the part serde wrote after it is reworded. The simulator's own
//! messages pass through [`plain`] unchanged. YAML syntax errors go through [`syntax`], which
//! adds a hint where the usual cause is a line indented out of line with its neighbours.

/// The message with serde's type names put in plain words.
pub fn plain(message: &str) -> String {
    for marker in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(at) = start_of(message, marker) {
            let (path, rest) = (&message[..at], &message[at + marker.len()..]);
            if let Some(text) = mismatch(marker, rest) {
                return format!("{path}{text}");
            }
        }
    }
    let untagged = "data did not match any variant of untagged enum ";
    if let Some(at) = start_of(message, untagged) {
        let name = &message[at + untagged.len()..];
        return format!("{}{}", &message[..at], untagged_words(name));
    }
    message.to_string()
}

/// Where serde's own text starts: at the beginning, or right after the path and its colon.
fn start_of(message: &str, marker: &str) -> Option<usize> {
    if message.starts_with(marker) {
        return Some(0);
    }
    message.find(&format!(": {marker}")).map(|at| at + 2)
}

/// `X, expected Y` after `invalid type: ` (or `invalid value: `, `invalid length `) reworded;
/// a whole number out of its type's range says which end it is past.
fn mismatch(marker: &str, rest: &str) -> Option<String> {
    let cut = rest.rfind(", expected ")?;
    let (found, wanted) = (&rest[..cut], &rest[cut + ", expected ".len()..]);
    let wanted_words = expected_words(wanted);
    if let (Some(range), Some(n)) = (IntRange::of(wanted), number_of(found)) {
        if let Some(problem) = range.problem(n, found) {
            return Some(format!("invalid value: {problem}, expected {wanted_words}"));
        }
    }
    if (found, wanted) == ("map", "map with a single key") {
        return Some(format!(
            "{marker}a mapping with more than one key, expected exactly one key"
        ));
    }
    let found = if marker == "invalid length " {
        found.to_string()
    } else {
        found_words(found)
    };
    Some(format!("{marker}{found}, expected {wanted_words}"))
}

/// The range of one of Rust's integer types, from its name.
struct IntRange {
    min: i128,
    max: u128,
}

impl IntRange {
    fn of(name: &str) -> Option<IntRange> {
        let (min, max): (i128, u128) = match name {
            "u8" => (0, u8::MAX.into()),
            "u16" => (0, u16::MAX.into()),
            "u32" => (0, u32::MAX.into()),
            "u64" => (0, u64::MAX.into()),
            "u128" => (0, u128::MAX),
            "usize" => (0, usize::MAX as u128),
            "i8" => (i8::MIN.into(), i8::MAX as u128),
            "i16" => (i16::MIN.into(), i16::MAX as u128),
            "i32" => (i32::MIN.into(), i32::MAX as u128),
            "i64" => (i64::MIN.into(), i64::MAX as u128),
            "i128" => (i128::MIN, i128::MAX as u128),
            "isize" => (isize::MIN as i128, isize::MAX as u128),
            _ => return None,
        };
        Some(IntRange { min, max })
    }

    /// What is wrong with a number given where this range is wanted, if anything.
    fn problem(&self, n: Number, found: &str) -> Option<String> {
        let shown = found_words(found);
        let shown = shown.strip_prefix("the number ").unwrap_or(&shown);
        match n {
            Number::Fraction => Some(format!("{shown} is not a whole number")),
            Number::Whole(true, magnitude) if magnitude > 0 && self.min == 0 => {
                Some(format!("{shown} is negative"))
            }
            Number::Whole(true, magnitude) if magnitude > self.min.unsigned_abs() => {
                Some(format!("{shown} is too small"))
            }
            Number::Whole(false, magnitude) if magnitude > self.max => {
                Some(format!("{shown} is too large"))
            }
            // A whole number in range written with a decimal point or an exponent.
            Number::Whole(_, _) if found.starts_with("floating point ") => Some(format!(
                "{shown} has a decimal point or an exponent: write the whole number out"
            )),
            Number::Whole(..) => None,
        }
    }
}

/// A number serde reported finding.
#[derive(Clone, Copy)]
enum Number {
    /// A whole number: whether it is negative, and its size (saturated).
    Whole(bool, u128),
    /// A number with a fraction.
    Fraction,
}

/// The number in serde's `integer `5`` or `floating point `1.5``, if that is what was found.
fn number_of(found: &str) -> Option<Number> {
    if let Some(text) = found.strip_prefix("integer ").and_then(ticked) {
        let magnitude = text.trim_start_matches('-').parse().unwrap_or(u128::MAX);
        return Some(Number::Whole(text.starts_with('-'), magnitude));
    }
    let text = found.strip_prefix("floating point ").and_then(ticked)?;
    let f: f64 = text.parse().ok()?;
    if !f.is_finite() || f.fract() != 0.0 {
        return Some(Number::Fraction);
    }
    // The cast saturates, which is all a range check needs.
    Some(Number::Whole(f < 0.0, f.abs() as u128))
}

/// The text between the first pair of backticks.
fn ticked(s: &str) -> Option<&str> {
    let s = s.strip_prefix('`')?;
    Some(&s[..s.find('`')?])
}

/// What serde found, in the scenario's words: `a list` for `sequence`, `the text "x"` for
/// `string "x"`.
fn found_words(found: &str) -> String {
    if let Some(t) = found.strip_prefix("integer ").and_then(ticked) {
        return format!("the number {t}");
    }
    if let Some(t) = found.strip_prefix("floating point ").and_then(ticked) {
        return format!("the number {}", short_float(t));
    }
    if let Some(t) = found.strip_prefix("boolean ").and_then(ticked) {
        return t.to_string();
    }
    if let Some(t) = found.strip_prefix("character ").and_then(ticked) {
        return format!("the text {t:?}");
    }
    if let Some(t) = found.strip_prefix("string ") {
        return format!("the text {t}");
    }
    match found {
        "sequence" => "a list".to_string(),
        "map" => "a mapping".to_string(),
        "unit value" | "unit" => "an empty value".to_string(),
        "unit variant" => "a bare name".to_string(),
        "newtype variant" | "tuple variant" | "struct variant" => {
            "a name with settings under it".to_string()
        }
        "Option value" => "an optional value".to_string(),
        "enum" => "a tagged value".to_string(),
        "byte array" | "bytes" => "binary data".to_string(),
        other => other.to_string(),
    }
}

/// A float as serde prints it (`1000...0.0` for 1e300), shortened to scientific notation when
/// it is long.
fn short_float(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(f) if text.len() > 20 => format!("{f:e}"),
        _ => text.to_string(),
    }
}

/// What serde expected, in the scenario's words.
fn expected_words(wanted: &str) -> String {
    if let Some(range) = IntRange::of(wanted) {
        return format!("a whole number from {} to {}", range.min, range.max);
    }
    if let Some(name) = wanted.strip_prefix("struct variant ") {
        let variant = name.rsplit("::").next().unwrap_or(name);
        return format!("a mapping of {} keys", snake_words(variant));
    }
    if let Some(name) = wanted.strip_prefix("struct ") {
        return format!("a mapping of {} keys", struct_words(name));
    }
    if let Some(name) = wanted.strip_prefix("enum ") {
        return enum_words(name);
    }
    if wanted.starts_with("tuple struct ") || wanted.starts_with("tuple variant ") {
        return "a list".to_string();
    }
    if let Some(name) = wanted.strip_prefix("newtype variant ") {
        let variant = name.rsplit("::").next().unwrap_or(name);
        return format!("{} with its settings", snake_words(variant));
    }
    if let Some(n) = wanted
        .strip_prefix("a tuple of size ")
        .or_else(|| wanted.strip_prefix("an array of length "))
    {
        return format!("a list of {n} items");
    }
    match wanted {
        "f32" | "f64" => "a number".to_string(),
        "a boolean" | "bool" => "true or false".to_string(),
        "a sequence" => "a list".to_string(),
        "a map" => "a mapping".to_string(),
        "map with a single key" => "a mapping with a single key".to_string(),
        "a borrowed string" | "a string" | "string" => "a string".to_string(),
        "a character" | "char" => "a single character".to_string(),
        "newtype variant" | "struct variant" | "tuple variant" => {
            "a name with settings under it, such as `name: { ... }`".to_string()
        }
        "unit variant" => "a bare name".to_string(),
        "unit" => "an empty value".to_string(),
        "option" => "a value or nothing".to_string(),
        other => other.to_string(),
    }
}

/// The scenario's name for the block a schema struct or enum reads.
fn struct_words(name: &str) -> String {
    match name {
        "ScenarioFile" => "scenario".to_string(),
        "PoolFile" => "node pool".to_string(),
        "NamedNodeFile" => "node".to_string(),
        "DeviceAskFile" => "device".to_string(),
        "EveryFull" => "every".to_string(),
        "WeightedFile" => "weighted entry".to_string(),
        "OperationFile" => "operation".to_string(),
        other => snake_words(other.strip_suffix("File").unwrap_or(other)),
    }
}

/// `NodeDrain` as `node_drain`, the way the scenario spells keys.
fn snake_words(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// What an enum read from a one-key mapping (`poisson: { ... }`) accepts.
fn enum_words(name: &str) -> String {
    match name {
        "ArrivalsFile" => "one of poisson, every, at, diurnal, trace or periodic with its settings, such as `poisson: { rate: 300/h }`".to_string(),
        other => format!("one of the {} kinds with its settings", struct_words(other)),
    }
}

/// What an untagged enum (a key that takes one of several shapes) accepts.
fn untagged_words(name: &str) -> String {
    match name {
        "EveryFile" => {
            "every takes an interval such as 30s, or { interval: 30s, start: 5m }".to_string()
        }
        other => format!(
            "the value has none of the shapes {} accepts",
            struct_words(other)
        ),
    }
}

/// A YAML syntax error as serde_yaml prints it (`PROBLEM at line L column C, while CONTEXT at
/// line L2 column C2`), without the problem's place (the caller prefixes it) and with a hint
/// where the usual cause is indentation: the error is where a line starts (`at_line_start`).
/// Where it is after a value on its line, the usual cause is a quote.
pub fn syntax(message: &str, at_line_start: bool) -> String {
    let (problem, context) = match message.split_once(", while ") {
        Some((p, c)) => (p, Some(c)),
        None => (message, None),
    };
    let problem = cut_place(problem);
    // Where the enclosing list or mapping starts, as "line L, column C".
    let (context, opened) = match context {
        Some(c) => match c.split_once(" at line ") {
            Some((what, place)) => (Some(what), Some(place.replacen(" column ", ", column ", 1))),
            None => (Some(c), None),
        },
        None => (None, None),
    };
    let from = opened
        .as_deref()
        .map(|o| format!(" (it starts at line {o})"))
        .unwrap_or_default();
    let unlined = matches!(
        problem,
        "did not find expected '-' indicator" | "did not find expected key"
    );
    if unlined && !at_line_start {
        return "unexpected text after a value on this line: check its quotes (a quoted value ends at its closing quote; quote a value that holds quotes with the other kind, as in \"it's\")".to_string();
    }
    match (problem, context) {
        ("did not find expected '-' indicator", Some("parsing a block collection")) => format!(
            "this line does not line up with the list above it{from}: check its indentation (each entry starts with `- `, and an entry's keys line up under its first key)"
        ),
        ("did not find expected key", Some("parsing a block mapping")) => format!(
            "this line does not line up with the keys above it{}: check its indentation (the keys of one mapping line up)",
            opened
                .as_deref()
                .map(|o| format!(" (the mapping starts at line {o})"))
                .unwrap_or_default()
        ),
        ("mapping values are not allowed in this context", _) => format!(
            "{problem}: check this line's indentation, or quote a value that contains `: `"
        ),
        (p, Some(c)) => format!("{p}, while {c}{from}"),
        (p, None) => p.to_string(),
    }
}

/// The text before serde_yaml's ` at line L column C`.
fn cut_place(text: &str) -> &str {
    match text.find(" at line ") {
        Some(at) => &text[..at],
        None => text,
    }
}

/// The number of single-character insertions, deletions and substitutions between two texts.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serdes_phrasings_become_plain_words() {
        for (serde, want) in [
            (
                "a.b: invalid type: string \"x\", expected u32",
                "a.b: invalid type: the text \"x\", expected a whole number from 0 to 4294967295",
            ),
            (
                "a: invalid type: integer `-200`, expected i8",
                "a: invalid value: -200 is too small, expected a whole number from -128 to 127",
            ),
            (
                "a: invalid type: integer `-5`, expected i32",
                "a: invalid type: the number -5, expected a whole number from -2147483648 to 2147483647",
            ),
            (
                "a: invalid type: floating point `2.5`, expected u8",
                "a: invalid value: 2.5 is not a whole number, expected a whole number from 0 to 255",
            ),
            (
                "a: invalid type: boolean `true`, expected f64",
                "a: invalid type: true, expected a number",
            ),
            (
                "a: invalid type: map, expected a boolean",
                "a: invalid type: a mapping, expected true or false",
            ),
            (
                "a: invalid type: unit value, expected a map",
                "a: invalid type: an empty value, expected a mapping",
            ),
            (
                "a: invalid type: sequence, expected struct variant CountDistFile::Uniform",
                "a: invalid type: a list, expected a mapping of uniform keys",
            ),
            (
                "a: invalid type: string \"a, expected u8\", expected struct NodeDrainFile",
                "a: invalid type: the text \"a, expected u8\", expected a mapping of node_drain keys",
            ),
            (
                "invalid type: sequence, expected struct ScenarioFile",
                "invalid type: a list, expected a mapping of scenario keys",
            ),
            (
                "a: invalid length 3, expected a tuple of size 2",
                "a: invalid length 3, expected a list of 2 items",
            ),
            (
                "a: invalid value: character `x`, expected a character",
                "a: invalid value: the text \"x\", expected a single character",
            ),
        ] {
            assert_eq!(plain(serde), want);
        }
    }

    #[test]
    fn other_messages_pass_through() {
        for m in [
            "unknown field `colour`, expected one of `name`, `seed`",
            "a.b: missing field `count`",
            "horizon: duration 7 has no unit: write \"7s\", \"7m\" or \"7ms\"",
        ] {
            assert_eq!(plain(m), m);
        }
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("europe/pariss", "europe/paris"), 1);
        assert_eq!(edit_distance("abc", "acb"), 2);
        assert_eq!(edit_distance("", "utc"), 3);
    }
}
