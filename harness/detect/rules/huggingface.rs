//! Hugging Face rules: `hf-incomplete` for a `config.json` without what it needs, and for a
//! PEFT/LoRA adapter saved alone.

use super::ctx::Ctx;
use crate::detect::code::Code;
use crate::detect::finding::Finding;
use crate::detect::fix::{self, HfGap};
use crate::detect::options::Framework;
use crate::layout::RawPath;

/// Tokenizer file names (any one counts).
const TOKENIZER_FILES: [&[u8]; 7] = [
    b"tokenizer.json",
    b"tokenizer_config.json",
    b"vocab.txt",
    b"spiece.model",
    b"vocab.json",
    b"merges.txt",
    b"tokenizer.model",
];

/// True when the `config.json` at `p` is a Hugging Face one: a tokenizer config or weights
/// beside it, or the framework forced to Hugging Face.
fn is_hf_config(c: &Ctx<'_>, p: &RawPath) -> bool {
    let dir = p.parent();
    let sibling = |n: &[u8]| {
        c.t.has(
            dir.as_ref()
                .map_or(n.to_vec(), |d| d.join(n).into_bytes())
                .as_slice(),
        )
    };
    sibling(b"tokenizer.json")
        || sibling(b"tokenizer_config.json")
        || c.t.files().any(|(q, _)| {
            q.parent() == dir
                && (q.file_name().ends_with(b".safetensors")
                    || q.file_name() == b"pytorch_model.bin")
        })
        || c.opts.framework == Some(Framework::Huggingface)
}

/// What is wrong with a Hugging Face model whose `config.json` is in `dir` (`None`: the root).
fn hf_problems(c: &Ctx<'_>, dir: Option<&RawPath>) -> Vec<String> {
    let in_dir: Vec<&[u8]> =
        c.t.files()
            .filter(|(q, _)| q.parent().as_ref() == dir)
            .map(|(q, _)| q.file_name())
            .collect();
    let weights = in_dir.iter().any(|n| {
        n.ends_with(b".safetensors")
            || *n == b"pytorch_model.bin"
            || *n == b"tf_model.h5"
            || n.ends_with(b".index.json")
    });
    let tokenizer = in_dir.iter().any(|n| TOKENIZER_FILES.contains(n));
    let mut problems = Vec::new();
    if dir.is_some() {
        problems.push(
            "it is not at the archive root, where the HF inference toolkit loads from".to_string(),
        );
    }
    if !weights {
        problems.push("there are no weights beside it".to_string());
    }
    if !tokenizer {
        problems.push("there are no tokenizer files beside it".to_string());
    }
    // Sharded weights: every shard the index names must be there.
    let sharded = in_dir
        .iter()
        .any(|n| n.starts_with(b"model-") && n.ends_with(b".safetensors"));
    if sharded && !in_dir.contains(&&b"model.safetensors.index.json"[..]) {
        problems.push("sharded weights have no model.safetensors.index.json".to_string());
    }
    problems
}

/// `hf-incomplete`: a Hugging Face `config.json` not at the root, or without weights or
/// tokenizer files beside it, or with shards and no shard index.
pub(crate) fn hf_incomplete(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    let configs =
        c.t.files()
            .filter(|(p, _)| p.file_name() == b"config.json" && is_hf_config(c, p));
    for (cfg, _) in configs {
        let problems = hf_problems(c, cfg.parent().as_ref());
        if !problems.is_empty() {
            out.push(c.finding(
                Code::HfIncomplete,
                Some(cfg.clone()),
                format!("Hugging Face `{cfg}`: {}", problems.join("; ")),
                fix::hf_incomplete(HfGap::Config),
            ));
        }
    }
}

/// `hf-incomplete`: only a PEFT/LoRA adapter, no `config.json`, at the root.
pub(crate) fn hf_adapter_only(c: &Ctx<'_>, out: &mut Vec<Finding>) {
    if c.t.has(b"adapter_config.json") && !c.t.has(b"config.json") {
        out.push(c.finding(
            Code::HfIncomplete,
            Some(RawPath::from("adapter_config.json")),
            "only a PEFT/LoRA adapter is saved: there is no config.json or full weights, so the serving container has no model to load".to_string(),
            fix::hf_incomplete(HfGap::AdapterOnly),
        ));
    }
}
