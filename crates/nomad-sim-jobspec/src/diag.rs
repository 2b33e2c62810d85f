//! Positions, located messages and the error type: every problem names its file, line and column.

use std::collections::HashMap;
use std::fmt;

/// A place in a job file: one-based line and column (0 when the place is not known).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// One-based line, 0 when unknown.
    pub line: u32,
    /// One-based column in characters, 0 when unknown.
    pub col: u32,
}

/// One located message: a fatal problem, a warning, or content the simulator cannot model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the message is about, as the caller named it.
    pub file: String,
    /// Where in the file (line 0 when the place is not known).
    pub pos: Pos,
    /// The job file's name for the field (`template`, `count`), when the message is about one.
    pub field: Option<String>,
    /// What is wrong or ignored, as a sentence fragment.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pos.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.pos.line, self.pos.col, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// A job file that cannot be read: syntax, unknown variable, wrong type, invalid value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Every problem found, in file order where that is known; never empty.
    pub diagnostics: Vec<Diagnostic>,
}

impl Error {
    pub(crate) fn one(file: &str, pos: Pos, message: impl Into<String>) -> Error {
        Error {
            diagnostics: vec![Diagnostic {
                file: file.to_string(),
                pos,
                field: None,
                message: message.into(),
            }],
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Maps byte offsets of a text to lines and columns.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            }
        }
        LineIndex { starts }
    }

    /// The line and column of a byte offset (columns count characters).
    pub(crate) fn pos(&self, text: &str, offset: usize) -> Pos {
        let offset = offset.min(text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let col = text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        Pos {
            line: (line + 1) as u32,
            col: (col + 1) as u32,
        }
    }
}

/// Where each value of the normalised job came from, keyed by JSON pointer (`/TaskGroups/0/Count`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Locator {
    map: HashMap<String, Pos>,
}

impl Locator {
    pub(crate) fn insert(&mut self, path: &str, pos: Pos) {
        self.map.entry(path.to_string()).or_insert(pos);
    }

    /// Moves every position under `from` to the same place under `to`.
    pub(crate) fn move_prefix(&mut self, from: &str, to: &str) {
        let moved: Vec<(String, Pos)> = self
            .map
            .iter()
            .filter(|(k, _)| k.starts_with(from))
            .map(|(k, v)| (format!("{to}{}", &k[from.len()..]), *v))
            .collect();
        self.map.retain(|k, _| !k.starts_with(from));
        for (k, v) in moved {
            self.map.entry(k).or_insert(v);
        }
    }

    /// The position of a path, or of its nearest ancestor that has one.
    pub(crate) fn at(&self, path: &str) -> Pos {
        let mut p = path;
        loop {
            if let Some(pos) = self.map.get(p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return Pos { line: 1, col: 1 },
            }
        }
    }
}
