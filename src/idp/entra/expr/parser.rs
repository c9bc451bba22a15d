//! Recursive-descent parser producing the AST (entra.md §6.1, §6.2).

use super::builtins::{suggest, Function, Max};
use super::lexer::{tokenize, CmpOp, Tok, Token};
use super::ParseError;

/// Entra's documented maximum expression length (entra.md §6.1, [Doc KI]).
pub const MAX_EXPRESSION_CHARS: usize = 10_000;

/// How deeply function calls may nest. Entra documents no limit, but the parser, the evaluator,
/// printing and dropping all recurse once per level: 10,000 characters hold ~2,000 nested
/// `Not(` calls, which overflowed the stack (confirmed with the `entra_expression` fuzz target).
/// Real mappings nest a few levels (IIF chains, Switch inside Join). An unoptimised build spends
/// ~24 KiB of stack per level in the evaluator, so 50 levels keep evaluation within a 2 MiB
/// Tokio worker stack with room to spare.
pub const MAX_NESTING: usize = 50;

/// `vbTextCompare` / `vbBinaryCompare` (InStr's compareType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareMode {
    Text,
    Binary,
}

/// One node of the expression tree, with the 1-based column where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `Name(arg, , arg)`: `None` is an empty positional argument.
    Call {
        function: Function,
        args: Vec<Option<Expr>>,
    },
    /// `[attributeName]`
    Attribute(String),
    /// `"text"`
    Str(String),
    /// `123`, `-10`
    Int(i64),
    /// `&HF7`
    Hex(i64),
    /// `vbTextCompare` / `vbBinaryCompare`
    CompareMode(CompareMode),
    /// `lhs op rhs`; only in the condition of IIF or CBool.
    Compare {
        op: CmpOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
}

impl Expr {
    /// Every `[attribute]` referenced, in order of first appearance, without duplicates.
    pub fn attributes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        self.walk(&mut |e| {
            if let ExprKind::Attribute(a) = &e.kind {
                if !out.contains(a) {
                    out.push(a.clone());
                }
            }
        });
        out
    }

    /// Every `[attribute]` referenced with the column of its first reference, in order of first
    /// appearance: where a tool points when one is missing.
    pub fn attribute_refs(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        self.walk(&mut |e| {
            if let ExprKind::Attribute(a) = &e.kind {
                if !out.iter().any(|(seen, _)| seen == a) {
                    out.push((a.clone(), e.column));
                }
            }
        });
        out
    }

    /// Every function called, in order of first appearance, without duplicates.
    pub fn functions(&self) -> Vec<Function> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let ExprKind::Call { function, .. } = &e.kind {
                if !out.contains(function) {
                    out.push(*function);
                }
            }
        });
        out
    }

    fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Call { args, .. } => {
                for a in args.iter().flatten() {
                    a.walk(f);
                }
            }
            ExprKind::Compare { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            _ => {}
        }
    }
}

/// Canonical source text (round-trips through [`parse`]).
impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            ExprKind::Call { function, args } => {
                write!(f, "{}(", function.name())?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if let Some(a) = a {
                        write!(f, "{a}")?;
                    }
                }
                f.write_str(")")
            }
            ExprKind::Attribute(a) => write!(f, "[{a}]"),
            ExprKind::Str(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")
            }
            ExprKind::Int(i) => write!(f, "{i}"),
            ExprKind::Hex(h) => write!(f, "&H{h:X}"),
            ExprKind::CompareMode(CompareMode::Text) => f.write_str("vbTextCompare"),
            ExprKind::CompareMode(CompareMode::Binary) => f.write_str("vbBinaryCompare"),
            ExprKind::Compare { op, lhs, rhs } => write!(f, "{lhs} {} {rhs}", op.as_str()),
        }
    }
}

fn err(column: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        column,
        message: message.into(),
    }
}

/// Parses one expression. See the module docs for the grammar.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let len = src.chars().count();
    if len > MAX_EXPRESSION_CHARS {
        return Err(err(
            MAX_EXPRESSION_CHARS + 1,
            format!(
                "expression is {len} characters long; Entra allows at most {MAX_EXPRESSION_CHARS}"
            ),
        ));
    }
    let toks = tokenize(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    if p.peek().tok == Tok::Eof {
        return Err(err(1, "empty expression"));
    }
    let e = p.expr(Context::TopLevel)?;
    let t = p.peek();
    match &t.tok {
        Tok::Eof => Ok(e),
        Tok::Cmp(op) => Err(err(
            t.column,
            format!(
                "comparison operator '{}' is only allowed in the condition of IIF or CBool",
                op.as_str()
            ),
        )),
        _ => Err(err(
            t.column,
            format!(
                "unexpected {} after the end of the expression",
                t.describe()
            ),
        )),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    TopLevel,
    /// First argument of IIF or CBool: a comparison is allowed.
    Condition,
    Argument,
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    /// Function calls open around the current token.
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof and `pos` never moves past it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn expr(&mut self, ctx: Context) -> Result<Expr, ParseError> {
        let lhs = self.primary(ctx)?;
        if let Tok::Cmp(op) = self.peek().tok {
            let column = self.peek().column;
            if ctx != Context::Condition {
                return Err(err(
                    column,
                    format!(
                        "comparison operator '{}' is only allowed in the condition of IIF or CBool",
                        op.as_str()
                    ),
                ));
            }
            self.next();
            let rhs = self.primary(Context::Argument)?;
            if let Tok::Cmp(op2) = self.peek().tok {
                return Err(err(
                    self.peek().column,
                    format!(
                        "a condition holds one comparison; '{}' cannot follow another (there is no AND/OR: nest IIF instead)",
                        op2.as_str()
                    ),
                ));
            }
            return Ok(Expr {
                column: lhs.column,
                kind: ExprKind::Compare {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
            });
        }
        Ok(lhs)
    }

    fn primary(&mut self, ctx: Context) -> Result<Expr, ParseError> {
        let t = self.next();
        let column = t.column;
        let kind = match t.tok {
            Tok::Attr(a) => ExprKind::Attribute(a),
            Tok::Str(s) => ExprKind::Str(s),
            Tok::Int(i) => ExprKind::Int(i),
            Tok::Hex(h) => ExprKind::Hex(h),
            Tok::Name(name) => {
                if self.peek().tok == Tok::LParen {
                    return self.call(name, column, ctx);
                }
                match name.as_str() {
                    "vbTextCompare" => ExprKind::CompareMode(CompareMode::Text),
                    "vbBinaryCompare" => ExprKind::CompareMode(CompareMode::Binary),
                    _ if Function::from_name(&name).is_some() => {
                        return Err(err(
                            self.peek().column,
                            format!(
                                "expected '(' after function name {name}, found {}",
                                self.peek().describe()
                            ),
                        ))
                    }
                    _ => {
                        return Err(err(
                            column,
                            format!(
                                "unexpected name {name}: write attributes in brackets ([{name}]) and text in double quotes (\"{name}\")"
                            ),
                        ))
                    }
                }
            }
            Tok::Eof => return Err(err(column, "unexpected end of expression")),
            _ => return Err(err(column, format!("unexpected {}", t.describe()))),
        };
        Ok(Expr { kind, column })
    }

    fn call(&mut self, name: String, column: usize, ctx: Context) -> Result<Expr, ParseError> {
        let Some(function) = Function::from_name(&name) else {
            let hint = suggest(&name)
                .map(|s| format!("; did you mean \"{s}\"?"))
                .unwrap_or_default();
            return Err(err(column, format!("unknown function \"{name}\"{hint}")));
        };
        if function == Function::SelectUniqueValue && ctx != Context::TopLevel {
            return Err(err(
                column,
                "SelectUniqueValue must be the top-level function and can't be nested",
            ));
        }
        if self.depth >= MAX_NESTING {
            return Err(err(
                column,
                format!(
                    "functions are nested more than {MAX_NESTING} levels deep here; split the expression or flatten it (e.g. Switch instead of nested IIF)"
                ),
            ));
        }
        self.depth += 1;
        let result = self.call_args(function, &name, column);
        self.depth -= 1;
        result
    }

    /// Parses the argument list of `function` (the next token is its '(').
    fn call_args(
        &mut self,
        function: Function,
        name: &str,
        column: usize,
    ) -> Result<Expr, ParseError> {
        self.next(); // '('
        let mut args: Vec<Option<Expr>> = Vec::new();
        if self.peek().tok == Tok::RParen {
            self.next();
        } else {
            loop {
                let idx = args.len();
                let t = self.peek().clone();
                if matches!(t.tok, Tok::Comma | Tok::RParen) {
                    args.push(None); // empty positional argument
                } else if t.tok == Tok::Eof {
                    return Err(err(
                        t.column,
                        format!("unexpected end of expression: {name}( is missing ')'"),
                    ));
                } else {
                    let actx = if idx == 0 && matches!(function, Function::IIF | Function::CBool) {
                        Context::Condition
                    } else {
                        Context::Argument
                    };
                    args.push(Some(self.expr(actx)?));
                }
                let t = self.next();
                match t.tok {
                    Tok::Comma => continue,
                    Tok::RParen => break,
                    Tok::Eof => {
                        return Err(err(
                            t.column,
                            format!("unexpected end of expression: {name}( is missing ')'"),
                        ))
                    }
                    _ => {
                        return Err(err(
                            t.column,
                            format!("expected ',' or ')' after argument, found {}", t.describe()),
                        ))
                    }
                }
            }
        }
        check_arity(function, &args, column)?;
        Ok(Expr {
            kind: ExprKind::Call { function, args },
            column,
        })
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn check_arity(function: Function, args: &[Option<Expr>], column: usize) -> Result<(), ParseError> {
    let spec = function.spec();
    let n = args.len();
    let name = function.name();
    let expected = match spec.max {
        Max::Fixed(m) if m == spec.min => format!("{m} argument{}", plural(m)),
        Max::Fixed(m) => format!("{} to {m} arguments", spec.min),
        Max::Unbounded => format!("at least {} argument{}", spec.min, plural(spec.min)),
    };
    if spec.even && n % 2 != 0 {
        return Err(err(
            column,
            format!(
                "{name} expects an even number of arguments (source, defaultValue, then key/value pairs), got {n}"
            ),
        ));
    }
    let too_many = matches!(spec.max, Max::Fixed(m) if n > m);
    if n < spec.min || too_many {
        return Err(err(column, format!("{name} expects {expected}, got {n}")));
    }
    for &i in spec.required {
        if args.get(i).is_some_and(Option::is_none) {
            return Err(err(
                column,
                format!("{name}: argument {} is required and can't be empty", i + 1),
            ));
        }
    }
    Ok(())
}
