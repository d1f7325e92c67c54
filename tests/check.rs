//! `packtest check` through the binary: clean layouts of every framework report no error;
//! a downloaded archive alone is judged by its member names.

use assert_cmd::Command;
use predicates::prelude::*;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use packtest::layout::{Content, Entry, Layout, ModelFormat, Root, Sandbox};
use packtest::strategy::{clean_layout, Profile};
use packtest::ReferencePackager;

fn bin() -> Command {
    Command::cargo_bin("packtest").unwrap()
}

#[test]
fn a_correct_layout_of_each_framework_profile_has_no_error() {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    for profile in Profile::ALL {
        for _ in 0..3 {
            let layout = clean_layout(profile)
                .new_tree(&mut runner)
                .unwrap()
                .current();
            let sb = Sandbox::materialize(&layout).unwrap();
            bin()
                .arg("check")
                .arg("--sandbox")
                .arg(sb.root())
                .assert()
                .success()
                .stdout(predicate::str::contains("0 errors"));
            // And the reference packager's archive of it, alone and against the dir.
            let out = sb.root().join("out/model.tar.gz");
            ReferencePackager::new()
                .pack_dir(&sb.model_dir(), &out)
                .unwrap();
            bin()
                .arg("check")
                .arg("--archive")
                .arg(&out)
                .assert()
                .success();
            bin()
                .arg("check")
                .arg("--sandbox")
                .arg(sb.root())
                .arg("--archive")
                .arg(&out)
                .assert()
                .success();
        }
    }
}

/// `packtest check --archive A` plus `extra` arguments.
fn check_archive(a: &std::path::Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    bin()
        .arg("check")
        .arg("--archive")
        .arg(a)
        .args(extra)
        .assert()
}

fn archive_of(layout: &Layout) -> (Sandbox, std::path::PathBuf) {
    let sb = Sandbox::materialize(layout).unwrap();
    let out = sb.root().join("out/model.tar.gz");
    // Stored as they are (links too), to look at what other packagers leave in an archive.
    ReferencePackager::for_target(packtest::target::Target::Posix)
        .pack_dir(&sb.model_dir(), &out)
        .unwrap();
    (sb, out)
}

#[test]
fn an_archive_alone_shows_nesting_versioning_emptiness_and_links() {
    let nested = Layout::new()
        .with(Entry::file(
            Root::Model,
            "model/config.json",
            Content::format(ModelFormat::HfConfig, 1, 0),
        ))
        .with(Entry::file(
            Root::Model,
            "model/model.safetensors",
            Content::format(ModelFormat::Safetensors, 1, 64),
        ));
    let (_s, a) = archive_of(&nested);
    check_archive(&a, &[])
        .success()
        .stdout(predicate::str::contains("nested-model-root"))
        .stdout(predicate::str::contains("hf-incomplete"));

    let tf = Layout::new()
        .with(Entry::file(
            Root::Model,
            "saved_model.pb",
            Content::format(ModelFormat::SavedModelPb, 1, 0),
        ))
        .with(Entry::file(
            Root::Model,
            "variables/variables.index",
            Content::format(ModelFormat::TfVariablesIndex, 1, 0),
        ));
    let (_s, a) = archive_of(&tf);
    check_archive(&a, &[])
        .code(1)
        .stdout(predicate::str::contains("savedmodel-unversioned"));

    let (_s, a) = archive_of(&Layout::new());
    check_archive(&a, &[])
        .code(1)
        .stdout(predicate::str::contains("empty-model-dir"));

    let links = Layout::new()
        .with(Entry::file(
            Root::Model,
            "m.pt",
            Content::format(ModelFormat::TorchZip, 1, 64),
        ))
        .with(Entry::symlink(Root::Model, "data", "/mnt/dataset"))
        .with(Entry::symlink(Root::Model, "gone", "missing.bin"));
    let (_s, a) = archive_of(&links);
    check_archive(&a, &["--json"])
        .code(1)
        .stdout(predicate::str::contains("\"symlink-escape\""))
        .stdout(predicate::str::contains("\"dangling-symlink\""));
}

#[test]
fn an_archive_that_does_not_match_its_model_dir_is_an_error() {
    let l = Layout::new().with(Entry::file(
        Root::Model,
        "m.pt",
        Content::format(ModelFormat::TorchZip, 1, 64),
    ));
    let (sb, a) = archive_of(&l);
    std::fs::write(sb.model_dir().join("late.bin"), b"written after packing").unwrap();
    bin()
        .arg("check")
        .arg("--model-dir")
        .arg(sb.model_dir())
        .arg("--archive")
        .arg(&a)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("archive-mismatch"))
        .stdout(predicate::str::contains("late.bin"));
}

/// A model dir with weights and an internal symlink to them (as the Hugging Face cache does).
fn internal_link_layout() -> Layout {
    Layout::new()
        .with(Entry::file(
            Root::Model,
            "blobs/0123abcd",
            Content::format(ModelFormat::Safetensors, 1, 64),
        ))
        .with(Entry::symlink(
            Root::Model,
            "model.safetensors",
            "blobs/0123abcd",
        ))
}

#[test]
fn an_internal_symlink_is_a_warning_for_sagemaker_and_nothing_for_posix() {
    let sb = Sandbox::materialize(&internal_link_layout()).unwrap();
    let check = |extra: &[&str]| {
        bin()
            .arg("check")
            .arg("--model-dir")
            .arg(sb.model_dir())
            .args(extra)
            .assert()
            .success()
    };
    check(&[]).stdout(predicate::str::contains("symlink-in-model-dir"));
    check(&["--target", "posix"]).stdout(predicate::str::contains("symlink-in-model-dir").not());
    check(&["--target", "kserve", "--json"])
        .stdout(predicate::str::contains("\"target\": \"kserve\""))
        .stdout(predicate::str::contains("symlink-in-model-dir").not());
}

#[test]
fn a_link_member_is_an_error_for_sagemaker_and_nothing_for_posix() {
    let (_s, a) = archive_of(&internal_link_layout());
    check_archive(&a, &[])
        .code(1)
        .stdout(predicate::str::contains("link-in-archive"));
    check_archive(&a, &["--target", "posix"])
        .success()
        .stdout(predicate::str::contains("link-in-archive").not());
}

#[test]
fn an_unknown_target_is_a_usage_error_that_lists_the_targets() {
    bin()
        .args([
            "check",
            "--archive",
            "whatever.tar.gz",
            "--target",
            "nonsense",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sagemaker, posix, kserve"));
}

/// `check --archive` alone reads model members as the archive streams by: a cut safetensors
/// file, a torch zip with a flipped storage byte and a pickle calling `os.system` are found by
/// path; `check --model-dir` on the same files finds the same.
#[test]
fn archive_members_are_read_for_integrity() {
    use packtest::layout::Damage;
    let damaged = |f: ModelFormat, d: Damage| Content::Damaged {
        base: Box::new(Content::format(f, 9, 4096)),
        damage: d,
    };
    let zip = Content::format(ModelFormat::TorchZip, 9, 4096);
    let (start, _) = zip.payload_span().unwrap();
    let layout = Layout::new()
        .with(Entry::file(
            Root::Model,
            "model.safetensors",
            damaged(ModelFormat::Safetensors, Damage::Cut(3000)),
        ))
        .with(Entry::file(
            Root::Model,
            "model.pt",
            damaged(ModelFormat::TorchZip, Damage::Flip(start + 7)),
        ))
        .with(Entry::file(
            Root::Model,
            "evil.pkl",
            Content::Bytes(b"cposix\nsystem\n(Vecho\ntR.".to_vec()),
        ));
    let sb = Sandbox::materialize(&layout).unwrap();
    let out = sb.root().join("out/model.tar.gz");
    ReferencePackager::new()
        .pack_dir(&sb.model_dir(), &out)
        .unwrap();
    for args in [
        vec!["--archive".into(), out.clone()],
        vec!["--model-dir".into(), sb.model_dir()],
    ] {
        bin()
            .arg("check")
            .args(&args)
            .assert()
            .code(1)
            .stdout(
                predicate::str::contains("model-file-truncated")
                    .and(predicate::str::contains(":model.safetensors")),
            )
            .stdout(
                predicate::str::contains("model-file-corrupt")
                    .and(predicate::str::contains(":model.pt")),
            )
            .stdout(
                predicate::str::contains("unsafe-pickle")
                    .and(predicate::str::contains(":evil.pkl")),
            );
    }
}
