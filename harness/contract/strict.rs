//! The `--strict` properties: `sorted`, `normalized` and `deterministic`.

use std::collections::BTreeSet;
use std::path::Path;

use super::names::member_paths;
use super::property::{capped, v, Property, Violation};
use super::SecondRun;
use crate::archive::{Manifest, MemberKind};
use crate::layout::RawPath;

/// Depth-first order with each directory's entries sorted by name bytes (`tar --sort=name`).
fn depth_first_key(p: &RawPath) -> Vec<Vec<u8>> {
    p.components().map(<[u8]>::to_vec).collect()
}

/// `sorted`: members in byte or depth-first order, each directory before its children.
pub(super) fn check_sorted(m: &Manifest, out: &mut Vec<Violation>) {
    let names = member_paths(m);
    let by_bytes = names.windows(2).all(|w| w[0] <= w[1]);
    let by_tree = names
        .windows(2)
        .all(|w| depth_first_key(w[0]) <= depth_first_key(w[1]));
    if !by_bytes && !by_tree {
        let bad = names
            .windows(2)
            .find(|w| depth_first_key(w[0]) > depth_first_key(w[1]));
        let mut x = v(
            Property::Sorted,
            bad.map(|w| w[1].clone()),
            "members sorted by path bytes, or depth-first by name",
            "an order that depends on the filesystem",
        );
        if let Some(w) = bad {
            x.details = vec![format!("`{}` comes after `{}`", w[1], w[0])];
        }
        out.push(x);
    }
    let mut seen: BTreeSet<&RawPath> = BTreeSet::new();
    for x in m.members.iter().filter(|x| !x.is_root_entry()) {
        if let Some(parent) = x.path.parent() {
            let parent_listed = m
                .members
                .iter()
                .any(|y| y.path == parent && y.kind == MemberKind::Dir);
            if parent_listed && !seen.contains(&parent) {
                out.push(v(
                    Property::Sorted,
                    Some(x.path.clone()),
                    "each directory before its children",
                    format!("`{}` before its directory `{parent}`", x.path),
                ));
                break;
            }
        }
        seen.insert(&x.path);
    }
}

/// `normalized`: owners, modes and mtimes fixed, and a bare gzip header.
pub(super) fn check_normalized(m: &Manifest, out: &mut Vec<Violation>) {
    if let Some(x) = m.members.iter().find(|x| x.uid != 0 || x.gid != 0) {
        out.push(v(
            Property::Normalized,
            Some(x.path.clone()),
            "uid and gid 0",
            format!("uid {} gid {}", x.uid, x.gid),
        ));
    }
    // Readable by others (a server may run as a non-root user), nothing world-writable, no
    // setuid or setgid: the 0644/0755 style.
    if let Some(x) = m.members.iter().find(|x| {
        let need = match x.kind {
            MemberKind::File => 0o444,
            MemberKind::Dir => 0o555,
            _ => return false,
        };
        x.mode & need != need || x.mode & 0o6002 != 0
    }) {
        out.push(v(
            Property::Normalized,
            Some(x.path.clone()),
            "modes readable by others, nothing world-writable, no setuid/setgid (0644/0755 style)",
            format!("mode {:04o}", x.mode),
        ));
    }
    let mtimes: BTreeSet<i64> = m.members.iter().map(|x| x.mtime).collect();
    if mtimes.len() > 1 {
        out.push(v(
            Property::Normalized,
            None,
            "one fixed mtime for every member",
            format!("{} different mtimes", mtimes.len()),
        ));
    }
    if let Some(h) = &m.gzip_header {
        if h.mtime != 0 {
            out.push(v(
                Property::Normalized,
                None,
                "gzip header mtime 0",
                format!("mtime {}", h.mtime),
            ));
        }
        if let Some(n) = &h.file_name {
            out.push(v(
                Property::Normalized,
                None,
                "no file name in the gzip header",
                format!("FNAME `{}`", String::from_utf8_lossy(n)),
            ));
        }
    }
}

/// `deterministic`: a second run, with every variation the runner could apply, gives the
/// same bytes. A failure names the variations that change the output alone (the runner's
/// bisection) and shows the archive diff.
pub(super) fn check_deterministic(output: &Path, second: &SecondRun, out: &mut Vec<Violation>) {
    let first = crate::layout::hash_file(output).ok().map(|h| h.0);
    let varied: Vec<&str> = second
        .varied
        .iter()
        .map(|v| v.split(':').next().unwrap_or(v))
        .collect();
    let expected = format!(
        "byte-identical output from two runs (the rerun varies: {})",
        if varied.is_empty() {
            "nothing".to_owned()
        } else {
            varied.join(", ")
        }
    );
    match second.output {
        None => out.push(v(
            Property::Deterministic,
            None,
            expected,
            "the second run produced none",
        )),
        Some(h) if Some(h) != first => {
            let found = match second.causes.as_slice() {
                [] => "different bytes".to_owned(),
                [none] if none == "none" => "different bytes, even with nothing varied".to_owned(),
                causes => format!("different bytes, caused by: {}", causes.join(", ")),
            };
            let mut lines: Vec<String> = second.attribution.iter().cloned().collect();
            lines.extend(second.not_varied.iter().map(|n| format!("not varied: {n}")));
            if let Some(f) = &second.output_file {
                lines.extend(diff_lines(output, f));
            }
            let mut x = v(Property::Deterministic, None, expected, found);
            x.details = capped(lines);
            out.push(x);
        }
        _ => {}
    }
}

/// `packtest diff` between the first and the second output, as detail lines.
fn diff_lines(first: &Path, second: &Path) -> Vec<String> {
    match crate::diff::diff_archives(first, second, crate::archive::Limits::default()) {
        Ok(d) => {
            let mut l = vec!["diff (A: first run, B: rerun):".to_owned()];
            l.extend(
                crate::diff::render_text(&d)
                    .into_iter()
                    .map(|x| format!("  {x}")),
            );
            l
        }
        Err(e) => vec![format!("no diff: {e}")],
    }
}
