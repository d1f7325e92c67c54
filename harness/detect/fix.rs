//! Every finding's one-line fix, by code and by the kind of file or entry the finding names.
//!
//! The rules call these functions; nothing else writes a fix. Each function takes exactly
//! what its text depends on (a model format, a link's kind, the root), so a fix is right for
//! what it names: `save_file` for safetensors and `joblib.dump` for a pickle, never
//! `torch.save` for both; "copy the file in or remove the link" for a link that leaves the
//! model dir, never `tar --dereference`, which would pack outside bytes. The unit test
//! `every_fix_by_code_and_kind` renders the whole table into one reviewed snapshot.

#[cfg(test)]
use super::code::Code;
use super::finding::Where;
use super::sniff::Sniffed;
use super::tree::NodeKind;
use crate::archive::NameClass;
use crate::formats::Kind;
use crate::target::Target;

/// `empty-model-dir`.
pub(crate) fn empty_model_dir(root: Where) -> &'static str {
    if root == Where::Archive {
        "check that the model dir held the model when it was packed (save it under $SM_MODEL_DIR, on every rank that should save), and pack the dir's contents: `tar -czf model.tar.gz -C DIR .`"
    } else {
        "save the model under $SM_MODEL_DIR (os.environ['SM_MODEL_DIR']), not the working dir or /tmp, and on every rank that should save"
    }
}

/// `model-saved-outside`, for a file of format `fmt` named `name`.
pub(crate) fn model_saved_outside(fmt: Sniffed, name: &str) -> String {
    let at = format!("os.path.join(os.environ['SM_MODEL_DIR'], '{name}')");
    let save = match fmt {
        Sniffed::Safetensors => format!(
            "safetensors.torch.save_file(state_dict, {at}), or model.save_pretrained(os.environ['SM_MODEL_DIR'])"
        ),
        Sniffed::TorchZip => format!("torch.save(model.state_dict(), {at})"),
        Sniffed::Pickle => format!("joblib.dump(model, {at}) (or pickle.dump into open({at}, 'wb'))"),
        Sniffed::Hdf5 => format!("model.save({at}) (Keras)"),
        Sniffed::SavedModel => "tf.saved_model.save(model, os.path.join(os.environ['SM_MODEL_DIR'], '1')) (a numbered version dir)".to_string(),
        Sniffed::Onnx => format!("torch.onnx.export(model, args, {at}), or onnx.save(model_proto, {at})"),
        Sniffed::Xgboost => "booster.save_model(os.path.join(os.environ['SM_MODEL_DIR'], 'xgboost-model'))".to_string(),
    };
    let copy = if fmt == Sniffed::SavedModel {
        "the whole SavedModel dir (saved_model.pb and variables/) into a numbered dir there"
    } else {
        "the file there"
    };
    format!("save it under $SM_MODEL_DIR: e.g. {save}; or copy {copy} before the job ends")
}

/// `multi-host-name-clash`.
pub(crate) const MULTI_HOST_NAME_CLASH: &str = "save from one host only (`if os.environ[\"SM_CURRENT_HOST\"] == json.loads(os.environ[\"SM_HOSTS\"])[0]:`), or give each host's files their own names";

/// `savedmodel-unversioned`.
pub(crate) const SAVEDMODEL_UNVERSIONED: &str = "export to a numbered version dir: tf.saved_model.save(model, os.path.join(os.environ['SM_MODEL_DIR'], '1')) (Keras 3: model.export(...) to the same path)";

/// Which half of a SavedModel is missing (`savedmodel-incomplete`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum SavedModelHalf {
    /// `saved_model.pb` without `variables/variables.index`.
    NoVariables,
    /// `variables/variables.index` without `saved_model.pb`.
    NoGraph,
}

/// `savedmodel-incomplete`.
pub(crate) fn savedmodel_incomplete(half: SavedModelHalf) -> &'static str {
    match half {
        SavedModelHalf::NoVariables => "save the whole SavedModel directory (saved_model.pb and variables/) with tf.saved_model.save, and copy or pack the whole version dir",
        SavedModelHalf::NoGraph => "save the whole SavedModel directory (tf.saved_model.save), not only the variables (a tf.train.Checkpoint is not a SavedModel)",
    }
}

/// `symlink-escape`: the link `p` leaves the tree.
pub(crate) fn symlink_escape(root: Where, p: &str) -> String {
    let fix = format!("remove the link `{p}`, or, if the model needs what it points to, replace it with a real copy inside the model dir (`t=$(readlink -f {p}); rm {p}; cp -r \"$t\" {p}`)");
    if root == Where::Archive {
        format!("{fix}, then pack again; never `tar -h`/`--dereference` for it, which packs bytes from outside the model dir")
    } else {
        fix
    }
}

/// `dangling-symlink`.
pub(crate) fn dangling_symlink(root: Where) -> &'static str {
    if root == Where::Archive {
        "remove the link from the model dir (or write the file it should point to), then pack again"
    } else {
        "remove the link, or write the file it should point to"
    }
}

/// `special-file`, for a FIFO, socket or device node.
pub(crate) fn special_file(kind: NodeKind, root: Where) -> &'static str {
    match (kind, root) {
        (_, Where::Archive) => "remove it from the model dir and pack again (GNU tar stores FIFOs and device nodes as they are)",
        (NodeKind::Device, _) => "remove the device node from SM_MODEL_DIR before the job ends; a model never needs one",
        _ => "create pipes and sockets outside SM_MODEL_DIR, e.g. under /tmp, and remove them before the job ends",
    }
}

/// `unreadable-file`, for the file or dir `p`.
pub(crate) fn unreadable_file(kind: NodeKind, p: &str) -> String {
    if kind == NodeKind::Dir {
        format!("chmod -R a+rX `{p}` before the job ends (a dir needs read and enter)")
    } else {
        format!("chmod a+r `{p}` before the job ends")
    }
}

/// What an `archive-mismatch` is.
#[derive(Clone, Debug)]
pub(crate) enum Mismatch {
    /// Every member is under this extra folder, and that is the difference.
    Folder(String),
    /// Anything else.
    Other,
}

/// `archive-mismatch`.
pub(crate) fn archive_mismatch(m: &Mismatch, target: Target) -> String {
    match m {
        Mismatch::Folder(f) => format!("every member is under `{f}/`: pack the model dir's contents, not the dir: `tar -czf model.tar.gz -C DIR .` (Python: `tar.add(DIR, arcname='.')`; `packtest pack DIR -o model.tar.gz --target {target}`)"),
        Mismatch::Other => format!("re-pack from the model dir with `packtest pack DIR -o model.tar.gz --target {target}`, and check that nothing changed the dir after packing"),
    }
}

/// `archive-damaged`.
pub(crate) const ARCHIVE_DAMAGED: &str =
    "re-create it; a packager that crashed mid-write leaves exactly this";

/// `unsafe-member-name`, for a name problem of this class.
pub(crate) fn unsafe_member_name(class: NameClass) -> &'static str {
    match class {
        NameClass::Absolute | NameClass::ParentDir => {
            "pack with names relative to the model dir (tar -C DIR .)"
        }
        NameClass::Duplicate => "pack each path once; extractors keep only the last copy",
        NameClass::ThroughSymlink => "never pack a path below a symlink; pack the real directory",
        NameClass::Setuid | NameClass::Setgid => {
            "clear the setuid/setgid bits (chmod u-s,g-s) before packing"
        }
        NameClass::LinkEscape => "pack with names relative to the model dir (tar -C DIR .) so a hard link names a member inside the archive, or store full copies (`tar --hard-dereference`)",
        NameClass::WindowsDrive | NameClass::Backslash => {
            "use portable names: no drive letters, no backslashes"
        }
        NameClass::Device => "remove the device node from the model dir and pack again",
    }
}

/// What a link member is, for `link-in-archive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LinkMember {
    /// A symlink to an existing member inside the archive.
    SymlinkInside,
    /// A symlink that is absolute or leaves the archive root.
    SymlinkOut,
    /// A symlink inside the archive root to nothing.
    SymlinkDangling,
    /// A hard link to a member inside the archive.
    HardlinkInside,
    /// A hard link whose target name is absolute or leaves the archive root.
    HardlinkOut,
}

/// `link-in-archive`, for a link member the `target`'s consumer refuses.
pub(crate) fn link_in_archive(link: LinkMember, target: Target) -> String {
    match link {
        LinkMember::SymlinkInside => format!("pack the real files: `packtest pack --target {target}` dereferences links inside the model dir, or `tar --dereference --hard-dereference`"),
        LinkMember::HardlinkInside => format!("store full copies: `tar --hard-dereference`, or `packtest pack --target {target}`"),
        LinkMember::SymlinkOut => {
            let relative = if target.spec().symlinks == crate::target::LinkRule::KeepInside {
                " (a link that names a file of the model dir by an absolute path: make it relative instead)"
            } else {
                ""
            };
            format!("the link leaves the model dir, so dereferencing it would pack outside bytes: copy the file it needs into the model dir in its place, or remove the link, then pack again{relative}")
        }
        LinkMember::SymlinkDangling => "the link points to nothing: remove it (or write the file it should point to), then pack again".to_string(),
        LinkMember::HardlinkOut => "pack with names relative to the model dir (`tar -C DIR .`) so the hard link names a member inside the archive, or store full copies (`tar --hard-dereference`)".to_string(),
    }
}

/// `model-file-truncated`, for a model file cut short (any format).
pub(crate) const MODEL_FILE_TRUNCATED: &str = "the writer did not finish: wait for every save to complete before the job exits (an async checkpoint's future, a background upload), check free disk space, then save the model again";

/// `model-file-truncated`, for an ONNX model whose external data is missing or short.
pub(crate) const ONNX_EXTERNAL_DATA: &str = "save the external data beside the model (onnx.save_model(..., save_as_external_data=True, location=...) writes it next to the .onnx) and pack the whole dir";

/// `model-file-truncated`, for a sharded safetensors index that names missing shards.
pub(crate) const SHARD_MISSING: &str = "save every shard (save_pretrained writes them all; an interrupted upload or copy does not) and pack the whole dir";

/// `model-file-truncated`, for a SavedModel `variables.data-*` shard that is missing.
pub(crate) const SAVEDMODEL_SHARD_MISSING: &str = "save the SavedModel whole (every variables.data-* shard, and variables.index) and pack the whole version dir";

/// `model-file-corrupt`, for a model file that does not parse (any format).
pub(crate) const MODEL_FILE_CORRUPT: &str = "save the model again with its library and check it loads before packing; bytes that changed after the save (a partial copy, a bad disk, an edit) give this";

/// `model-file-corrupt`, for a sharded index whose shards lack the tensors it maps.
pub(crate) const SHARD_MISMATCH: &str = "write the index and the shards in one save_pretrained call; an index from another save does not match";

/// `unsafe-pickle`, for a pickle of format `kind` named `name`.
pub(crate) fn unsafe_pickle(kind: Kind, name: &str) -> &'static str {
    let torch = kind == Kind::Zip
        || [".pt", ".pth", ".bin", ".ckpt"]
            .iter()
            .any(|e| name.ends_with(e));
    if torch {
        "do not ship code in the model: save the weights only (torch.save(model.state_dict(), …) or safetensors save_file), load them with torch.load(weights_only=True), and never load a pickle you did not write"
    } else {
        "do not ship code in the model: pickle only plain objects (no lambdas, no classes that run code on load), or use a safe format (skops.io.dump for scikit-learn, booster.save_model for XGBoost), and never load a pickle you did not write"
    }
}

/// `nested-model-root`, for the extra folder `folder`.
pub(crate) fn nested_model_root(root: Where, folder: &str) -> String {
    if root == Where::Archive {
        format!("pack what is inside `{folder}/`, not the folder itself: `tar -czf model.tar.gz -C path/to/{folder} .` (Python: `tar.add(path_to_{folder}, arcname='.')`)")
    } else {
        format!("save into $SM_MODEL_DIR itself, not a subfolder of it (e.g. save_pretrained(os.environ['SM_MODEL_DIR'])), or move what is in `{folder}/` up one level before the job ends")
    }
}

/// What a Hugging Face model lacks (`hf-incomplete`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum HfGap {
    /// A `config.json` not at the root, or without weights, tokenizer files or shard index.
    Config,
    /// Only a PEFT/LoRA adapter.
    AdapterOnly,
}

/// `hf-incomplete`.
pub(crate) fn hf_incomplete(gap: HfGap) -> &'static str {
    match gap {
        HfGap::Config => "call model.save_pretrained(os.environ['SM_MODEL_DIR']) and tokenizer.save_pretrained(os.environ['SM_MODEL_DIR']) into the model dir itself",
        HfGap::AdapterOnly => "merge before saving: model = model.merge_and_unload(); model.save_pretrained(os.environ['SM_MODEL_DIR']); tokenizer.save_pretrained(os.environ['SM_MODEL_DIR'])",
    }
}

/// `checkpoints-in-model-dir`.
pub(crate) const CHECKPOINTS_IN_MODEL_DIR: &str = "write checkpoints to /opt/ml/checkpoints (synced separately), or save only the final weights to SM_MODEL_DIR";

/// `archive-in-model-dir`.
pub(crate) const ARCHIVE_IN_MODEL_DIR: &str =
    "write archives outside SM_MODEL_DIR; SageMaker packs the model dir itself";

/// `zero-byte-model-file`.
pub(crate) const ZERO_BYTE_MODEL_FILE: &str =
    "check the job log for the save; flush and close the file before the script exits";

/// `inference-code-misplaced`.
pub(crate) const INFERENCE_CODE_MISPLACED: &str =
    "put inference.py (and requirements.txt) in SM_MODEL_DIR/code/";

/// `xgboost-misnamed`.
pub(crate) const XGBOOST_MISNAMED: &str =
    "save with booster.save_model(os.path.join(os.environ['SM_MODEL_DIR'], 'xgboost-model'))";

/// `keras-file-only`.
pub(crate) const KERAS_FILE_ONLY: &str = "export a SavedModel as well: model.export(os.path.join(os.environ['SM_MODEL_DIR'], '1')) (Keras 3) or tf.saved_model.save";

/// `no-model-file`.
pub(crate) const NO_MODEL_FILE: &str = "save the model itself into $SM_MODEL_DIR (torch.save, save_pretrained, booster.save_model('xgboost-model'), joblib.dump); if it has a custom name, make sure your inference code loads it";

/// What a resolving symlink in the model dir points to (`symlink-in-model-dir`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum InsideLink {
    /// A file.
    File,
    /// A directory that does not contain the link.
    Dir,
    /// A directory that contains the link itself (a loop for a dereferencing packager).
    Ancestor,
}

/// `symlink-in-model-dir`.
pub(crate) fn symlink_in_model_dir(link: InsideLink, target: Target) -> String {
    match link {
        InsideLink::File => format!("replace the link with a copy of the file (`cp --remove-destination \"$(readlink -f LINK)\" LINK`, `shutil.copy`), or pack with `packtest pack --target {target}`, which dereferences it"),
        InsideLink::Dir => format!("replace the link with a copy of the directory (`t=$(readlink -f LINK); rm LINK; cp -r \"$t\" LINK`, `shutil.copytree`), or pack with `packtest pack --target {target}`, which dereferences it"),
        InsideLink::Ancestor => "remove the link: it adds nothing to the model dir".to_string(),
    }
}

/// `unreadable-by-server`.
pub(crate) const UNREADABLE_BY_SERVER: &str = "run `chmod -R a+rX` on the model dir before the job ends, or pack with normalized modes (`packtest pack`)";

/// `junk-files`, for macOS residue or other residue.
pub(crate) fn junk_files(mac: bool) -> &'static str {
    if mac {
        "delete it, and tar on macOS with COPYFILE_DISABLE=1 (or pack on Linux)"
    } else {
        "delete it before the job ends, or save into a clean directory"
    }
}

/// `output-data-in-model-dir`.
pub(crate) const OUTPUT_DATA_IN_MODEL_DIR: &str =
    "write output data to SM_OUTPUT_DATA_DIR (/opt/ml/output/data), which becomes output.tar.gz";

/// Every fix, as `(code, kind, fix)` rows: each code with each kind of file or entry it can
/// be raised for. The unit test snapshots it; `Code::ALL` must all be here.
#[cfg(test)]
pub(crate) fn table() -> Vec<(Code, String, String)> {
    let mut t: Vec<(Code, String, String)> = Vec::new();
    let mut row = |c: Code, kind: &str, fix: String| t.push((c, kind.to_string(), fix));
    let roots = [(Where::Model, "model dir"), (Where::Archive, "archive")];
    for (r, n) in roots {
        row(Code::EmptyModelDir, n, empty_model_dir(r).into());
    }
    for (fmt, name) in [
        (Sniffed::Safetensors, "model.safetensors"),
        (Sniffed::TorchZip, "model.pt"),
        (Sniffed::Pickle, "model.pkl"),
        (Sniffed::Pickle, "model.joblib"),
        (Sniffed::Hdf5, "model.h5"),
        (Sniffed::SavedModel, "saved_model.pb"),
        (Sniffed::Onnx, "model.onnx"),
        (Sniffed::Xgboost, "model.json"),
        (Sniffed::Xgboost, "model.ubj"),
    ] {
        row(
            Code::ModelSavedOutside,
            &format!("{fmt:?} `{name}`"),
            model_saved_outside(fmt, name),
        );
    }
    row(
        Code::MultiHostNameClash,
        "any path",
        MULTI_HOST_NAME_CLASH.into(),
    );
    row(
        Code::SavedmodelUnversioned,
        "saved_model.pb",
        SAVEDMODEL_UNVERSIONED.into(),
    );
    for h in [SavedModelHalf::NoVariables, SavedModelHalf::NoGraph] {
        row(
            Code::SavedmodelIncomplete,
            &format!("{h:?}"),
            savedmodel_incomplete(h).into(),
        );
    }
    for (r, n) in roots {
        row(
            Code::SymlinkEscape,
            &format!("{n} symlink `data`"),
            symlink_escape(r, "data"),
        );
        row(
            Code::DanglingSymlink,
            &format!("{n} symlink"),
            dangling_symlink(r).into(),
        );
    }
    for k in [NodeKind::Fifo, NodeKind::Socket, NodeKind::Device] {
        row(
            Code::SpecialFile,
            &format!("model dir {k:?}"),
            special_file(k, Where::Model).into(),
        );
    }
    // A tar stream cannot hold a socket.
    for k in [NodeKind::Fifo, NodeKind::Device] {
        row(
            Code::SpecialFile,
            &format!("archive {k:?}"),
            special_file(k, Where::Archive).into(),
        );
    }
    for k in [NodeKind::File, NodeKind::Dir] {
        row(
            Code::UnreadableFile,
            &format!("{k:?} `x`"),
            unreadable_file(k, "x"),
        );
    }
    for m in [Mismatch::Folder("model".into()), Mismatch::Other] {
        row(
            Code::ArchiveMismatch,
            &format!("sagemaker {m:?}"),
            archive_mismatch(&m, Target::Sagemaker),
        );
    }
    row(Code::ArchiveDamaged, "archive", ARCHIVE_DAMAGED.into());
    for c in [
        NameClass::Absolute,
        NameClass::ParentDir,
        NameClass::WindowsDrive,
        NameClass::Backslash,
        NameClass::LinkEscape,
        NameClass::ThroughSymlink,
        NameClass::Duplicate,
        NameClass::Setuid,
        NameClass::Setgid,
    ] {
        row(Code::UnsafeMemberName, c.id(), unsafe_member_name(c).into());
    }
    for l in [
        LinkMember::SymlinkInside,
        LinkMember::SymlinkOut,
        LinkMember::SymlinkDangling,
        LinkMember::HardlinkInside,
        LinkMember::HardlinkOut,
    ] {
        row(
            Code::LinkInArchive,
            &format!("sagemaker {l:?}"),
            link_in_archive(l, Target::Sagemaker),
        );
    }
    for l in [LinkMember::SymlinkOut, LinkMember::HardlinkOut] {
        row(
            Code::LinkInArchive,
            &format!("kserve {l:?}"),
            link_in_archive(l, Target::Kserve),
        );
    }
    for k in Kind::ALL {
        row(
            Code::ModelFileTruncated,
            k.name(),
            MODEL_FILE_TRUNCATED.into(),
        );
    }
    row(
        Code::ModelFileTruncated,
        "safetensors index",
        MODEL_FILE_TRUNCATED.into(),
    );
    row(
        Code::ModelFileTruncated,
        "ONNX external data",
        ONNX_EXTERNAL_DATA.into(),
    );
    row(
        Code::ModelFileTruncated,
        "safetensors index, shard missing",
        SHARD_MISSING.into(),
    );
    row(
        Code::ModelFileTruncated,
        "SavedModel variables shard",
        SAVEDMODEL_SHARD_MISSING.into(),
    );
    for k in Kind::ALL {
        row(Code::ModelFileCorrupt, k.name(), MODEL_FILE_CORRUPT.into());
    }
    row(
        Code::ModelFileCorrupt,
        "safetensors index",
        MODEL_FILE_CORRUPT.into(),
    );
    row(
        Code::ModelFileCorrupt,
        "safetensors index, tensor not in shard",
        SHARD_MISMATCH.into(),
    );
    for (k, name) in [
        (Kind::Zip, "model.pt"),
        (Kind::Pickle, "model.pth"),
        (Kind::Pickle, "pytorch_model.bin"),
        (Kind::Pickle, "model.joblib"),
        (Kind::Pickle, "model.pkl"),
    ] {
        row(
            Code::UnsafePickle,
            &format!("{} `{name}`", k.name()),
            unsafe_pickle(k, name).into(),
        );
    }
    for (r, n) in roots {
        row(
            Code::NestedModelRoot,
            &format!("{n} folder `model`"),
            nested_model_root(r, "model"),
        );
    }
    for g in [HfGap::Config, HfGap::AdapterOnly] {
        row(
            Code::HfIncomplete,
            &format!("{g:?}"),
            hf_incomplete(g).into(),
        );
    }
    row(
        Code::CheckpointsInModelDir,
        "checkpoint-*/global_step* dir, optimizer/scheduler/rng_state file, *.ckpt",
        CHECKPOINTS_IN_MODEL_DIR.into(),
    );
    row(
        Code::ArchiveInModelDir,
        "*.tar.gz, *.tgz, *.tar",
        ARCHIVE_IN_MODEL_DIR.into(),
    );
    row(
        Code::ZeroByteModelFile,
        "weights file, xgboost-model",
        ZERO_BYTE_MODEL_FILE.into(),
    );
    row(
        Code::InferenceCodeMisplaced,
        "inference.py",
        INFERENCE_CODE_MISPLACED.into(),
    );
    row(
        Code::XgboostMisnamed,
        "XGBoost JSON/UBJ",
        XGBOOST_MISNAMED.into(),
    );
    row(Code::KerasFileOnly, "*.h5, *.keras", KERAS_FILE_ONLY.into());
    row(
        Code::NoModelFile,
        "model dir, archive",
        NO_MODEL_FILE.into(),
    );
    for l in [InsideLink::File, InsideLink::Dir, InsideLink::Ancestor] {
        row(
            Code::SymlinkInModelDir,
            &format!("sagemaker {l:?}"),
            symlink_in_model_dir(l, Target::Sagemaker),
        );
    }
    row(
        Code::UnreadableByServer,
        "file 0600, dir 0700",
        UNREADABLE_BY_SERVER.into(),
    );
    row(
        Code::JunkFiles,
        "macOS residue (`._*`, `__MACOSX/`)",
        junk_files(true).into(),
    );
    row(
        Code::JunkFiles,
        ".ipynb_checkpoints, __pycache__, lost+found, .DS_Store",
        junk_files(false).into(),
    );
    row(
        Code::OutputDataInModelDir,
        "*.csv, *.parquet, eval_results*, metrics.json",
        OUTPUT_DATA_IN_MODEL_DIR.into(),
    );
    t
}
