//! Reports: the text summary, JSON, JUnit XML, and the live progress display.
//!
//! The runner emits events and returns a [`RunReport`]; this module is the only place that
//! turns them into text, and the only user of `indicatif` and `quick-junit`. A redacted mode
//! (durations and sandbox paths replaced by placeholders) keeps the output stable for
//! snapshot tests (style anchor 22).
//!
//! JSON wire format (`--json FILE`): the [`RunReport`] serialized with serde. Paths are
//! strings when they are UTF-8 and `{ "hex": "…" }` otherwise. Field names are stable.
//! JUnit: one `<testcase>` per case and scenario. A broken property is a `failure`; a
//! timeout is an `error` (the case could not finish); a rejected layout is `skipped`.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::contract::{Property, Violation};
use crate::layout::{Content, EntryKind, Layout};
use crate::runner::{CaseResult, CaseStatus, Event, RunReport};

/// Text report settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextOptions {
    /// Replace durations and sandbox paths with placeholders.
    pub redact: bool,
}

/// Replaces sandbox temp dir names (`packtest-XXXXXX`) with `[sandbox]`.
pub fn redact_paths(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find("packtest-") {
        let (head, tail) = rest.split_at(pos);
        let after = &tail["packtest-".len()..];
        let n = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if n >= 6 {
            // Drop the directory prefix before the sandbox name too.
            let cut = head
                .rfind(|c: char| c.is_whitespace() || c == '`' || c == '\'' || c == '"')
                .map_or(0, |i| i + 1);
            out.push_str(&head[..cut]);
            out.push_str("[sandbox]");
            rest = &after[n..];
        } else {
            out.push_str(head);
            out.push_str("packtest-");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn dur(d: Duration, o: TextOptions) -> String {
    if o.redact {
        "[time]".into()
    } else {
        format!("{:.2?}", d)
    }
}

/// One line per entry of a layout, for humans.
pub fn render_layout(l: &Layout) -> Vec<String> {
    l.entries
        .iter()
        .map(|e| {
            let what = match &e.kind {
                EntryKind::File { content, mode } => {
                    let c = match content {
                        Content::Text(t) if t.len() <= 40 => format!("text {:?}", t),
                        Content::Text(t) => format!("text, {} bytes", t.len()),
                        Content::Bytes(b) => format!("{} raw bytes", b.len()),
                        Content::Seeded { size, fill, .. } => {
                            format!("{size} bytes of {fill:?}").to_lowercase()
                        }
                        Content::Format { format, .. } => {
                            format!("{}, {} bytes", format.name(), content.len())
                        }
                    };
                    format!("file {mode:04o}  {c}")
                }
                EntryKind::Dir { mode } => format!("dir {mode:04o}"),
                EntryKind::Symlink { target } => format!("symlink -> {target}"),
                EntryKind::Hardlink {
                    target_root,
                    target,
                } => format!("hard link to {target_root}:{target}"),
                EntryKind::Fifo { mode } => format!("fifo {mode:04o}"),
                EntryKind::Socket => "socket".into(),
            };
            crate::contract::elide(&format!("{}:{}  ({what})", e.root, e.path))
        })
        .collect()
}

fn write_violations(out: &mut String, vs: &[Violation], indent: &str, o: TextOptions) {
    for v in vs {
        let text = v.to_string();
        let text = if o.redact { redact_paths(&text) } else { text };
        for (i, line) in text.lines().enumerate() {
            out.push_str(indent);
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(line);
            out.push('\n');
        }
    }
}

/// The text summary of a run.
pub fn text(r: &RunReport, o: TextOptions) -> String {
    let mut s = String::new();
    let profile = if r.strict { "strict" } else { "default" };
    s.push_str(&format!("packtest run: {}\n", r.packager));
    s.push_str(&format!(
        "target {}, seed {}, {} generated cases{}, {profile} profile\n",
        r.target,
        r.seed,
        r.cases,
        r.partition
            .map(|p| format!(" (partition {}/{})", p.k, p.n))
            .unwrap_or_default()
    ));
    let failed: Vec<&CaseResult> = r.failures().collect();
    for c in &failed {
        s.push('\n');
        s.push_str(&format!("FAILED {}", c.name));
        if !c.labels.is_empty() {
            s.push_str(&format!(" [labels: {}]", c.labels.join(", ")));
        }
        s.push('\n');
        if let CaseStatus::Failed { violations, shrunk } = &c.status {
            write_violations(&mut s, violations, "  ", o);
            if let Some(sh) = shrunk {
                s.push_str(&format!(
                    "  minimal layout ({} entries, {} shrink runs):\n",
                    sh.layout.entries.len(),
                    sh.runs
                ));
                for line in render_layout(&sh.layout) {
                    s.push_str(&format!("    {line}\n"));
                }
                s.push_str("  which breaks:\n");
                write_violations(&mut s, &sh.violations, "    ", o);
                if let Some(p) = &sh.saved_to {
                    s.push_str(&format!("  saved: {} (replay: packtest run --packager {}{} --scenarios {} --cases 0)\n", p.display(), crate::runner::shell_quote(&r.packager), r.replay_flags(), p.parent().map(|d| d.display().to_string()).unwrap_or_default()));
                }
            }
            if let Some(i) = c.index {
                s.push_str(&format!(
                    "  replay: packtest run --packager {} --seed {} --cases {}{}  (case {i} is the last)\n",
                    crate::runner::shell_quote(&r.packager),
                    r.seed,
                    i + 1,
                    r.replay_flags()
                ));
            }
        }
    }
    if r.stopped_at_baseline {
        s.push_str("\nstopped: the packager broke the contract on the baseline layout (a plain model dir), so no generated case ran.\n");
    }
    if r.interrupted {
        s.push_str("\ninterrupted: Ctrl-C; the counts below are partial.\n");
    }
    let mut by_prop: std::collections::BTreeMap<Property, usize> = Default::default();
    for c in &failed {
        if let CaseStatus::Failed { violations, .. } = &c.status {
            let set: std::collections::BTreeSet<&Property> =
                violations.iter().map(|v| &v.property).collect();
            for p in set {
                *by_prop.entry(p.clone()).or_default() += 1;
            }
        }
    }
    s.push('\n');
    s.push_str(&format!(
        "{} cases: {} passed, {} failed, {} rejected in {}\n",
        r.results.len(),
        r.passed(),
        failed.len(),
        r.rejected(),
        dur(r.duration, o)
    ));
    if !by_prop.is_empty() {
        s.push_str("failures by property:\n");
        for (p, n) in by_prop {
            s.push_str(&format!("  {:<18} {n}\n", p.id()));
        }
        s.push_str(&format!("replay the run: {}\n", r.replay_command()));
    }
    s
}

/// The JSON report.
pub fn json(r: &RunReport) -> String {
    serde_json::to_string_pretty(r)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the report: {e}\"}}"))
}

/// The JUnit XML report.
pub fn junit(r: &RunReport, o: TextOptions) -> String {
    let mut report = Report::new("packtest");
    let mut suite = TestSuite::new(r.packager.clone());
    for c in &r.results {
        let status = match &c.status {
            CaseStatus::Passed => TestCaseStatus::success(),
            CaseStatus::Failed { violations, shrunk } => {
                let timed_out = violations
                    .iter()
                    .any(|v| v.found.contains("past the timeout"));
                let mut st = TestCaseStatus::non_success(if timed_out {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                });
                let mut props: Vec<&str> = Vec::new();
                for id in violations.iter().map(|v| v.property.id()) {
                    if !props.contains(&id) {
                        props.push(id);
                    }
                }
                st.set_message(format!("broken: {}", props.join(", ")));
                st.set_type(props.first().copied().unwrap_or("failure").to_owned());
                let mut d = String::new();
                write_violations(&mut d, violations, "", o);
                if let Some(sh) = shrunk {
                    d.push_str("minimal layout:\n");
                    for line in render_layout(&sh.layout) {
                        d.push_str(&format!("  {line}\n"));
                    }
                }
                if let Some(i) = c.index {
                    d.push_str(&format!(
                        "replay: packtest run --packager {} --seed {} --cases {}{}\n",
                        crate::runner::shell_quote(&r.packager),
                        r.seed,
                        i + 1,
                        r.replay_flags()
                    ));
                }
                st.set_description(d);
                st
            }
            CaseStatus::Rejected { reason } => {
                let mut st = TestCaseStatus::skipped();
                st.set_message(format!(
                    "layout rejected by the host: {}",
                    if o.redact {
                        redact_paths(reason)
                    } else {
                        reason.clone()
                    }
                ));
                st
            }
            CaseStatus::Cancelled => {
                let mut st = TestCaseStatus::skipped();
                st.set_message("cancelled");
                st
            }
        };
        let mut tc = TestCase::new(c.name.clone(), status);
        tc.set_classname(format!("packtest.seed{}", r.seed));
        if !o.redact {
            tc.set_time(c.duration);
        }
        suite.add_test_case(tc);
    }
    if !o.redact {
        suite.set_time(r.duration);
    }
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}

/// Live progress on stderr: a bar on a TTY, one line per failure otherwise.
pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    lock: Mutex<()>,
}

impl Progress {
    /// Chooses the display from whether stderr is a terminal.
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} cases {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        });
        Progress {
            bar,
            quiet,
            lock: Mutex::new(()),
        }
    }

    /// Handles one runner event.
    pub fn event(&self, e: Event) {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        match e {
            Event::Started { total } => {
                if let Some(b) = &self.bar {
                    b.set_length(total);
                }
            }
            Event::Shrinking { name } => {
                if let Some(b) = &self.bar {
                    b.set_message(format!("shrinking {name}"));
                }
            }
            Event::CaseFinished(c) => {
                let line = match &c.status {
                    CaseStatus::Failed { violations, .. } => {
                        let mut props: Vec<&str> =
                            violations.iter().map(|v| v.property.id()).collect();
                        props.dedup();
                        Some(format!("FAIL {}: {}", c.name, props.join(", ")))
                    }
                    _ => None,
                };
                match (&self.bar, line) {
                    (Some(b), Some(l)) => {
                        b.println(l);
                        b.inc(1);
                    }
                    (Some(b), None) => b.inc(1),
                    (None, Some(l)) if !self.quiet => {
                        let _ = writeln!(std::io::stderr(), "{l}");
                    }
                    _ => {}
                }
            }
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Findings as human text; `color` adds ANSI colors (only for a terminal).
pub fn findings_text(findings: &[crate::detect::Finding], color: bool) -> String {
    use crate::detect::Severity;
    let mut s = String::new();
    for f in findings {
        let (c, r) = match (color, f.severity) {
            (false, _) => ("", ""),
            (true, Severity::Error) => ("\x1b[1;31m", "\x1b[0m"),
            (true, Severity::Warning) => ("\x1b[1;33m", "\x1b[0m"),
            (true, Severity::Info) => ("\x1b[1;36m", "\x1b[0m"),
        };
        let path = f
            .path
            .as_ref()
            .map(|p| format!(" {}:{}", f.root, crate::contract::elide(&p.display())))
            .unwrap_or_default();
        s.push_str(&format!(
            "{c}{:<7}{r} {}{path}\n",
            f.severity.name(),
            f.code
        ));
        for line in f.message.lines() {
            s.push_str(&format!("        {line}\n"));
        }
        s.push_str(&format!("        fix: {}\n", f.fix));
    }
    let count = |sev| findings.iter().filter(|f| f.severity == sev).count();
    s.push_str(&format!(
        "{} error(s), {} warning(s), {} info\n",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_sandbox_paths_and_is_idempotent() {
        let s = "cannot read `/tmp/packtest-Ab12Cd/opt/ml/model/x`: denied";
        let r = redact_paths(s);
        assert_eq!(r, "cannot read `[sandbox]/opt/ml/model/x`: denied");
        assert_eq!(redact_paths(&r), r);
        assert_eq!(redact_paths("packtest-run"), "packtest-run");
    }
}
