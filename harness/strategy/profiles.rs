//! Framework profiles: what a correct model dir looks like for each serving framework.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use crate::layout::{Content, Entry, Fill, ModelFormat, Root};

use super::piece::{piece, seed, stem, Piece};

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
pub(super) fn tf_savedmodel(base: &str, seed: u64, size: u64, pb: bool, vars: bool) -> Vec<Entry> {
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
