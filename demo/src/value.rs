//! Runtime values of the scripting language.
//!
//! The language is dynamically typed: every operation inspects the types of
//! its operands at run time, which is exactly the kind of branchy code that
//! profile-guided optimization is good at laying out.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// A shared, mutable array.
pub type Array = Rc<RefCell<Vec<Value>>>;
/// A shared, mutable map. Ordered, so that printing and `keys()` are deterministic.
pub type Map = Rc<RefCell<BTreeMap<Key, Value>>>;

/// A dynamically typed value: a tag plus one word of payload, 16 bytes.
///
/// Every payload is a 64-bit integer or a pointer (booleans are two tags,
/// floats are stored as their bits), and the tag is 64 bits wide too. That
/// makes `Value` a "scalar pair" for the compiler: it is passed and returned
/// in two registers and copied as two plain words. A `bool` or `f64` payload
/// would turn it into an opaque 16-byte blob that is moved through memory,
/// and loading such a blob right after it was stored word by word stalls the
/// CPU's store-to-load forwarding in every hot instruction of the VM.
#[derive(Debug, Clone)]
#[repr(u64)]
pub enum Value {
    Nil,
    False,
    True,
    Int(i64),
    Float(FloatBits),
    Str(Rc<String>),
    Array(Array),
    Map(Map),
    /// A script function, by its index in the program.
    Function(usize),
}

/// An `f64` kept as its bit pattern; see [`Value`].
#[derive(Debug, Clone, Copy)]
pub struct FloatBits(u64);

impl FloatBits {
    pub fn get(self) -> f64 {
        f64::from_bits(self.0)
    }
}

/// The values that can be used as map keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Int(i64),
    Str(Rc<String>),
}

impl Value {
    pub fn bool(b: bool) -> Value {
        if b { Value::True } else { Value::False }
    }

    pub fn float(x: f64) -> Value {
        Value::Float(FloatBits(x.to_bits()))
    }

    pub fn str(s: &str) -> Value {
        Value::string(s.to_string())
    }

    pub fn string(s: String) -> Value {
        Value::Str(Rc::new(s))
    }

    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Rc::new(RefCell::new(items)))
    }

    pub fn map(entries: BTreeMap<Key, Value>) -> Value {
        Value::Map(Rc::new(RefCell::new(entries)))
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::False | Value::True => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Function(_) => "function",
        }
    }

    /// `nil` and `false` are falsy; everything else is truthy.
    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::False)
    }

    /// Orders two numbers or two strings; anything else is an error.
    pub fn compare(&self, other: &Value) -> Result<Ordering, String> {
        let ordering = match (self, other) {
            (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
            (Value::Float(x), Value::Float(y)) => x.get().partial_cmp(&y.get()),
            (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(&y.get()),
            (Value::Float(x), Value::Int(y)) => x.get().partial_cmp(&(*y as f64)),
            (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
            _ => None,
        };
        let (a, b) = (self.type_name(), other.type_name());
        ordering.ok_or_else(|| format!("cannot compare {a} with {b}"))
    }

    pub fn to_key(&self) -> Result<Key, String> {
        match self {
            Value::Int(n) => Ok(Key::Int(*n)),
            Value::Str(s) => Ok(Key::Str(Rc::clone(s))),
            other => Err(format!("a {} cannot be used as a map key", other.type_name())),
        }
    }
}

/// Equality as the language's `==` sees it: numbers compare by value
/// (`1 == 1.0`), containers compare element by element.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.get() == b.get(),
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => *a as f64 == b.get(),
            (Value::Nil, Value::Nil) | (Value::True, Value::True) | (Value::False, Value::False) => true,
            (Value::Function(a), Value::Function(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => Rc::ptr_eq(a, b) || *a.borrow() == *b.borrow(),
            (Value::Map(a), Value::Map(b)) => Rc::ptr_eq(a, b) || *a.borrow() == *b.borrow(),
            _ => false,
        }
    }
}

impl From<Key> for Value {
    fn from(key: Key) -> Value {
        match key {
            Key::Int(n) => Value::Int(n),
            Key::Str(s) => Value::Str(s),
        }
    }
}

/// Formats a value the way `print` shows it: strings at the top level are
/// printed raw, strings nested in containers are quoted.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            other => write_nested(other, f),
        }
    }
}

fn write_nested(value: &Value, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match value {
        Value::Nil => f.write_str("nil"),
        Value::False => f.write_str("false"),
        Value::True => f.write_str("true"),
        Value::Int(n) => write!(f, "{n}"),
        // Keep a `.0` on whole numbers so floats stay recognisable.
        Value::Float(x) if x.get().fract() == 0.0 && x.get().abs() < 1e16 => write!(f, "{:.1}", x.get()),
        Value::Float(x) => write!(f, "{}", x.get()),
        Value::Str(s) => write!(f, "{s:?}"),
        Value::Function(index) => write!(f, "<function #{index}>"),
        Value::Array(items) => {
            f.write_str("[")?;
            for (i, item) in items.borrow().iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_nested(item, f)?;
            }
            f.write_str("]")
        }
        Value::Map(entries) => {
            f.write_str("{")?;
            for (i, (key, item)) in entries.borrow().iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_nested(&Value::from(key.clone()), f)?;
                f.write_str(": ")?;
                write_nested(item, f)?;
            }
            f.write_str("}")
        }
    }
}
