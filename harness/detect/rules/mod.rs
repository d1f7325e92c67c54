//! The detector's rules, one function per rule (per code, or per case of a code). Tree
//! rules take a [`Ctx`] and push onto a findings list; `detect::tree_findings` lists them.

pub(crate) mod archive;
pub(crate) mod content;
pub(crate) mod ctx;
pub(crate) mod frameworks;
pub(crate) mod hosts;
pub(crate) mod huggingface;
pub(crate) mod integrity;
pub(crate) mod leftovers;
pub(crate) mod links;
pub(crate) mod nodes;
pub(crate) mod outside;
pub(crate) mod tensorflow;

pub(crate) use ctx::Ctx;
