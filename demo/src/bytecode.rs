//! The bytecode that the compiler produces and the VM executes.

use std::rc::Rc;

use crate::value::Value;

/// One bytecode instruction. Jump targets are absolute instruction indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Const(u32),
    Nil,
    True,
    False,
    Pop,
    /// Duplicates the two topmost values (used by `a[i] += x`).
    Dup2,
    GetLocal(u32),
    SetLocal(u32),
    GetGlobal(u32),
    SetGlobal(u32),
    DefineGlobal(u32),
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Neg,
    Not,
    Compare(Cmp),
    Jump(u32),
    JumpIfFalse(u32),
    /// Short-circuit `&&`: jumps if the top is falsy, otherwise pops it.
    AndJump(u32),
    /// Short-circuit `||`: jumps if the top is truthy, otherwise pops it.
    OrJump(u32),
    /// Fused comparison and conditional jump: pops two values and jumps to
    /// `.1` unless they satisfy `.0`. The compiler emits it for a comparison
    /// directly followed by `JumpIfFalse`, the shape of most loop conditions.
    CompareJump(Cmp, u32),
    /// Fused `local += constant`: `.0` is the slot, `.1` the constant.
    AddLocalConst(u16, u16),
    /// Calls the function value below the `.0` arguments on the stack.
    Call(u8),
    /// Calls entry `.0` of [`crate::natives::NATIVES`] with `.1` arguments.
    CallNative(u8, u8),
    Return,
    MakeArray(u32),
    MakeMap(u32),
    Index,
    SetIndex,
}

/// The comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A compiled function. Function 0 of a [`Program`] is the script's top level.
#[derive(Debug, Default)]
pub struct Function {
    pub name: String,
    pub arity: usize,
    /// Number of stack slots (parameters included) the function needs.
    pub slots: usize,
    pub code: Vec<Op>,
    /// Source line of each instruction, for error messages.
    pub lines: Vec<u32>,
}

/// A fully compiled script.
#[derive(Debug)]
pub struct Program {
    pub functions: Vec<Function>,
    pub constants: Vec<Value>,
    /// Names of global variables, indexed by the global ops.
    pub names: Vec<Rc<str>>,
}
