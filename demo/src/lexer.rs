//! Tokenizer: turns source text into a flat list of [`Token`]s.

use crate::error::Error;

/// A token of the language.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Int(i64),
    Float(f64),
    Str(String),
    Ident(String),
    /// A reserved word, one of [`KEYWORDS`].
    Keyword(&'static str),
    /// An operator or punctuation mark, one of [`PUNCTUATION`].
    Punct(&'static str),
    Eof,
}

/// A token together with the line it starts on.
#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub line: u32,
}

const KEYWORDS: &[&str] = &["let", "fn", "if", "else", "while", "return", "break", "continue", "true", "false", "nil"];

/// Operators and punctuation, two-character ones first so they win.
const PUNCTUATION: &[&str] = &[
    "==", "!=", "<=", ">=", "+=", "-=", "&&", "||", "(", ")", "{", "}", "[", "]", ",", ";", ":", "=", "<", ">", "+",
    "-", "*", "/", "%", "!",
];

/// Splits `src` into tokens. The result always ends with [`Tok::Eof`].
pub fn tokenize(src: &str) -> Result<Vec<Token>, Error> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let rest = &src[i..];
        let tok = match bytes[i] {
            b'\n' => {
                line += 1;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'/' if rest.starts_with("//") => {
                i += rest.find('\n').unwrap_or(rest.len());
                continue;
            }
            b'0'..=b'9' => {
                i += rest.bytes().take_while(u8::is_ascii_digit).count();
                let is_float = bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                if is_float {
                    i += 1 + src[i + 1..].bytes().take_while(u8::is_ascii_digit).count();
                }
                let text = &src[start..i];
                let invalid = || Error::syntax(line, format!("invalid number {text}"));
                if is_float {
                    Tok::Float(text.parse().map_err(|_| invalid())?)
                } else {
                    Tok::Int(text.parse().map_err(|_| invalid())?)
                }
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                i += rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
                let word = &src[start..i];
                match KEYWORDS.iter().find(|k| **k == word) {
                    Some(keyword) => Tok::Keyword(keyword),
                    None => Tok::Ident(word.to_string()),
                }
            }
            b'"' => {
                let (text, len) = string_literal(&rest[1..], line)?;
                i += len + 1;
                tokens.push(Token { tok: Tok::Str(text), line });
                line += src[start..i].matches('\n').count() as u32;
                continue;
            }
            _ => match PUNCTUATION.iter().find(|p| rest.starts_with(**p)) {
                Some(punct) => {
                    i += punct.len();
                    Tok::Punct(punct)
                }
                None => {
                    let c = rest.chars().next().unwrap_or_default();
                    return Err(Error::syntax(line, format!("unexpected character {c:?}")));
                }
            },
        };
        tokens.push(Token { tok, line });
    }
    tokens.push(Token { tok: Tok::Eof, line });
    Ok(tokens)
}

/// Decodes a string literal body up to and including its closing quote.
/// Returns the text and the number of bytes consumed.
fn string_literal(src: &str, line: u32) -> Result<(String, usize), Error> {
    let mut out = String::new();
    let mut chars = src.char_indices();
    while let Some((offset, c)) = chars.next() {
        match c {
            '"' => return Ok((out, offset + 1)),
            '\\' => out.push(match chars.next().map(|(_, c)| c) {
                Some('n') => '\n',
                Some('t') => '\t',
                Some(c @ ('"' | '\\')) => c,
                Some(other) => return Err(Error::syntax(line, format!("unknown escape \\{other}"))),
                None => break,
            }),
            _ => out.push(c),
        }
    }
    Err(Error::syntax(line, "unterminated string literal"))
}
