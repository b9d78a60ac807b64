//! Single-pass compiler: a Pratt parser that emits stack-machine bytecode
//! directly while it walks the token stream.
//!
//! Top-level `let` bindings become globals (kept in a hash map by the VM);
//! function parameters and `let` bindings inside blocks become numbered
//! stack slots. Functions are declared at the top level and may be called
//! before their declaration.

use std::collections::HashMap;
use std::rc::Rc;

use crate::bytecode::{Cmp, Function, Op, Program};
use crate::error::Error;
use crate::lexer::{Tok, Token, tokenize};
use crate::natives;
use crate::value::{Key, Value};

type Result<T = ()> = std::result::Result<T, Error>;

/// Compiles a whole script.
pub fn compile(src: &str) -> Result<Program> {
    let mut c = Compiler {
        tokens: tokenize(src)?,
        pos: 0,
        state: FnState::new("<script>", 0),
        functions: vec![Function::default()],
        constants: Vec::new(),
        const_index: HashMap::new(),
        names: Vec::new(),
        name_index: HashMap::new(),
    };
    while c.peek() != &Tok::Eof {
        c.declaration()?;
    }
    c.emit(Op::Nil);
    c.emit(Op::Return);
    c.finish()
}

const PREC_OR: u8 = 1;
const PREC_UNARY: u8 = 7;

/// Precedence and opcode of a binary operator token.
fn binary_op(tok: &Tok) -> Option<(u8, Op)> {
    let Tok::Punct(p) = tok else { return None };
    Some(match *p {
        "||" => (PREC_OR, Op::OrJump(0)),
        "&&" => (2, Op::AndJump(0)),
        "==" => (3, Op::Compare(Cmp::Eq)),
        "!=" => (3, Op::Compare(Cmp::Ne)),
        "<" => (4, Op::Compare(Cmp::Lt)),
        "<=" => (4, Op::Compare(Cmp::Le)),
        ">" => (4, Op::Compare(Cmp::Gt)),
        ">=" => (4, Op::Compare(Cmp::Ge)),
        "+" => (5, Op::Add),
        "-" => (5, Op::Sub),
        "*" => (6, Op::Mul),
        "/" => (6, Op::Div),
        "%" => (6, Op::Mod),
        _ => return None,
    })
}

/// Per-function compilation state.
struct FnState {
    func: Function,
    /// Names of the locals in scope, with the block depth they belong to.
    locals: Vec<(String, usize)>,
    depth: usize,
    /// For each enclosing loop: its start and the `break` jumps to patch.
    loops: Vec<(usize, Vec<usize>)>,
    /// The most recent target of a forward jump; no instruction may be
    /// fused across it.
    label: usize,
}

impl FnState {
    fn new(name: &str, arity: usize) -> Self {
        let func = Function { name: name.to_string(), arity, ..Function::default() };
        FnState { func, locals: Vec::new(), depth: 0, loops: Vec::new(), label: 0 }
    }
}

struct Compiler {
    tokens: Vec<Token>,
    pos: usize,
    state: FnState,
    /// The compiled functions; entry 0 (the script itself) is filled in last.
    functions: Vec<Function>,
    constants: Vec<Value>,
    const_index: HashMap<Key, u32>,
    names: Vec<Rc<str>>,
    name_index: HashMap<String, u32>,
}

impl Compiler {
    // ---- tokens -----------------------------------------------------------

    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    /// Is the next token the keyword or punctuation `text`?
    fn at(&self, text: &str) -> bool {
        matches!(self.peek(), Tok::Keyword(t) | Tok::Punct(t) if *t == text)
    }

    fn line(&self) -> u32 {
        self.tokens[self.pos.saturating_sub(1)].line
    }

    fn advance(&mut self) -> Tok {
        let tok = self.tokens[self.pos].tok.clone();
        self.pos = (self.pos + 1).min(self.tokens.len() - 1);
        tok
    }

    fn eat(&mut self, text: &str) -> bool {
        let found = self.at(text);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, text: &str) -> Result {
        match self.eat(text) {
            true => Ok(()),
            false => Err(self.error_here(&format!("expected `{text}`"))),
        }
    }

    fn ident(&mut self, what: &str) -> Result<String> {
        match self.peek().clone() {
            Tok::Ident(name) => {
                self.pos += 1;
                Ok(name)
            }
            _ => Err(self.error_here(&format!("expected {what}"))),
        }
    }

    fn error_here(&self, message: &str) -> Error {
        let found = match &self.tokens[self.pos].tok {
            Tok::Int(n) => n.to_string(),
            Tok::Float(x) => x.to_string(),
            Tok::Str(s) => format!("{s:?}"),
            Tok::Ident(s) => s.clone(),
            Tok::Keyword(s) | Tok::Punct(s) => format!("`{s}`"),
            Tok::Eof => "end of file".to_string(),
        };
        Error::syntax(self.tokens[self.pos].line, format!("{message}, found {found}"))
    }

    fn error(&self, message: impl Into<String>) -> Error {
        Error::syntax(self.line(), message)
    }

    // ---- emission ---------------------------------------------------------

    fn emit(&mut self, op: Op) -> usize {
        // Peephole: fuse a comparison with the conditional jump after it.
        let code = &mut self.state.func.code;
        if let (Op::JumpIfFalse(target), Some(&Op::Compare(cmp))) = (op, code.last())
            && self.state.label != code.len()
        {
            let last = code.len() - 1;
            code[last] = Op::CompareJump(cmp, target);
            return last;
        }
        let line = self.line();
        self.state.func.code.push(op);
        self.state.func.lines.push(line);
        self.state.func.code.len() - 1
    }

    fn here(&self) -> usize {
        self.state.func.code.len()
    }

    /// Points the jump at `at` to the next instruction to be emitted.
    fn patch(&mut self, at: usize) {
        let target = self.here();
        self.state.label = target;
        let target = target as u32;
        match &mut self.state.func.code[at] {
            Op::Jump(t) | Op::JumpIfFalse(t) | Op::CompareJump(_, t) | Op::AndJump(t) | Op::OrJump(t) => *t = target,
            op => unreachable!("patching non-jump {op:?}"),
        }
    }

    fn constant(&mut self, value: Value) {
        let next = self.constants.len() as u32;
        let index = match value.to_key() {
            Ok(key) => *self.const_index.entry(key).or_insert(next),
            Err(_) => next,
        };
        if index == next {
            self.constants.push(value);
        }
        self.emit(Op::Const(index));
    }

    fn name(&mut self, name: &str) -> u32 {
        if let Some(&index) = self.name_index.get(name) {
            return index;
        }
        self.names.push(Rc::from(name));
        self.name_index.insert(name.to_string(), self.names.len() as u32 - 1);
        self.names.len() as u32 - 1
    }

    /// True at the top level of the script, where `let` defines globals.
    fn is_global_scope(&self) -> bool {
        // Function bodies start at depth 1, so depth 0 only exists at the top.
        self.state.depth == 0
    }

    fn add_local(&mut self, name: String) -> Result<u32> {
        let depth = self.state.depth;
        let mut same_scope = self.state.locals.iter().rev().take_while(|l| l.1 == depth);
        if same_scope.any(|l| l.0 == name) {
            return Err(self.error(format!("`{name}` is already declared in this scope")));
        }
        self.state.locals.push((name, depth));
        let slots = self.state.locals.len();
        self.state.func.slots = self.state.func.slots.max(slots);
        Ok(slots as u32 - 1)
    }

    // ---- declarations and statements --------------------------------------

    fn declaration(&mut self) -> Result {
        if self.eat("fn") {
            self.fn_declaration()
        } else if self.eat("let") {
            let name = self.ident("variable name")?;
            self.expect("=")?;
            self.expression()?;
            self.expect(";")?;
            if self.is_global_scope() {
                let index = self.name(&name);
                self.emit(Op::DefineGlobal(index));
            } else {
                let slot = self.add_local(name)?;
                self.emit(Op::SetLocal(slot));
            }
            Ok(())
        } else {
            self.statement()
        }
    }

    fn fn_declaration(&mut self) -> Result {
        if !self.is_global_scope() {
            return Err(self.error("functions can only be declared at the top level"));
        }
        let name = self.ident("function name")?;
        if natives::lookup(&name).is_some() || self.functions.iter().any(|f| f.name == name) {
            return Err(self.error(format!("function `{name}` is already defined")));
        }
        self.expect("(")?;
        let mut params = Vec::new();
        while !self.at(")") {
            params.push(self.ident("parameter name")?);
            if !self.eat(",") {
                break;
            }
        }
        self.expect(")")?;

        let outer = std::mem::replace(&mut self.state, FnState::new(&name, params.len()));
        self.state.depth = 1;
        for param in params {
            self.add_local(param)?;
        }
        self.block()?;
        self.emit(Op::Nil);
        self.emit(Op::Return);
        let state = std::mem::replace(&mut self.state, outer);
        self.functions.push(state.func);
        Ok(())
    }

    fn statement(&mut self) -> Result {
        if self.eat("if") {
            self.if_statement()
        } else if self.eat("while") {
            let start = self.here();
            self.expression()?;
            let exit = self.emit(Op::JumpIfFalse(0));
            self.state.loops.push((start, Vec::new()));
            self.scoped_block()?;
            self.emit(Op::Jump(start as u32));
            self.patch(exit);
            let (_, breaks) = self.state.loops.pop().expect("loop was pushed");
            breaks.into_iter().for_each(|jump| self.patch(jump));
            Ok(())
        } else if self.at("{") {
            self.scoped_block()
        } else if self.eat("return") {
            if self.at(";") {
                self.emit(Op::Nil);
            } else {
                self.expression()?;
            }
            self.emit(Op::Return);
            self.expect(";")
        } else if self.at("break") || self.at("continue") {
            let is_break = self.advance() == Tok::Keyword("break");
            let Some(&(start, _)) = self.state.loops.last() else {
                return Err(self.error("`break` or `continue` outside a loop"));
            };
            let jump = self.emit(Op::Jump(start as u32));
            if is_break {
                self.state.loops.last_mut().expect("checked above").1.push(jump);
            }
            self.expect(";")
        } else {
            // Assignments consume their value; other expressions leave one
            // behind that has to be discarded.
            if !self.expression_with(PREC_OR, true)? {
                self.emit(Op::Pop);
            }
            self.expect(";")
        }
    }

    fn if_statement(&mut self) -> Result {
        self.expression()?;
        let skip_then = self.emit(Op::JumpIfFalse(0));
        self.scoped_block()?;
        if !self.eat("else") {
            self.patch(skip_then);
            return Ok(());
        }
        let skip_else = self.emit(Op::Jump(0));
        self.patch(skip_then);
        if self.eat("if") {
            self.if_statement()?;
        } else {
            self.scoped_block()?;
        }
        self.patch(skip_else);
        Ok(())
    }

    /// A `{ ... }` block that opens a new scope for locals.
    fn scoped_block(&mut self) -> Result {
        self.state.depth += 1;
        self.block()?;
        self.state.depth -= 1;
        let depth = self.state.depth;
        self.state.locals.retain(|l| l.1 <= depth);
        Ok(())
    }

    fn block(&mut self) -> Result {
        self.expect("{")?;
        while !self.at("}") && self.peek() != &Tok::Eof {
            self.declaration()?;
        }
        self.expect("}")
    }

    // ---- expressions ------------------------------------------------------

    fn expression(&mut self) -> Result {
        self.expression_with(PREC_OR, false).map(drop)
    }

    /// Compiles an expression whose operators bind at least as tightly as
    /// `min_prec`. With `can_assign`, the expression may be an assignment;
    /// returns true if it was one.
    fn expression_with(&mut self, min_prec: u8, can_assign: bool) -> Result<bool> {
        if self.prefix(can_assign)? {
            return Ok(true);
        }
        while let Some((prec, op)) = binary_op(self.peek()).filter(|(p, _)| *p >= min_prec) {
            self.advance();
            let short_circuit = matches!(op, Op::AndJump(_) | Op::OrJump(_));
            let jump = if short_circuit { self.emit(op) } else { 0 };
            self.expression_with(prec + 1, false)?;
            if short_circuit {
                self.patch(jump);
            } else {
                self.emit(op);
            }
        }
        Ok(false)
    }

    /// Compiles a prefix expression and its `[index]` suffixes. Returns true
    /// if it turned out to be an assignment.
    fn prefix(&mut self, can_assign: bool) -> Result<bool> {
        let line = self.tokens[self.pos].line;
        match self.advance() {
            Tok::Int(n) => self.constant(Value::Int(n)),
            Tok::Float(x) => self.constant(Value::float(x)),
            Tok::Str(s) => self.constant(Value::str(&s)),
            Tok::Keyword("true") => _ = self.emit(Op::True),
            Tok::Keyword("false") => _ = self.emit(Op::False),
            Tok::Keyword("nil") => _ = self.emit(Op::Nil),
            Tok::Punct("(") => {
                self.expression()?;
                self.expect(")")?;
            }
            Tok::Punct("[") => {
                let count = self.list("]", Self::expression)?;
                self.emit(Op::MakeArray(count));
            }
            Tok::Punct("{") => {
                let count = self.list("}", |c| {
                    c.expression()?;
                    c.expect(":")?;
                    c.expression()
                })?;
                self.emit(Op::MakeMap(count));
            }
            Tok::Punct(p @ ("-" | "!")) => {
                self.expression_with(PREC_UNARY, false)?;
                self.emit(if p == "-" { Op::Neg } else { Op::Not });
            }
            Tok::Ident(name) if self.eat("(") => self.call(&name, line)?,
            Tok::Ident(name) => {
                if self.variable(&name, can_assign)? {
                    return Ok(true);
                }
            }
            _ => {
                self.pos -= 1;
                return Err(self.error_here("expected an expression"));
            }
        }
        self.postfix(can_assign)
    }

    /// Compiles `item, item, ...` up to and including `close`.
    fn list(&mut self, close: &str, mut item: impl FnMut(&mut Self) -> Result) -> Result<u32> {
        let mut count = 0;
        while !self.at(close) {
            item(self)?;
            count += 1;
            if !self.eat(",") {
                break;
            }
        }
        self.expect(close)?;
        Ok(count)
    }

    /// Compiles a call. Natives are bound by name here; anything else is a
    /// variable that must hold a function when the call runs.
    fn call(&mut self, name: &str, line: u32) -> Result {
        let native = natives::lookup(name);
        if native.is_none() {
            let (get, _) = self.resolve(name);
            self.emit(get);
        }
        let argc = self.list(")", Self::expression)? as usize;
        let argc_u8 = u8::try_from(argc).map_err(|_| Error::syntax(line, "too many arguments"))?;
        match native {
            Some((_, native)) if argc < native.min_args || argc > native.max_args => {
                return Err(Error::syntax(line, format!("wrong number of arguments to `{name}`")));
            }
            Some((index, _)) => self.emit(Op::CallNative(index as u8, argc_u8)),
            None => self.emit(Op::Call(argc_u8)),
        };
        Ok(())
    }

    /// The instructions that read and write the variable `name`.
    fn resolve(&mut self, name: &str) -> (Op, Op) {
        match self.state.locals.iter().rposition(|l| l.0 == name) {
            Some(slot) => (Op::GetLocal(slot as u32), Op::SetLocal(slot as u32)),
            None => {
                let index = self.name(name);
                (Op::GetGlobal(index), Op::SetGlobal(index))
            }
        }
    }

    /// If an assignment operator follows, consumes it and returns the
    /// arithmetic op of a compound assignment (`None` for plain `=`).
    fn assignment(&mut self, can_assign: bool) -> Option<Option<Op>> {
        let op = match self.peek() {
            Tok::Punct("=") => None,
            Tok::Punct("+=") => Some(Op::Add),
            Tok::Punct("-=") => Some(Op::Sub),
            _ => return None,
        };
        if can_assign {
            self.advance();
            Some(op)
        } else {
            None
        }
    }

    /// Compiles a variable read, or an assignment to it. Returns true if it
    /// was an assignment.
    fn variable(&mut self, name: &str, can_assign: bool) -> Result<bool> {
        let (get, set) = self.resolve(name);
        let Some(compound) = self.assignment(can_assign) else {
            self.emit(get);
            return Ok(false);
        };
        if compound.is_some() {
            self.emit(get);
        }
        let start = self.here();
        self.expression()?;
        // Peephole: `local += constant` becomes a single instruction.
        if let (Some(Op::Add), Op::GetLocal(slot), [Op::Const(index)]) = (compound, get, &self.state.func.code[start..])
            && let (Ok(slot), Ok(index)) = (u16::try_from(slot), u16::try_from(*index))
        {
            self.state.func.code.truncate(start - 1);
            self.state.func.lines.truncate(start - 1);
            self.emit(Op::AddLocalConst(slot, index));
            return Ok(true);
        }
        if let Some(op) = compound {
            self.emit(op);
        }
        self.emit(set);
        Ok(true)
    }

    /// Compiles any number of `[index]` suffixes, the last of which may be
    /// the target of an assignment. Returns true if it was one.
    fn postfix(&mut self, can_assign: bool) -> Result<bool> {
        while self.eat("[") {
            self.expression()?;
            self.expect("]")?;
            let Some(compound) = self.assignment(can_assign) else {
                self.emit(Op::Index);
                continue;
            };
            if compound.is_some() {
                self.emit(Op::Dup2);
                self.emit(Op::Index);
            }
            self.expression()?;
            if let Some(op) = compound {
                self.emit(op);
            }
            self.emit(Op::SetIndex);
            return Ok(true);
        }
        Ok(false)
    }

    /// Assembles the [`Program`].
    fn finish(mut self) -> Result<Program> {
        self.functions[0] = self.state.func;
        Ok(Program { functions: self.functions, constants: self.constants, names: self.names })
    }
}
