//! `kv-load` — the load client of pgo-build's server demo (not the binary under test).
//!
//! `kv-load --addr ADDR --mix NAME --connections C --requests N --seed S` opens C
//! connections to a `kvd`, one thread each, and sends N requests in all, drawn
//! from a seeded xorshift generator, so that a given seed always sends the same
//! requests (their interleaving across connections is up to the scheduler).
//! `--pipeline P` sends P requests at a time on each connection before reading
//! their replies (as `redis-benchmark -P` does), so that the server's own work,
//! not system calls, takes most of each request's time. Every reply is checked;
//! a wrong one ends the run with status 1. At the end it prints the throughput
//! and the p99 latency (from a batch's write to each reply) and, when
//! `PGO_BUILD_METRICS` names a file, appends them to it as JSON lines.
//!
//! Two mixes, which differ on purpose (pgo-build trains on one and measures the
//! other):
//!
//! - `train`: 30 % GET, 25 % SET, 10 % APPEND, 5 % SCAN, 10 % DEL, 20 % INCR over
//!   5,000 keys, uniform: every command, in other proportions.
//! - `bench`: 40 % GET, 15 % SET, 15 % APPEND, 10 % SCAN, 10 % DEL, 10 % INCR
//!   over 50,000 keys, skewed (log-uniform, Zipf-like: the 100 hottest keys take
//!   about 40 % of the requests), larger values.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::thread;
use std::time::Instant;

const USAGE: &str = "\
Usage: kv-load --addr ADDR --mix train|bench [--connections C] [--requests N]
               [--pipeline P] [--seed S]

Drives a kvd server at ADDR with N requests over C connections, P at a time on
each (defaults: 4 connections, 100000 requests, 1 at a time, seed 1), checks every
reply, and reports requests per second and the p99 latency; appended as JSON
lines to $PGO_BUILD_METRICS when it is set.";

/// The most requests in flight on a connection: a batch and its replies stay far
/// below the socket buffers, so neither side can block the other.
const MAX_PIPELINE: u64 = 64;

#[derive(Clone, Copy, Debug)]
enum Op {
    Get,
    Set,
    Incr,
    Append,
    Scan,
    Del,
}

/// A request mix: which operations, how often, over how many keys.
struct Mix {
    name: &'static str,
    /// Operations with their weights (percent).
    ops: &'static [(Op, u32)],
    keys: u64,
    /// Skewed (Zipf-like) key choice, else uniform.
    skewed: bool,
    /// Longest filler appended to a SET value.
    max_pad: u64,
    /// INCR sends an explicit delta half of the time.
    deltas: bool,
}

const MIXES: [Mix; 2] = [
    Mix {
        name: "train",
        ops: &[(Op::Get, 30), (Op::Set, 25), (Op::Append, 10), (Op::Scan, 5), (Op::Del, 10), (Op::Incr, 20)],
        keys: 5_000,
        skewed: false,
        max_pad: 32,
        deltas: true,
    },
    Mix {
        name: "bench",
        ops: &[(Op::Get, 40), (Op::Set, 15), (Op::Append, 15), (Op::Scan, 10), (Op::Del, 10), (Op::Incr, 10)],
        keys: 50_000,
        skewed: true,
        max_pad: 96,
        deltas: true,
    },
];

/// Filler for SET values (up to `max_pad` bytes of it).
const FILLER: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_\
                      abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

/// xorshift64*: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut state = (seed ^ stream.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1;
        for _ in 0..4 {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
        }
        Rng(state)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Args {
    addr: String,
    mix: &'static Mix,
    connections: u64,
    requests: u64,
    /// Requests sent at once on a connection before reading their replies.
    pipeline: u64,
    seed: u64,
}

fn parse_args() -> Result<Option<Args>, String> {
    let (mut addr, mut mix, mut connections, mut requests, mut pipeline, mut seed) =
        (None, None, 4u64, 100_000u64, 1u64, 1u64);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        let (flag, value) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), v.to_string()),
            _ => {
                let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                (arg, value)
            }
        };
        let number = |v: &str| v.parse::<u64>().map_err(|_| format!("{flag}: '{v}' is not a whole number"));
        match flag.as_str() {
            "--addr" => addr = Some(value),
            "--mix" => {
                mix = Some(MIXES.iter().find(|m| m.name == value).ok_or_else(|| {
                    let names: Vec<&str> = MIXES.iter().map(|m| m.name).collect();
                    format!("unknown mix '{value}' (one of {})", names.join(", "))
                })?)
            }
            "--connections" => connections = number(&value)?,
            "--requests" => requests = number(&value)?,
            "--pipeline" => pipeline = number(&value)?,
            "--seed" => seed = number(&value)?,
            _ => return Err(format!("unexpected argument '{flag}'")),
        }
    }
    if connections == 0 || requests == 0 {
        return Err("--connections and --requests must be at least 1".into());
    }
    if !(1..=MAX_PIPELINE).contains(&pipeline) {
        return Err(format!("--pipeline must be from 1 to {MAX_PIPELINE}"));
    }
    Ok(Some(Args {
        addr: addr.ok_or("--addr ADDR is required")?,
        mix: mix.ok_or("--mix NAME is required")?,
        connections,
        requests,
        pipeline,
        seed,
    }))
}

/// One connection: request lines written, reply lines read.
struct Conn {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    reply: String,
}

impl Conn {
    fn open(addr: &str) -> Result<Conn, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
        Ok(Conn { stream, reader, reply: String::new() })
    }

    /// Sends one or more request lines.
    fn send(&mut self, requests: &[u8]) -> Result<(), String> {
        self.stream.write_all(requests).map_err(|e| format!("sending requests: {e}"))
    }

    /// The next reply, without its newline.
    fn reply(&mut self) -> Result<&str, String> {
        self.reply.clear();
        match self.reader.read_line(&mut self.reply) {
            Ok(0) => Err("the server closed the connection".to_string()),
            Ok(_) => Ok(self.reply.trim_end_matches(['\n', '\r'])),
            Err(e) => Err(format!("reading a reply: {e}")),
        }
    }
}

/// Picks a key number for `mix`: uniform, or log-uniform (Zipf-like, s = 1) when skewed.
fn key_number(rng: &mut Rng, mix: &Mix) -> u64 {
    if mix.skewed {
        let x = (mix.keys as f64).powf(rng.unit());
        (x as u64).saturating_sub(1).min(mix.keys - 1)
    } else {
        rng.below(mix.keys)
    }
}

/// Draws an operation by its weight.
fn pick_op(rng: &mut Rng, ops: &[(Op, u32)], total: u32) -> Op {
    let mut pick = rng.below(u64::from(total)) as u32;
    for &(op, weight) in ops {
        if pick < weight {
            return op;
        }
        pick -= weight;
    }
    ops[0].0
}

/// Whether `value` belongs to key number `n`: it starts with `v<n>.` (SET) or,
/// when the key was missing at its first APPEND, `a<n>.`.
fn is_value_of(value: &str, n: u64) -> bool {
    let Some(rest) = value.strip_prefix('v').or_else(|| value.strip_prefix('a')) else { return false };
    let n = n.to_string();
    rest.strip_prefix(n.as_str()).is_some_and(|r| r.starts_with('.'))
}

/// One request sent and not yet answered: what a right reply to it looks like.
struct Pending {
    op: Op,
    /// The key number it was drawn for.
    n: u64,
    /// Its key, or its SCAN prefix.
    key: String,
    /// The length of the APPEND suffix.
    appended: usize,
    /// The SCAN limit.
    limit: usize,
    /// Where its line is in the batch.
    line: std::ops::Range<usize>,
}

/// Draws the next request of `mix`, appends its line to `batch`, and says what to expect.
fn next_request(rng: &mut Rng, mix: &Mix, total: u32, batch: &mut String) -> Pending {
    let op = pick_op(rng, mix.ops, total);
    let n = key_number(rng, mix);
    let key = match op {
        Op::Incr => format!("n:{n}"),
        Op::Scan => {
            // A prefix of a key: "k:1" matches k:1, k:10…, k:1000…
            let digits = n.to_string();
            let keep = 1 + rng.below(digits.len() as u64) as usize;
            format!("k:{}", &digits[..keep])
        }
        _ => format!("k:{n}"),
    };
    let start = batch.len();
    let (mut appended, mut limit) = (0, 0);
    match op {
        Op::Get => writeln!(batch, "GET {key}"),
        Op::Del => writeln!(batch, "DEL {key}"),
        Op::Set => {
            let pad = rng.below(mix.max_pad + 1) as usize;
            writeln!(batch, "SET {key} v{n}.{:08x}{}", rng.next() as u32, &FILLER[..pad])
        }
        Op::Append => {
            let suffix = format!("a{n}.{:x};", rng.next() as u16);
            appended = suffix.len();
            writeln!(batch, "APPEND {key} {suffix}")
        }
        Op::Incr if mix.deltas && rng.below(2) == 0 => writeln!(batch, "INCR {key} {}", rng.below(26) as i64 - 5),
        Op::Incr => writeln!(batch, "INCR {key}"),
        Op::Scan => {
            limit = 1 + rng.below(20) as usize;
            writeln!(batch, "SCAN {key} {limit}")
        }
    }
    .expect("writing to a String");
    Pending { op, n, key, appended, limit, line: start..batch.len() }
}

/// Whether `reply` is a right answer to `p`.
fn is_right(p: &Pending, reply: &str) -> bool {
    match p.op {
        Op::Get => reply == "NIL" || reply.strip_prefix("VALUE ").is_some_and(|v| is_value_of(v, p.n)),
        Op::Set => reply == "OK",
        Op::Del => reply == ":0" || reply == ":1",
        Op::Incr => reply.strip_prefix(':').is_some_and(|v| v.parse::<i64>().is_ok()),
        Op::Append => reply.strip_prefix(':').and_then(|l| l.parse::<usize>().ok()).is_some_and(|l| l >= p.appended),
        Op::Scan => check_scan(reply, &p.key, p.limit),
    }
}

/// Runs `count` requests on one connection, `args.pipeline` at a time (sent in one
/// write, then answered in order); returns each one's latency in nanoseconds, from
/// the write of its batch to the reading of its reply.
fn run_connection(args: &Args, index: u64, count: u64) -> Result<Vec<u64>, String> {
    let mix = args.mix;
    let mut rng = Rng::new(args.seed, index);
    let mut conn = Conn::open(&args.addr)?;
    conn.send(b"PING\n")?;
    let greeting = conn.reply()?;
    if greeting != "PONG" {
        return Err(format!("PING: expected PONG, got {greeting:?}"));
    }
    let total: u32 = mix.ops.iter().map(|(_, w)| w).sum();
    let mut latencies = Vec::with_capacity(count as usize);
    let mut batch = String::with_capacity(256 * args.pipeline as usize);
    let mut pending = Vec::with_capacity(args.pipeline as usize);
    let mut left = count;
    while left > 0 {
        let size = left.min(args.pipeline);
        left -= size;
        batch.clear();
        pending.clear();
        for _ in 0..size {
            pending.push(next_request(&mut rng, mix, total, &mut batch));
        }
        let started = Instant::now();
        conn.send(batch.as_bytes())?;
        for p in &pending {
            let reply = conn.reply()?;
            latencies.push(started.elapsed().as_nanos() as u64);
            if !is_right(p, reply) {
                return Err(format!("wrong reply to {:?}: {reply:?}", batch[p.line.clone()].trim_end()));
            }
        }
    }
    Ok(latencies)
}

/// `*<count> <16 hex digits> key…`: at most `limit` keys, all with `prefix`, in order.
fn check_scan(reply: &str, prefix: &str, limit: usize) -> bool {
    let Some(rest) = reply.strip_prefix('*') else { return false };
    let mut parts = rest.split(' ');
    let count = parts.next().and_then(|c| c.parse::<usize>().ok());
    let checksum = parts.next().is_some_and(|c| c.len() == 16 && c.bytes().all(|b| b.is_ascii_hexdigit()));
    let keys: Vec<&str> = parts.collect();
    count == Some(keys.len())
        && checksum
        && keys.len() <= limit
        && keys.iter().all(|k| k.starts_with(prefix))
        && keys.windows(2).all(|w| w[0] < w[1])
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("kv-load: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kv-load: error: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let mut latencies: Vec<u64> = thread::scope(|scope| {
        let handles: Vec<_> = (0..args.connections)
            .map(|i| {
                let count = args.requests / args.connections + u64::from(i < args.requests % args.connections);
                scope.spawn(move || run_connection(args, i, count))
            })
            .collect();
        let mut all = Vec::with_capacity(args.requests as usize);
        for (i, h) in handles.into_iter().enumerate() {
            let lat = h
                .join()
                .map_err(|_| format!("connection {i} panicked"))?
                .map_err(|e| format!("connection {i}: {e}"))?;
            all.extend(lat);
        }
        Ok::<_, String>(all)
    })?;
    let elapsed = started.elapsed().as_secs_f64();

    latencies.sort_unstable();
    let percentile = |p: f64| {
        let rank = ((p * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        latencies[rank - 1] as f64 / 1e6
    };
    let (p50, p99) = (percentile(0.50), percentile(0.99));
    let rate = latencies.len() as f64 / elapsed;

    let mut conn = Conn::open(&args.addr)?;
    conn.send(b"STATS\n")?;
    let stats = conn.reply()?.to_string();
    if !stats.starts_with("STATS ") {
        return Err(format!("wrong reply to STATS: {stats:?}"));
    }

    println!(
        "kv-load: mix {}, {} requests on {} connections, pipeline {}, in {elapsed:.3} s (seed {})",
        args.mix.name,
        latencies.len(),
        args.connections,
        args.pipeline,
        args.seed
    );
    println!("requests_per_s {rate:.1} req/s");
    println!("p50_latency_ms {p50:.3} ms");
    println!("p99_latency_ms {p99:.3} ms");
    println!("server: {stats}");

    if let Some(path) = std::env::var_os("PGO_BUILD_METRICS").filter(|p| !p.is_empty()) {
        let lines = format!(
            "{{\"name\": \"requests_per_s\", \"value\": {rate:.1}, \"unit\": \"req/s\", \"better\": \"higher\"}}\n\
             {{\"name\": \"p99_latency_ms\", \"value\": {p99:.3}, \"unit\": \"ms\", \"better\": \"lower\"}}\n"
        );
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(lines.as_bytes()))
            .map_err(|e| format!("cannot append the metrics to {}: {e}", path.to_string_lossy()))?;
    }
    Ok(())
}
