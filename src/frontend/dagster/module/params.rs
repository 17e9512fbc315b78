//! The decorator arguments and parameters of a decorated function: keywords, literal dicts,
//! and each parameter's role (context, config, resource or input).

use super::*;

impl<'s, 'a> ModuleReader<'_, 's, 'a>
where
    'a: 's,
{
    pub(super) fn keywords(&mut self, call: Option<&'s ast::ExprCall>) -> Vec<(&'s str, &'s Expr)> {
        let Some(call) = call else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for kw in &call.arguments.keywords {
            match kw.arg.as_deref() {
                Some(name) => out.push((name, &kw.value)),
                None => self.add_file_opaque(
                    "kwargs_spread",
                    kw.value.range(),
                    "`**options` passed to a Dagster decorator or call: its keys are not known statically".into(),
                ),
            }
        }
        out
    }

    /// Keywords plus positional arguments named by their position.
    pub(super) fn arguments(
        &mut self,
        call: Option<&'s ast::ExprCall>,
        positional: &[&'s str],
    ) -> Vec<(&'s str, &'s Expr)> {
        let mut out = Vec::new();
        if let Some(c) = call {
            for (i, a) in c.arguments.args.iter().enumerate() {
                match positional.get(i) {
                    Some(name) => out.push((*name, a)),
                    None => self.add_file_opaque(
                        "positional_argument",
                        a.range(),
                        "an unexpected positional argument; it was not read".into(),
                    ),
                }
            }
        }
        out.extend(self.keywords(call));
        out
    }

    /// A dict's entries in source order when it is written out (a literal `{...}`), else in
    /// key order; `None` when it is not a dict with literal keys.
    pub(super) fn ordered_dict(&self, e: &'s Expr) -> Option<Vec<(String, Value, TextRange)>> {
        if let Expr::Dict(d) = e {
            let mut out = Vec::new();
            for item in &d.items {
                let (k, v) = (&item.key, &item.value);
                let Value::Str(key) = self.core.ev.eval(k.as_ref()?) else {
                    return None;
                };
                out.push((key, self.core.ev.eval(v), v.range()));
            }
            return Some(out);
        }
        match self.core.ev.eval(e) {
            Value::Dict(m) => Some(m.into_iter().map(|(k, v)| (k, v, e.range())).collect()),
            _ => None,
        }
    }

    pub(super) fn kw_str(&self, call: Option<&'s ast::ExprCall>, name: &str) -> Option<String> {
        call?
            .arguments
            .keywords
            .iter()
            .find(|k| k.arg.as_deref() == Some(name))
            .and_then(|k| self.core.ev.eval(&k.value).as_str().map(str::to_string))
    }

    pub(super) fn role(&self, index: usize, p: &'s ast::ParameterWithDefault) -> Role {
        let name = p.parameter.name.as_str();
        if let Some(ann) = &p.parameter.annotation {
            let (head, subscripted) = match &**ann {
                Expr::Subscript(s) => (&*s.value, true),
                other => (other, false),
            };
            if let Some(n) = self.api_of(head) {
                if names::is_context_annotation(&n) {
                    return Role::Context;
                }
                if names::is_resource_base(&n) || (subscripted && n == "ResourceParam") {
                    return Role::Resource;
                }
                if names::is_config_base(&n) {
                    return Role::Config;
                }
            }
            if let Expr::Name(n) = head {
                if self.resource_classes.contains(n.id.as_str()) {
                    return Role::Resource;
                }
                if self.config_classes.contains(n.id.as_str()) {
                    return Role::Config;
                }
            }
        }
        if index == 0 && matches!(name, "context" | "_context" | "_") {
            return Role::Context;
        }
        if matches!(name, "config" | "_config") {
            return Role::Config;
        }
        Role::Input
    }

    /// The function's parameters with their roles (`*args` and `**kwargs` left out).
    pub(super) fn params(&self, def: &FunctionDef<'s>) -> Vec<(&'s str, Role)> {
        let a = def.args;
        a.posonlyargs
            .iter()
            .chain(&a.args)
            .chain(&a.kwonlyargs)
            .enumerate()
            .map(|(i, p)| (p.parameter.name.as_str(), self.role(i, p)))
            .collect()
    }

    pub(super) fn context_name(&self, def: &FunctionDef<'s>) -> Option<&'s str> {
        self.params(def)
            .into_iter()
            .find(|(_, r)| *r == Role::Context)
            .map(|(n, _)| n)
    }

    pub(super) fn facts(&self, def: &FunctionDef<'s>) -> BodyFacts {
        body::scan(def.body, self.ctx.imports, self.context_name(def))
    }
}
