//! The layout model: a declarative description of what a training job left behind.
//!
//! A [`Layout`] is a value (a list of [`Entry`]s plus pitfall labels). It says nothing about
//! how it gets onto disk; [`Sandbox::materialize`] writes it into a fresh job sandbox
//! (the directories of a SageMaker training job), exactly: the tree on disk is what the layout says, plus the implied parent
//! directories and the fixed sandbox skeleton, and nothing else.
//!
//! Submodules:
//! - `model`: the entry kinds, roots, content forms and well-formedness rules;
//! - `bytes`: raw-byte paths ([`RawPath`]), which may be non-UTF-8;
//! - `content`: deterministic, streaming content generation, including real model formats;
//! - `toml_form`: the TOML form used by scenario files (round-trips exactly);
//! - `sandbox`: materializing a layout and the tree digest;
//! - `named`: [`NamedLayout`] (a scenario or saved failure as the runner gets it) and
//!   [`redact_paths`].

mod bytes;
mod content;
mod model;
mod named;
mod sandbox;
mod toml_form;

pub use bytes::RawPath;
pub use content::{Content, Damage, Fill, ModelFormat};
pub use model::{Entry, EntryKind, Label, Layout, LayoutError, Root};
pub use named::{redact_paths, NamedLayout};
pub(crate) use sandbox::hash_file;
pub use sandbox::{default_parent, Digest, Node, ReorderedModel, Sandbox, SandboxError};
pub use toml_form::{LayoutToml, LayoutTomlError};
