# pgo-build's everyday commands. `just ci` is what .ci/run runs after installing tools.

# The whole pipeline on the bundled demo, ending with the comparison table.
demo:
    cargo run --release -- --project demo all

# The whole pipeline on the bundled server demo (kvd under load from kv-load), ending with the comparison.
demo-server:
    cargo run --release -- --project demo-server all

# The bundled C demo: Rust+C PGO against Rust-only PGO (its hot loop is C built by the cc crate).
demo-c:
    cargo run --release -- --project demo-c all --variants release,pgo,pgo-rust-only

# Unit and integration tests (real cargo, rustc and llvm-profdata).
test:
    cargo test

# Formatting, lints with warnings denied, tests.
ci:
    cargo fmt --all -- --check
    cargo clippy --all-targets --locked -- -D warnings
    cargo test --locked

# What `all --bolt --no-compare` costs on the demo from a clean target: stage times, cargo builds, workload runs.
pipeline-cost *ARGS:
    bash benches/pipeline-cost.sh {{ARGS}}

# How long commands with nothing to do take on a large generated project (status, show, no-op all).
overhead *ARGS:
    bash benches/overhead.sh {{ARGS}}

# Check the toolchain on this machine.
doctor:
    cargo run --release -- doctor
