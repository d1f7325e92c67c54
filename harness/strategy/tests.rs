//! Unit tests of the layout generator: well-formedness, label coverage, shrinking, nesting.

use proptest::test_runner::{Config, TestRng, TestRunner};

use super::assembly::nest;
use super::*;
use crate::detect::Code;
use crate::layout::{Content, Entry, EntryKind, Layout, Root};

fn runner(seed: u8) -> TestRunner {
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

#[test]
fn every_generated_layout_is_well_formed_and_round_trips_through_toml() {
    let mut r = runner(1);
    let s = job_layout();
    for _ in 0..300 {
        let l = s.new_tree(&mut r).unwrap().current();
        l.validate().unwrap();
        assert_eq!(crate::layout::Layout::from_toml(&l.to_toml()).unwrap(), l);
    }
}

#[test]
fn large_files_appear_within_64_cases() {
    let mut r = runner(2);
    let s = job_layout();
    let big = (0..64)
        .map(|_| s.new_tree(&mut r).unwrap().current())
        .filter(|l| {
            l.entries.iter().any(
                |e| matches!(&e.kind, EntryKind::File { content, .. } if content.len() > 65_536),
            )
        })
        .count();
    assert!(big > 0, "no file over 64 KiB in 64 cases");
}

#[test]
fn every_pitfall_label_shows_up() {
    let mut r = runner(3);
    let s = job_layout();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..1500 {
        seen.extend(
            s.new_tree(&mut r)
                .unwrap()
                .current()
                .labels
                .into_iter()
                .map(|l| l.0),
        );
    }
    for want in ERROR_LABELS
        .map(Code::id)
        .into_iter()
        .chain([
            "long-name",
            "non-utf8-name",
            "newline-name",
            "deep-path",
            "hardlink",
            "large-file",
            "exec-bit",
            "empty-dir",
            "dotfile",
            "extra-top-folder",
            "unicode-name",
        ])
        .chain(WARNING_LABELS.map(Code::id))
        .chain(["link-loop", "dir-cycle", "symlink-to-dir", "appledouble"])
    {
        assert!(
            seen.contains(want),
            "label {want} never generated; saw {seen:?}"
        );
    }
}

#[test]
fn a_long_name_failure_shrinks_to_about_one_entry() {
    let mut r = runner(4);
    let result = r.run(&job_layout(), |l| {
        let bad = l
            .entries
            .iter()
            .any(|e| e.root == Root::Model && e.path.file_name().len() > 100);
        prop_assert!(!bad);
        Ok(())
    });
    match result {
        Err(proptest::test_runner::TestError::Fail(_, l)) => {
            let model: Vec<_> = l.in_root(Root::Model).collect();
            assert!(model.len() <= 2, "did not shrink: {model:#?}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn nesting_keeps_escaping_links_escaping_and_inside_links_inside() {
    let mut l = Layout::new()
        .with(Entry::symlink(Root::Model, "out", "../../../outside/x"))
        .with(Entry::file(Root::Model, "a.dat", Content::Text("x".into())))
        .with(Entry::symlink(Root::Model, "links/in", "../a.dat"));
    nest(&mut l, "model");
    let target = |p: &str| {
        l.entries
            .iter()
            .find(|e| e.path.as_bytes() == p.as_bytes())
            .map(|e| e.kind.clone())
    };
    assert_eq!(
        target("model/out"),
        Some(EntryKind::Symlink {
            target: "../../../../outside/x".into()
        })
    );
    assert_eq!(
        target("model/links/in"),
        Some(EntryKind::Symlink {
            target: "../a.dat".into()
        })
    );
}

/// The SHA-256 of the TOML of the first 300 layouts `job_layout()` draws from `runner(5)`.
/// Knobs off by default must leave it alone: a changed value means every saved seed now
/// replays a different layout.
const DEFAULT_GENERATION_SHA256: &str =
    "410b71ce478a89ba0a04d8be8f4c0733ed94edf2202b9882e4e8ec022eee1879";

#[test]
fn default_generation_is_unchanged_for_existing_seeds() {
    use sha2::{Digest, Sha256};
    let mut r = runner(5);
    let s = job_layout();
    let mut h = Sha256::new();
    for _ in 0..300 {
        h.update(s.new_tree(&mut r).unwrap().current().to_toml().as_bytes());
    }
    let got: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(got, DEFAULT_GENERATION_SHA256);
}

#[test]
fn nesting_moves_model_and_archive_promises_and_leaves_outside_ones() {
    use crate::detect::Where;
    let piece = |entries, promises| Piece {
        labels: Vec::new(),
        entries,
        promises,
    };
    let pits = vec![
        piece(
            vec![Entry::symlink(Root::Model, "d", "missing")],
            vec![
                Promise::model(Code::DanglingSymlink, "d"),
                Promise::link_member("d", false),
            ],
        ),
        piece(
            vec![Entry::file(Root::Cwd, "m.pt", Content::Text("x".into()))],
            vec![Promise::new(
                Code::ModelSavedOutside,
                Where::Cwd,
                Some("m.pt".into()),
                When::Always,
            )],
        ),
    ];
    let case = assemble_case(None, pits, Some("model".into()));
    let paths: Vec<String> = case
        .truth
        .promises
        .iter()
        .map(|p| p.at.to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "dangling-symlink model:\"model/d\"",
            "link-in-archive archive:\"model/d\"",
            "model-saved-outside cwd:\"m.pt\"",
            "empty-model-dir model",
        ]
    );
    // A link member: refused by SageMaker, kept by POSIX tar and (inside) by KServe.
    let on = |t| case.truth.expected(t, true).len();
    use crate::target::Target;
    assert_eq!(
        (on(Target::Sagemaker), on(Target::Posix), on(Target::Kserve)),
        (1, 0, 0)
    );
}
