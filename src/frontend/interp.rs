//! The one static interpreter core the three readers share: scopes and binding of every target
//! shape, the dispatch of every statement kind, literal-loop unrolling within budgets,
//! helper-function following, the `if __name__ == "__main__":` guard, opaque entries and
//! diagnostics. A reader implements [`Reader`]: what its objects are, what an expression
//! evaluates to, and the framework rule each hook gives a statement.

use std::collections::HashMap;

use crate::frontend::FileContext;
use crate::frontend::callable::FunctionDef;
use crate::ir::{Diagnostic, Opaque, Pipeline, Severity, Span, Value};
use crate::python::ast::{self, Expr, Ranged, Stmt, TextRange};
use crate::python::imports::ImportMap;
use crate::python::literal::Evaluator;
use crate::python::source::SourceText;

/// How deep helper functions are followed before giving up.
pub const MAX_INLINE_DEPTH: usize = 8;

/// The state every reader keeps while it interprets one module.
pub struct Core<'s, 'a, O> {
    /// The source text.
    pub src: &'s SourceText<'a>,
    /// The module's resolved imports.
    pub imports: &'s ImportMap,
    /// The literal evaluator, with the names bound to plain values so far.
    pub ev: Evaluator<'s, 'a>,
    /// Name scopes, innermost last; the first is the module's.
    pub scopes: Vec<HashMap<String, O>>,
    /// What the function being followed returned (stops its block).
    pub returned: Option<O>,
    /// How many helper functions are being followed.
    pub inline_depth: usize,
    /// Loop iterations unrolled so far in this file (see [`Reader::MAX_TOTAL_UNROLL`]).
    pub unrolled: usize,
    /// Problems found.
    pub diagnostics: Vec<Diagnostic>,
    /// Opaque entries outside any pipeline (the file's first pipeline lists them).
    pub file_opaque: Vec<Opaque>,
    /// The statement being read (where a budget warning points).
    pub at: TextRange,
    /// Whether the file already has its `value-budget` warning.
    pub value_budget_warned: bool,
}

pub use crate::python::literal::MAX_BOUND_WEIGHT;

impl<'s, 'a, O> Core<'s, 'a, O> {
    /// A core over a parsed module, with its module constants bound.
    pub fn new(ctx: &FileContext<'s, 'a>) -> Self {
        Core {
            src: ctx.src,
            imports: ctx.imports,
            ev: ctx.evaluator(),
            scopes: vec![HashMap::new()],
            returned: None,
            inline_depth: 0,
            unrolled: 0,
            diagnostics: Vec::new(),
            file_opaque: Vec::new(),
            at: TextRange::default(),
            value_budget_warned: false,
        }
    }

    /// Warns (once per file) that `name` was bound to a value over [`MAX_BOUND_WEIGHT`] at the
    /// statement being read.
    pub fn value_too_heavy(&mut self, name: &str) {
        if std::mem::replace(&mut self.value_budget_warned, true) {
            return;
        }
        let span = self.src.span(self.at);
        self.diagnostics.push(Diagnostic {
            severity: Severity::Warning,
            code: "value-budget".into(),
            line: Some(span.line),
            span: Some(span),
            message: format!(
                "`{name}` would hold a value of more than {MAX_BOUND_WEIGHT} parts here (a very large literal, or one built from shared references such as `L = [L, L]`); orchmig reads it as unknown from here on, in this and later statements of the file"
            ),
            help: Some(
                "keep module data small and flat, or load it at run time (a file, a Variable); tasks built from it are opaque".into(),
            ),
        });
    }

    /// Gives the opaque entries outside any pipeline to the first pipeline, ahead of its own.
    pub fn hand_over_opaque(&mut self, pipelines: &mut [Pipeline]) {
        if let Some(first) = pipelines.first_mut() {
            first
                .opaque
                .splice(0..0, std::mem::take(&mut self.file_opaque));
        }
    }

    /// The span of a source range.
    pub fn span(&self, range: TextRange) -> Span {
        self.src.span(range)
    }

    /// The source text of a node.
    pub fn text(&self, node: &impl Ranged) -> &'a str {
        self.src.slice(node.range())
    }

    /// An opaque entry for a construct: its first line (at most 120 characters) and why.
    pub fn opaque_entry(&self, kind: &str, range: TextRange, why: String) -> Opaque {
        let span = self.span(range);
        let source = self
            .src
            .slice(range)
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(120)
            .collect::<String>();
        Opaque {
            kind: kind.into(),
            line: span.line,
            span,
            why,
            source: Some(source),
        }
    }

    /// Records a diagnostic with its span and a help line.
    pub fn diagnostic(
        &mut self,
        severity: Severity,
        code: &str,
        span: Span,
        message: String,
        help: &str,
    ) {
        self.diagnostics.push(Diagnostic {
            severity,
            code: code.into(),
            line: Some(span.line),
            span: Some(span),
            message,
            help: Some(help.into()),
        });
    }

    /// What a name is bound to, innermost scope first.
    pub fn lookup(&self, name: &str) -> Option<&O> {
        self.scopes.iter().rev().find_map(|scope| scope.get(name))
    }

    /// True while the module's own statements run (no function is being followed).
    pub fn at_module_level(&self) -> bool {
        self.scopes.len() == 1
    }

    /// The qualified name a callee resolves to through the imports, unless a local binding
    /// shadows the imported name.
    pub fn qualify_unshadowed(&self, func: &Expr) -> Option<String> {
        if let Expr::Name(n) = func
            && self.lookup(n.id.as_str()).is_some()
        {
            return None;
        }
        self.imports.qualify(func)
    }

    /// True when a loop of `n` iterations may still be unrolled within the budgets (and counts
    /// them against the file's budget).
    pub fn may_unroll(&mut self, n: usize, max: usize, total: usize) -> bool {
        if n > max || self.unrolled.saturating_add(n) > total {
            return false;
        }
        self.unrolled += n;
        true
    }

    /// The elements of `d.items()`, `d.keys()` or `d.values()` over a statically known dict.
    pub fn dict_view_items(&self, iter: &Expr) -> Option<Vec<Value>> {
        let Expr::Call(c) = iter else { return None };
        let Expr::Attribute(a) = &*c.func else {
            return None;
        };
        let Value::Dict(map) = self.ev.eval(&a.value) else {
            return None;
        };
        match a.attr.as_str() {
            "items" => Some(
                map.into_iter()
                    .map(|(k, v)| Value::List(vec![Value::Str(k), v]))
                    .collect(),
            ),
            "keys" => Some(map.into_keys().map(Value::Str).collect()),
            "values" => Some(map.into_values().collect()),
            _ => None,
        }
    }

    /// The elements of `enumerate(LIST)` and `zip(LIST, ...)` over statically known lists.
    pub fn zipped_items(&self, iter: &Expr) -> Option<Vec<Value>> {
        let Expr::Call(c) = iter else { return None };
        let Expr::Name(n) = &*c.func else { return None };
        let lists: Option<Vec<Vec<Value>>> = c
            .arguments
            .args
            .iter()
            .map(|a| match self.ev.eval(a) {
                Value::List(v) => Some(v),
                _ => None,
            })
            .collect();
        match (n.id.as_str(), lists?.as_slice()) {
            ("enumerate", [items]) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Value::List(vec![Value::Int(i as i64), v.clone()]))
                    .collect(),
            ),
            ("zip", lists) if !lists.is_empty() => {
                let n = lists.iter().map(Vec::len).min().unwrap_or(0);
                Some(
                    (0..n)
                        .map(|i| Value::List(lists.iter().map(|l| l[i].clone()).collect()))
                        .collect(),
                )
            }
            _ => None,
        }
    }

    /// The value of `target op= value` as plain literals.
    pub fn eval_aug_assign(&self, a: &ast::StmtAugAssign) -> Value {
        self.ev.eval(&Expr::BinOp(ast::ExprBinOp {
            node_index: ast::AtomicNodeIndex::default(),
            range: a.range,
            left: a.target.clone(),
            op: a.op,
            right: a.value.clone(),
        }))
    }
}

/// The elements of a plain value a `for` loop may unroll: a list's items, a dict's keys and,
/// with `chars`, a string's characters.
pub fn sequence_items(v: &Value, chars: bool) -> Option<Vec<Value>> {
    match v {
        Value::List(items) => Some(items.clone()),
        Value::Dict(m) => Some(m.keys().cloned().map(Value::Str).collect()),
        Value::Str(text) if chars => {
            Some(text.chars().map(|c| Value::Str(c.to_string())).collect())
        }
        _ => None,
    }
}

/// A decorator's callee and, for `@d(...)`, its call.
pub fn decorator_parts(d: &ast::Decorator) -> (&Expr, Option<&ast::ExprCall>) {
    match &d.expression {
        Expr::Call(c) => (&*c.func, Some(c)),
        other => (other, None),
    }
}

/// True for `if __name__ == "__main__":` (any comparison of `__name__`).
pub fn is_main_guard(test: &Expr) -> bool {
    let Expr::Compare(c) = test else { return false };
    matches!(&*c.left, Expr::Name(n) if n.id.as_str() == "__name__")
}

/// True when an expression contains a call anywhere (so evaluating it may build something).
pub fn expr_calls_anything(e: &Expr) -> bool {
    let mut found = false;
    crate::python::visit::expr(e, &mut |x| found |= matches!(x, Expr::Call(_)));
    found
}

/// The accessors of a [`Reader`] whose state is in a `core` field and whose objects hold plain
/// values as `Obj::Value`.
macro_rules! value_reader {
    ($s:lifetime, $a:lifetime, $obj:ty) => {
        fn core(&self) -> &$crate::frontend::interp::Core<$s, $a, $obj> {
            &self.core
        }

        fn core_mut(&mut self) -> &mut $crate::frontend::interp::Core<$s, $a, $obj> {
            &mut self.core
        }

        fn value(v: Value) -> $obj {
            Obj::Value(v)
        }

        fn plain(obj: &$obj) -> Option<Value> {
            match obj {
                Obj::Value(v) => Some(v.clone()),
                _ => None,
            }
        }
    };
}
pub(crate) use value_reader;

/// A `for` loop that was not unrolled, and why.
pub struct Unread<'s, O> {
    /// The whole statement.
    pub stmt: &'s Stmt,
    /// The loop.
    pub lp: &'s ast::StmtFor,
    /// What the iterable evaluated to.
    pub iterable: O,
    /// True when the file's unroll budget (not the loop itself) stopped it.
    pub over_budget: bool,
}

/// What entering one `with` item did.
pub enum Entered<O> {
    /// The context value, bound to the `as` target if there is one.
    Bind(O),
    /// Nothing to bind.
    Skip,
    /// The hook read the body itself; the statement is done.
    BodyRead,
}

/// A framework's reader on the shared core: its objects, its expressions and its rules.
pub trait Reader<'s, 'a: 's>: Sized {
    /// What an expression evaluates to for this framework.
    type Obj: Clone;
    /// What [`Reader::context_mark`] saves before a `with` statement.
    type Mark;
    /// Most iterations unrolled from one loop over a literal.
    const MAX_UNROLL: usize;
    /// Most loop iterations unrolled in one file, nested loops included.
    const MAX_TOTAL_UNROLL: usize;
    /// The shared state.
    fn core(&self) -> &Core<'s, 'a, Self::Obj>;
    /// The shared state, mutably.
    fn core_mut(&mut self) -> &mut Core<'s, 'a, Self::Obj>;
    /// An object holding a plain value.
    fn value(v: Value) -> Self::Obj;
    /// The weight of an object (its plain values' parts, its references) if it is at most
    /// `budget`; `None` as soon as it is more. Must stop at the budget however the object nests.
    fn weight_within(obj: &Self::Obj, budget: usize) -> Option<usize>;
    /// The plain value an object holds, which the literal evaluator may see under its name.
    fn plain(obj: &Self::Obj) -> Option<Value>;
    /// What an expression evaluates to.
    fn expr(&mut self, e: &'s Expr) -> Self::Obj;
    /// Records an opaque entry where this reader keeps them.
    fn record_opaque(&mut self, entry: Opaque);

    // ----- hooks with the common rule as default ----------------------------------------

    /// Called after a name is bound.
    fn on_bind(&mut self, _name: &str, _obj: &Self::Obj) {}

    /// The objects the elements of a tuple or list target receive (one each, a starred
    /// element included).
    fn unpack(&self, obj: &Self::Obj, elts: &'s [Expr]) -> Vec<Self::Obj> {
        self.unpack_sequence(obj, elts)
    }

    /// The elements of an object that a tuple target unpacks, when they are known statically.
    fn sequence(&self, obj: &Self::Obj) -> Option<Vec<Self::Obj>> {
        self.plain_sequence(obj)
    }

    /// The plain values of a list, one object each.
    fn plain_sequence(&self, obj: &Self::Obj) -> Option<Vec<Self::Obj>> {
        match Self::plain(obj) {
            Some(Value::List(items)) => Some(items.into_iter().map(Self::value).collect()),
            _ => None,
        }
    }

    /// The list a starred target takes from elements of [`Reader::sequence`].
    fn collect(&self, items: Vec<Self::Obj>) -> Self::Obj {
        Self::value(Value::List(items.iter().filter_map(Self::plain).collect()))
    }

    /// A target that is not a name, tuple, list or starred name (a subscript, an attribute).
    fn bind_other(&mut self, _target: &'s Expr, _obj: Self::Obj) {}

    /// Any statement, before the core's rule for its kind: true when the reader read it whole
    /// (the core then does not), false to let the core run it.
    fn own_stmt(&mut self, _stmt: &'s Stmt) -> bool {
        false
    }

    /// An expression statement.
    fn expr_stmt(&mut self, e: &'s Expr) {
        self.expr(e);
    }

    /// `targets = value`.
    fn assign(&mut self, a: &'s ast::StmtAssign) {
        let obj = self.expr(&a.value);
        self.bind_all(&a.targets, obj);
    }

    /// `name op= value` where the name held `old`: the new object, or `None` to evaluate the
    /// statement as plain literals.
    fn augment(&mut self, _name: &str, _added: Self::Obj) -> Option<Self::Obj> {
        None
    }

    /// `target op= value` where the target is not a name.
    fn augment_other(&mut self, _a: &'s ast::StmtAugAssign) {}

    /// A `def` (its decorators decide what it is).
    fn define_function(&mut self, def: FunctionDef<'s>);

    /// A `class` statement.
    fn class_def(&mut self, _c: &'s ast::StmtClassDef) {}

    /// The body of `if __name__ == "__main__":` (not part of importing the module).
    fn main_guard(&mut self, _body: &'s [Stmt]) {}

    /// True when statements may build what this reader records, so a condition or a loop
    /// around them that is not known statically is worth an opaque entry.
    fn builds_in(&self, _body: &'s [Stmt]) -> bool {
        false
    }

    /// An `if` whose condition is not known statically: both branches are read, under an
    /// opaque `conditional` entry where they build something.
    fn unknown_if(&mut self, i: &'s ast::StmtIf) {
        if self.builds_in(&i.body) || self.builds_in(crate::python::orelse(i)) {
            self.opaque(
                "conditional",
                &*i.test,
                "the condition is not known statically; both branches were read".into(),
            );
        }
        self.block(&i.body);
        self.block(crate::python::orelse(i));
    }

    /// A `try` statement: its body, each handler, then `else` and `finally`.
    fn try_stmt(&mut self, t: &'s ast::StmtTry) {
        self.block(&t.body);
        for h in &t.handlers {
            self.except_handler(h);
        }
        self.block(&t.orelse);
        self.block(&t.finalbody);
    }

    /// One `except` clause of a `try` statement. It runs only when the `try` body raises: where
    /// it builds something it is read under an opaque `conditional` entry (as an unknown `if`);
    /// otherwise it is skipped, so an `except ImportError: Op = None` fallback does not undo
    /// the binding the `try` body made.
    fn except_handler(&mut self, h: &'s ast::ExceptHandler) {
        let ast::ExceptHandler::ExceptHandler(h) = h;
        if !self.builds_in(&h.body) {
            return;
        }
        let what = h.type_.as_deref().map_or_else(
            || "an exception".to_string(),
            |t| self.core().text(t).to_string(),
        );
        self.opaque(
            "conditional",
            h,
            format!("runs only when the try body raises `{what}`; it was read"),
        );
        self.block(&h.body);
    }

    /// A `match` statement, whose subject is not known statically: every case body is read,
    /// under an opaque `conditional` entry where they build something (as an unknown `if`).
    fn match_stmt(&mut self, m: &'s ast::StmtMatch) {
        if m.cases.iter().any(|c| self.builds_in(&c.body)) {
            self.opaque(
                "conditional",
                &*m.subject,
                "the match subject is not known statically; every case was read".into(),
            );
        }
        for case in &m.cases {
            self.block(&case.body);
        }
    }

    /// What a `while` loop's opaque entry says is not read.
    const WHILE_UNREAD: &'static str = "its body was not read";

    /// A `while` loop (its iterations are never known statically): not read, an opaque
    /// `dynamic_loop` entry where its body builds something.
    fn while_loop(&mut self, w: &'s ast::StmtWhile, _stmt: &'s Stmt) {
        if self.builds_in(&w.body) {
            let why = format!(
                "a `while` loop's iterations are not known statically; {}",
                Self::WHILE_UNREAD
            );
            self.opaque("dynamic_loop", w, why);
        }
    }

    /// What a `for` loop's iterable evaluates to; `spent` when the file's unroll budget is.
    fn loop_iterable(&mut self, iter: &'s Expr, _spent: bool) -> Self::Obj {
        self.expr(iter)
    }

    /// The elements a `for` loop over `iterable` takes, if they are known statically; `spent`
    /// when the file's unroll budget is.
    fn loop_items(
        &mut self,
        iter: &'s Expr,
        iterable: &Self::Obj,
        spent: bool,
    ) -> Option<Vec<Self::Obj>>;

    /// Binds a loop target to one element of an unrolled loop.
    fn bind_loop_item(&mut self, target: &'s Expr, item: Self::Obj) {
        self.bind_target(target, item);
    }

    /// A `for` loop that is not unrolled.
    fn unread_loop(&mut self, lp: Unread<'s, Self::Obj>);

    /// Saves what `with` items may push (contexts), to restore after the body.
    fn context_mark(&self) -> Self::Mark;

    /// Restores the contexts saved before a `with` statement.
    fn restore_context(&mut self, mark: Self::Mark);

    /// Enters one `with` item; `sole` when it is the statement's only item.
    fn enter(
        &mut self,
        item: &'s ast::WithItem,
        _sole: bool,
        _body: &'s [Stmt],
    ) -> Entered<Self::Obj> {
        Entered::Bind(self.expr(&item.context_expr))
    }

    // ----- shared machinery ---------------------------------------------------------------

    /// Records an opaque entry for a node of the source.
    fn opaque(&mut self, kind: &str, node: &impl Ranged, why: String) {
        let entry = self.core().opaque_entry(kind, node.range(), why);
        self.record_opaque(entry);
    }

    /// Evaluates a call's arguments, positional then keyword, as Python does before the call.
    fn call_args(&mut self, call: &'s ast::ExprCall) -> Vec<Self::Obj> {
        let mut out = Vec::new();
        for a in &call.arguments.args {
            out.push(self.expr(a));
        }
        for k in &call.arguments.keywords {
            out.push(self.expr(&k.value));
        }
        out
    }

    /// Binds a name in the innermost scope; plain values are also seen by the literal evaluator.
    fn bind(&mut self, name: &str, obj: Self::Obj) {
        let obj = if Self::weight_within(&obj, MAX_BOUND_WEIGHT).is_none() {
            self.core_mut().value_too_heavy(name);
            Self::value(Value::Expr(name.to_string()))
        } else {
            obj
        };
        let core = self.core_mut();
        match Self::plain(&obj) {
            Some(v) => {
                core.ev.names.insert(name.to_string(), v);
            }
            None => {
                core.ev.names.remove(name);
            }
        }
        self.on_bind(name, &obj);
        if let Some(scope) = self.core_mut().scopes.last_mut() {
            scope.insert(name.to_string(), obj);
        }
    }

    /// Binds every target of an assignment to the same object.
    fn bind_all(&mut self, targets: &'s [Expr], obj: Self::Obj) {
        for t in targets {
            self.bind_target(t, obj.clone());
        }
    }

    /// Binds an assignment target of any shape: names, nested tuples and lists, starred names.
    fn bind_target(&mut self, target: &'s Expr, obj: Self::Obj) {
        match target {
            Expr::Name(n) => self.bind(n.id.as_str(), obj),
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                let parts = self.unpack(&obj, elts);
                for (elt, part) in elts.iter().zip(parts) {
                    self.bind_target(elt, part);
                }
            }
            Expr::Starred(s) => self.bind_target(&s.value, obj),
            other => self.bind_other(other, obj),
        }
    }

    /// The elements of a known sequence, one for each element of the target and the rest
    /// (as a list) for its starred element, as Python unpacks; else each element bound to its
    /// own source text.
    fn unpack_sequence(&self, obj: &Self::Obj, elts: &'s [Expr]) -> Vec<Self::Obj> {
        let star = elts.iter().position(|e| matches!(e, Expr::Starred(_)));
        match (self.sequence(obj), star) {
            (Some(items), None) if items.len() == elts.len() => items,
            (Some(mut items), Some(k)) if items.len() + 1 >= elts.len() => {
                let after = items.split_off(items.len() + 1 + k - elts.len());
                let starred = items.split_off(k);
                items.push(self.collect(starred));
                items.extend(after);
                items
            }
            _ => self.unknown_parts(elts),
        }
    }

    /// Each element of a target bound to its own source text (values not known statically);
    /// a starred element to its name's.
    fn unknown_parts(&self, elts: &'s [Expr]) -> Vec<Self::Obj> {
        elts.iter()
            .map(|e| {
                let e = match e {
                    Expr::Starred(s) => &*s.value,
                    other => other,
                };
                Self::value(Value::Expr(self.core().text(e).to_string()))
            })
            .collect()
    }

    /// Runs the statements of a block until one returns.
    fn block(&mut self, stmts: &'s [Stmt]) {
        for stmt in stmts {
            if self.core().returned.is_some() {
                return;
            }
            self.stmt(stmt);
        }
    }

    /// Runs one statement: every statement kind is dispatched here, once.
    fn stmt(&mut self, stmt: &'s Stmt) {
        self.core_mut().at = stmt.range();
        if self.own_stmt(stmt) {
            return;
        }
        match stmt {
            Stmt::Expr(e) => self.expr_stmt(&e.value),
            Stmt::Assign(a) => self.assign(a),
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    let obj = self.expr(v);
                    self.bind_target(&a.target, obj);
                }
            }
            Stmt::AugAssign(a) => self.aug_assign(a),
            Stmt::FunctionDef(_) => {
                if let Some(def) = FunctionDef::of(stmt) {
                    self.define_function(def);
                }
            }
            Stmt::ClassDef(c) => self.class_def(c),
            Stmt::Return(r) => {
                let obj = match &r.value {
                    Some(v) => self.expr(v),
                    None => Self::value(Value::None),
                };
                self.core_mut().returned = Some(obj);
            }
            Stmt::If(i) => self.if_stmt(i),
            Stmt::For(f) => self.for_loop(f, stmt),
            Stmt::While(w) => self.while_loop(w, stmt),
            Stmt::With(w) => self.with_stmt(w),
            Stmt::Try(t) => self.try_stmt(t),
            Stmt::Match(m) => self.match_stmt(m),
            _ => {}
        }
    }

    /// `target op= value`.
    fn aug_assign(&mut self, a: &'s ast::StmtAugAssign) {
        let Expr::Name(n) = &*a.target else {
            self.augment_other(a);
            return;
        };
        let added = self.expr(&a.value);
        let name = n.id.as_str();
        let obj = match self.augment(name, added) {
            Some(obj) => obj,
            None => Self::value(self.core().eval_aug_assign(a)),
        };
        self.bind(name, obj);
    }

    /// An `if`: the main guard, a branch known statically, or both branches.
    fn if_stmt(&mut self, i: &'s ast::StmtIf) {
        if is_main_guard(&i.test) {
            self.main_guard(&i.body);
            return;
        }
        match self.core().ev.eval(&i.test) {
            Value::Bool(true) => self.block(&i.body),
            Value::Bool(false) => self.block(crate::python::orelse(i)),
            _ => self.unknown_if(i),
        }
    }

    /// A `for` loop: unrolled over a literal within the budgets, else handed to
    /// [`Reader::unread_loop`]; then its `else:` body.
    fn for_loop(&mut self, f: &'s ast::StmtFor, stmt: &'s Stmt) {
        // Past the budget, the iterable is not even built (`range(10000)` in every one of
        // 10,000 outer iterations is 10^8 values).
        let spent = self.core().unrolled >= Self::MAX_TOTAL_UNROLL;
        let iterable = self.loop_iterable(&f.iter, spent);
        let items = self.loop_items(&f.iter, &iterable, spent);
        let fits = items.as_ref().is_some_and(|i| i.len() <= Self::MAX_UNROLL);
        let over_budget = match &items {
            None => spent,
            Some(i) => {
                fits && self.core().unrolled.saturating_add(i.len()) > Self::MAX_TOTAL_UNROLL
            }
        };
        match items {
            Some(items) if fits && !over_budget => {
                self.core_mut().unrolled += items.len();
                for item in items {
                    self.bind_loop_item(&f.target, item);
                    self.block(&f.body);
                    if self.core().returned.is_some() {
                        return;
                    }
                }
            }
            _ => self.unread_loop(Unread {
                stmt,
                lp: f,
                iterable,
                over_budget,
            }),
        }
        self.block(&f.orelse);
    }

    /// A `with` statement: its items enter contexts (or are bound), then its body runs.
    fn with_stmt(&mut self, w: &'s ast::StmtWith) {
        let mark = self.context_mark();
        let sole = w.items.len() == 1;
        for item in &w.items {
            match self.enter(item, sole, &w.body) {
                Entered::Bind(obj) => {
                    if let Some(target) = &item.optional_vars {
                        self.bind_target(target, obj);
                    }
                }
                Entered::Skip => {}
                Entered::BodyRead => return,
            }
        }
        self.block(&w.body);
        self.restore_context(mark);
    }

    /// Follows a call into a local function: binds its parameters to the call's arguments
    /// (defaults, else the parameter's name as an expression), reads its body in a new scope,
    /// and returns what it returned with the evaluated arguments. Too deep a nesting is an
    /// opaque `deep_call`.
    fn follow(
        &mut self,
        def: &FunctionDef<'s>,
        call: &'s ast::ExprCall,
    ) -> (Self::Obj, Vec<Self::Obj>) {
        if self.core().inline_depth >= MAX_INLINE_DEPTH {
            self.opaque(
                "deep_call",
                call,
                "helper functions nest too deeply to follow".into(),
            );
            return (Self::value(Value::None), Vec::new());
        }
        let mut bound: Vec<(String, Self::Obj)> = Vec::new();
        let mut args = Vec::new();
        let names = def.positional_names();
        for (i, a) in call.arguments.args.iter().enumerate() {
            let obj = self.expr(a);
            args.push(obj.clone());
            if let Some(n) = names.get(i) {
                bound.push((n.to_string(), obj));
            }
        }
        for kw in &call.arguments.keywords {
            let obj = self.expr(&kw.value);
            args.push(obj.clone());
            if let Some(name) = &kw.arg {
                bound.push((name.to_string(), obj));
            }
        }
        let all_args = def
            .args
            .posonlyargs
            .iter()
            .chain(&def.args.args)
            .chain(&def.args.kwonlyargs);
        for a in all_args {
            let name = a.parameter.name.as_str();
            if !bound.iter().any(|(n, _)| n == name) {
                let v = match &a.default {
                    Some(d) => self.core().ev.eval(d),
                    None => Value::Expr(name.to_string()),
                };
                bound.push((name.to_string(), Self::value(v)));
            }
        }
        let core = self.core_mut();
        let saved_names = core.ev.names.clone();
        let saved_return = core.returned.take();
        core.scopes.push(HashMap::new());
        core.inline_depth += 1;
        for (n, o) in bound {
            self.bind(&n, o);
        }
        self.block(def.body);
        let core = self.core_mut();
        core.inline_depth -= 1;
        core.scopes.pop();
        core.ev.names = saved_names;
        let ret = core.returned.take().unwrap_or(Self::value(Value::None));
        core.returned = saved_return;
        (ret, args)
    }
}

#[cfg(test)]
mod tests;
