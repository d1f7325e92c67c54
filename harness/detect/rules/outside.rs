//! `model-saved-outside`: model files in the job's working dir, `/tmp` or output data dir
//! that never reached the model dir.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::detect::code::Code;
use crate::detect::error::DetectError;
use crate::detect::finding::{finding, Finding, Where};
use crate::detect::fix;
use crate::detect::options::JobDirs;
use crate::detect::sniff::Sniffed;
use crate::detect::tree::Tree;
use crate::layout::RawPath;

/// The model dir's file hashes by size.
type Hashes = BTreeMap<u64, BTreeSet<[u8; 32]>>;

/// The hashes of the model dir's regular files, grouped by size (unreadable ones skipped).
fn model_hashes(model: &Tree, model_dir: &Path) -> Hashes {
    let mut m: Hashes = BTreeMap::new();
    for (q, qn) in model.files() {
        if let Ok((h, _)) = crate::layout::hash_file(&q.under(model_dir)) {
            m.entry(qn.size).or_default().insert(h);
        }
    }
    m
}

/// How a message names the dir.
fn dir_name(root: Where) -> &'static str {
    match root {
        Where::Cwd => "working dir",
        Where::Tmp => "/tmp",
        _ => "output data dir",
    }
}

/// The finding for `fmt` at `p` in the `root` dir.
fn saved_outside(root: Where, fmt: Sniffed, p: &RawPath) -> Finding {
    finding(
        Code::ModelSavedOutside,
        root,
        Some(p.clone()),
        format!(
            "{} sits in the job's {} (`{}`), not in the model dir, so it is not in model.tar.gz",
            fmt.describe(),
            dir_name(root),
            p
        ),
        fix::model_saved_outside(fmt, &String::from_utf8_lossy(p.file_name())),
    )
}

/// `model-saved-outside`: every sniffed model file in the working dir, `/tmp` and output data
/// dir (those that exist and are not inside the model dir) with no copy of the same size and
/// bytes in the model dir (`model`, already scanned).
pub(crate) fn model_saved_outside(
    dirs: &JobDirs,
    model: &Tree,
    out: &mut Vec<Finding>,
) -> Result<(), DetectError> {
    let outside: [(Where, &Option<PathBuf>); 3] = [
        (Where::Cwd, &dirs.cwd),
        (Where::Tmp, &dirs.tmp),
        (Where::Output, &dirs.output_data_dir),
    ];
    let mut hashes: Option<Hashes> = None;
    for (root, dir) in outside {
        let Some(dir) = dir else { continue };
        if !dir.is_dir() || dir.starts_with(&dirs.model_dir) {
            continue;
        }
        let t = Tree::scan(dir)?;
        for (p, n) in t.files() {
            let Some(fmt) = n.sniffed else { continue };
            // Same size and bytes in the model dir means it was copied: fine.
            let hashes = hashes.get_or_insert_with(|| model_hashes(model, &dirs.model_dir));
            let copied = hashes.get(&n.size).is_some_and(|set| {
                crate::layout::hash_file(&p.under(dir)).is_ok_and(|(h, _)| set.contains(&h))
            });
            if !copied {
                out.push(saved_outside(root, fmt, p));
            }
        }
    }
    Ok(())
}
