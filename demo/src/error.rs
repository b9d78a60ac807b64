//! The error type shared by the compiler and the virtual machine.

use std::fmt;

/// An error tied to a line of the script.
#[derive(Debug, Clone)]
pub struct Error {
    /// `"syntax error"` or `"runtime error"`.
    pub kind: &'static str,
    pub line: u32,
    pub message: String,
}

impl Error {
    pub fn syntax(line: u32, message: impl Into<String>) -> Self {
        let message = message.into();
        Error { kind: "syntax error", line, message }
    }

    pub fn runtime(line: u32, message: impl Into<String>) -> Self {
        let message = message.into();
        Error { kind: "runtime error", line, message }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.kind, self.message)
    }
}

impl std::error::Error for Error {}
