//! Integration tests: the real pgo-build on real temporary Cargo projects, with
//! real cargo, rustc and llvm-profdata.

mod bolt;
mod config;
mod pipeline;
mod profiles;
mod rustflags;
mod toolchain;
mod utils;
mod workloads;
