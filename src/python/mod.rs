//! The Python language, knowing no framework: parsing (ruff's parser), the source/line index,
//! the AST visitor, import resolution and literal evaluation the readers share, and the printing
//! side (literals, identifiers, calls) the writers and the executor share.

pub mod compile_checks;
pub mod imports;
pub mod literal;
pub mod parse;
pub mod print;
pub mod source;
pub mod visit;

/// The Python AST (`ruff_python_ast`) with the text-range types its nodes carry.
pub mod ast {
    pub use ruff_python_ast::*;
    pub use ruff_text_size::{Ranged, TextRange, TextSize};
}

use ast::{Expr, Stmt, StmtIf};

/// The statements after an `if`'s `else:` (for an `elif`, the one nested `if` that parsing made
/// of it); empty when there is no `else`.
pub fn orelse(i: &StmtIf) -> &[Stmt] {
    match i.elif_else_clauses.as_slice() {
        [clause] if clause.test.is_none() => &clause.body,
        _ => &[],
    }
}

/// The value of a plain string literal (implicit concatenations joined); `None` for anything
/// else, f-strings included.
pub fn str_literal(e: &Expr) -> Option<&str> {
    match e {
        Expr::StringLiteral(s) => Some(s.value.to_str()),
        _ => None,
    }
}

/// Python's builtin names (functions, types, constants and the common exceptions): a generated
/// function must not be named like one its body may call.
pub const BUILTINS: &[&str] = &[
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
    "__import__",
    "BaseException",
    "Exception",
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "KeyError",
    "IndexError",
    "LookupError",
    "NameError",
    "OSError",
    "RuntimeError",
    "StopIteration",
    "TypeError",
    "ValueError",
    "ZeroDivisionError",
    "NotImplemented",
    "Ellipsis",
    "None",
    "True",
    "False",
];

/// Whether a name is one of Python's builtins ([`BUILTINS`]).
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}
