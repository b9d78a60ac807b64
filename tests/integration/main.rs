//! Integration tests: the real pgo-build on real temporary Cargo projects, with
//! real cargo, rustc and llvm-profdata.

mod bolt;
mod c_pgo;
mod carry;
mod check;
mod compare;
mod config;
mod counts;
mod init;
mod insight;
mod lean;
mod lifecycle;
mod metadata;
mod metrics;
mod pipeline;
mod presets;
mod profiles;
mod regression;
mod rustflags;
mod serve;
mod status;
mod target;
mod toolchain;
mod utils;
mod workloads;
