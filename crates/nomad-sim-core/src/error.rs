//! The core's error type for values it cannot accept (durations, versions, constraint patterns).

use std::fmt;

/// What kind of value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputErrorKind {
    /// A Go duration string.
    Duration,
    /// A Nomad version.
    Version,
    /// A constraint (a `regexp` pattern that does not compile).
    Constraint,
}

/// A value the core could not accept, with a message that says why and what it expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// What was refused.
    pub kind: InputErrorKind,
    message: String,
}

impl InputError {
    pub(crate) fn new(kind: InputErrorKind, message: String) -> Self {
        InputError { kind, message }
    }

    /// The message, as shown to the user.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

impl From<InputError> for String {
    fn from(e: InputError) -> String {
        e.message
    }
}
