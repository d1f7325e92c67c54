//! Unit tests of the target-dependent rules and the rules added with them: each has a case
//! that must fire and one that must not.

use super::*;
use crate::layout::{Content, Entry, Layout, ModelFormat, Root, Sandbox};

fn opts(target: Target) -> DetectOptions {
    DetectOptions {
        target,
        ..DetectOptions::default()
    }
}

fn weights() -> Entry {
    Entry::file(
        Root::Model,
        "model.pt",
        Content::format(ModelFormat::TorchZip, 1, 64),
    )
}

/// `(code, path)` of every finding on the materialized model dir.
fn dir_codes(layout: &Layout, target: Target) -> Vec<(Code, String)> {
    let sb = Sandbox::materialize(layout).unwrap();
    detect(&JobDirs::from_sandbox(&sb), &opts(target))
        .unwrap()
        .into_iter()
        .map(|f| (f.code, f.path.map(|p| p.to_string()).unwrap_or_default()))
        .collect()
}

/// `(code, path)` of every finding on GNU tar's archive of the layout's model dir: links
/// stored as links and modes kept (the reference packager normalizes modes).
fn archive_codes(layout: &Layout, target: Target) -> Vec<(Code, String)> {
    let sb = Sandbox::materialize(layout).unwrap();
    let out = sb.root().join("out/model.tar.gz");
    // GNU tar (which `.ci/run` installs): hard links as link entries, modes as they are.
    let st = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&out)
        .arg("-C")
        .arg(sb.model_dir())
        .arg(".")
        .status()
        .expect("GNU tar runs");
    assert!(st.success(), "tar failed: {st}");
    let m = Manifest::read_path(&out, crate::archive::Limits::default()).unwrap();
    detect_archive(&m, &opts(target))
        .into_iter()
        .map(|f| (f.code, f.path.map(|p| p.to_string()).unwrap_or_default()))
        .collect()
}

fn has(v: &[(Code, String)], code: Code, path: &str) -> bool {
    v.iter().any(|(c, p)| *c == code && p == path)
}

fn count(v: &[(Code, String)], code: Code) -> usize {
    v.iter().filter(|(c, _)| *c == code).count()
}

fn hf_cache() -> Layout {
    Layout::new()
        .with(Entry::file(
            Root::Model,
            "blobs/0123abcd",
            Content::format(ModelFormat::Safetensors, 1, 64),
        ))
        .with(Entry::symlink(
            Root::Model,
            "snapshots/r1/model.safetensors",
            "../../blobs/0123abcd",
        ))
}

#[test]
fn an_internal_symlink_is_a_sagemaker_warning_and_nothing_for_posix_or_kserve() {
    let f = dir_codes(&hf_cache(), Target::Sagemaker);
    assert!(
        has(
            &f,
            Code::SymlinkInModelDir,
            "snapshots/r1/model.safetensors"
        ),
        "{f:?}"
    );
    assert!(!f.iter().any(|(c, _)| *c == Code::NoModelFile), "{f:?}");
    for t in [Target::Posix, Target::Kserve] {
        let f = dir_codes(&hf_cache(), t);
        assert_eq!(count(&f, Code::SymlinkInModelDir), 0, "{t}: {f:?}");
    }
}

#[test]
fn a_symlink_to_a_dir_inside_and_a_dir_cycle_are_warnings() {
    let l = Layout::new()
        .with(weights())
        .with(Entry::symlink(Root::Model, "latest", "checkpoint-500"))
        .with(Entry::file(
            Root::Model,
            "checkpoint-500/w.bin",
            Content::random(1, 8),
        ))
        .with(Entry::symlink(Root::Model, "sub/up", ".."));
    let f = dir_codes(&l, Target::Sagemaker);
    assert!(has(&f, Code::SymlinkInModelDir, "latest"), "{f:?}");
    assert!(has(&f, Code::SymlinkInModelDir, "sub/up"), "{f:?}");
    assert_eq!(count(&f, Code::DanglingSymlink), 0, "{f:?}");
}

#[test]
fn escaping_dangling_and_looping_links_keep_their_errors_and_are_not_also_the_warning() {
    let l = Layout::new()
        .with(weights())
        .with(Entry::symlink(Root::Model, "out", "/etc/hostname"))
        .with(Entry::symlink(Root::Model, "gone", "missing.bin"))
        .with(Entry::symlink(Root::Model, "a", "b"))
        .with(Entry::symlink(Root::Model, "b", "a"));
    let f = dir_codes(&l, Target::Sagemaker);
    assert_eq!(count(&f, Code::SymlinkInModelDir), 0, "{f:?}");
    assert!(has(&f, Code::SymlinkEscape, "out"), "{f:?}");
    assert!(has(&f, Code::DanglingSymlink, "gone"), "{f:?}");
    assert!(has(&f, Code::DanglingSymlink, "a"), "{f:?}");
    assert!(has(&f, Code::DanglingSymlink, "b"), "{f:?}");
}

#[test]
fn a_0600_file_and_a_0700_dir_are_unreadable_by_the_server_on_sagemaker_only() {
    let l = Layout::new()
        .with(weights().with_mode(0o600))
        .with(Entry::dir(Root::Model, "private").with_mode(0o700))
        .with(Entry::file(
            Root::Model,
            "private/vocab.txt",
            Content::Text("a\n".into()),
        ))
        .with(Entry::file(
            Root::Model,
            "ok.json",
            Content::Text("{}".into()),
        ));
    let f = dir_codes(&l, Target::Sagemaker);
    assert!(has(&f, Code::UnreadableByServer, "model.pt"), "{f:?}");
    assert!(has(&f, Code::UnreadableByServer, "private"), "{f:?}");
    assert_eq!(count(&f, Code::UnreadableByServer), 2, "{f:?}");
    for t in [Target::Posix, Target::Kserve] {
        assert_eq!(count(&dir_codes(&l, t), Code::UnreadableByServer), 0, "{t}");
    }
    // The archive keeps the modes, so the archive alone shows them too.
    let a = archive_codes(&l, Target::Sagemaker);
    assert!(has(&a, Code::UnreadableByServer, "model.pt"), "{a:?}");
    assert!(has(&a, Code::UnreadableByServer, "private"), "{a:?}");
    assert_eq!(
        count(&archive_codes(&l, Target::Posix), Code::UnreadableByServer),
        0
    );
}

#[test]
fn world_readable_modes_are_not_reported() {
    let l = Layout::new()
        .with(weights().with_mode(0o644))
        .with(
            Entry::file(Root::Model, "run.sh", Content::Text("#!/bin/sh\n".into()))
                .with_mode(0o755),
        )
        .with(Entry::dir(Root::Model, "d").with_mode(0o755));
    assert_eq!(
        count(&dir_codes(&l, Target::Sagemaker), Code::UnreadableByServer),
        0
    );
    assert_eq!(
        count(
            &archive_codes(&l, Target::Sagemaker),
            Code::UnreadableByServer
        ),
        0
    );
}

#[test]
fn files_that_no_framework_loads_are_no_model_file() {
    let l = Layout::new()
        .with(Entry::file(
            Root::Model,
            "notes.txt",
            Content::Text("todo\n".into()),
        ))
        .with(Entry::file(
            Root::Model,
            "feature_names.json",
            Content::Text("[\"a\"]".into()),
        ))
        .with(Entry::file(
            Root::Model,
            "._model.pth",
            Content::random(2, 64),
        ));
    let f = dir_codes(&l, Target::Sagemaker);
    assert_eq!(count(&f, Code::NoModelFile), 1, "{f:?}");
    assert_eq!(
        count(&archive_codes(&l, Target::Posix), Code::NoModelFile),
        1
    );
}

#[test]
fn a_model_by_name_or_by_content_or_an_empty_dir_is_not_no_model_file() {
    let by_name = Layout::new()
        .with(Entry::file(
            Root::Model,
            "notes.txt",
            Content::Text("x".into()),
        ))
        .with(Entry::file(
            Root::Model,
            "weights.params",
            Content::random(3, 32),
        ));
    assert_eq!(
        count(&dir_codes(&by_name, Target::Posix), Code::NoModelFile),
        0
    );
    let by_content = Layout::new().with(Entry::file(
        Root::Model,
        "model",
        Content::format(ModelFormat::XgboostJson, 1, 64),
    ));
    assert_eq!(
        count(&dir_codes(&by_content, Target::Posix), Code::NoModelFile),
        0
    );
    let empty = Layout::new().with(Entry::dir(Root::Model, "d"));
    let f = dir_codes(&empty, Target::Sagemaker);
    assert_eq!(count(&f, Code::NoModelFile), 0, "{f:?}");
    assert_eq!(count(&f, Code::EmptyModelDir), 1, "{f:?}");
}

#[test]
fn appledouble_sidecars_and_macosx_dirs_are_junk() {
    let l = Layout::new()
        .with(weights())
        .with(Entry::file(
            Root::Model,
            "._model.pt",
            Content::Bytes(vec![0, 5, 22, 7]),
        ))
        .with(Entry::file(
            Root::Model,
            "__MACOSX/._model.pt",
            Content::Bytes(vec![0, 5, 22, 7]),
        ));
    let f = dir_codes(&l, Target::Sagemaker);
    assert!(has(&f, Code::JunkFiles, "._model.pt"), "{f:?}");
    assert!(has(&f, Code::JunkFiles, "__MACOSX"), "{f:?}");
    assert_eq!(count(&f, Code::JunkFiles), 2, "{f:?}");
    let clean = Layout::new().with(weights()).with(Entry::file(
        Root::Model,
        "a._b.txt",
        Content::Text("x".into()),
    ));
    assert_eq!(
        count(&dir_codes(&clean, Target::Sagemaker), Code::JunkFiles),
        0
    );
}

#[test]
fn a_link_member_is_a_sagemaker_error_and_nothing_for_posix() {
    let l = hf_cache()
        .with(Entry::file(Root::Model, "w.bin", Content::random(4, 100)))
        .with(Entry::hardlink(Root::Model, "w2.bin", "w.bin"));
    let f = archive_codes(&l, Target::Sagemaker);
    assert!(
        has(&f, Code::LinkInArchive, "snapshots/r1/model.safetensors"),
        "{f:?}"
    );
    // GNU tar stores whichever name it lists second as the link entry.
    assert!(
        has(&f, Code::LinkInArchive, "w2.bin") || has(&f, Code::LinkInArchive, "w.bin"),
        "{f:?}"
    );
    assert_eq!(
        count(&f, Code::ZeroByteModelFile),
        0,
        "a hard link is not empty: {f:?}"
    );
    assert_eq!(count(&f, Code::SymlinkInModelDir), 0, "{f:?}");
    assert_eq!(
        count(&archive_codes(&l, Target::Posix), Code::LinkInArchive),
        0
    );
    // KServe takes relative links that stay inside.
    assert_eq!(
        count(&archive_codes(&l, Target::Kserve), Code::LinkInArchive),
        0
    );
}

#[test]
fn kserve_refuses_an_absolute_or_escaping_link_member() {
    let l = Layout::new()
        .with(weights())
        .with(Entry::symlink(Root::Model, "abs", "/opt/ml/model/model.pt"))
        .with(Entry::symlink(Root::Model, "d/up", "../../x"))
        .with(Entry::symlink(Root::Model, "ok", "model.pt"));
    let f = archive_codes(&l, Target::Kserve);
    assert!(has(&f, Code::LinkInArchive, "abs"), "{f:?}");
    assert!(has(&f, Code::LinkInArchive, "d/up"), "{f:?}");
    assert!(!has(&f, Code::LinkInArchive, "ok"), "{f:?}");
}

#[test]
fn weights_are_sniffed_by_name_and_a_bare_extension_is_not_a_model_file() {
    use super::sniff::{is_model_file_name, sniff_name, Sniffed};
    assert_eq!(sniff_name(b"model.safetensors"), Some(Sniffed::Safetensors));
    assert_eq!(sniff_name(b"saved_model.pb"), Some(Sniffed::SavedModel));
    assert_eq!(sniff_name(b"model.pth"), Some(Sniffed::TorchZip));
    assert_eq!(sniff_name(b"notes.txt"), None);
    assert!(is_model_file_name(b"a.pt"));
    assert!(is_model_file_name(b"model.safetensors"));
    // A file named only by its extension is a dotfile, not a model.
    assert!(!is_model_file_name(b".pt"));
    assert!(!is_model_file_name(b".safetensors"));
}

#[test]
fn a_config_json_is_a_hugging_face_one_only_with_a_tokenizer_or_weights_beside_it() {
    let config = || Entry::file(Root::Model, "config.json", Content::Text("{}".into()));
    // A PyTorch model with a config of its own: no Hugging Face rule applies.
    let plain = Layout::new().with(weights()).with(config());
    let v = dir_codes(&plain, Target::Sagemaker);
    assert_eq!(count(&v, Code::HfIncomplete), 0, "{v:?}");
    // A tokenizer beside the config makes it a Hugging Face model, which has no weights.
    let hf = Layout::new().with(config()).with(Entry::file(
        Root::Model,
        "tokenizer.json",
        Content::Text("{}".into()),
    ));
    let v = dir_codes(&hf, Target::Sagemaker);
    assert!(has(&v, Code::HfIncomplete, "config.json"), "{v:?}");
}

/// Every fix text, by code and by each kind of file or entry the code can name, in one
/// reviewed snapshot (`snapshots/detect_fix_table.snap`); every code is in it.
#[test]
fn every_fix_by_code_and_kind() {
    let table = fix::table();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !table.iter().any(|(t, _, _)| t == *c))
        .map(|c| c.id())
        .collect();
    assert!(missing.is_empty(), "codes with no fix row: {missing:?}");
    let text: String = table
        .iter()
        .map(|(c, kind, fix)| format!("{c} [{kind}]\n    {fix}\n"))
        .collect();
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.bind(|| insta::assert_snapshot!("detect_fix_table", text));
}
