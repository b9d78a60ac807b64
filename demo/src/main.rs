//! `pgo-demo` — the bundled demo project for `pgo-build`.
//!
//! This is a small, dependency-free interpreter for a dynamically typed
//! scripting language. It exists to give `pgo-build` something realistic to
//! optimize: a tokenizer, a single-pass compiler to bytecode and a stack VM
//! whose `match`-based dispatch loop is full of type checks, hot paths and
//! cold error paths. That is the shape of program where profile-guided
//! optimization pays off, because only a profile tells the compiler which
//! opcodes and which operand types a real workload actually uses.
//!
//! The language has integers, floats, strings, booleans, `nil`, arrays and
//! maps, `let` variables, `if`/`else`, `while` with `break`/`continue`,
//! `//` comments, and functions declared at the top level. Functions are
//! values held in global variables, looked up by name at every call as in
//! most dynamic languages; they may recurse and be passed around:
//!
//! ```text
//! fn fib(n) {
//!     if n < 2 { return n; }
//!     return fib(n - 1) + fib(n - 2);
//! }
//! let words = split("the cat and the hat", " ");
//! let counts = {};
//! let i = 0;
//! while i < len(words) {
//!     let w = words[i];
//!     counts[w] = (counts[w] || 0) + 1;
//!     i += 1;
//! }
//! print("fib(20) =", fib(20), counts);
//! ```
//!
//! The workload scripts that `pgo-build` runs to train and benchmark this
//! binary live in the repository's `workloads/` folder; see
//! `pgo-build.toml` next to this crate's `Cargo.toml`.

mod bytecode;
mod compiler;
mod error;
mod lexer;
mod natives;
mod value;
mod vm;

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

const USAGE: &str = "\
Usage: pgo-demo [OPTIONS] <SCRIPT> [ARGS...]

Runs a script written in the pgo-demo language. SCRIPT is a file path, or `-`
to read the script from standard input. ARGS are passed to the script, which
reads them with the `args()` builtin.

Options:
  -h, --help       Print this help and exit
  -V, --version    Print the version and exit

Builtins: print len push pop str int keys has ord chr join split
          args abs sqrt min max

pgo-demo is the demo project bundled with pgo-build.
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let path = match args.next() {
        Some(arg) if arg == "-h" || arg == "--help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(arg) if arg == "-V" || arg == "--version" => {
            println!("pgo-demo {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some(arg) if arg.starts_with('-') && arg != "-" => {
            eprintln!("pgo-demo: unknown option `{arg}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
        Some(path) => path,
        None => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };

    let source = match read_source(&path) {
        Ok(source) => source,
        Err(err) => {
            eprintln!("pgo-demo: cannot read {path}: {err}");
            return ExitCode::from(2);
        }
    };

    match run(&source, args.collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("pgo-demo: {path}: {err}");
            ExitCode::FAILURE
        }
    }
}

fn read_source(path: &str) -> io::Result<String> {
    if path == "-" {
        let mut source = String::new();
        io::stdin().read_to_string(&mut source)?;
        Ok(source)
    } else {
        std::fs::read_to_string(path)
    }
}

/// Compiles and runs `source`, sending its output to standard output.
fn run(source: &str, args: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
    let program = compiler::compile(source)?;
    let stdout = io::stdout();
    let mut vm = vm::Vm::new(&program, args, BufWriter::new(stdout.lock()));
    let result = vm.run();
    // Flush whatever was printed before an error, too.
    vm.into_output().flush()?;
    Ok(result?)
}
