//! `kvd` — the server of pgo-build's server demo, and its binary under test.
//!
//! A tiny in-memory key-value store served over TCP: one thread per connection,
//! one request per line, as many requests per connection as the client likes.
//! The store is a `BTreeMap` behind a mutex; the interesting part for PGO is the
//! request path — tokenizing, command dispatch, argument checks, integer parsing
//! and checksums — where a profile tells the compiler which commands and which
//! branches a real load takes.
//!
//! ```text
//! GET key                 VALUE <bytes> | NIL
//! SET key value           OK                      (value: the rest of the line)
//! DEL key                 :1 | :0
//! INCR key [delta]        :<new value>            (a missing key counts as 0)
//! APPEND key value        :<new length>
//! SCAN prefix limit       *<count> <checksum> key…  (keys in order, at most limit)
//! STATS                   STATS keys=… bytes=… requests=… …
//! PING [message]          PONG [message]
//! SHUTDOWN                BYE, then the server exits
//! ```
//!
//! Commands are case-insensitive; a bad request gets `ERR <reason>` and the
//! connection stays open. `kvd --listen ADDR` prints `listening on ADDR` to
//! standard error once bound. It exits cleanly (returning from `main`, so an
//! instrumented build writes its profile) on `SHUTDOWN`; otherwise it runs until
//! it is killed.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::ops::Bound;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;

const USAGE: &str = "\
Usage: kvd --listen ADDR

Serves a tiny line-based key-value protocol on ADDR (e.g. 127.0.0.1:7411):
GET, SET, DEL, INCR, APPEND, SCAN, STATS, PING and SHUTDOWN, one per line.

Options:
  --listen ADDR    Address to listen on
  -h, --help       Print this help and exit
  -V, --version    Print the version and exit";

/// Longest request line read; a longer one ends the connection.
const MAX_LINE: u64 = 1 << 20;
/// Longest key (and SCAN prefix), in bytes.
const MAX_KEY: usize = 250;
/// Longest value, in bytes, after SET or APPEND.
const MAX_VALUE: usize = 64 * 1024;
/// Most keys one SCAN returns.
const MAX_SCAN: usize = 1000;

/// The commands, in the order of their counters in [`Server::per_command`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Get,
    Set,
    Del,
    Incr,
    Append,
    Scan,
    Stats,
    Ping,
    Shutdown,
}

const COMMAND_NAMES: [&str; 9] = ["get", "set", "del", "incr", "append", "scan", "stats", "ping", "shutdown"];

impl Command {
    /// The command named by `word`, in any case.
    fn parse(word: &[u8]) -> Option<Command> {
        if word.len() > 8 {
            return None;
        }
        let mut upper = [0u8; 8];
        for (u, b) in upper.iter_mut().zip(word) {
            *u = b.to_ascii_uppercase();
        }
        Some(match &upper[..word.len()] {
            b"GET" => Command::Get,
            b"SET" => Command::Set,
            b"DEL" => Command::Del,
            b"INCR" => Command::Incr,
            b"APPEND" => Command::Append,
            b"SCAN" => Command::Scan,
            b"STATS" => Command::Stats,
            b"PING" => Command::Ping,
            b"SHUTDOWN" => Command::Shutdown,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        COMMAND_NAMES[self as usize]
    }
}

/// Why a request was refused; each becomes its own `ERR` reply.
#[derive(Debug)]
enum Error {
    Empty,
    Unknown(String),
    Arity(Command),
    EmptyKey,
    KeyTooLong,
    KeyNotUtf8,
    KeyControl,
    ValueControl(usize),
    ValueTooLong(usize),
    NotInteger,
    BadDelta,
    Overflow,
    BadLimit,
    /// Not a refusal: the reply could not be written.
    Io(io::Error),
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Empty => write!(f, "empty request"),
            Error::Unknown(word) => write!(f, "unknown command '{word}'"),
            Error::Arity(cmd) => write!(f, "wrong number of arguments for '{}'", cmd.name()),
            Error::EmptyKey => write!(f, "empty key"),
            Error::KeyTooLong => write!(f, "key longer than {MAX_KEY} bytes"),
            Error::KeyNotUtf8 => write!(f, "key is not valid UTF-8"),
            Error::KeyControl => write!(f, "key contains a control character"),
            Error::ValueControl(at) => write!(f, "value has a control character at byte {at}"),
            Error::ValueTooLong(len) => write!(f, "value of {len} bytes is longer than {MAX_VALUE}"),
            Error::NotInteger => write!(f, "value is not an integer"),
            Error::BadDelta => write!(f, "increment is not an integer"),
            Error::Overflow => write!(f, "increment would overflow"),
            Error::BadLimit => write!(f, "limit must be an integer from 1 to {MAX_SCAN}"),
            Error::Io(e) => write!(f, "{e}"),
        }
    }
}

/// What the connection does after a reply.
enum Flow {
    Continue,
    Shutdown,
}

/// The state shared by every connection.
struct Server {
    store: Mutex<BTreeMap<String, Vec<u8>>>,
    requests: AtomicU64,
    errors: AtomicU64,
    connections: AtomicU64,
    per_command: [AtomicU64; 9],
    shutdown: AtomicBool,
    addr: SocketAddr,
}

impl Server {
    fn new(addr: SocketAddr) -> Server {
        Server {
            store: Mutex::new(BTreeMap::new()),
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            per_command: Default::default(),
            shutdown: AtomicBool::new(false),
            addr,
        }
    }

    fn store(&self) -> MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Answers one request line (without its line ending) into `out`.
    fn handle(&self, line: &[u8], out: &mut impl Write) -> io::Result<Flow> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        match self.dispatch(line, out) {
            Ok(flow) => Ok(flow),
            Err(Error::Io(e)) => Err(e),
            Err(e) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                writeln!(out, "ERR {e}")?;
                Ok(Flow::Continue)
            }
        }
    }

    fn dispatch(&self, line: &[u8], out: &mut impl Write) -> Result<Flow, Error> {
        let mut words = Words { rest: line };
        let word = words.next().ok_or(Error::Empty)?;
        let cmd = Command::parse(word).ok_or_else(|| Error::Unknown(String::from_utf8_lossy(word).into_owned()))?;
        self.per_command[cmd as usize].fetch_add(1, Ordering::Relaxed);
        match cmd {
            Command::Get => {
                let key = key(words.next(), cmd)?;
                words.end(cmd)?;
                let store = self.store();
                match store.get(key) {
                    Some(value) => {
                        // What was stored was checked; a changed shape is corruption.
                        std::hint::black_box(value_shape(value)?);
                        out.write_all(b"VALUE ")?;
                        out.write_all(value)?;
                        out.write_all(b"\n")?;
                    }
                    None => out.write_all(b"NIL\n")?,
                }
            }
            Command::Set => {
                let key = key(words.next(), cmd)?;
                let value = words.rest().ok_or(Error::Arity(cmd))?;
                if value.len() > MAX_VALUE {
                    return Err(Error::ValueTooLong(value.len()));
                }
                std::hint::black_box(value_shape(value)?);
                let mut store = self.store();
                match store.get_mut(key) {
                    Some(old) => {
                        old.clear();
                        old.extend_from_slice(value);
                    }
                    None => {
                        store.insert(key.to_string(), value.to_vec());
                    }
                }
                out.write_all(b"OK\n")?;
            }
            Command::Del => {
                let key = key(words.next(), cmd)?;
                words.end(cmd)?;
                let removed = self.store().remove(key).is_some();
                out.write_all(if removed { b":1\n" } else { b":0\n" })?;
            }
            Command::Incr => {
                let key = key(words.next(), cmd)?;
                let delta = match words.next() {
                    Some(d) => parse_int(d).ok_or(Error::BadDelta)?,
                    None => 1,
                };
                words.end(cmd)?;
                let mut store = self.store();
                let current = match store.get(key) {
                    Some(v) => parse_int(v).ok_or(Error::NotInteger)?,
                    None => 0,
                };
                let new = current.checked_add(delta).ok_or(Error::Overflow)?;
                let text = new.to_string().into_bytes();
                match store.get_mut(key) {
                    Some(v) => *v = text,
                    None => {
                        store.insert(key.to_string(), text);
                    }
                }
                drop(store);
                writeln!(out, ":{new}")?;
            }
            Command::Append => {
                let key = key(words.next(), cmd)?;
                let value = words.rest().ok_or(Error::Arity(cmd))?;
                std::hint::black_box(value_shape(value)?);
                let mut store = self.store();
                let len = match store.get_mut(key) {
                    Some(old) => {
                        let len = old.len() + value.len();
                        if len > MAX_VALUE {
                            return Err(Error::ValueTooLong(len));
                        }
                        old.extend_from_slice(value);
                        len
                    }
                    None => {
                        if value.len() > MAX_VALUE {
                            return Err(Error::ValueTooLong(value.len()));
                        }
                        store.insert(key.to_string(), value.to_vec());
                        value.len()
                    }
                };
                drop(store);
                writeln!(out, ":{len}")?;
            }
            Command::Scan => {
                let prefix = key(words.next(), cmd)?;
                let limit = words.next().ok_or(Error::Arity(cmd))?;
                let limit = match parse_int(limit) {
                    Some(n) if (1..=MAX_SCAN as i64).contains(&n) => n as usize,
                    _ => return Err(Error::BadLimit),
                };
                words.end(cmd)?;
                let mut keys = Vec::new();
                let mut checksum = 0u64;
                {
                    let store = self.store();
                    for (k, v) in store
                        .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
                        .take_while(|(k, _)| k.starts_with(prefix))
                        .take(limit)
                    {
                        checksum = checksum.rotate_left(7) ^ fnv1a(v);
                        keys.push(k.clone());
                    }
                }
                write!(out, "*{} {checksum:016x}", keys.len())?;
                for k in &keys {
                    write!(out, " {k}")?;
                }
                out.write_all(b"\n")?;
            }
            Command::Stats => {
                words.end(cmd)?;
                let (keys, bytes) = {
                    let store = self.store();
                    (store.len(), store.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>())
                };
                let mut line = format!(
                    "STATS keys={keys} bytes={bytes} requests={} errors={} connections={}",
                    self.requests.load(Ordering::Relaxed),
                    self.errors.load(Ordering::Relaxed),
                    self.connections.load(Ordering::Relaxed)
                );
                for (name, count) in COMMAND_NAMES.iter().zip(&self.per_command) {
                    line.push_str(&format!(" {name}={}", count.load(Ordering::Relaxed)));
                }
                writeln!(out, "{line}")?;
            }
            Command::Ping => match words.rest() {
                Some(message) => {
                    out.write_all(b"PONG ")?;
                    out.write_all(message)?;
                    out.write_all(b"\n")?;
                }
                None => out.write_all(b"PONG\n")?,
            },
            Command::Shutdown => {
                words.end(cmd)?;
                out.write_all(b"BYE\n")?;
                return Ok(Flow::Shutdown);
            }
        }
        Ok(Flow::Continue)
    }
}

/// The space-separated words of a request line.
struct Words<'a> {
    rest: &'a [u8],
}

impl<'a> Words<'a> {
    fn skip_spaces(&mut self) {
        while let [b' ' | b'\t', tail @ ..] = self.rest {
            self.rest = tail;
        }
    }

    fn next(&mut self) -> Option<&'a [u8]> {
        self.skip_spaces();
        if self.rest.is_empty() {
            return None;
        }
        let end = self.rest.iter().position(|&b| b == b' ' || b == b'\t').unwrap_or(self.rest.len());
        let (word, tail) = self.rest.split_at(end);
        self.rest = tail;
        Some(word)
    }

    /// The rest of the line after the separating spaces, if not empty (a value).
    fn rest(&mut self) -> Option<&'a [u8]> {
        self.skip_spaces();
        (!self.rest.is_empty()).then_some(self.rest)
    }

    /// Checks that nothing follows the last argument.
    fn end(&mut self, cmd: Command) -> Result<(), Error> {
        match self.next() {
            None => Ok(()),
            Some(_) => Err(Error::Arity(cmd)),
        }
    }
}

/// A key argument, checked.
fn key(word: Option<&[u8]>, cmd: Command) -> Result<&str, Error> {
    let word = word.ok_or(Error::Arity(cmd))?;
    if word.is_empty() {
        return Err(Error::EmptyKey);
    }
    if word.len() > MAX_KEY {
        return Err(Error::KeyTooLong);
    }
    let key = std::str::from_utf8(word).map_err(|_| Error::KeyNotUtf8)?;
    if key.chars().any(char::is_control) {
        return Err(Error::KeyControl);
    }
    Ok(key)
}

/// A decimal `i64` with an optional sign, nothing else.
/// Checks a value byte by byte, as a server validating its input does: control
/// characters are refused; the rest is classed (letters, digits, separators,
/// quotes and escapes that would need escaping on output, other bytes) into a
/// small signature, summed into the server's statistics.
fn value_shape(value: &[u8]) -> Result<u64, Error> {
    let mut shape = 0u64;
    let mut run = 0u64;
    for (at, &b) in value.iter().enumerate() {
        let class = match b {
            b'a'..=b'z' => 1,
            b'0'..=b'9' => 2,
            b'A'..=b'Z' => 3,
            b'-' | b'_' | b'.' | b':' | b'/' => 4,
            b' ' => 5,
            b'"' | b'\\' => 6,
            b'\t' => 7,
            0..=31 | 127 => return Err(Error::ValueControl(at)),
            128..=255 => 8,
            _ => 9,
        };
        run = if class == 1 { run + 1 } else { 0 };
        shape = shape.wrapping_mul(31).wrapping_add(class + run.min(3));
    }
    Ok(shape & 0xff)
}

fn parse_int(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        n = if negative { n.checked_mul(10)?.checked_sub(d)? } else { n.checked_mul(10)?.checked_add(d)? };
    }
    Some(n)
}

/// 64-bit FNV-1a.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Serves one connection until the client closes it (or sends SHUTDOWN).
fn serve_connection(server: &Server, stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = BufWriter::new(stream);
    let mut line = Vec::with_capacity(256);
    loop {
        // Flush only when no request is waiting, so pipelined requests share writes.
        if reader.buffer().is_empty() {
            writer.flush()?;
        }
        line.clear();
        let n = (&mut reader).take(MAX_LINE).read_until(b'\n', &mut line)?;
        if n == 0 {
            return writer.flush();
        }
        if line.last() != Some(&b'\n') && n as u64 == MAX_LINE {
            server.errors.fetch_add(1, Ordering::Relaxed);
            writeln!(writer, "ERR request line longer than {MAX_LINE} bytes")?;
            return writer.flush();
        }
        let mut request = line.as_slice();
        while let [head @ .., b'\n' | b'\r'] = request {
            request = head;
        }
        if let Flow::Shutdown = server.handle(request, &mut writer)? {
            writer.flush()?;
            server.shutdown.store(true, Ordering::SeqCst);
            // Wake the accept loop, which then sees the flag.
            let _ = TcpStream::connect(reachable(server.addr));
            return Ok(());
        }
    }
}

/// An address that connects to `addr` (a wildcard address is reached through loopback).
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => SocketAddr::from((Ipv4Addr::LOCALHOST, a.port())),
        SocketAddr::V6(a) if a.ip().is_unspecified() => SocketAddr::from((Ipv6Addr::LOCALHOST, a.port())),
        other => other,
    }
}

/// What the command line asks for.
enum Action {
    Serve(String),
    Help,
    Version,
}

fn parse_args() -> Result<Action, String> {
    let mut listen = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Action::Help),
            "-V" | "--version" => return Ok(Action::Version),
            "--listen" => listen = Some(args.next().ok_or("--listen needs an address")?),
            _ => match arg.strip_prefix("--listen=") {
                Some(addr) => listen = Some(addr.to_string()),
                None => return Err(format!("unexpected argument '{arg}'")),
            },
        }
    }
    listen.map(Action::Serve).ok_or_else(|| "--listen ADDR is required".to_string())
}

/// "1 request", "2 requests".
fn plural(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

fn main() -> ExitCode {
    let addr = match parse_args() {
        Ok(Action::Serve(addr)) => addr,
        Ok(Action::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Action::Version) => {
            println!("kvd {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("kvd: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(&addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("kvd: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    let local = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kvd: cannot read the address of {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    eprintln!("listening on {local}");

    let server = Arc::new(Server::new(local));
    for stream in listener.incoming() {
        if server.shutdown.load(Ordering::SeqCst) {
            break;
        }
        match stream {
            Ok(stream) => {
                server.connections.fetch_add(1, Ordering::Relaxed);
                let shared = Arc::clone(&server);
                let spawned = thread::Builder::new().name("kvd-conn".into()).spawn(move || {
                    // A connection that breaks (reset, closed mid-reply) just ends.
                    let _ = serve_connection(&shared, stream);
                });
                if let Err(e) = spawned {
                    eprintln!("kvd: cannot start a connection thread: {e}");
                }
            }
            Err(e) => {
                eprintln!("kvd: accept failed: {e}");
                thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
    eprintln!(
        "kvd: shutting down after {} ({} refused) on {}",
        plural(server.requests.load(Ordering::Relaxed), "request"),
        server.errors.load(Ordering::Relaxed),
        plural(server.connections.load(Ordering::Relaxed), "connection")
    );
    ExitCode::SUCCESS
}
