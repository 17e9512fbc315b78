//! Literal values: what readers can evaluate statically and writers can render back.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A statically known value, or the source of an expression that is not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A list (or tuple, or set).
    List(Vec<Value>),
    /// A dict with string keys (other keys are rendered as source).
    Dict(BTreeMap<String, Value>),
    /// A `timedelta` / `duration`, in seconds.
    Duration(f64),
    /// A `datetime` / `pendulum.datetime`.
    DateTime(DateTime),
    /// A call the evaluator recognises but keeps structured (`Asset(...)`, `Param(...)`).
    Call(CallValue),
    /// Anything else: the expression's source text.
    Expr(String),
}

/// A structured call such as `Param(3, type="integer")`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallValue {
    /// The callee as qualified by the imports (`airflow.sdk.Param`) or as written.
    pub func: String,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments.
    pub kwargs: BTreeMap<String, Value>,
}

/// A calendar date and time with an optional IANA zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateTime {
    /// Year.
    pub year: i64,
    /// Month 1–12.
    pub month: u32,
    /// Day 1–31.
    pub day: u32,
    /// Hour.
    pub hour: u32,
    /// Minute.
    pub minute: u32,
    /// Second.
    pub second: u32,
    /// Time zone name.
    pub tz: Option<String>,
}

impl DateTime {
    /// ISO 8601 text without zone (`2026-05-01T00:00:00`).
    pub fn iso(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is one (floats with no fraction count).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(*f as i64),
            Value::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }

    /// A number as float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    /// Seconds, from a duration or a plain number of seconds.
    pub fn as_seconds(&self) -> Option<f64> {
        match self {
            Value::Duration(s) => Some(*s),
            other => other.as_f64(),
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) => Some(v),
            _ => None,
        }
    }

    /// True when the value was fully evaluated (contains no `Expr`).
    pub fn is_literal(&self) -> bool {
        match self {
            Value::Expr(_) => false,
            Value::List(v) => v.iter().all(Value::is_literal),
            Value::Dict(d) => d.values().all(Value::is_literal),
            Value::Call(c) => {
                c.args.iter().all(Value::is_literal) && c.kwargs.values().all(Value::is_literal)
            }
            _ => true,
        }
    }

    /// Strings of a list of strings (non-strings skipped).
    pub fn string_list(&self) -> Vec<String> {
        match self {
            Value::List(v) => v
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            Value::Str(s) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// True when a string (or any string inside) holds a Jinja template.
    pub fn is_templated(&self) -> bool {
        match self {
            Value::Str(s) => s.contains("{{") || s.contains("{%"),
            Value::List(v) => v.iter().any(Value::is_templated),
            Value::Dict(d) => d.values().any(Value::is_templated),
            _ => false,
        }
    }
}
