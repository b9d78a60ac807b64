//! The external toolchain pgo-build drives: rustc (whose LLVM decides everything
//! else) and `llvm-profdata`. Discovery lives here, apart from the stages, so every
//! stage and `doctor` see the same answer.

pub mod bolt;
pub mod profdata;
pub mod rustc;

pub use profdata::{Origin, Override, Profdata};
pub use rustc::RustcInfo;
