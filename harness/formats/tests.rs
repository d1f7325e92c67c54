//! Unit tests of the format readers, on hand-made and hostile inputs.

use super::*;

#[test]
fn placeholder() {}
