//! Contract gaps closed in issue 16 (item 6), each shown by a small broken packager script in
//! `tests/broken/` judged by `contract::check` on one layout, with `tar -czf` as the control:
//! - directory modes: a packager that stores dirs (and `./`) as 0700 gives a consumer that
//!   keeps dir modes (`sagemaker` hosting, tar as root; `posix`) a tree a server running as
//!   another user cannot enter, so `fidelity` names each dir; `kserve`'s `data` filter gives
//!   every dir the default mode, so it passes there;
//! - a hard link placed before the member it links to: GNU tar and Python's tarfile fail on
//!   it, so `fidelity` names the link and the consumer's error.
//!
//! The strict rerun's gaps are unit tests beside the code (`runner::trial`).

#[path = "common/unavailable.rs"]
mod unavailable;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use packtest::contract::{self, ContractOptions, Evidence, Property, Violation};
use packtest::packager::PackJob;
use packtest::target::Target;
use packtest::{CommandPackager, Content, Entry, Layout, Packager, Root, Sandbox};

const TAR: &str = "tar -czf {output} -C {model_dir} .";

fn python() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        unavailable::unavailable("the broken packager scripts", "python3 is not on PATH");
    }
    ok
}

fn script(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/broken")
        .join(name);
    format!("python3 {} {{model_dir}} {{output}}", p.display())
}

/// The default-profile violations of one run of `command` on `layout` for `target`.
fn judge(command: &str, layout: &Layout, target: Target) -> Vec<Violation> {
    let sandbox = Sandbox::materialize(layout).unwrap();
    let before = sandbox.digest().unwrap();
    let model_tree = contract::scan_model_dir(&sandbox.model_dir()).unwrap();
    let job = PackJob::for_sandbox(&sandbox, Duration::from_secs(60));
    let outcome = CommandPackager::parse(command).unwrap().pack(&job);
    let after = sandbox.digest().unwrap();
    let ev = Evidence {
        sandbox: &sandbox,
        model_tree: &model_tree,
        before: &before,
        after: &after,
        outcome: &outcome,
        second_run: None,
    };
    let opts = ContractOptions {
        strict: false,
        target,
    };
    contract::check(&ev, opts).violations
}

fn dirs_layout() -> Layout {
    Layout::new()
        .with(Entry::file(
            Root::Model,
            "model.pth",
            Content::Text("weights".into()),
        ))
        .with(Entry::file(
            Root::Model,
            "code/inference.py",
            Content::Text("def model_fn(d):\n    pass\n".into()),
        ))
        .with(Entry::dir(Root::Model, "empty"))
        .with(Entry::dir(Root::Model, "private").with_mode(0o700))
}

#[test]
fn dirs_stored_without_their_search_bits_break_fidelity_where_dir_modes_are_kept() {
    if !python() {
        return;
    }
    let layout = dirs_layout();
    for target in [Target::Sagemaker, Target::Posix] {
        let v = judge(&script("private_dirs.py"), &layout, target);
        let fid: Vec<&Violation> = v
            .iter()
            .filter(|x| x.property == Property::Fidelity)
            .collect();
        assert_eq!(fid.len(), 1, "{target}: {v:#?}");
        let details = fid[0].details.join("\n");
        for dir in ["~ .:", "~ code:", "~ empty:"] {
            assert!(details.contains(dir), "{target}: `{dir}` in {details}");
        }
        // A dir the model dir itself keeps private loses nothing.
        assert!(!details.contains("private"), "{target}: {details}");
        assert_eq!(v.len(), 1, "{target}: only fidelity: {v:#?}");
    }
    let v = judge(&script("private_dirs.py"), &layout, Target::Kserve);
    assert!(
        v.is_empty(),
        "kserve's data filter ignores dir modes: {v:#?}"
    );
    for target in Target::ALL {
        let v = judge(TAR, &layout, target);
        assert!(v.is_empty(), "tar -czf is sound for {target}: {v:#?}");
    }
}

#[test]
fn a_hard_link_before_the_member_it_links_to_breaks_fidelity() {
    if !python() {
        return;
    }
    let layout = Layout::new()
        .with(Entry::file(
            Root::Model,
            "b.bin",
            Content::Text("weights".into()),
        ))
        .with(Entry::hardlink(Root::Model, "a.bin", "b.bin"));
    for target in [Target::Posix, Target::Kserve] {
        let v = judge(&script("hardlink_first.py"), &layout, target);
        assert_eq!(v.len(), 1, "{target}: {v:#?}");
        let x = &v[0];
        assert_eq!(x.property, Property::Fidelity, "{target}: {x}");
        assert_eq!(x.path.as_ref().map(|p| p.to_string()), Some("a.bin".into()));
        assert!(
            x.details.iter().any(|d| d.contains("`b.bin` comes after")),
            "{target}: {x}"
        );
        assert!(judge(TAR, &layout, target).is_empty(), "{target}: tar -czf");
    }
}

#[test]
fn check_archive_reports_a_hard_link_before_its_target() {
    if !python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    std::fs::write(model.join("b.bin"), "weights").unwrap();
    std::fs::hard_link(model.join("b.bin"), model.join("a.bin")).unwrap();
    let archive = dir.path().join("model.tar.gz");
    let argv = script("hardlink_first.py")
        .replace("{model_dir}", &model.display().to_string())
        .replace("{output}", &archive.display().to_string());
    let argv: Vec<&str> = argv.split(' ').collect();
    let packed = Command::new(argv[0]).args(&argv[1..]).status().unwrap();
    assert!(packed.success());
    for target in ["posix", "kserve"] {
        let out = Command::new(env!("CARGO_BIN_EXE_packtest"))
            .args(["check", "--model-dir"])
            .arg(&model)
            .arg("--archive")
            .arg(&archive)
            .args(["--target", target])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{target}: {stdout}");
        assert!(
            stdout.contains("archive-mismatch archive:a.bin"),
            "{target}: {stdout}"
        );
    }
}
