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

/// Text report settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextOptions {
    /// Replace durations and sandbox paths with placeholders.
    pub redact: bool,
}

/// The JSON report.
pub fn json(r: &RunReport) -> String {
    serde_json::to_string_pretty(r)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the report: {e}\"}}"))
}
