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
            let dir = bin()
                .arg("check")
                .arg("--sandbox")
                .arg(sb.root())
                .assert()
                .success()
                .stdout(predicate::str::contains("0 errors"));
            let nested = String::from_utf8_lossy(&dir.get_output().stdout)
                .contains("warning nested-model-root");
            // And the reference packager's archive of it, alone and against the dir.
            let out = sb.root().join("out/model.tar.gz");
            ReferencePackager::new()
                .pack_dir(&sb.model_dir(), &out)
                .unwrap();
            let alone = bin().arg("check").arg("--archive").arg(&out).assert();
            if nested {
                // A model dir that is all one folder (a warning there) makes an archive that
                // is all one folder, which alone is an error: the archive cannot tell that
                // the folder was in the model dir. That is its only error.
                alone
                    .code(1)
                    .stdout(predicate::str::contains("error   nested-model-root"))
                    .stdout(predicate::str::contains("1 error,"));
            } else {
                alone.success();
            }
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
        .code(1)
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

/// `check --json` findings as `(code, severity, path, fix)`.
fn json_findings(out: &[u8]) -> Vec<(String, String, String, String)> {
    let v: serde_json::Value = serde_json::from_slice(out).unwrap();
    let s = |f: &serde_json::Value, k: &str| f[k].as_str().unwrap_or_default().to_string();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (s(f, "code"), s(f, "severity"), s(f, "path"), s(f, "fix")))
        .collect()
}

/// Everything under one extra folder: a warning in the model dir (the platform packs it as
/// it is, and the serving code may know the folder), an error in an archive, as `run` fails
/// it under `relative-names`.
#[test]
fn one_extra_folder_is_a_warning_in_the_model_dir_and_an_error_in_the_archive() {
    let nested = Layout::new().with(Entry::file(
        Root::Model,
        "model/model.safetensors",
        Content::format(ModelFormat::Safetensors, 1, 64),
    ));
    let (sb, a) = archive_of(&nested);
    let dir = bin()
        .args(["check", "--json", "--model-dir"])
        .arg(sb.model_dir())
        .assert()
        .success();
    let f = json_findings(&dir.get_output().stdout);
    assert!(
        f.iter()
            .any(|(c, sev, _, _)| c == "nested-model-root" && sev == "warning"),
        "{f:?}"
    );
    let arch = check_archive(&a, &["--json"]).code(1);
    let f = json_findings(&arch.get_output().stdout);
    let nested = f.iter().find(|(c, ..)| c == "nested-model-root");
    let Some((_, sev, path, fix)) = nested else {
        panic!("no nested-model-root: {f:?}")
    };
    assert_eq!((sev.as_str(), path.as_str()), ("error", "model"));
    assert!(fix.contains("-C path/to/model ."), "{fix}");
}

/// An archive of the model dir whose members all sit under `model/` (`tar -czf OUT -C
/// /opt/ml model`): `archive-mismatch` names that folder and the `-C DIR .` fix, not a diff
/// of every path.
#[test]
fn archive_mismatch_names_the_extra_folder_when_it_is_the_difference() {
    let l = Layout::new()
        .with(Entry::file(
            Root::Model,
            "model.safetensors",
            Content::format(ModelFormat::Safetensors, 1, 64),
        ))
        .with(Entry::file(
            Root::Model,
            "config.json",
            Content::format(ModelFormat::HfConfig, 1, 0),
        ));
    let sb = Sandbox::materialize(&l).unwrap();
    let out = sb.root().join("out/model.tar.gz");
    let model = sb.model_dir();
    let st = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&out)
        .arg("-C")
        .arg(model.parent().unwrap())
        .arg("model")
        .status()
        .unwrap();
    assert!(st.success());
    let run = |dir: &std::path::Path| {
        bin()
            .args(["check", "--json", "--model-dir"])
            .arg(dir)
            .arg("--archive")
            .arg(&out)
            .assert()
    };
    let f = json_findings(&run(&model).code(1).get_output().stdout);
    let m: Vec<_> = f.iter().filter(|(c, ..)| c == "archive-mismatch").collect();
    assert_eq!(m.len(), 1, "{f:?}");
    assert_eq!(m[0].2, "model");
    assert!(
        m[0].3.contains("every member is under `model/`") && m[0].3.contains("-C DIR ."),
        "{}",
        m[0].3
    );
    // A file written after packing is another difference: the generic diff, which names it.
    std::fs::write(model.join("late.bin"), b"late").unwrap();
    let f = json_findings(&run(&model).code(1).get_output().stdout);
    let m: Vec<_> = f.iter().filter(|(c, ..)| c == "archive-mismatch").collect();
    assert_eq!(m.len(), 1, "{f:?}");
    assert!(!m[0].3.contains("every member is under"), "{}", m[0].3);
}

/// `model-saved-outside` gives the save call of the file's own format.
#[test]
fn model_saved_outside_fixes_name_the_format_s_own_save_call() {
    let l = Layout::new()
        .with(Entry::file(
            Root::Cwd,
            "model.safetensors",
            Content::format(ModelFormat::Safetensors, 1, 64),
        ))
        .with(Entry::file(
            Root::Cwd,
            "model.joblib",
            Content::format(ModelFormat::Joblib, 1, 64),
        ))
        .with(Entry::file(
            Root::Cwd,
            "model.pt",
            Content::format(ModelFormat::TorchZip, 1, 64),
        ));
    let sb = Sandbox::materialize(&l).unwrap();
    let a = bin()
        .args(["check", "--json", "--sandbox"])
        .arg(sb.root())
        .assert()
        .code(1);
    let f = json_findings(&a.get_output().stdout);
    let fix = |p: &str| {
        f.iter()
            .find(|(c, _, path, _)| c == "model-saved-outside" && path == p)
            .map(|x| x.3.clone())
            .unwrap_or_else(|| panic!("no model-saved-outside for {p}: {f:?}"))
    };
    let st = fix("model.safetensors");
    assert!(
        st.contains("save_file(") && !st.contains("torch.save("),
        "{st}"
    );
    let jl = fix("model.joblib");
    assert!(
        jl.contains("joblib.dump(") && !jl.contains("torch.save("),
        "{jl}"
    );
    assert!(fix("model.pt").contains("torch.save("));
}

/// `link-in-archive`: a link inside the model dir may be dereferenced; one that leaves it
/// must not be (that packs outside bytes): copy the file in or remove the link.
#[test]
fn link_in_archive_never_suggests_dereferencing_a_link_out_of_the_model_dir() {
    let l = internal_link_layout().with(Entry::symlink(Root::Model, "data", "/mnt/dataset"));
    let (_s, a) = archive_of(&l);
    let f = json_findings(&check_archive(&a, &["--json"]).code(1).get_output().stdout);
    let fix = |p: &str| {
        f.iter()
            .find(|(c, _, path, _)| c == "link-in-archive" && path == p)
            .map(|x| x.3.clone())
            .unwrap_or_else(|| panic!("no link-in-archive for {p}: {f:?}"))
    };
    assert!(fix("model.safetensors").contains("--dereference"));
    let out = fix("data");
    assert!(
        !out.contains("tar --dereference") && out.contains("copy the file it needs"),
        "{out}"
    );
}
