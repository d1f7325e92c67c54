//! The text summary of a run, and the human form of a layout.

use std::time::Duration;

use super::{Detail, TextOptions};
use crate::contract::{Diagnosis, Fix, Violation};
use crate::layout::{redact_paths, Content, EntryKind, Layout};
use crate::outcome::{CaseResult, CaseStatus, Cause, RunReport};

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// One failing case (`--verbose`): its name, causes, labels and replay command.
fn write_case(s: &mut String, c: &CaseResult) {
    let mut causes: Vec<String> = Vec::new();
    if let CaseStatus::Failed {
        violations,
        diagnoses,
    } = &c.status
    {
        causes.extend(diagnoses.iter().map(|d| d.diagnosis.id().to_owned()));
        for v in crate::contract::unexplained(violations, diagnoses) {
            let p = v.property.id().to_owned();
            if !causes.contains(&p) {
                causes.push(p);
            }
        }
    }
    s.push_str(&format!("FAILED {} ({})", c.name, causes.join(", ")));
    if !c.labels.is_empty() {
        s.push_str(&format!(" [labels: {}]", c.labels.join(", ")));
    }
    s.push('\n');
    if let Some(replay) = &c.replay {
        s.push_str(&format!("  replay: {replay}\n"));
    }
}

/// The tool a packager is written with, when its command or script says: its fix comes first.
pub fn preferred_tool(packager: &str) -> Option<&'static str> {
    let words = shell_words::split(packager).unwrap_or_default();
    let mut text = words.join(" ");
    for w in &words {
        let p = std::path::Path::new(w);
        if let Ok(meta) = std::fs::metadata(p) {
            if meta.is_file() && meta.len() < 256 * 1024 {
                if let Ok(t) = std::fs::read(p) {
                    text.push('\n');
                    text.push_str(&String::from_utf8_lossy(&t));
                }
            }
        }
    }
    if text.contains("make_archive") {
        Some("shutil.make_archive")
    } else if text.contains("tarfile") {
        Some("Python tarfile")
    } else if words
        .first()
        .is_some_and(|w| w == "tar" || w.ends_with("/tar"))
        || text.contains("tar -")
        || text.contains("tar --")
        || text.contains("tar c")
    {
        Some("GNU tar")
    } else {
        None
    }
}

/// The fixes to show: all of them, the preferred tool's first; `Quiet` shows one.
fn fixes(d: Diagnosis, tool: Option<&str>, o: TextOptions) -> Vec<Fix> {
    let mut all: Vec<Fix> = d.fixes().to_vec();
    if let Some(t) = tool {
        all.sort_by_key(|(name, _)| *name != t);
    }
    if o.detail == Detail::Quiet {
        all.truncate(1);
    }
    all
}

/// `case-1, case-2, … and N more`.
fn case_list(cases: &[String], shown: usize) -> String {
    let mut names = cases
        .iter()
        .take(shown)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if cases.len() > shown {
        names.push_str(&format!(" and {} more", cases.len() - shown));
    }
    names
}

/// One cause: the headline in the packager's terms, the minimal layout, an example, the fixes
/// and the one-case replay.
fn write_cause(s: &mut String, c: &Cause, n: usize, tool: Option<&str>, o: TextOptions) {
    let quiet = o.detail == Detail::Quiet;
    let count = format!("{} case{}", c.cases.len(), plural(c.cases.len()));
    match &c.diagnosis {
        Some(d) => {
            s.push_str(&format!("\n{n}. {}\n", redact(&d.headline, o)));
            for a in &c.also {
                s.push_str(&format!("   and: {}\n", redact(&a.headline, o)));
            }
            if quiet {
                let first = d.example.lines().next().unwrap_or_default();
                s.push_str(&format!(
                    "   [{}, {count}] e.g. {}\n",
                    d.diagnosis.id(),
                    redact(first, o)
                ));
            } else {
                s.push_str(&format!(
                    "   [{}, breaks {}] in {count}: {}\n",
                    d.diagnosis.id(),
                    c.property.id(),
                    case_list(&c.cases, 6)
                ));
            }
        }
        None => {
            s.push_str(&format!(
                "\n{n}. {} ({}): no diagnosis fits; the raw violation is below\n",
                c.property.id(),
                c.kind
            ));
            if !quiet {
                s.push_str(&format!("   in {count}: {}\n", case_list(&c.cases, 6)));
            }
        }
    }
    write_layout(s, c, quiet);
    match &c.diagnosis {
        Some(d) => {
            if !quiet {
                for (i, line) in d.example.lines().enumerate() {
                    let lead = if i == 0 { "e.g. " } else { "" };
                    s.push_str(&format!("   {lead}{}\n", redact(line, o)));
                }
                for line in &d.details {
                    s.push_str(&format!("        {}\n", redact(line, o)));
                }
            }
            let fx = fixes(d.diagnosis, tool, o);
            let width = fx.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
            for (i, (t, text)) in fx.iter().enumerate() {
                let lead = if i == 0 { "fix:" } else { "    " };
                s.push_str(&format!("   {lead} {t:<width$}  {text}\n"));
            }
        }
        None => {
            let shown: Vec<Violation> = c
                .violations
                .iter()
                .take(if quiet { 1 } else { 3 })
                .cloned()
                .collect();
            write_violations(s, &shown, "   ", o);
        }
    }
    match c.confirmed {
        Some(true) => s.push_str("   confirmed: one more run of this case timed out again\n"),
        Some(false) => s.push_str(
            "   not confirmed: one more run of this case finished in time (slow, or flaky)\n",
        ),
        None => {}
    }
    if let Some(r) = &c.replay {
        s.push_str(&format!("   replay: {r}\n"));
    }
    if let (Some(p), Some(replay)) = (&c.saved_to, &c.saved_replay) {
        if !quiet {
            s.push_str(&format!("   saved: {} (replay: {replay})\n", p.display()));
        }
    }
}

/// The cause's minimal layout (or, unshrunk, a note saying so).
fn write_layout(s: &mut String, c: &Cause, quiet: bool) {
    let Some(sh) = &c.shrunk else {
        if !quiet && c.confirmed.is_none() {
            s.push_str(&format!(
                "   (not shrunk: the layout of {} is in the JSON report)\n",
                c.representative
            ));
        }
        return;
    };
    let n = sh.layout.entries.len();
    if !quiet {
        s.push_str(&format!(
            "   minimal layout, shrunk from {} ({} entr{}, {} run{}{}):\n",
            c.representative,
            n,
            if n == 1 { "y" } else { "ies" },
            sh.runs,
            plural(sh.runs as usize),
            if sh.budget_spent {
                "; the shrink budget ran out, a smaller one may exist"
            } else {
                ""
            }
        ));
    }
    let lines = render_layout(&sh.layout);
    let keep = if quiet { 3 } else { 12 };
    for line in lines.iter().take(keep) {
        s.push_str(&format!("     {line}\n"));
    }
    if lines.len() > keep {
        s.push_str(&format!("     … and {} more entries\n", lines.len() - keep));
    }
}

fn redact(text: &str, o: TextOptions) -> String {
    if o.redact {
        redact_paths(text)
    } else {
        text.to_owned()
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

/// The text summary of a run: the verdict, then each cause (ranked by how many cases show
/// it), then the counts. Per-case lines only with [`Detail::Verbose`].
pub fn text(r: &RunReport, o: TextOptions) -> String {
    let mut s = String::new();
    let profile = if r.strict { "strict" } else { "default" };
    let scenarios = r
        .results
        .iter()
        .filter(|c| c.name.starts_with("scenario:"))
        .count();
    s.push_str(&format!("packtest run: {}\n", r.packager));
    s.push_str(&format!(
        "target {}, seed {}, {} generated case{}{}{}, {profile} profile\n",
        r.target,
        r.seed,
        r.cases,
        plural(r.cases as usize),
        if scenarios > 0 {
            format!(" and {scenarios} scenario{}", plural(scenarios))
        } else {
            String::new()
        },
        r.partition
            .map(|p| format!(" (partition {}/{})", p.k, p.n))
            .unwrap_or_default()
    ));
    let failed: Vec<&CaseResult> = r.failures().collect();
    let verdict = if failed.is_empty() && !r.interrupted {
        "PASSED".to_string()
    } else if r.causes.is_empty() {
        "FAILED".to_string()
    } else {
        format!(
            "FAILED: {} cause{} in {} of {} case{}",
            r.causes.len(),
            plural(r.causes.len()),
            failed.len(),
            r.results.len(),
            plural(r.results.len())
        )
    };
    s.push_str(&format!(
        "\n{verdict} ({} passed, {} failed, {} rejected in {})\n",
        r.passed(),
        failed.len(),
        r.rejected(),
        dur(r.duration, o)
    ));
    if r.stopped_at_baseline {
        s.push_str("stopped: the packager broke the contract on the baseline layout (a plain model dir), so no generated case ran\n");
    }
    if r.interrupted {
        s.push_str("interrupted: Ctrl-C; the counts are partial\n");
    }
    if o.detail == Detail::Verbose && !failed.is_empty() {
        s.push('\n');
        for c in &failed {
            write_case(&mut s, c);
        }
    }
    let tool = preferred_tool(&r.packager);
    for (n, cause) in r.causes.iter().enumerate() {
        write_cause(&mut s, cause, n + 1, tool, o);
    }
    if !failed.is_empty() && o.detail != Detail::Quiet {
        s.push_str(&format!("\nreplay the whole run: {}\n", r.replay));
        if o.detail == Detail::Normal {
            s.push_str("every failing case, with its labels and replay: --verbose, or the JSON and JUnit reports\n");
        }
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
