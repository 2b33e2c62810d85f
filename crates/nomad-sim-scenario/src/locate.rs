//! Maps YAML paths (`workloads[1].resource_class`) to line and column, for located error messages.

use std::collections::BTreeMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// The deepest nesting of mappings and sequences a scenario may have.
pub const MAX_DEPTH: usize = 64;

/// The most nodes aliases may add to a document when expanded (billion-laughs guard).
pub const MAX_ALIAS_NODES: u64 = 100_000;

/// The most bytes of scalars aliases may add to a document when expanded.
pub const MAX_ALIAS_BYTES: u64 = 4 * 1024 * 1024;

/// A problem found while scanning a document, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanProblem {
    /// Where the problem starts.
    pub position: Position,
    /// What is wrong.
    pub message: String,
}

/// A line and column, both 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Where each node of a YAML document starts, by path.
#[derive(Clone, Debug, Default)]
pub struct PathIndex {
    positions: BTreeMap<String, Position>,
    /// True when the scan met a syntax error.
    syntax_error: bool,
}

impl PathIndex {
    /// Indexes a document. A document the scanner rejects yields an empty index (serde_yaml
    /// reports the syntax error itself, with its location).
    pub fn build(text: &str) -> PathIndex {
        PathIndex::scan(text).unwrap_or_default()
    }

    /// Indexes a document and checks what serde_yaml cannot report with a location, or would
    /// take too long or too much memory to find: nesting deeper than [`MAX_DEPTH`], aliases
    /// expanding past [`MAX_ALIAS_NODES`] nodes or [`MAX_ALIAS_BYTES`] bytes, a duplicate key,
    /// and a second document. Events are pulled one at a time and the scan stops at the first
    /// such problem, so a hostile file costs no more than the part read before it.
    /// A syntax error is not reported here: the index is returned as far as it got, noting
    /// that there is one ([`PathIndex::has_syntax_error`]), and serde_yaml reports it with
    /// its own wording.
    pub fn scan(text: &str) -> Result<PathIndex, ScanProblem> {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        let mut documents = 0usize;
        let mut syntax_error = false;
        loop {
            let (event, mark) = match parser.next_token() {
                Ok(next) => next,
                Err(_) => {
                    syntax_error = true;
                    break;
                }
            };
            match &event {
                Event::StreamEnd => break,
                Event::DocumentStart => {
                    documents += 1;
                    if documents > 1 {
                        return Err(ScanProblem {
                            position: position(mark),
                            message: SECOND_DOCUMENT.to_string(),
                        });
                    }
                }
                _ => {}
            }
            builder.account(&event, mark)?;
            builder.on_event(event, mark);
            if builder.stack.len() > MAX_DEPTH {
                return Err(ScanProblem {
                    position: position(mark),
                    message: format!(
                        "nesting deeper than {MAX_DEPTH} levels: a scenario needs about 6"
                    ),
                });
            }
            if let Some((key, first)) = builder.duplicate.take() {
                return Err(ScanProblem {
                    position: position(mark),
                    message: format!(
                        "{key}: duplicate key (first given at line {}, column {})",
                        first.line, first.column
                    ),
                });
            }
        }
        Ok(PathIndex {
            positions: builder.positions,
            syntax_error,
        })
    }

    /// True when the document stops being valid YAML somewhere.
    pub fn has_syntax_error(&self) -> bool {
        self.syntax_error
    }

    /// The position of the node at `path`, or of its nearest indexed ancestor.
    pub fn find(&self, path: &str) -> Option<Position> {
        let mut p = path;
        loop {
            if let Some(pos) = self.positions.get(p) {
                return Some(*pos);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }

    /// The position of the key `path` names (for "unknown" or "missing" complaints about a key).
    pub fn find_key(&self, path: &str) -> Option<Position> {
        self.positions
            .get(&format!("{path}#key"))
            .copied()
            .or_else(|| self.find(path))
    }
}

/// What a second document in a scenario file gets.
pub const SECOND_DOCUMENT: &str = "a second YAML document starts here: a scenario is one document (remove this `---` and what follows, or split the file)";

/// The start of a second YAML document, read line by line: a `---` marker after the first
/// document's marker or content, or content after a `...` end marker. For when serde_yaml
/// finds a second document that [`PathIndex::scan`] did not reach (it stops at the first
/// line its parser rejects, where serde_yaml's may read on) and reports it with no location.
pub fn second_document(text: &str) -> Option<Position> {
    let mut started = false;
    let mut ended = false;
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let marker = |m: &str| {
            line.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
        };
        let at = Position {
            line: i + 1,
            column: 1,
        };
        if marker("---") {
            if started {
                return Some(at);
            }
            started = true;
            ended = false;
            continue;
        }
        if marker("...") {
            ended = true;
            continue;
        }
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') || (!started && line.starts_with('%')) {
            continue;
        }
        if ended {
            return Some(at);
        }
        started = true;
    }
    None
}

/// Finds flow collections (`[`, `{`) nested deeper than [`MAX_DEPTH`], reading characters
/// only. YAML parsers hold every token of an unclosed flow collection until they know
/// whether it is a key, which makes deep flow nesting quadratic; this scan is linear, so it
/// runs first. It follows quotes, comments and block scalars, and counts a bracket in block
/// context only where a node can start.
pub fn flow_depth_problem(text: &str) -> Option<ScanProblem> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut block_scalar_indent: Option<usize> = None;
    for (line_index, line) in text.split('\n').enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let indent = chars.iter().take_while(|c| **c == ' ').count();
        if quote.is_none() && depth == 0 {
            if let Some(parent) = block_scalar_indent {
                if line.trim().is_empty() || indent > parent {
                    continue;
                }
                block_scalar_indent = None;
            }
        }
        let mut expect_node = true;
        let mut after_space = true;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if let Some(q) = quote {
                if q == '"' && c == '\\' {
                    i += 2;
                    continue;
                }
                if c == q {
                    if q == '\'' && chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    quote = None;
                    expect_node = false;
                }
                i += 1;
                continue;
            }
            let next_blank = chars
                .get(i + 1)
                .is_none_or(|n| *n == ' ' || *n == '\t' || *n == '\r');
            match c {
                ' ' | '\t' | '\r' => {
                    after_space = true;
                    i += 1;
                    continue;
                }
                '#' if after_space => break,
                '"' | '\'' if expect_node => quote = Some(c),
                '[' | '{' if depth > 0 || expect_node => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some(ScanProblem {
                            position: Position {
                                line: line_index + 1,
                                column: i + 1,
                            },
                            message: format!(
                                "nesting deeper than {MAX_DEPTH} levels: a scenario needs about 6"
                            ),
                        });
                    }
                    expect_node = true;
                    after_space = false;
                    i += 1;
                    continue;
                }
                ']' | '}' if depth > 0 => {
                    depth -= 1;
                    expect_node = false;
                }
                ',' if depth > 0 => {
                    expect_node = true;
                    after_space = false;
                    i += 1;
                    continue;
                }
                ':' if depth > 0 || next_blank => {
                    expect_node = true;
                    after_space = false;
                    i += 1;
                    continue;
                }
                '-' | '?' if depth == 0 && expect_node && next_blank => {
                    i += 1;
                    continue;
                }
                '|' | '>' if depth == 0 && expect_node => {
                    block_scalar_indent = Some(indent);
                    break;
                }
                '&' | '!' if expect_node => {
                    // An anchor or a tag: the node starts after it.
                    while i < chars.len() && !matches!(chars[i], ' ' | '\t' | '[' | '{' | ',') {
                        i += 1;
                    }
                    after_space = false;
                    continue;
                }
                _ => expect_node = false,
            }
            after_space = false;
            i += 1;
        }
    }
    None
}

#[derive(Debug)]
enum Frame {
    Map {
        path: String,
        key: Option<String>,
        first: bool,
        /// The scalar keys seen so far in this mapping, with where each was first given.
        seen: BTreeMap<String, Position>,
    },
    Seq {
        path: String,
        index: usize,
    },
}

#[derive(Debug, Default)]
struct Builder {
    stack: Vec<Frame>,
    positions: BTreeMap<String, Position>,
    /// A key given twice in one mapping (its path and first position), once seen.
    duplicate: Option<(String, Position)>,
    /// The expanded size (nodes, scalar bytes) of each anchor, by anchor id.
    anchors: BTreeMap<usize, (u64, u64)>,
    /// Anchored collections still open: (anchor id, depth, nodes and bytes when it opened).
    open_anchors: Vec<(usize, usize, u64, u64)>,
    /// Nodes and scalar bytes so far, aliases expanded.
    nodes: u64,
    bytes: u64,
    /// Nodes and bytes that aliases added.
    alias_nodes: u64,
    alias_bytes: u64,
}

impl Builder {
    /// Counts an event's expanded size, and rejects aliases that expand too far.
    fn account(&mut self, event: &Event, mark: Marker) -> Result<(), ScanProblem> {
        match event {
            Event::Scalar(value, _, anchor, _) => {
                self.nodes += 1;
                self.bytes += value.len() as u64;
                if *anchor != 0 {
                    self.anchors.insert(*anchor, (1, value.len() as u64));
                }
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.nodes += 1;
                if *anchor != 0 {
                    self.open_anchors
                        .push((*anchor, self.stack.len(), self.nodes - 1, self.bytes));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                // The collection that ends is at depth `stack.len() - 1`.
                let depth = self.stack.len().saturating_sub(1);
                if let Some(&(anchor, d, nodes, bytes)) = self.open_anchors.last() {
                    if d == depth {
                        self.open_anchors.pop();
                        self.anchors
                            .insert(anchor, (self.nodes - nodes, self.bytes - bytes));
                    }
                }
            }
            Event::Alias(anchor) => {
                let (n, b) = self.anchors.get(anchor).copied().unwrap_or((1, 0));
                self.nodes = self.nodes.saturating_add(n);
                self.bytes = self.bytes.saturating_add(b);
                self.alias_nodes = self.alias_nodes.saturating_add(n);
                self.alias_bytes = self.alias_bytes.saturating_add(b);
                if self.alias_nodes > MAX_ALIAS_NODES || self.alias_bytes > MAX_ALIAS_BYTES {
                    return Err(ScanProblem {
                        position: position(mark),
                        message: format!(
                            "aliases (*name) expand this document by more than {MAX_ALIAS_NODES} values or {} MiB: write the values out instead of repeating aliases",
                            MAX_ALIAS_BYTES / (1024 * 1024)
                        ),
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The path of the node that starts now, advancing the parent's key or index.
    fn next_path(&mut self, scalar: Option<&str>, mark: Marker) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, index }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                Some(p)
            }
            Some(Frame::Map {
                path,
                key,
                first,
                seen,
            }) => match key.take() {
                None => {
                    // This node is a key. A block mapping starts where its first key does.
                    let k = scalar.unwrap_or("?").to_string();
                    if *first {
                        *first = false;
                        self.positions.insert(path.clone(), position(mark));
                    }
                    let full = join(path, &k);
                    if let Some(s) = scalar {
                        if let Some(first) = seen.get(s) {
                            if self.duplicate.is_none() {
                                self.duplicate = Some((full.clone(), *first));
                            }
                        } else {
                            seen.insert(s.to_string(), position(mark));
                        }
                    }
                    self.positions
                        .entry(format!("{full}#key"))
                        .or_insert(position(mark));
                    *key = Some(k);
                    None
                }
                Some(k) => Some(join(path, &k)),
            },
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn position(mark: Marker) -> Position {
    Position {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(p) = self.next_path(Some(&value), mark) {
                    self.positions.insert(p, position(mark));
                }
            }
            Event::Alias(_) => {
                if let Some(p) = self.next_path(None, mark) {
                    self.positions.insert(p, position(mark));
                }
            }
            Event::SequenceStart(..) => {
                let p = self.next_path(None, mark).unwrap_or_default();
                self.positions.insert(p.clone(), position(mark));
                self.stack.push(Frame::Seq { path: p, index: 0 });
            }
            Event::MappingStart(..) => {
                let p = self.next_path(None, mark).unwrap_or_default();
                self.positions.insert(p.clone(), position(mark));
                self.stack.push(Frame::Map {
                    path: p,
                    key: None,
                    first: true,
                    seen: BTreeMap::new(),
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_paths() {
        let text = "name: x\nworkloads:\n  - name: a\n    resource_class: huge\n  - name: b\n    arrivals: { poisson: { rate: 10/h } }\n";
        let index = PathIndex::build(text);
        assert_eq!(index.find("name"), Some(Position { line: 1, column: 7 }));
        assert_eq!(
            index.find("workloads[0].resource_class"),
            Some(Position {
                line: 4,
                column: 21
            })
        );
        assert_eq!(
            index.find_key("workloads[0].resource_class"),
            Some(Position { line: 4, column: 5 })
        );
        assert_eq!(
            index.find("workloads[1].arrivals.poisson.rate"),
            Some(Position {
                line: 6,
                column: 34
            })
        );
        // Unknown paths fall back to the nearest ancestor.
        assert_eq!(
            index.find("workloads[1].nothing"),
            Some(Position { line: 5, column: 5 })
        );
    }
}
