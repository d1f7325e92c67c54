//! Pitfall pieces made of files and directories: models saved in the wrong place, broken
//! SavedModels, odd names and sizes, leftovers and bloat in the model dir, special files.

use crate::detect::{Code, Where};
use proptest::prelude::*;
use proptest::sample::select;

use crate::layout::{Content, Entry, Fill, ModelFormat, Root};

use super::super::names::odd_name;
use super::super::piece::{piece, seed, stem, Piece};
use super::super::profiles::tf_savedmodel;
use super::super::truth::{Promise, When};

/// The detector's name for a root a model may be saved to by mistake.
fn outside_where(root: Root) -> Where {
    match root {
        Root::Cwd => Where::Cwd,
        Root::Tmp => Where::Tmp,
        _ => Where::Output,
    }
}

/// `model-saved-outside` for the file at `path` under `root`.
fn saved_outside(root: Root, path: &str) -> Promise {
    Promise::new(
        Code::ModelSavedOutside,
        outside_where(root),
        Some(path.into()),
        When::Always,
    )
}

/// File sizes: mostly small, sometimes tens of KiB, now and then over 64 KiB.
fn size(large: bool) -> SBoxedStrategy<u64> {
    if large {
        prop_oneof![
            6 => 0u64..4096,
            3 => 4096u64..65_536,
            2 => 65_537u64..400_000,
            1 => 400_000u64..3_000_000,
        ]
        .sboxed()
    } else {
        (0u64..8192).sboxed()
    }
}

/// Model formats a training script might save, with the file name it would use.
fn model_save() -> impl Strategy<Value = (ModelFormat, &'static str)> {
    select(vec![
        (ModelFormat::TorchZip, "model.pt"),
        (ModelFormat::TorchZip, "model.pth"),
        (ModelFormat::Safetensors, "model.safetensors"),
        (ModelFormat::KerasH5, "my_model.h5"),
        (ModelFormat::Onnx, "model.onnx"),
        (ModelFormat::XgboostJson, "xgboost-model.json"),
        (ModelFormat::Joblib, "model.joblib"),
    ])
}

/// `torch.save('./model.pt')`: the model lands in the working dir (or /tmp, or output).
pub(super) fn model_saved_outside() -> SBoxedStrategy<Piece> {
    (
        model_save(),
        seed(),
        0u64..8192,
        select(vec![Root::Cwd, Root::Tmp, Root::Output]),
    )
        .prop_map(|((f, name), s, n, root)| {
            piece(
                &[Code::ModelSavedOutside.id()],
                vec![Entry::file(root, name, Content::format(f, s, n))],
            )
            .promising([saved_outside(root, name)])
        })
        .sboxed()
}

/// A SavedModel exported without a version dir, or with parts missing.
pub(super) fn savedmodel_broken() -> SBoxedStrategy<Piece> {
    (seed(), stem(), 0u8..3)
        .prop_map(|(s, name, variant)| match variant {
            0 => piece(
                &[Code::SavedmodelUnversioned.id()],
                tf_savedmodel(&format!("export/{name}"), s, 64, true, true),
            )
            .promising([Promise::model(
                Code::SavedmodelUnversioned,
                format!("export/{name}/saved_model.pb"),
            )]),
            1 => piece(
                &[Code::SavedmodelIncomplete.id()],
                tf_savedmodel(&format!("{}", 1 + s % 9), s, 64, true, false),
            )
            .promising([Promise::model(
                Code::SavedmodelIncomplete,
                format!("{}/saved_model.pb", 1 + s % 9),
            )]),
            _ => piece(
                &[Code::SavedmodelIncomplete.id()],
                tf_savedmodel(&format!("{}", 1 + s % 9), s, 64, false, true),
            )
            .promising([Promise::model(
                Code::SavedmodelIncomplete,
                format!("{}/variables/variables.index", 1 + s % 9),
            )]),
        })
        .sboxed()
}

/// Empty and nested empty dirs.
pub(super) fn empty_dirs() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    (stem(), 1usize..4)
        .prop_map(move |(s, depth)| {
            let p: Vec<String> = (0..depth).map(|i| format!("{s}{i}")).collect();
            piece(&["empty-dir"], vec![Entry::dir(m, p.join("/"))])
        })
        .sboxed()
}

/// Dotfiles and dot dirs.
pub(super) fn dotfiles() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    (stem(), seed(), any::<bool>())
        .prop_map(move |(s, sd, in_dir)| {
            let path = if in_dir {
                format!(".{s}/config")
            } else {
                format!(".{s}")
            };
            piece(
                &["dotfile"],
                vec![Entry::file(m, path, Content::random(sd, 32))],
            )
        })
        .sboxed()
}

/// A file with an odd name ([`odd_name`]); `deep` allows paths near 4096 bytes.
pub(super) fn odd_named_file(deep: bool) -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    (odd_name(deep), seed(), 0u64..512)
        .prop_map(move |((name, label), s, n)| {
            piece(&[label], vec![Entry::file(m, name, Content::random(s, n))])
        })
        .sboxed()
}

/// A file of any size (over 64 KiB only when `large`), fill and exec bit.
pub(super) fn sized_file(large: bool) -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    (
        stem(),
        seed(),
        size(large),
        any::<bool>(),
        prop_oneof![
            Just(Fill::Random),
            Just(Fill::Floats),
            Just(Fill::Zeros),
            Just(Fill::Text)
        ],
    )
        .prop_map(move |(s, sd, n, exec, fill)| {
            let mut labels = vec![];
            if n > 65_536 {
                labels.push("large-file");
            }
            if n == 0 {
                labels.push("empty-file");
            }
            if exec {
                labels.push("exec-bit");
            }
            let e = Entry::file(
                m,
                format!("{s}.bin"),
                Content::Seeded {
                    seed: sd,
                    size: n,
                    fill,
                },
            )
            .with_mode(if exec { 0o755 } else { 0o644 });
            Piece {
                labels,
                entries: vec![e],
                promises: Vec::new(),
            }
        })
        .sboxed()
}

/// A small JSON file.
pub(super) fn json_file() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    (stem(), seed())
        .prop_map(move |(s, sd)| {
            piece(
                &["json-file"],
                vec![Entry::file(
                    m,
                    format!("{s}.json"),
                    Content::Text(format!("{{\"seed\": {sd}, \"ok\": true}}\n")),
                )],
            )
        })
        .sboxed()
}

/// Saved under umask 077: a 0600 file, or a 0700 dir (the server may not run as root).
pub(super) fn unreadable_by_server() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    (stem(), seed(), any::<bool>())
        .prop_map(move |(s, sd, dir)| {
            let (e, at) = if dir {
                (
                    vec![
                        Entry::dir(m, format!("{s}-private")).with_mode(0o700),
                        Entry::file(m, format!("{s}-private/{s}.txt"), Content::random(sd, 64)),
                    ],
                    format!("{s}-private"),
                )
            } else {
                (
                    vec![
                        Entry::file(m, format!("{s}-weights.bin"), Content::random(sd, 256))
                            .with_mode(0o600),
                    ],
                    format!("{s}-weights.bin"),
                )
            };
            piece(&[Code::UnreadableByServer.id()], e).promising([Promise::new(
                Code::UnreadableByServer,
                Where::Model,
                Some(at.into()),
                When::WorldReadable,
            )])
        })
        .sboxed()
}

/// Tarred on a Mac: AppleDouble sidecars (P26).
pub(super) fn appledouble() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    (stem(), any::<bool>())
        .prop_map(move |(s, in_macosx)| {
            let path = if in_macosx {
                format!("__MACOSX/._{s}.pth")
            } else {
                format!("._{s}.pth")
            };
            // Residue is reported once: the outermost `__MACOSX` dir, or the sidecar itself.
            let junk = if in_macosx {
                "__MACOSX".to_string()
            } else {
                path.clone()
            };
            piece(
                &["appledouble", Code::JunkFiles.id()],
                vec![Entry::file(
                    m,
                    path,
                    Content::Bytes(vec![0, 5, 22, 7, 0, 2, 0, 0, b'M', b'a', b'c']),
                )],
            )
            .promising([Promise::model(Code::JunkFiles, junk)])
        })
        .sboxed()
}

/// Checkpoints beside the model, never in it.
pub(super) fn checkpoints_beside_model() -> SBoxedStrategy<Piece> {
    (seed(), 1u32..5)
        .prop_map(|(s, k)| {
            let e = (0..k)
                .map(|i| {
                    Entry::file(
                        Root::Checkpoints,
                        format!("checkpoint-{}/model.pt", (i + 1) * 100),
                        Content::format(ModelFormat::TorchZip, s + u64::from(i), 128),
                    )
                })
                .collect();
            piece(&["checkpoints-beside-model"], e)
        })
        .sboxed()
}

/// Output data (metrics, predictions) beside the model, never in it.
pub(super) fn output_data() -> SBoxedStrategy<Piece> {
    seed()
        .prop_map(|s| {
            piece(
                &["output-data"],
                vec![
                    Entry::file(
                        Root::Output,
                        "metrics.json",
                        Content::Text(format!("{{\"loss\": 0.{s}}}\n")),
                    ),
                    Entry::file(
                        Root::Output,
                        "predictions.csv",
                        Content::Seeded {
                            seed: s,
                            size: 500,
                            fill: Fill::Text,
                        },
                    ),
                ],
            )
        })
        .sboxed()
}

/// A checkpoint left inside the model dir (bloat: a warning, never an error).
pub(super) fn checkpoints_in_model_dir() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    seed()
        .prop_map(move |s| {
            piece(
                &["checkpoints-in-model-dir"],
                vec![Entry::file(
                    m,
                    "checkpoint-500/optimizer.pt",
                    Content::format(ModelFormat::TorchZip, s, 256),
                )],
            )
        })
        .sboxed()
}

/// An old `model.tar.gz` left inside the model dir.
pub(super) fn archive_in_model_dir() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    seed()
        .prop_map(move |s| {
            piece(
                &["archive-in-model-dir"],
                vec![Entry::file(m, "model.tar.gz", Content::random(s, 64))],
            )
        })
        .sboxed()
}

/// A zero-byte `pytorch_model.bin`.
pub(super) fn zero_byte_model_file() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    Just(())
        .prop_map(move |_| {
            piece(
                &["zero-byte-model-file"],
                vec![Entry::file(
                    m,
                    "pytorch_model.bin",
                    Content::Text(String::new()),
                )],
            )
        })
        .sboxed()
}

/// `__pycache__` and `.ipynb_checkpoints` junk.
pub(super) fn junk_files() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    stem()
        .prop_map(move |s| {
            piece(
                &[Code::JunkFiles.id()],
                vec![
                    Entry::file(
                        m,
                        format!("__pycache__/{s}.cpython-311.pyc"),
                        Content::Bytes(vec![0xa7, 0x0d, 0x0d, 0x0a]),
                    ),
                    Entry::dir(m, ".ipynb_checkpoints"),
                ],
            )
            .promising([
                Promise::model(Code::JunkFiles, "__pycache__"),
                Promise::model(Code::JunkFiles, ".ipynb_checkpoints"),
            ])
        })
        .sboxed()
}

/// A FIFO in the model dir.
pub(super) fn fifo() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    stem()
        .prop_map(move |s| {
            piece(
                &[Code::SpecialFile.id(), "fifo"],
                vec![Entry::fifo(m, format!("{s}.pipe"))],
            )
            .promising([Promise::model(Code::SpecialFile, format!("{s}.pipe"))])
        })
        .sboxed()
}

/// A socket in the model dir.
pub(super) fn socket() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    stem()
        .prop_map(move |s| {
            piece(
                &[Code::SpecialFile.id(), "socket"],
                vec![Entry::socket(m, format!("{s}.sock"))],
            )
            .promising([Promise::model(Code::SpecialFile, format!("{s}.sock"))])
        })
        .sboxed()
}

/// A file or an empty dir nobody may read (mode 0000), as a failed `chmod` or a copy from
/// another user's home leaves it: `unreadable-file` for a user other than root
/// ([`StrategyConfig::unreadable_files`](super::super::StrategyConfig::unreadable_files)).
pub(super) fn unreadable_file() -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    (stem(), any::<bool>())
        .prop_map(move |(s, dir)| {
            let (e, at) = if dir {
                let at = format!("{s}-locked");
                (Entry::dir(m, at.clone()).with_mode(0), at)
            } else {
                let at = format!("{s}.locked");
                let text = Content::Text(format!("{s}\n"));
                (Entry::file(m, at.clone(), text).with_mode(0), at)
            };
            piece(&[Code::UnreadableFile.id()], vec![e])
                .promising([Promise::model(Code::UnreadableFile, at)])
        })
        .sboxed()
}

/// A model saved outside the model dir and copied into it
/// ([`StrategyConfig::copied_models`](super::super::StrategyConfig::copied_models)): with the
/// same bytes it is fine (the detector's copy exception, no finding); with the same name and
/// size but other bytes (a later save, a different epoch) it is still `model-saved-outside`.
pub(super) fn copied_model() -> SBoxedStrategy<Piece> {
    (
        model_save(),
        seed(),
        64u64..8192,
        select(vec![Root::Cwd, Root::Tmp, Root::Output]),
        any::<bool>(),
    )
        .prop_map(|((f, name), s, n, root, same)| {
            let copy_seed = if same { s } else { s + 1 };
            let entries = vec![
                Entry::file(root, name, Content::format(f, s, n)),
                Entry::file(Root::Model, name, Content::format(f, copy_seed, n)),
            ];
            if same {
                piece(&["model-copied-in"], entries)
            } else {
                piece(&[Code::ModelSavedOutside.id(), "model-copied-in"], entries)
                    .promising([saved_outside(root, name)])
            }
        })
        .sboxed()
}
