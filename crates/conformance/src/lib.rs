//! The conformance suite's support code (placeholder while the suite is written).
