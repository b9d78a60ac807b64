//! The stack virtual machine that executes compiled bytecode.
//!
//! The heart of the interpreter is the `match` in [`Vm::run`]: one arm per
//! opcode, each checking the dynamic types of its operands. Which arms are
//! hot, and which type checks almost always succeed, depends entirely on the
//! script being run — information the compiler only gets from a profile.
//!
//! Globals, functions included, live in a hash map keyed by name; locals and
//! arguments live in numbered slots on the value stack.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write;
use std::rc::Rc;

use crate::bytecode::{Cmp, Op, Program};
use crate::error::Error;
use crate::natives::{Host, NATIVES};
use crate::value::Value;

/// Maximum call depth before a script is reported as recursing too deeply.
const MAX_FRAMES: usize = 10_000;

/// Where execution of a function is, and where its stack slots start.
#[derive(Debug, Clone, Copy)]
struct Frame {
    func: usize,
    ip: usize,
    base: usize,
}

/// Executes a [`Program`], writing `print` output to `out`.
pub struct Vm<'p, W: Write> {
    program: &'p Program,
    stack: Vec<Value>,
    frames: Vec<Frame>,
    globals: HashMap<Rc<str>, Value>,
    args: Vec<Rc<String>>,
    out: W,
}

impl<'p, W: Write> Vm<'p, W> {
    /// Creates a VM; `args` are what the script's `args()` returns.
    pub fn new(program: &'p Program, args: Vec<String>, out: W) -> Self {
        Vm {
            program,
            stack: Vec::with_capacity(256),
            frames: Vec::new(),
            // Functions are global variables, defined before the script runs.
            globals: (program.functions.iter().enumerate().skip(1))
                .map(|(index, func)| (Rc::from(func.name.as_str()), Value::Function(index)))
                .collect(),
            args: args.into_iter().map(Rc::new).collect(),
            out,
        }
    }

    /// Gives back the output writer, e.g. to flush it.
    pub fn into_output(self) -> W {
        self.out
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().expect("stack underflow")
    }

    /// Runs the script's top level to completion.
    pub fn run(&mut self) -> Result<(), Error> {
        let program = self.program;
        let mut frame = Frame { func: 0, ip: 0, base: 0 };
        let mut func = &program.functions[0];
        self.stack.resize(func.slots, Value::Nil);

        // Turns an `Err(message)` into a runtime error at the current line.
        macro_rules! check {
            ($result:expr) => {
                match $result {
                    Ok(value) => value,
                    Err(message) => return Err(Error::runtime(func.lines[frame.ip - 1], message)),
                }
            };
        }

        loop {
            let op = func.code[frame.ip];
            frame.ip += 1;
            match op {
                Op::Const(index) => self.stack.push(program.constants[index as usize].clone()),
                Op::Nil => self.stack.push(Value::Nil),
                Op::True => self.stack.push(Value::True),
                Op::False => self.stack.push(Value::False),
                Op::Pop => {
                    self.pop();
                }
                Op::Dup2 => {
                    let len = self.stack.len();
                    self.stack.extend_from_within(len - 2..);
                }
                Op::GetLocal(slot) => {
                    let value = self.stack[frame.base + slot as usize].clone();
                    self.stack.push(value);
                }
                Op::SetLocal(slot) => {
                    let value = self.pop();
                    self.stack[frame.base + slot as usize] = value;
                }
                Op::GetGlobal(index) => {
                    let name = &program.names[index as usize];
                    match self.globals.get(name) {
                        Some(value) => self.stack.push(value.clone()),
                        None => check!(Err(format!("undefined variable `{name}`"))),
                    }
                }
                Op::SetGlobal(index) => {
                    let name = &program.names[index as usize];
                    let value = self.pop();
                    match self.globals.get_mut(name) {
                        Some(slot) => *slot = value,
                        None => check!(Err(format!("assignment to undefined variable `{name}`"))),
                    }
                }
                Op::DefineGlobal(index) => {
                    let value = self.pop();
                    self.globals.insert(Rc::clone(&program.names[index as usize]), value);
                }
                Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Mod => {
                    let b = self.pop();
                    let a = self.pop();
                    self.stack.push(check!(arithmetic(op, a, b)));
                }
                Op::Neg => match self.pop() {
                    Value::Int(n) => {
                        let negated = check!(n.checked_neg().ok_or("integer overflow"));
                        self.stack.push(Value::Int(negated));
                    }
                    Value::Float(x) => self.stack.push(Value::float(-x.get())),
                    other => check!(Err(format!("cannot negate a {}", other.type_name()))),
                },
                Op::Not => {
                    let value = self.pop();
                    self.stack.push(Value::bool(!value.is_truthy()));
                }
                Op::Compare(cmp) => {
                    let b = self.pop();
                    let a = self.pop();
                    self.stack.push(Value::bool(check!(compare(cmp, &a, &b))));
                }
                Op::Jump(target) => frame.ip = target as usize,
                Op::JumpIfFalse(target) => {
                    if !self.pop().is_truthy() {
                        frame.ip = target as usize;
                    }
                }
                Op::CompareJump(cmp, target) => {
                    let b = self.pop();
                    let a = self.pop();
                    if !check!(compare(cmp, &a, &b)) {
                        frame.ip = target as usize;
                    }
                }
                Op::AddLocalConst(slot, index) => {
                    let slot = &mut self.stack[frame.base + slot as usize];
                    let value = std::mem::replace(slot, Value::Nil);
                    let constant = program.constants[index as usize].clone();
                    *slot = check!(arithmetic(Op::Add, value, constant));
                }
                Op::AndJump(target) => {
                    if self.stack.last().is_some_and(|v| !v.is_truthy()) {
                        frame.ip = target as usize;
                    } else {
                        self.pop();
                    }
                }
                Op::OrJump(target) => {
                    if self.stack.last().is_some_and(Value::is_truthy) {
                        frame.ip = target as usize;
                    } else {
                        self.pop();
                    }
                }
                Op::Call(argc) => {
                    let base = self.stack.len() - argc as usize;
                    let index = match self.stack[base - 1] {
                        Value::Function(index) => index,
                        ref other => check!(Err(format!("cannot call a {}", other.type_name()))),
                    };
                    let callee = &program.functions[index];
                    if callee.arity != argc as usize {
                        let name = &callee.name;
                        check!(Err(format!("`{name}` takes {} arguments, got {argc}", callee.arity)));
                    }
                    if self.frames.len() >= MAX_FRAMES {
                        check!(Err("stack overflow: recursion too deep".to_string()));
                    }
                    self.stack.resize(base + callee.slots, Value::Nil);
                    let entered = Frame { func: index, ip: 0, base };
                    self.frames.push(std::mem::replace(&mut frame, entered));
                    func = callee;
                }
                Op::CallNative(index, argc) => {
                    let start = self.stack.len() - argc as usize;
                    let mut host = Host { out: &mut self.out, args: &self.args };
                    let native = &NATIVES[index as usize];
                    let result = check!((native.func)(&mut host, &self.stack[start..]));
                    self.stack.truncate(start);
                    self.stack.push(result);
                }
                Op::Return => {
                    let result = self.pop();
                    let Some(caller) = self.frames.pop() else {
                        return Ok(());
                    };
                    // Drop the locals, the arguments and the called function.
                    self.stack.truncate(frame.base - 1);
                    self.stack.push(result);
                    frame = caller;
                    func = &program.functions[frame.func];
                }
                Op::MakeArray(count) => {
                    let items = self.stack.split_off(self.stack.len() - count as usize);
                    self.stack.push(Value::array(items));
                }
                Op::MakeMap(count) => {
                    let flat = self.stack.split_off(self.stack.len() - 2 * count as usize);
                    let mut entries = BTreeMap::new();
                    for pair in flat.chunks_exact(2) {
                        entries.insert(check!(pair[0].to_key()), pair[1].clone());
                    }
                    self.stack.push(Value::map(entries));
                }
                Op::Index => {
                    let index = self.pop();
                    let container = self.pop();
                    self.stack.push(check!(get_index(&container, &index)));
                }
                Op::SetIndex => {
                    let value = self.pop();
                    let index = self.pop();
                    let container = self.pop();
                    check!(set_index(&container, &index, value));
                }
            }
        }
    }
}

fn arithmetic(op: Op, a: Value, b: Value) -> Result<Value, String> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            let result = match op {
                Op::Add => x.checked_add(y),
                Op::Sub => x.checked_sub(y),
                Op::Mul => x.checked_mul(y),
                Op::Div | Op::Mod if y == 0 => return Err("division by zero".to_string()),
                Op::Div => x.checked_div(y),
                _ => x.checked_rem(y),
            };
            result.map(Value::Int).ok_or_else(|| "integer overflow".to_string())
        }
        (Value::Float(x), Value::Float(y)) => Ok(float_arithmetic(op, x.get(), y.get())),
        (Value::Int(x), Value::Float(y)) => Ok(float_arithmetic(op, x as f64, y.get())),
        (Value::Float(x), Value::Int(y)) => Ok(float_arithmetic(op, x.get(), y as f64)),
        (Value::Str(x), y) if op == Op::Add => {
            let mut s = String::with_capacity(x.len() + 8);
            s.push_str(&x);
            write!(s, "{y}").expect("writing to a String cannot fail");
            Ok(Value::string(s))
        }
        (x, Value::Str(y)) if op == Op::Add => Ok(Value::string(format!("{x}{y}"))),
        (Value::Array(x), Value::Array(y)) if op == Op::Add => {
            let mut items = x.borrow().clone();
            items.extend(y.borrow().iter().cloned());
            Ok(Value::array(items))
        }
        (a, b) => {
            let symbol = match op {
                Op::Add => "+",
                Op::Sub => "-",
                Op::Mul => "*",
                Op::Div => "/",
                _ => "%",
            };
            let (a, b) = (a.type_name(), b.type_name());
            Err(format!("unsupported operand types for {symbol}: {a} and {b}"))
        }
    }
}

fn float_arithmetic(op: Op, x: f64, y: f64) -> Value {
    Value::float(match op {
        Op::Add => x + y,
        Op::Sub => x - y,
        Op::Mul => x * y,
        Op::Div => x / y,
        _ => x % y,
    })
}

/// Applies a comparison operator: equality works on any two values,
/// ordering only on two numbers or two strings.
fn compare(cmp: Cmp, a: &Value, b: &Value) -> Result<bool, String> {
    Ok(match cmp {
        Cmp::Eq => a == b,
        Cmp::Ne => a != b,
        Cmp::Lt => a.compare(b)? == Ordering::Less,
        Cmp::Le => a.compare(b)? != Ordering::Greater,
        Cmp::Gt => a.compare(b)? == Ordering::Greater,
        Cmp::Ge => a.compare(b)? != Ordering::Less,
    })
}

/// Checks that `index` is a valid position in a sequence of length `len`.
fn position(index: i64, len: usize) -> Result<usize, String> {
    usize::try_from(index)
        .ok()
        .filter(|&i| i < len)
        .ok_or_else(|| format!("index {index} out of bounds for length {len}"))
}

fn get_index(container: &Value, index: &Value) -> Result<Value, String> {
    match (container, index) {
        (Value::Array(items), Value::Int(i)) => {
            let items = items.borrow();
            Ok(items[position(*i, items.len())?].clone())
        }
        (Value::Str(s), Value::Int(i)) => {
            let i = position(*i, s.len())?;
            s.get(i..i + 1).map(Value::str).ok_or_else(|| format!("index {i} is not on a character boundary"))
        }
        (Value::Map(entries), key) => {
            let key = key.to_key()?;
            Ok(entries.borrow().get(&key).cloned().unwrap_or(Value::Nil))
        }
        _ => Err(format!("cannot index {} with {}", container.type_name(), index.type_name())),
    }
}

fn set_index(container: &Value, index: &Value, value: Value) -> Result<(), String> {
    match (container, index) {
        (Value::Array(items), Value::Int(i)) => {
            let mut items = items.borrow_mut();
            let i = position(*i, items.len())?;
            items[i] = value;
            Ok(())
        }
        (Value::Map(entries), key) => {
            entries.borrow_mut().insert(key.to_key()?, value);
            Ok(())
        }
        _ => Err(format!("cannot assign into {} with {}", container.type_name(), index.type_name())),
    }
}
