//! Reports: the text summary, JSON, JUnit XML, the live progress display, and findings.
//!
//! The runner emits [`Event`](crate::outcome::Event)s and returns a
//! [`RunReport`]; this module is the only place that turns them into
//! text, and the only user of `indicatif` and `quick-junit`. It reads [`crate::outcome`] and
//! never the runner. A redacted mode (durations and sandbox paths replaced by placeholders)
//! keeps the output stable for snapshot tests.
//!
//! JSON wire format (`--json FILE`): the [`RunReport`] serialized
//! with serde. Paths are strings when they are UTF-8 and `{ "hex": "…" }` otherwise. Field
//! names are stable; `replay` fields are shell commands that reproduce the run or the case.
//! JUnit: one `<testcase>` per case and scenario. A broken property is a `failure`; a
//! timeout is an `error` (the case could not finish); a rejected layout is `skipped`.

mod findings;
mod junit;
mod progress;
mod text;

pub use findings::findings_text;
pub use junit::junit;
pub use progress::Progress;
pub use text::{render_layout, text};

use crate::outcome::RunReport;

/// How much the text report shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Detail {
    /// The verdict, and per cause its headline, minimal layout, one fix and replay.
    Quiet,
    /// The verdict, and per cause its headline, minimal layout, example, fixes and replay.
    #[default]
    Normal,
    /// `Normal` plus one line per failing case.
    Verbose,
}

/// Text report settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextOptions {
    /// Replace durations and sandbox paths with placeholders.
    pub redact: bool,
    /// How much to show.
    pub detail: Detail,
}

/// The version of the JSON formats (`run --json`'s report, `check --json` and `sim --json`),
/// their first field `schema_version`. It goes up when a field is removed, renamed or changes
/// meaning; a new field does not change it.
pub const SCHEMA_VERSION: u32 = 1;

/// A JSON document with `schema_version` first.
#[derive(serde::Serialize)]
struct Versioned<'a, T: serde::Serialize> {
    schema_version: u32,
    #[serde(flatten)]
    body: &'a T,
}

/// `value` as pretty JSON with `"schema_version": SCHEMA_VERSION` as its first field (`value`
/// must serialize as a map or a struct).
pub fn versioned_json<T: serde::Serialize>(value: &T) -> String {
    let doc = Versioned {
        schema_version: SCHEMA_VERSION,
        body: value,
    };
    serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the report: {e}\"}}"))
}

/// The JSON report, with `schema_version`.
pub fn json(r: &RunReport) -> String {
    versioned_json(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_documents_start_with_the_schema_version() {
        let doc = versioned_json(&serde_json::json!({ "findings": [] }));
        let v: serde_json::Value = serde_json::from_str(&doc).expect("valid JSON");
        assert_eq!(v["schema_version"], SCHEMA_VERSION);
        assert_eq!(v["findings"], serde_json::json!([]));
        assert!(
            doc.trim_start_matches(['{', '\n', ' '])
                .starts_with("\"schema_version\""),
            "{doc}"
        );
    }
}
