//! `multi-host-name-clash`: the same path written by two hosts of one job, with different
//! content. The platform merges every host's model dir into one archive (P18).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::detect::finding::finding;
use crate::detect::{Code, DetectError, Finding, Where};
use crate::layout::RawPath;

/// What a host left at one path: enough to tell two copies apart.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Dir,
    File([u8; 32]),
    Link(PathBuf),
    Other,
}

fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> DetectError + '_ {
    move |source| DetectError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Every path under `dir` (relative, as bytes) and what is there.
fn nodes(dir: &std::path::Path) -> Result<BTreeMap<Vec<u8>, Node>, DetectError> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).follow_links(false).min_depth(1) {
        let e = e.map_err(|e| DetectError::Io {
            path: dir.to_owned(),
            source: e.into(),
        })?;
        let rel = e.path().strip_prefix(dir).unwrap_or(e.path());
        let ft = e.file_type();
        let node = if ft.is_dir() {
            Node::Dir
        } else if ft.is_symlink() {
            Node::Link(std::fs::read_link(e.path()).map_err(io(e.path()))?)
        } else if ft.is_file() {
            let (hash, _) = crate::layout::hash_file(e.path()).map_err(io(e.path()))?;
            Node::File(hash)
        } else {
            Node::Other
        };
        out.insert(rel.as_os_str().as_bytes().to_vec(), node);
    }
    Ok(out)
}

pub(crate) fn host_clashes(hosts: &[(String, PathBuf)]) -> Result<Vec<Finding>, DetectError> {
    let mut seen: BTreeMap<Vec<u8>, Vec<(&str, Node)>> = BTreeMap::new();
    for (name, dir) in hosts {
        for (path, node) in nodes(dir)? {
            seen.entry(path).or_default().push((name, node));
        }
    }
    let mut out = Vec::new();
    for (path, copies) in seen {
        let Some((first, node)) = copies.first() else {
            continue;
        };
        if copies.len() < 2 || copies.iter().all(|(_, n)| n == node) {
            continue;
        }
        let names: Vec<&str> = copies.iter().map(|(h, _)| *h).collect();
        let last = names.last().copied().unwrap_or(first);
        let path = RawPath::from(path.as_slice());
        out.push(finding(
            Code::MultiHostNameClash,
            Where::Model,
            Some(path.clone()),
            format!(
                "{} each wrote `{path}`, with different content: the platform packs every host's /opt/ml/model into one model.tar.gz, so one copy silently replaces the others (here {last}'s; on the platform the winner is not documented)",
                names.join(" and ")
            ),
            crate::detect::fix::MULTI_HOST_NAME_CLASH,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, b) in files {
            let path = d.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b).unwrap();
        }
        d
    }

    #[test]
    fn only_paths_written_with_different_content_clash() {
        let a = host(&[("model.pth", b"a"), ("same.json", b"{}"), ("sub/x", b"1")]);
        let b = host(&[("model.pth", b"b"), ("same.json", b"{}"), ("sub/y", b"2")]);
        let hosts = vec![
            ("algo-1".to_owned(), a.path().to_owned()),
            ("algo-2".to_owned(), b.path().to_owned()),
        ];
        let f = host_clashes(&hosts).unwrap();
        let paths: Vec<String> = f
            .iter()
            .filter_map(|f| f.path.as_ref().map(|p| p.to_string()))
            .collect();
        assert_eq!(paths, vec!["model.pth"]);
        assert_eq!(f[0].code, Code::MultiHostNameClash);
        assert!(
            f[0].message.contains("algo-1 and algo-2"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn a_file_and_a_dir_at_one_path_clash() {
        let a = host(&[("weights", b"a")]);
        let b = host(&[("weights/part0", b"b")]);
        let hosts = vec![
            ("algo-1".to_owned(), a.path().to_owned()),
            ("algo-2".to_owned(), b.path().to_owned()),
        ];
        let f = host_clashes(&hosts).unwrap();
        assert_eq!(f.len(), 1, "{f:?}");
    }
}
