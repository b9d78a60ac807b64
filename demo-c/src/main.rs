//! `pgo-demo-c FILE ROUNDS`: checksums FILE's text ROUNDS times with the C
//! function `hot_checksum` (csrc/hot.c); the Rust side only reads and loops.

use std::process::ExitCode;

extern "C" {
    fn hot_checksum(p: *const u8, n: usize) -> u64;
}

fn checksum(data: &[u8]) -> u64 {
    // SAFETY: the pointer and length come from one live slice.
    unsafe { hot_checksum(data.as_ptr(), data.len()) }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--version") {
        println!("pgo-demo-c {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let (Some(file), Some(rounds)) = (args.get(1), args.get(2).and_then(|r| r.parse::<usize>().ok())) else {
        eprintln!("usage: pgo-demo-c FILE ROUNDS");
        return ExitCode::from(2);
    };
    let text = match std::fs::read(file) {
        Ok(t) if !t.is_empty() => t,
        Ok(_) => {
            eprintln!("pgo-demo-c: {file} is empty");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("pgo-demo-c: cannot read {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let data: Vec<u8> = text.iter().copied().cycle().take(1 << 16).collect();
    let mut acc = 0u64;
    for r in 0..rounds {
        acc = acc.rotate_left(7) ^ checksum(&data[..data.len() - (r & 7)]);
    }
    println!("{acc:016x}");
    ExitCode::SUCCESS
}
