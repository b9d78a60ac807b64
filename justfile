# pgo-build's everyday commands. `just ci` is what .ci/run runs after installing tools.

# The whole pipeline on the bundled demo, ending with the comparison table.
demo:
    cargo run --release -- --project demo all

# Unit and integration tests (real cargo, rustc and llvm-profdata).
test:
    cargo test

# Formatting, lints with warnings denied, tests.
ci:
    cargo fmt --all -- --check
    cargo clippy --all-targets --locked -- -D warnings
    cargo test --locked

# Check the toolchain on this machine.
doctor:
    cargo run --release -- doctor
