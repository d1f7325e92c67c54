//! The text summary of a run, and the human form of a layout.

use std::time::Duration;

use super::TextOptions;
use crate::contract::{Property, Violation};
use crate::layout::{redact_paths, Content, EntryKind, Layout};
use crate::outcome::{CaseResult, Cause, RunReport};

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// One failing case: its name, broken properties, labels and replay command.
fn write_case(s: &mut String, c: &CaseResult) {
    let props: Vec<&str> = c.broken().iter().map(|p| p.id()).collect();
    s.push_str(&format!("\nFAILED {} ({})", c.name, props.join(", ")));
    if !c.labels.is_empty() {
        s.push_str(&format!(" [labels: {}]", c.labels.join(", ")));
    }
    s.push('\n');
    // Every replay reruns this one case alone (`--case N`, `--scenario ID`).
    if let Some(replay) = &c.replay {
        s.push_str(&format!("  replay: {replay}\n"));
    }
}

/// One cause: the property, its cases, the representative's violations, the minimal layout.
fn write_cause(s: &mut String, c: &Cause, n: usize, of: usize, o: TextOptions) {
    const SHOWN: usize = 8;
    let mut names = c
        .cases
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if c.cases.len() > SHOWN {
        names.push_str(&format!(" and {} more", c.cases.len() - SHOWN));
    }
    s.push_str(&format!(
        "\ncause {n} of {of}: {} ({}), in {} case{}: {names}\n",
        c.property.id(),
        c.kind,
        c.cases.len(),
        plural(c.cases.len())
    ));
    s.push_str(&format!("  in {}:\n", c.representative));
    write_violations(s, &c.violations, "    ", o);
    match &c.shrunk {
        Some(sh) => {
            s.push_str(&format!(
                "  minimal layout from {} ({} entr{}, {} shrink run{}{}):\n",
                c.representative,
                sh.layout.entries.len(),
                if sh.layout.entries.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                sh.runs,
                plural(sh.runs as usize),
                if sh.budget_spent {
                    "; the shrink budget ran out, a smaller one may exist"
                } else {
                    ""
                }
            ));
            for line in render_layout(&sh.layout) {
                s.push_str(&format!("    {line}\n"));
            }
            s.push_str("  which breaks:\n");
            write_violations(s, &sh.violations, "    ", o);
        }
        None => s.push_str("  (not shrunk)\n"),
    }
    if let (Some(p), Some(replay)) = (&c.saved_to, &c.saved_replay) {
        s.push_str(&format!("  saved: {} (replay: {replay})\n", p.display()));
    }
}

fn dur(d: Duration, o: TextOptions) -> String {
    if o.redact {
        "[time]".into()
    } else {
        format!("{:.2?}", d)
    }
}

/// One line per entry of a layout, for humans; an empty layout is one line that says so.
pub fn render_layout(l: &Layout) -> Vec<String> {
    if l.entries.is_empty() {
        return vec!["(no entries: an empty model dir)".to_owned()];
    }
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
                        Content::Damaged { base, damage } => {
                            format!(
                                "damaged ({damage:?}), {} of {} bytes",
                                content.len(),
                                base.len()
                            )
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
        write_case(&mut s, c);
    }
    if !r.causes.is_empty() {
        s.push_str(&format!(
            "\n{} distinct cause{} in {} failing case{} (a broken property and the kind of entry it names; each shown once, shrunk from its smallest case):\n",
            r.causes.len(),
            plural(r.causes.len()),
            failed.len(),
            plural(failed.len())
        ));
    }
    for (n, cause) in r.causes.iter().enumerate() {
        write_cause(&mut s, cause, n + 1, r.causes.len(), o);
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
        "{} case{}: {} passed, {} failed, {} rejected in {}\n",
        r.results.len(),
        plural(r.results.len()),
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

#[cfg(test)]
mod tests {
    use super::render_layout;
    use crate::layout::{Content, Entry, Layout, Root};

    #[test]
    fn render_layout_says_when_a_layout_is_empty() {
        assert_eq!(
            render_layout(&Layout::new()),
            ["(no entries: an empty model dir)"]
        );
        let mut l = Layout::new();
        l.entries.push(Entry::file(
            Root::Model,
            "model.pth",
            Content::Text("w".into()),
        ));
        assert_eq!(
            render_layout(&l),
            ["model:model.pth  (file 0644  text \"w\")"]
        );
    }
}
