//! The native functions that scripts can call: `print`, `len`, `push`, ...
//!
//! Natives live in a table of plain function pointers that the compiler
//! searches by name and the VM calls indirectly — the usual way interpreters
//! expose host functions. Such an indirect call is opaque to the optimizer,
//! unless a profile tells it which targets are hot: PGO then promotes those
//! calls to direct (and inlinable) ones.

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::io::Write;
use std::rc::Rc;

use crate::value::Value;

/// What natives may touch besides their arguments.
pub struct Host<'a> {
    /// Where `print` writes.
    pub out: &'a mut dyn Write,
    /// The script's command-line arguments, for `args()`.
    pub args: &'a [Rc<String>],
}

/// A native function: its name, how many arguments it takes and its code.
pub struct Native {
    pub name: &'static str,
    pub min_args: usize,
    pub max_args: usize,
    pub func: fn(&mut Host<'_>, &[Value]) -> Result<Value, String>,
}

const fn native(
    name: &'static str,
    min_args: usize,
    max_args: usize,
    func: fn(&mut Host<'_>, &[Value]) -> Result<Value, String>,
) -> Native {
    Native { name, min_args, max_args, func }
}

/// Every native, indexed by the VM's `CallNative` instruction.
pub static NATIVES: &[Native] = &[
    native("print", 0, usize::MAX, print),
    native("len", 1, 1, len),
    native("push", 2, 2, push),
    native("pop", 1, 1, pop),
    native("str", 1, 1, str),
    native("int", 1, 1, int),
    native("keys", 1, 1, keys),
    native("has", 2, 2, has),
    native("ord", 1, 1, ord),
    native("chr", 1, 1, chr),
    native("join", 2, 2, join),
    native("split", 2, 2, split),
    native("args", 0, 0, args),
    native("abs", 1, 1, abs),
    native("sqrt", 1, 1, sqrt),
    native("min", 2, 2, min),
    native("max", 2, 2, max),
];

/// Finds a native by name, returning its index in [`NATIVES`].
pub fn lookup(name: &str) -> Option<(usize, &'static Native)> {
    NATIVES.iter().enumerate().find(|(_, native)| native.name == name)
}

fn type_error(function: &str, expected: &str, got: &Value) -> String {
    format!("{function}() expects {expected}, got a {}", got.type_name())
}

fn str_arg<'v>(function: &str, value: &'v Value) -> Result<&'v str, String> {
    match value {
        Value::Str(s) => Ok(s),
        other => Err(type_error(function, "a string", other)),
    }
}

fn print(host: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    let mut line = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        write!(line, "{arg}").expect("writing to a String cannot fail");
    }
    line.push('\n');
    host.out.write_all(line.as_bytes()).map_err(|e| format!("print failed: {e}"))?;
    Ok(Value::Nil)
}

fn len(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    let n = match &args[0] {
        Value::Str(s) => s.len(),
        Value::Array(items) => items.borrow().len(),
        Value::Map(entries) => entries.borrow().len(),
        other => return Err(type_error("len", "a string, array or map", other)),
    };
    Ok(Value::Int(n as i64))
}

fn push(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    match &args[0] {
        Value::Array(items) => items.borrow_mut().push(args[1].clone()),
        other => return Err(type_error("push", "an array", other)),
    }
    Ok(Value::Nil)
}

fn pop(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    match &args[0] {
        Value::Array(items) => items.borrow_mut().pop().ok_or_else(|| "pop() from an empty array".into()),
        other => Err(type_error("pop", "an array", other)),
    }
}

fn str(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    Ok(match &args[0] {
        Value::Str(_) => args[0].clone(),
        other => Value::string(other.to_string()),
    })
}

fn int(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    Ok(Value::Int(match &args[0] {
        Value::Int(n) => *n,
        // Truncates towards zero; `as` saturates, so check the range first.
        Value::Float(x) if x.get().is_finite() && x.get().abs() < 9.2e18 => x.get() as i64,
        Value::Float(x) => return Err(format!("int(): {} is out of range", x.get())),
        Value::False => 0,
        Value::True => 1,
        Value::Str(s) => s.trim().parse().map_err(|_| format!("int(): invalid number {s:?}"))?,
        other => return Err(type_error("int", "a string, number or bool", other)),
    }))
}

fn keys(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    match &args[0] {
        Value::Map(entries) => Ok(Value::array(entries.borrow().keys().cloned().map(Value::from).collect())),
        other => Err(type_error("keys", "a map", other)),
    }
}

fn has(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    Ok(Value::bool(match &args[0] {
        Value::Map(entries) => entries.borrow().contains_key(&args[1].to_key()?),
        Value::Array(items) => items.borrow().contains(&args[1]),
        Value::Str(s) => s.contains(str_arg("has", &args[1])?),
        other => return Err(type_error("has", "a map, array or string", other)),
    }))
}

fn ord(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    let c = str_arg("ord", &args[0])?.chars().next().ok_or("ord() of an empty string")?;
    Ok(Value::Int(i64::from(u32::from(c))))
}

fn chr(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    match &args[0] {
        Value::Int(n) => match u32::try_from(*n).ok().and_then(char::from_u32) {
            Some(c) => Ok(Value::string(c.to_string())),
            None => Err(format!("chr(): {n} is not a character")),
        },
        other => Err(type_error("chr", "an int", other)),
    }
}

fn join(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    let Value::Array(items) = &args[0] else {
        return Err(type_error("join", "an array", &args[0]));
    };
    let sep = str_arg("join", &args[1])?;
    let mut joined = String::new();
    for (i, item) in items.borrow().iter().enumerate() {
        if i > 0 {
            joined.push_str(sep);
        }
        write!(joined, "{item}").expect("writing to a String cannot fail");
    }
    Ok(Value::string(joined))
}

fn split(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    let s = str_arg("split", &args[0])?;
    let sep = str_arg("split", &args[1])?;
    let parts = if sep.is_empty() {
        s.chars().map(|c| Value::string(c.to_string())).collect()
    } else {
        s.split(sep).map(Value::str).collect()
    };
    Ok(Value::array(parts))
}

fn args(host: &mut Host<'_>, _: &[Value]) -> Result<Value, String> {
    Ok(Value::array(host.args.iter().cloned().map(Value::Str).collect()))
}

fn abs(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    match &args[0] {
        Value::Int(n) => n.checked_abs().map(Value::Int).ok_or_else(|| "integer overflow".into()),
        Value::Float(x) => Ok(Value::float(x.get().abs())),
        other => Err(type_error("abs", "a number", other)),
    }
}

fn sqrt(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    match &args[0] {
        Value::Int(n) => Ok(Value::float((*n as f64).sqrt())),
        Value::Float(x) => Ok(Value::float(x.get().sqrt())),
        other => Err(type_error("sqrt", "a number", other)),
    }
}

fn min(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    let greater = args[0].compare(&args[1])? == Ordering::Greater;
    Ok(args[usize::from(greater)].clone())
}

fn max(_: &mut Host<'_>, args: &[Value]) -> Result<Value, String> {
    let less = args[0].compare(&args[1])? == Ordering::Less;
    Ok(args[usize::from(less)].clone())
}
