//! Maps YAML paths (`workloads[1].resource_class`) to line and column, for located error messages.

use std::collections::BTreeMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

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
}

impl PathIndex {
    /// Indexes a document. A document the scanner rejects yields an empty index (serde_yaml
    /// reports the syntax error itself, with its location).
    pub fn build(text: &str) -> PathIndex {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut builder, false).is_err() {
            return PathIndex::default();
        }
        PathIndex {
            positions: builder.positions,
        }
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

#[derive(Debug)]
enum Frame {
    Map {
        path: String,
        key: Option<String>,
        first: bool,
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
}

impl Builder {
    /// The path of the node that starts now, advancing the parent's key or index.
    fn next_path(&mut self, scalar: Option<&str>, mark: Marker) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, index }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                Some(p)
            }
            Some(Frame::Map { path, key, first }) => match key.take() {
                None => {
                    // This node is a key. A block mapping starts where its first key does.
                    let k = scalar.unwrap_or("?").to_string();
                    if *first {
                        *first = false;
                        self.positions.insert(path.clone(), position(mark));
                    }
                    let full = join(path, &k);
                    self.positions.insert(format!("{full}#key"), position(mark));
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
