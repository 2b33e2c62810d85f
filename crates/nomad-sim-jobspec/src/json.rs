//! JSON job files, in both shapes Nomad prints: `nomad job run -output` (`{"Job": {...}}`) and
//! `GET /v1/job/:id` (the bare Job object), with the line and column of every value.

use serde_json::Value as J;

use crate::diag::{Error, LineIndex, Locator, Pos};

/// The bare Job object and where its values are in the file.
pub(crate) struct Read {
    pub(crate) job: J,
    pub(crate) locator: Locator,
}

/// Parses JSON text and unwraps `{"Job": {...}}`.
pub(crate) fn read(text: &str, file: &str) -> Result<Read, Error> {
    let value: J = serde_json::from_str(text).map_err(|e| {
        Error::one(
            file,
            Pos {
                line: e.line() as u32,
                col: e.column() as u32,
            },
            format!("JSON syntax error: {e}"),
        )
    })?;
    let mut full = Locator::default();
    let lines = LineIndex::new(text);
    let mut scanner = Scanner {
        text,
        bytes: text.as_bytes(),
        at: 0,
        lines: &lines,
        out: &mut full,
    };
    scanner.value(String::new());
    let J::Object(top) = value else {
        return Err(Error::one(
            file,
            Pos { line: 1, col: 1 },
            "a JSON job file holds a Job object, or {\"Job\": {...}} as `nomad job run -output` prints it",
        ));
    };
    let wrapped = top
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Job"))
        .filter(|(_, v)| v.is_object())
        .map(|(k, v)| (k.clone(), v.clone()));
    match wrapped {
        Some((key, job)) if !top.keys().any(|k| k.eq_ignore_ascii_case("TaskGroups")) => {
            let prefix = format!("/{key}");
            full.move_prefix(&prefix, "");
            Ok(Read { job, locator: full })
        }
        _ => Ok(Read {
            job: J::Object(top),
            locator: full,
        }),
    }
}

/// Walks valid JSON text and records the position of every value by JSON pointer.
struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    lines: &'a LineIndex,
    out: &'a mut Locator,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.at < self.bytes.len() && self.bytes[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn string(&mut self) -> String {
        let start = self.at;
        self.at += 1;
        while self.at < self.bytes.len() {
            match self.bytes[self.at] {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    break;
                }
                _ => self.at += 1,
            }
        }
        let raw = self.text.get(start..self.at).unwrap_or("\"\"");
        serde_json::from_str::<String>(raw).unwrap_or_default()
    }

    fn value(&mut self, path: String) {
        self.ws();
        let pos = self.lines.pos(self.text, self.at);
        self.out.insert(&path, pos);
        match self.bytes.get(self.at) {
            Some(b'{') => {
                self.at += 1;
                loop {
                    self.ws();
                    match self.bytes.get(self.at) {
                        Some(b'}') | None => {
                            self.at += 1;
                            return;
                        }
                        Some(b',') => self.at += 1,
                        Some(b'"') => {
                            let key = self.string();
                            self.ws();
                            self.at += 1; // the colon
                            let escaped = key.replace('~', "~0").replace('/', "~1");
                            self.value(format!("{path}/{escaped}"));
                        }
                        Some(_) => self.at += 1,
                    }
                }
            }
            Some(b'[') => {
                self.at += 1;
                let mut i = 0;
                loop {
                    self.ws();
                    match self.bytes.get(self.at) {
                        Some(b']') | None => {
                            self.at += 1;
                            return;
                        }
                        Some(b',') => self.at += 1,
                        Some(_) => {
                            self.value(format!("{path}/{i}"));
                            i += 1;
                        }
                    }
                }
            }
            Some(b'"') => {
                self.string();
            }
            Some(_) => {
                while self.at < self.bytes.len() && !b",}] \t\r\n".contains(&self.bytes[self.at]) {
                    self.at += 1;
                }
            }
            None => {}
        }
    }
}
