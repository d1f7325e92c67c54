//! Proptest strategies that generate whole job sandboxes, as [`Layout`] values.
//!
//! A layout is assembled from independent **pieces**: an optional framework model (the clean
//! part), and up to a handful of pitfall pieces, each carrying the labels of what it injects.
//! Pieces are generated as values and assembled with `prop_map`, never filtered, so proptest's
//! shrinking works on them directly: it drops whole pieces first (a `Vec` shrinks by removing
//! elements), then shrinks what remains (sizes toward 0, names toward short ones). A failure
//! caused by one long name therefore shrinks to the training script plus that one entry.
//!
//! Label contract (shared with the detector's ground-truth test, DESIGN §3): a label equal to
//! a detector error code is present exactly when that error holds for the layout:
//! `empty-model-dir`, `model-saved-outside`, `savedmodel-unversioned`, `savedmodel-incomplete`,
//! `symlink-escape`, `dangling-symlink`, `special-file`. Other labels describe what is in the
//! layout (`long-name`, `non-utf8-name`, `hardlink`, `large-file`, …) and promise nothing about
//! findings. [`WARNING_LABELS`] (`symlink-in-model-dir`, `unreadable-by-server`,
//! `no-model-file`, `junk-files`) promise a finding of that code under the default target,
//! exactly as well. A link loop (`link-loop`) carries `dangling-symlink`: its target never
//! resolves. `empty-model-dir` and `no-model-file` are derived from the assembled layout (they
//! depend on every piece); all other labels come from the piece that injects them.
//!
//! `no-model-file` holds when the model dir has regular files and none is a model file by the
//! generator's own account ([`loads_as_model`]): content written as a model format, or a name
//! a framework loads (`*.bin`, `*.pt`, `xgboost-model`, …), never macOS residue (`._*`,
//! `__MACOSX/`). The `Arbitrary` profile counts like any other: a tree of `.txt`, `.csv`,
//! `.json` data files holds no model, and the warning is right for it; one with a `.bin`
//! file holds one. Random bytes that happen to carry a model format's magic (a pickle's
//! `\x80\x02`) count as what the sniffer says they are.
//!
//! Pieces whose paths collide with an earlier piece are dropped whole, labels included, so the
//! labels always describe the layout that is actually built.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use crate::layout::{Content, Entry, EntryKind, Fill, Layout, ModelFormat, RawPath, Root};

/// The labels that promise a detector error of the same code (the label contract above).
pub const ERROR_LABELS: [&str; 7] = [
    "empty-model-dir",
    "model-saved-outside",
    "savedmodel-unversioned",
    "savedmodel-incomplete",
    "symlink-escape",
    "dangling-symlink",
    "special-file",
];

/// The labels that promise a detector finding of the same code, of any severity, under the
/// default target (SageMaker): present exactly when the finding is (the label contract above).
pub const WARNING_LABELS: [&str; 4] = [
    "symlink-in-model-dir",
    "unreadable-by-server",
    "no-model-file",
    "junk-files",
];

/// A framework profile: what a correct model dir looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// `model.pth` (torch zip), optionally `code/inference.py` and `code/requirements.txt`.
    Pytorch,
    /// `<version>/saved_model.pb` + `variables/`, optionally under a model-name dir.
    Tensorflow,
    /// `config.json`, `model.safetensors`, tokenizer files at the root.
    Huggingface,
    /// `xgboost-model`.
    Xgboost,
    /// `model.joblib`.
    Sklearn,
    /// An arbitrary tree of data files and directories.
    Arbitrary,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 6] = [
        Profile::Pytorch,
        Profile::Tensorflow,
        Profile::Huggingface,
        Profile::Xgboost,
        Profile::Sklearn,
        Profile::Arbitrary,
    ];
}

/// A group of entries and the labels they inject.
#[derive(Clone, Debug)]
pub struct Piece {
    /// Labels this piece injects.
    pub labels: Vec<&'static str>,
    /// Its entries.
    pub entries: Vec<Entry>,
}

fn piece(labels: &[&'static str], entries: Vec<Entry>) -> Piece {
    Piece {
        labels: labels.to_vec(),
        entries,
    }
}

/// Knobs for [`job_layout_with`].
#[derive(Clone, Debug)]
pub struct StrategyConfig {
    /// At most this many pitfall pieces per layout.
    pub max_pitfalls: usize,
    /// Generate FIFOs and sockets in the model dir.
    pub special_files: bool,
    /// Generate files over 64 KiB (up to a few MiB).
    pub large_files: bool,
    /// Generate paths near 4096 bytes.
    pub deep_paths: bool,
}

impl Default for StrategyConfig {
    fn default() -> Self {
        StrategyConfig {
            max_pitfalls: 5,
            special_files: true,
            large_files: true,
            deep_paths: true,
        }
    }
}

/// A plain file-name stem: lowercase, digits, `_` and `-`.
fn stem() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_-]{0,10}"
}

fn seed() -> impl Strategy<Value = u64> {
    0u64..1_000_000
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

/// A correct model dir for `profile` (plus the training script in the working dir).
pub fn profile_piece(profile: Profile) -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    match profile {
        Profile::Pytorch => (seed(), 0u64..20_000, any::<bool>())
            .prop_map(move |(s, n, code)| {
                let mut e = vec![Entry::file(
                    m,
                    "model.pth",
                    Content::format(ModelFormat::TorchZip, s, n),
                )];
                if code {
                    e.push(Entry::file(
                        m,
                        "code/inference.py",
                        Content::Text("def model_fn(model_dir):\n    ...\n".into()),
                    ));
                    e.push(Entry::file(
                        m,
                        "code/requirements.txt",
                        Content::Text("torch\n".into()),
                    ));
                }
                piece(&[], e)
            })
            .sboxed(),
        Profile::Tensorflow => (seed(), 0u64..20_000, 1u32..5, option::of("[a-z]{1,8}"))
            .prop_map(move |(s, n, version, name)| {
                let base = match name {
                    Some(name) => format!("{name}/{version}"),
                    None => version.to_string(),
                };
                piece(&[], tf_savedmodel(&base, s, n, true, true))
            })
            .sboxed(),
        Profile::Huggingface => (seed(), 0u64..20_000)
            .prop_map(move |(s, n)| {
                piece(
                    &[],
                    vec![
                        Entry::file(
                            m,
                            "config.json",
                            Content::format(ModelFormat::HfConfig, s, 0),
                        ),
                        Entry::file(
                            m,
                            "model.safetensors",
                            Content::format(ModelFormat::Safetensors, s, n),
                        ),
                        Entry::file(
                            m,
                            "tokenizer.json",
                            Content::format(ModelFormat::HfTokenizer, s, 256),
                        ),
                        Entry::file(
                            m,
                            "tokenizer_config.json",
                            Content::format(ModelFormat::HfTokenizerConfig, s, 0),
                        ),
                        Entry::file(
                            m,
                            "special_tokens_map.json",
                            Content::Text("{\"unk_token\": \"[UNK]\"}\n".into()),
                        ),
                    ],
                )
            })
            .sboxed(),
        Profile::Xgboost => (seed(), 0u64..20_000)
            .prop_map(move |(s, n)| {
                piece(
                    &[],
                    vec![Entry::file(
                        m,
                        "xgboost-model",
                        Content::format(ModelFormat::XgboostJson, s, n),
                    )],
                )
            })
            .sboxed(),
        Profile::Sklearn => (seed(), 0u64..20_000)
            .prop_map(move |(s, n)| {
                piece(
                    &[],
                    vec![Entry::file(
                        m,
                        "model.joblib",
                        Content::format(ModelFormat::Joblib, s, n),
                    )],
                )
            })
            .sboxed(),
        Profile::Arbitrary => arbitrary_tree().prop_map(|e| piece(&[], e)).sboxed(),
    }
}

/// TF SavedModel files under `base` (`1`, `name/1`, …).
fn tf_savedmodel(base: &str, seed: u64, size: u64, pb: bool, vars: bool) -> Vec<Entry> {
    let m = Root::Model;
    let mut e = Vec::new();
    if pb {
        e.push(Entry::file(
            m,
            format!("{base}/saved_model.pb"),
            Content::format(ModelFormat::SavedModelPb, seed, 0),
        ));
    }
    if vars {
        e.push(Entry::file(
            m,
            format!("{base}/variables/variables.index"),
            Content::format(ModelFormat::TfVariablesIndex, seed, 0),
        ));
        e.push(Entry::file(
            m,
            format!("{base}/variables/variables.data-00000-of-00001"),
            Content::format(ModelFormat::TfVariablesData, seed, size),
        ));
    }
    e
}

/// A small random tree of text/random data files and (possibly empty) directories.
fn arbitrary_tree() -> impl Strategy<Value = Vec<Entry>> {
    vec(
        (
            vec(stem(), 1..4),
            prop_oneof![
                Just(".bin"),
                Just(".json"),
                Just(".txt"),
                Just(""),
                Just(".csv")
            ],
            seed(),
            0u64..6000,
            any::<bool>(),
            prop_oneof![4 => Just(false), 1 => Just(true)],
        ),
        1..6,
    )
    .prop_map(|items| {
        items
            .into_iter()
            .enumerate()
            // The first item is always a file: a clean profile never leaves the model dir empty.
            .map(|(i, (parts, ext, s, n, text, is_dir))| (parts, ext, s, n, text, is_dir && i > 0))
            .map(|(parts, ext, s, n, text, is_dir)| {
                let path = format!("{}{}", parts.join("/"), if is_dir { "" } else { ext });
                if is_dir {
                    Entry::dir(Root::Model, path)
                } else {
                    let fill = if text { Fill::Text } else { Fill::Random };
                    Entry::file(
                        Root::Model,
                        path,
                        Content::Seeded {
                            seed: s,
                            size: n,
                            fill,
                        },
                    )
                }
            })
            .collect()
    })
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

/// Unusual but legal file names, each with its label.
fn odd_name(deep: bool) -> SBoxedStrategy<(RawPath, &'static str)> {
    let mut options: Vec<SBoxedStrategy<(RawPath, &'static str)>> = vec![
        stem()
            .prop_map(|s| (RawPath::from(format!("{s} copy (1).bin")), "space-name"))
            .sboxed(),
        stem()
            .prop_map(|s| (RawPath::from(format!("caf\u{e9}-{s}.txt")), "unicode-name"))
            .sboxed(),
        stem()
            .prop_map(|s| {
                (
                    RawPath::from(format!("cafe\u{301}-{s}.txt")),
                    "unicode-name",
                )
            })
            .sboxed(),
        stem()
            .prop_map(|s| {
                (
                    RawPath::from(format!("\u{6a21}\u{578b}-{s}.bin")),
                    "unicode-name",
                )
            })
            .sboxed(),
        (stem(), 0x80u8..=0xff)
            .prop_map(|(s, b)| {
                (
                    RawPath::new([s.as_bytes(), &[b], b".bin"].concat()),
                    "non-utf8-name",
                )
            })
            .sboxed(),
        stem()
            .prop_map(|s| {
                (
                    RawPath::from(format!("{s}\nsecond-line.txt")),
                    "newline-name",
                )
            })
            .sboxed(),
        (101usize..=255)
            .prop_map(|n| (RawPath::from("n".repeat(n - 4) + ".bin"), "long-name"))
            .sboxed(),
        (1usize..4, 60usize..250)
            .prop_map(|(k, n)| {
                let dirs: Vec<String> = (0..k).map(|i| format!("{i}{}", "d".repeat(n))).collect();
                (
                    RawPath::from(format!("{}/{}.bin", dirs.join("/"), "f".repeat(n.min(200)))),
                    "long-path",
                )
            })
            .sboxed(),
    ];
    if deep {
        options.push(
            (3700usize..3950)
                .prop_map(|total| {
                    let mut p = String::new();
                    while p.len() + 250 < total {
                        p.push_str(&"x".repeat(240));
                        p.push('/');
                    }
                    p.push_str(&"y".repeat(total - p.len()));
                    (RawPath::from(p), "deep-path")
                })
                .sboxed(),
        );
    }
    proptest::strategy::Union::new(options).sboxed()
}

/// One pitfall piece.
fn pitfall(cfg: &StrategyConfig) -> SBoxedStrategy<Piece> {
    let m = Root::Model;
    let large = cfg.large_files;
    let mut pieces: Vec<(u32, SBoxedStrategy<Piece>)> = vec![
        // torch.save('./model.pt'): the model lands in the working dir (or /tmp, or output).
        (
            3,
            (
                model_save(),
                seed(),
                0u64..8192,
                select(vec![Root::Cwd, Root::Tmp, Root::Output]),
            )
                .prop_map(|((f, name), s, n, root)| {
                    piece(
                        &["model-saved-outside"],
                        vec![Entry::file(root, name, Content::format(f, s, n))],
                    )
                })
                .sboxed(),
        ),
        // A SavedModel exported without a version dir, or with parts missing.
        (
            1,
            (seed(), stem(), 0u8..3)
                .prop_map(|(s, name, variant)| match variant {
                    0 => piece(
                        &["savedmodel-unversioned"],
                        tf_savedmodel(&format!("export/{name}"), s, 64, true, true),
                    ),
                    1 => piece(
                        &["savedmodel-incomplete"],
                        tf_savedmodel(&format!("{}", 1 + s % 9), s, 64, true, false),
                    ),
                    _ => piece(
                        &["savedmodel-incomplete"],
                        tf_savedmodel(&format!("{}", 1 + s % 9), s, 64, false, true),
                    ),
                })
                .sboxed(),
        ),
        // Empty and nested empty dirs.
        (
            2,
            (stem(), 1usize..4)
                .prop_map(move |(s, depth)| {
                    let p: Vec<String> = (0..depth).map(|i| format!("{s}{i}")).collect();
                    piece(&["empty-dir"], vec![Entry::dir(m, p.join("/"))])
                })
                .sboxed(),
        ),
        // Dotfiles and dot dirs.
        (
            2,
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
                .sboxed(),
        ),
        // Odd names.
        (
            3,
            (odd_name(cfg.deep_paths), seed(), 0u64..512)
                .prop_map(move |((name, label), s, n)| {
                    piece(&[label], vec![Entry::file(m, name, Content::random(s, n))])
                })
                .sboxed(),
        ),
        // Files of many sizes, exec bits, JSON.
        (
            3,
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
                    }
                })
                .sboxed(),
        ),
        (
            1,
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
                .sboxed(),
        ),
        // Symlinks: inside (to an existing file), outside (escaping), dangling.
        (
            2,
            (stem(), seed(), any::<bool>())
                .prop_map(move |(s, sd, in_dir)| {
                    let (link, target) = if in_dir {
                        (format!("links/{s}-link"), format!("../{s}.dat"))
                    } else {
                        (format!("{s}-link"), format!("{s}.dat"))
                    };
                    piece(
                        &["symlink-inside", "symlink-in-model-dir"],
                        vec![
                            Entry::file(m, format!("{s}.dat"), Content::random(sd, 100)),
                            Entry::symlink(m, link, target),
                        ],
                    )
                })
                .sboxed(),
        ),
        // Links inside that are not plain file links: to a dir (`latest -> checkpoint-500`),
        // to an ancestor (`sub/up -> ..`), and a loop that never resolves.
        (
            2,
            (stem(), seed(), 0u8..3)
                .prop_map(move |(s, sd, variant)| match variant {
                    0 => piece(
                        &["symlink-inside", "symlink-to-dir", "symlink-in-model-dir"],
                        vec![
                            Entry::file(m, format!("{s}d/part.dat"), Content::random(sd, 64)),
                            Entry::symlink(m, format!("{s}-latest"), format!("{s}d")),
                        ],
                    ),
                    1 => piece(
                        &["dir-cycle", "symlink-in-model-dir"],
                        vec![Entry::symlink(m, format!("{s}c/up"), "..")],
                    ),
                    _ => piece(
                        &["link-loop", "dangling-symlink"],
                        vec![
                            Entry::symlink(m, format!("{s}-a"), format!("{s}-b")),
                            Entry::symlink(m, format!("{s}-b"), format!("{s}-a")),
                        ],
                    ),
                })
                .sboxed(),
        ),
        // Saved under umask 077: a 0600 file, or a 0700 dir (the server may not run as root).
        (
            2,
            (stem(), seed(), any::<bool>())
                .prop_map(move |(s, sd, dir)| {
                    let e = if dir {
                        vec![
                            Entry::dir(m, format!("{s}-private")).with_mode(0o700),
                            Entry::file(m, format!("{s}-private/{s}.txt"), Content::random(sd, 64)),
                        ]
                    } else {
                        vec![
                            Entry::file(m, format!("{s}-weights.bin"), Content::random(sd, 256))
                                .with_mode(0o600),
                        ]
                    };
                    piece(&["unreadable-by-server"], e)
                })
                .sboxed(),
        ),
        // Tarred on a Mac: AppleDouble sidecars (P26).
        (
            1,
            (stem(), any::<bool>())
                .prop_map(move |(s, in_macosx)| {
                    let path = if in_macosx {
                        format!("__MACOSX/._{s}.pth")
                    } else {
                        format!("._{s}.pth")
                    };
                    piece(
                        &["appledouble", "junk-files"],
                        vec![Entry::file(
                            m,
                            path,
                            Content::Bytes(vec![0, 5, 22, 7, 0, 2, 0, 0, b'M', b'a', b'c']),
                        )],
                    )
                })
                .sboxed(),
        ),
        (
            2,
            (stem(), seed(), 0u8..3)
                .prop_map(move |(s, sd, variant)| match variant {
                    0 => piece(
                        &["symlink-escape"],
                        vec![
                            Entry::file(
                                Root::Outside,
                                format!("{s}.secret"),
                                Content::random(sd, 64),
                            ),
                            Entry::symlink(
                                m,
                                format!("{s}-out"),
                                format!("../../../outside/{s}.secret"),
                            ),
                        ],
                    ),
                    1 => piece(
                        &["symlink-escape"],
                        vec![
                            Entry::file(
                                Root::Input,
                                format!("{s}.csv"),
                                Content::Seeded {
                                    seed: sd,
                                    size: 200,
                                    fill: Fill::Text,
                                },
                            ),
                            Entry::symlink(
                                m,
                                format!("{s}-data"),
                                format!("../input/data/train/{s}.csv"),
                            ),
                        ],
                    ),
                    _ => piece(
                        &["symlink-escape"],
                        vec![Entry::symlink(
                            m,
                            format!("{s}-abs"),
                            "/nonexistent-packtest-target/x",
                        )],
                    ),
                })
                .sboxed(),
        ),
        (
            2,
            stem()
                .prop_map(move |s| {
                    piece(
                        &["dangling-symlink"],
                        vec![Entry::symlink(
                            m,
                            format!("{s}-dangling"),
                            format!("{s}-missing.bin"),
                        )],
                    )
                })
                .sboxed(),
        ),
        (
            2,
            (stem(), seed())
                .prop_map(move |(s, sd)| {
                    piece(
                        &["hardlink"],
                        vec![
                            Entry::file(m, format!("{s}.w"), Content::random(sd, 300)),
                            Entry::hardlink(m, format!("{s}.w.link"), format!("{s}.w")),
                        ],
                    )
                })
                .sboxed(),
        ),
        // Checkpoints and output data beside the model, never in it.
        (
            2,
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
                .sboxed(),
        ),
        (
            2,
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
                .sboxed(),
        ),
        // Bloat and leftovers inside the model dir (warnings, never errors).
        (
            1,
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
                .sboxed(),
        ),
        (
            1,
            seed()
                .prop_map(move |s| {
                    piece(
                        &["archive-in-model-dir"],
                        vec![Entry::file(m, "model.tar.gz", Content::random(s, 64))],
                    )
                })
                .sboxed(),
        ),
        (
            1,
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
                .sboxed(),
        ),
        (
            1,
            stem()
                .prop_map(move |s| {
                    piece(
                        &["junk-files"],
                        vec![
                            Entry::file(
                                m,
                                format!("__pycache__/{s}.cpython-311.pyc"),
                                Content::Bytes(vec![0xa7, 0x0d, 0x0d, 0x0a]),
                            ),
                            Entry::dir(m, ".ipynb_checkpoints"),
                        ],
                    )
                })
                .sboxed(),
        ),
    ];
    if cfg.special_files {
        pieces.push((
            1,
            stem()
                .prop_map(move |s| {
                    piece(
                        &["special-file", "fifo"],
                        vec![Entry::fifo(m, format!("{s}.pipe"))],
                    )
                })
                .sboxed(),
        ));
        pieces.push((
            1,
            stem()
                .prop_map(move |s| {
                    piece(
                        &["special-file", "socket"],
                        vec![Entry::socket(m, format!("{s}.sock"))],
                    )
                })
                .sboxed(),
        ));
    }
    proptest::strategy::Union::new_weighted(pieces).sboxed()
}

/// Puts every model-dir entry under `dir/`, fixing escaping relative symlink targets.
fn nest(layout: &mut Layout, dir: &str) {
    for e in layout.entries.iter_mut().filter(|e| e.root == Root::Model) {
        e.path = RawPath::from(dir).join(e.path.as_bytes());
        match &mut e.kind {
            EntryKind::Symlink { target } if target.as_bytes().starts_with(b"../") => {
                // One level deeper: an escaping target needs one more `..`, unless it only
                // climbed within the model dir (`../x.dat` from `links/`).
                let depth = e.path.components().count() - 1;
                let ups = target.as_bytes().windows(3).filter(|w| w == b"../").count();
                if ups >= depth {
                    *target = RawPath::new([b"../".as_slice(), target.as_bytes()].concat());
                }
            }
            EntryKind::Hardlink {
                target_root: Root::Model,
                target,
            } => {
                *target = RawPath::from(dir).join(target.as_bytes());
            }
            _ => {}
        }
    }
}

/// Assembles pieces into a layout. Pieces that collide with earlier ones are dropped whole.
pub fn assemble(
    profile: Option<Piece>,
    pitfalls: Vec<Piece>,
    nest_under: Option<String>,
) -> Layout {
    let mut layout = Layout::new().with(Entry::file(
        Root::Cwd,
        "train.py",
        Content::Text("import os\nmodel_dir = os.environ['SM_MODEL_DIR']\n".into()),
    ));
    for p in profile.into_iter().chain(pitfalls) {
        let mut trial = layout.clone();
        trial.entries.extend(p.entries.iter().cloned());
        if trial.validate().is_ok() {
            for l in &p.labels {
                trial.labels.insert(crate::layout::Label::new(*l));
            }
            layout = trial;
        }
    }
    if let Some(dir) = nest_under {
        if layout.in_root(Root::Model).next().is_some() {
            nest(&mut layout, &dir);
            layout
                .labels
                .insert(crate::layout::Label::new("extra-top-folder"));
        }
    }
    let has_file = layout
        .in_root(Root::Model)
        .any(|e| matches!(e.kind, EntryKind::File { .. } | EntryKind::Hardlink { .. }));
    if !has_file {
        layout
            .labels
            .insert(crate::layout::Label::new("empty-model-dir"));
    } else if !layout.in_root(Root::Model).any(loads_as_model) {
        layout
            .labels
            .insert(crate::layout::Label::new("no-model-file"));
    }
    layout
}

/// Names the generator writes that a framework loads (the `no-model-file` label contract).
const MODEL_NAMES: [&str; 3] = ["xgboost-model", "saved_model.pb", "variables.index"];
/// Name endings the generator writes that a framework loads.
const MODEL_EXTS: [&str; 9] = [
    ".bin",
    ".pt",
    ".pth",
    ".safetensors",
    ".onnx",
    ".h5",
    ".keras",
    ".joblib",
    ".pkl",
];

/// True when a model-dir entry is something a serving framework would load, by the
/// generator's own account: a file written as a model format, or a file or symlink with a
/// model file name; never macOS residue. Random bytes are judged by what they start with.
pub fn loads_as_model(e: &Entry) -> bool {
    let name = e.path.file_name();
    if name.starts_with(b"._") || e.path.components().any(|c| c == b"__MACOSX") {
        return false;
    }
    let by_name = MODEL_NAMES.iter().any(|n| name == n.as_bytes())
        || MODEL_EXTS
            .iter()
            .any(|x| name.len() > x.len() && name.ends_with(x.as_bytes()));
    match &e.kind {
        EntryKind::File { content, .. } => {
            by_name
                || match content {
                    Content::Format { format, .. } => !matches!(
                        format,
                        ModelFormat::HfConfig
                            | ModelFormat::HfTokenizer
                            | ModelFormat::HfTokenizerConfig
                    ),
                    other if other.is_empty() => false,
                    other => {
                        let bytes = other.to_vec();
                        crate::detect::sniff(name, &bytes[..bytes.len().min(4096)]).is_some()
                    }
                }
        }
        EntryKind::Symlink { .. } => by_name,
        _ => false,
    }
}

/// Whole job layouts: any profile, pitfalls at realistic frequencies.
pub fn job_layout() -> SBoxedStrategy<Layout> {
    job_layout_with(StrategyConfig::default())
}

/// Whole job layouts with explicit knobs.
pub fn job_layout_with(cfg: StrategyConfig) -> SBoxedStrategy<Layout> {
    let profile = select(Profile::ALL.to_vec()).prop_flat_map(profile_piece);
    (
        option::weighted(0.92, profile),
        vec(pitfall(&cfg), 0..=cfg.max_pitfalls),
        option::weighted(
            0.08,
            select(vec![
                "model".to_string(),
                "output".to_string(),
                "my-job-2024".to_string(),
            ]),
        ),
    )
        .prop_map(|(p, pits, n)| assemble(p, pits, n))
        .sboxed()
}

/// A proptest `Config` that is deterministic in CI: `cases` cases from a fixed RNG seed,
/// `default_seed` unless the environment variable `seed_var` holds another, and no
/// failure-persistence files. Rerun a failure with the same seed to get the same inputs.
pub fn ci_config(cases: u32, seed_var: &str, default_seed: u64) -> proptest::test_runner::Config {
    let seed = std::env::var(seed_var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_seed);
    proptest::test_runner::Config {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

/// Correct layouts of one profile: no pitfall pieces at all.
pub fn clean_layout(profile: Profile) -> SBoxedStrategy<Layout> {
    profile_piece(profile)
        .prop_map(|p| assemble(Some(p), Vec::new(), None))
        .sboxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::{Config, TestRng, TestRunner};

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
            .filter(|l| l.entries.iter().any(|e| matches!(&e.kind, EntryKind::File { content, .. } if content.len() > 65_536)))
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
            .chain(WARNING_LABELS)
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
}
