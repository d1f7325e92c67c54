//! The text summary of a run, and the human form of a layout.

use std::time::Duration;

use super::TextOptions;
use crate::contract::{Property, Violation};
use crate::layout::{redact_paths, Content, EntryKind, Layout};
use crate::outcome::{CaseResult, CaseStatus, RunReport};
use crate::packager::Invocation;

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

pub(crate) fn write_violations(out: &mut String, vs: &[Violation], indent: &str, o: TextOptions) {
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
                if let (Some(p), Some(replay)) = (&sh.saved_to, &sh.saved_replay) {
                    s.push_str(&format!("  saved: {} (replay: {replay})\n", p.display()));
                }
            }
            match (&c.replay, c.index) {
                (Some(replay), Some(i)) if replay.packager != Invocation::InProcess => {
                    s.push_str(&format!("  replay: {replay}  (case {i} is the last)\n"))
                }
                (Some(replay), _) => s.push_str(&format!("  replay: {replay}\n")),
                (None, _) => {}
            }
        }
    }
    if r.stopped_at_baseline {
        s.push_str("\nstopped: the packager broke the contract on the baseline layout (a plain model dir), so no generated case ran.\n");
    }
    if r.interrupted {
        s.push_str("\ninterrupted: Ctrl-C; the counts below are partial.\n");
    }
    let mut by_prop: std::collections::BTreeMap<&Property, usize> = Default::default();
    for c in &failed {
        for p in c.broken() {
            *by_prop.entry(p).or_default() += 1;
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
        s.push_str(&format!("replay the run: {}\n", r.replay));
    }
    s
}
