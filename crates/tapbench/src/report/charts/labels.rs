//! Parameter text of chart labels and captions: constants once, the rest on each case.

use std::collections::BTreeMap;

use tapbench_core::{ParamValue, Params};

/// Parameters with one and the same value in every one of `cases` (shown once, in the
/// chart's caption, instead of on every label).
pub(crate) fn constant_params(cases: &[&Params]) -> BTreeMap<String, ParamValue> {
    let Some(first) = cases.first() else {
        return BTreeMap::new();
    };
    first
        .0
        .iter()
        .filter(|(k, v)| cases.iter().all(|c| c.get(k) == Some(v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `name=value` of `params` except those in `skip`.
pub(crate) fn param_pieces(params: &Params, skip: &dyn Fn(&str) -> bool) -> Vec<String> {
    params
        .0
        .iter()
        .filter(|(k, _)| !skip(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// The constant parameters as `n=10, op=yield`.
pub(super) fn constants_text(constants: &BTreeMap<String, ParamValue>) -> String {
    constants
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `caption`, with the constant parameters in brackets when there are any.
pub(super) fn with_constants(caption: String, constants: &BTreeMap<String, ParamValue>) -> String {
    let fixed = constants_text(constants);
    if fixed.is_empty() {
        caption
    } else {
        format!("{caption} ({fixed})")
    }
}
