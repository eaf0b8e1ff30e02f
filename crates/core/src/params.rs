//! Workload parameters: typed values, their specs, and parsing of user overrides.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One parameter value. Serialised as a plain JSON number, boolean or string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A whole number.
    Int(u64),
    /// A real number.
    Float(f64),
    /// A flag.
    Bool(bool),
    /// One of a fixed set of names.
    Text(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v}"),
            ParamValue::Bool(v) => write!(f, "{v}"),
            ParamValue::Text(v) => f.write_str(v),
        }
    }
}

/// The parameters of one cell, ordered by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Params(pub BTreeMap<String, ParamValue>);

impl Params {
    /// Builds parameters from `(name, value)` pairs.
    pub fn from_pairs<I, K>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, ParamValue)>,
        K: Into<String>,
    {
        Params(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The value named `name`.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.get(name)
    }

    /// A whole-number parameter.
    ///
    /// # Errors
    ///
    /// [`ParamError::Missing`] or [`ParamError::WrongType`].
    pub fn int(&self, name: &str) -> Result<u64, ParamError> {
        match self.get(name) {
            Some(ParamValue::Int(v)) => Ok(*v),
            Some(other) => Err(ParamError::wrong_type(name, "a whole number", other)),
            None => Err(ParamError::Missing(name.to_string())),
        }
    }

    /// A real-number parameter (whole numbers are accepted).
    ///
    /// # Errors
    ///
    /// [`ParamError::Missing`] or [`ParamError::WrongType`].
    pub fn float(&self, name: &str) -> Result<f64, ParamError> {
        match self.get(name) {
            Some(ParamValue::Float(v)) => Ok(*v),
            Some(ParamValue::Int(v)) => Ok(*v as f64),
            Some(other) => Err(ParamError::wrong_type(name, "a number", other)),
            None => Err(ParamError::Missing(name.to_string())),
        }
    }

    /// A boolean parameter.
    ///
    /// # Errors
    ///
    /// [`ParamError::Missing`] or [`ParamError::WrongType`].
    pub fn flag(&self, name: &str) -> Result<bool, ParamError> {
        match self.get(name) {
            Some(ParamValue::Bool(v)) => Ok(*v),
            Some(other) => Err(ParamError::wrong_type(name, "true or false", other)),
            None => Err(ParamError::Missing(name.to_string())),
        }
    }

    /// A text parameter.
    ///
    /// # Errors
    ///
    /// [`ParamError::Missing`] or [`ParamError::WrongType`].
    pub fn text(&self, name: &str) -> Result<&str, ParamError> {
        match self.get(name) {
            Some(ParamValue::Text(v)) => Ok(v),
            Some(other) => Err(ParamError::wrong_type(name, "a name", other)),
            None => Err(ParamError::Missing(name.to_string())),
        }
    }
}

impl fmt::Display for Params {
    /// `name=value` pairs joined by commas, in name order (`n=1000,op=yield`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

/// What values a parameter accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamKind {
    /// A whole number in `min..=max`.
    Int {
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value (beyond it the cell would not fit in memory or time).
        max: u64,
    },
    /// A real number in `min..=max`.
    Float {
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
    },
    /// `true` or `false`.
    Bool,
    /// One of these names.
    Choice(&'static [&'static str]),
}

/// The description of one parameter of a workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// Name, as used in `--param name=value` and in results.
    pub name: &'static str,
    /// What it means.
    pub doc: &'static str,
    /// Accepted values.
    pub kind: ParamKind,
}

impl ParamSpec {
    /// Parses a user-given value for this parameter.
    ///
    /// # Errors
    ///
    /// [`ParamError::Invalid`] naming the parameter, the value and what is accepted.
    pub fn parse(&self, raw: &str) -> Result<ParamValue, ParamError> {
        let raw = raw.trim();
        let invalid = |expected: String| ParamError::Invalid {
            name: self.name.to_string(),
            value: raw.to_string(),
            expected,
        };
        match self.kind {
            ParamKind::Int { min, max } => {
                let expected = || format!("a whole number from {min} to {max}");
                let v: u64 = raw
                    .replace('_', "")
                    .parse()
                    .map_err(|_| invalid(expected()))?;
                if v < min || v > max {
                    return Err(invalid(expected()));
                }
                Ok(ParamValue::Int(v))
            }
            ParamKind::Float { min, max } => {
                let expected = || format!("a number from {min} to {max}");
                let v: f64 = raw.parse().map_err(|_| invalid(expected()))?;
                if !v.is_finite() || v < min || v > max {
                    return Err(invalid(expected()));
                }
                Ok(ParamValue::Float(v))
            }
            ParamKind::Bool => match raw {
                "true" | "1" | "yes" => Ok(ParamValue::Bool(true)),
                "false" | "0" | "no" => Ok(ParamValue::Bool(false)),
                _ => Err(invalid("true or false".to_string())),
            },
            ParamKind::Choice(names) => {
                if names.contains(&raw) {
                    Ok(ParamValue::Text(raw.to_string()))
                } else {
                    Err(invalid(format!("one of {}", names.join(", "))))
                }
            }
        }
    }

    /// Checks an already-typed value (for example one read back from a results file).
    ///
    /// # Errors
    ///
    /// [`ParamError::Invalid`] when the value is of the wrong type or out of range.
    pub fn check(&self, value: &ParamValue) -> Result<(), ParamError> {
        self.parse(&value.to_string()).map(|_| ())
    }

    /// A one-line description of the accepted values.
    pub fn accepted(&self) -> String {
        match self.kind {
            ParamKind::Int { min, max } => format!("{min}..={max}"),
            ParamKind::Float { min, max } => format!("{min}..={max}"),
            ParamKind::Bool => "true|false".to_string(),
            ParamKind::Choice(names) => names.join("|"),
        }
    }
}

/// A parameter problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// A required parameter is absent.
    #[error("missing parameter `{0}`")]
    Missing(String),
    /// A parameter has a value of the wrong type.
    #[error("parameter `{name}` should be {expected}, got `{value}`")]
    WrongType {
        /// Parameter name.
        name: String,
        /// What was expected.
        expected: &'static str,
        /// What was given.
        value: String,
    },
    /// A value is outside what the parameter accepts.
    #[error("invalid value `{value}` for parameter `{name}`: expected {expected}")]
    Invalid {
        /// Parameter name.
        name: String,
        /// What was given.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// A parameter name that the workload does not have.
    #[error("workload `{workload}` has no parameter `{name}` (it has: {known})")]
    Unknown {
        /// Workload id.
        workload: String,
        /// Parameter name given.
        name: String,
        /// Names the workload has.
        known: String,
    },
}

impl ParamError {
    fn wrong_type(name: &str, expected: &'static str, value: &ParamValue) -> Self {
        ParamError::WrongType {
            name: name.to_string(),
            expected,
            value: value.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: ParamSpec = ParamSpec {
        name: "n",
        doc: "count",
        kind: ParamKind::Int { min: 1, max: 1000 },
    };

    #[test]
    fn ints_reject_zero_non_numbers_and_absurd_sizes() {
        assert_eq!(N.parse("10").unwrap(), ParamValue::Int(10));
        assert_eq!(N.parse("1_000").unwrap(), ParamValue::Int(1000));
        for bad in ["0", "-1", "ten", "", "1001", "1.5"] {
            let err = N.parse(bad).unwrap_err().to_string();
            assert!(
                err.contains("parameter `n`") && err.contains("1 to 1000"),
                "{err}"
            );
        }
    }

    #[test]
    fn floats_bools_and_choices() {
        let ratio = ParamSpec {
            name: "sync_ratio",
            doc: "",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
        };
        assert_eq!(ratio.parse("0.5").unwrap(), ParamValue::Float(0.5));
        assert!(ratio.parse("NaN").is_err());
        assert!(ratio.parse("1.5").is_err());
        let op = ParamSpec {
            name: "op",
            doc: "",
            kind: ParamKind::Choice(&["ready", "yield"]),
        };
        assert!(op.parse("yield").is_ok());
        assert!(op
            .parse("sleep")
            .unwrap_err()
            .to_string()
            .contains("one of ready, yield"));
        let b = ParamSpec {
            name: "bounded",
            doc: "",
            kind: ParamKind::Bool,
        };
        assert_eq!(b.parse("false").unwrap(), ParamValue::Bool(false));
    }

    #[test]
    fn display_orders_by_name() {
        let p = Params::from_pairs([
            ("op", ParamValue::Text("yield".into())),
            ("n", ParamValue::Int(10)),
            ("sync_ratio", ParamValue::Float(0.5)),
        ]);
        assert_eq!(p.to_string(), "n=10,op=yield,sync_ratio=0.5");
        assert_eq!(p.int("n").unwrap(), 10);
        assert_eq!(p.float("n").unwrap(), 10.0);
        assert!(p
            .flag("n")
            .unwrap_err()
            .to_string()
            .contains("true or false"));
        assert_eq!(p.int("m").unwrap_err(), ParamError::Missing("m".into()));
    }
}
