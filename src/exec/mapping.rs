//! Dynamic mapping: how many instances a mapped step expands to and which element of each
//! mapped argument an instance receives (Airflow crosses several mapped arguments, Prefect zips them).

use crate::ir::{Framework, Value};

/// How several mapped arguments combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// Every combination (Airflow `expand(a=…, b=…)`).
    Product,
    /// Element-wise, as long as the shortest (Prefect `map`, Dagster dynamic outputs).
    Zip,
}

impl Combine {
    /// How the source framework combines several mapped arguments.
    pub fn of(framework: Option<Framework>) -> Combine {
        match framework {
            Some(Framework::Airflow) => Combine::Product,
            _ => Combine::Zip,
        }
    }
}

/// The length of a literal collection (list, or dict for `expand_kwargs`-style), if it is one.
pub fn literal_len(v: &Value) -> Option<usize> {
    match v {
        Value::List(items) => Some(items.len()),
        Value::Dict(d) => Some(d.len()),
        _ => None,
    }
}

/// The number of instances for mapped arguments of the given lengths.
pub fn width(lens: &[usize], how: Combine) -> usize {
    if lens.is_empty() {
        return 0;
    }
    match how {
        Combine::Zip => lens.iter().copied().min().unwrap_or(0),
        Combine::Product => lens
            .iter()
            .try_fold(1usize, |acc, l| acc.checked_mul(*l))
            .unwrap_or(usize::MAX),
    }
}

/// The element index of each mapped argument that instance `i` receives.
pub fn element_indices(i: usize, lens: &[usize], how: Combine) -> Vec<usize> {
    match how {
        Combine::Zip => vec![i; lens.len()],
        Combine::Product => {
            // The last argument varies fastest, as Airflow orders a cross product.
            let mut out = vec![0; lens.len()];
            let mut rest = i;
            for (k, len) in lens.iter().enumerate().rev() {
                let len = (*len).max(1);
                out[k] = rest % len;
                rest /= len;
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_and_indices() {
        assert_eq!(width(&[3, 2], Combine::Product), 6);
        assert_eq!(width(&[3, 2], Combine::Zip), 2);
        assert_eq!(width(&[], Combine::Zip), 0);
        assert_eq!(width(&[0, 5], Combine::Product), 0);
        assert_eq!(element_indices(4, &[3, 2], Combine::Product), vec![2, 0]);
        assert_eq!(element_indices(1, &[3, 2], Combine::Product), vec![0, 1]);
        assert_eq!(element_indices(1, &[3, 2], Combine::Zip), vec![1, 1]);
        assert_eq!(width(&[usize::MAX, 2], Combine::Product), usize::MAX);
        assert_eq!(
            literal_len(&Value::List(vec![Value::Int(1), Value::Int(2)])),
            Some(2)
        );
        assert_eq!(literal_len(&Value::Expr("xs".into())), None);
    }
}
