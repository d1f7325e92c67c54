//! The TOML form of a layout, as scenario files and saved failures spell it.
//!
//! ```toml
//! labels = ["stray-save-cwd"]
//!
//! [[entry]]
//! root = "cwd"                 # model | cwd | checkpoints | output | input | tmp | outside
//! path = "model.pt"            # or { hex = "6d6f64656cff" } for a non-UTF-8 name
//! kind = "file"                # file | dir | symlink | hardlink | fifo | socket
//! mode = "0644"                # octal string; files, dirs and fifos
//! content = { format = "torch-zip", seed = 1, size = 4096 }
//! # content = { text = "…" } | { hex = "…" } | { seed = 1, size = 10, fill = "floats" }
//!
//! [[entry]]
//! root = "model"
//! path = "link"
//! kind = "symlink"
//! target = "../../../outside/secret.txt"
//! ```
//!
//! Every table rejects unknown keys, naming the key. Parsing then validates the layout
//! ([`Layout::validate`]), so a file that loads is a layout that materializes. The form
//! round-trips exactly: `from_toml(to_toml(l)) == l`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::bytes::{hex_decode, hex_encode, RawPath};
use super::content::{Content, Damage, Fill, ModelFormat};
use super::model::{Entry, EntryKind, Label, Layout, LayoutError, Root};

/// The serde form of a [`Layout`]; embed it in other TOML documents (scenario files).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LayoutToml {
    /// Pitfall labels.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub labels: BTreeSet<Label>,
    /// The entries, as `[[entry]]` tables.
    #[serde(default, rename = "entry")]
    pub entries: Vec<EntryToml>,
}

/// The kind names of the TOML form.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum KindName {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symlink.
    Symlink,
    /// A hard link.
    Hardlink,
    /// A FIFO.
    Fifo,
    /// A socket.
    Socket,
}

/// One `[[entry]]` table.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EntryToml {
    /// The root.
    pub root: Root,
    /// The path under the root.
    pub path: RawPath,
    /// The kind.
    pub kind: KindName,
    /// Octal mode string, for example `"0755"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// File content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ContentToml>,
    /// Symlink or hard-link target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<RawPath>,
    /// Hard-link target root (defaults to the entry's root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_root: Option<Root>,
}

/// A seed: an integer when it fits TOML's i64, else a `"0x…"` string.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SeedToml {
    /// A seed that fits in i64.
    Int(i64),
    /// A hex string, `0x…`.
    Hex(String),
}

impl SeedToml {
    fn from_u64(v: u64) -> Self {
        i64::try_from(v)
            .map(SeedToml::Int)
            .unwrap_or_else(|_| SeedToml::Hex(format!("{v:#x}")))
    }

    fn to_u64(&self) -> Option<u64> {
        match self {
            SeedToml::Int(i) => u64::try_from(*i).ok(),
            SeedToml::Hex(s) => u64::from_str_radix(s.strip_prefix("0x")?, 16).ok(),
        }
    }
}

/// The `content` table of a file entry.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContentToml {
    /// Verbatim UTF-8 text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Verbatim bytes, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
    /// A model format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<ModelFormat>,
    /// Generator seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<SeedToml>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Shape of seeded bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill: Option<Fill>,
    /// A `format` file cut after this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_at: Option<u64>,
    /// A `format` file with the byte at this offset inverted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flip_at: Option<u64>,
}

/// Why a TOML layout could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LayoutTomlError {
    /// The text is not TOML of the right shape (unknown key, wrong type, …).
    #[error("{0}")]
    Syntax(#[from] toml::de::Error),
    /// An entry's fields do not fit its kind.
    #[error("entry {index} (`{path}`): {message}")]
    Entry {
        /// Index of the entry.
        index: usize,
        /// Its path.
        path: RawPath,
        /// What is wrong, and what to write instead.
        message: String,
    },
    /// The layout parsed but is not well formed.
    #[error(transparent)]
    Invalid(#[from] LayoutError),
}

fn mode_string(mode: u32) -> String {
    format!("{mode:04o}")
}

impl From<&Layout> for LayoutToml {
    fn from(l: &Layout) -> Self {
        let entries = l
            .entries
            .iter()
            .map(|e| {
                let mut t = EntryToml {
                    root: e.root,
                    path: e.path.clone(),
                    kind: KindName::File,
                    mode: None,
                    content: None,
                    target: None,
                    target_root: None,
                };
                match &e.kind {
                    EntryKind::File { content, mode } => {
                        t.mode = Some(mode_string(*mode));
                        t.content = Some(ContentToml::from(content));
                    }
                    EntryKind::Dir { mode } => {
                        t.kind = KindName::Dir;
                        t.mode = Some(mode_string(*mode));
                    }
                    EntryKind::Symlink { target } => {
                        t.kind = KindName::Symlink;
                        t.target = Some(target.clone());
                    }
                    EntryKind::Hardlink {
                        target_root,
                        target,
                    } => {
                        t.kind = KindName::Hardlink;
                        t.target = Some(target.clone());
                        t.target_root = (*target_root != e.root).then_some(*target_root);
                    }
                    EntryKind::Fifo { mode } => {
                        t.kind = KindName::Fifo;
                        t.mode = Some(mode_string(*mode));
                    }
                    EntryKind::Socket => t.kind = KindName::Socket,
                }
                t
            })
            .collect();
        LayoutToml {
            labels: l.labels.clone(),
            entries,
        }
    }
}

impl From<&Content> for ContentToml {
    fn from(c: &Content) -> Self {
        let mut t = ContentToml::default();
        match c {
            Content::Text(s) => t.text = Some(s.clone()),
            Content::Bytes(b) => t.hex = Some(hex_encode(b)),
            Content::Seeded { seed, size, fill } => {
                t.seed = Some(SeedToml::from_u64(*seed));
                t.size = Some(*size);
                t.fill = (*fill != Fill::Random).then_some(*fill);
            }
            Content::Format { format, seed, size } => {
                t.format = Some(*format);
                t.seed = Some(SeedToml::from_u64(*seed));
                t.size = Some(*size);
            }
            Content::Damaged { base, damage } => {
                t = ContentToml::from(&**base);
                match damage {
                    Damage::Cut(n) => t.cut_at = Some(*n),
                    Damage::Flip(n) => t.flip_at = Some(*n),
                }
            }
        }
        t
    }
}

impl ContentToml {
    fn to_content(&self) -> Result<Content, String> {
        let damage = match (self.cut_at, self.flip_at) {
            (None, None) => None,
            (Some(n), None) => Some(Damage::Cut(n)),
            (None, Some(n)) => Some(Damage::Flip(n)),
            _ => return Err("content takes `cut_at` or `flip_at`, not both".into()),
        };
        if let Some(damage) = damage {
            if self.format.is_none() {
                return Err("`cut_at` and `flip_at` go with `format`".into());
            }
            let base = ContentToml {
                cut_at: None,
                flip_at: None,
                ..self.clone()
            }
            .to_content()?;
            return Ok(Content::Damaged {
                base: Box::new(base),
                damage,
            });
        }
        let seed = match &self.seed {
            Some(s) => Some(
                s.to_u64()
                    .ok_or("`seed` must be a non-negative integer or a `0x…` string")?,
            ),
            None => None,
        };
        match (&self.text, &self.hex, &self.format) {
            (Some(t), None, None) if seed.is_none() && self.size.is_none() && self.fill.is_none() => {
                Ok(Content::Text(t.clone()))
            }
            (None, Some(h), None) if seed.is_none() && self.size.is_none() && self.fill.is_none() => {
                hex_decode(h)
                    .map(Content::Bytes)
                    .ok_or_else(|| format!("`hex = \"{h}\"` is not valid hex"))
            }
            (None, None, Some(f)) if self.fill.is_none() => Ok(Content::Format {
                format: *f,
                seed: seed.unwrap_or(0),
                size: self.size.unwrap_or(1024),
            }),
            (None, None, None) => match self.size {
                Some(size) => Ok(Content::Seeded {
                    seed: seed.unwrap_or(0),
                    size,
                    fill: self.fill.unwrap_or_default(),
                }),
                None => Err("content needs `text`, `hex`, `format`, or `size` (with an optional `seed` and `fill`)".into()),
            },
            _ => Err("content takes exactly one of `text`, `hex`, `format` or `size`; `seed`/`size` go with `format` or `size`, `fill` only with `size`".into()),
        }
    }
}

impl TryFrom<&LayoutToml> for Layout {
    type Error = LayoutTomlError;

    fn try_from(t: &LayoutToml) -> Result<Self, Self::Error> {
        let mut entries = Vec::with_capacity(t.entries.len());
        for (index, e) in t.entries.iter().enumerate() {
            let err = |message: String| LayoutTomlError::Entry {
                index,
                path: e.path.clone(),
                message,
            };
            let mode = |default: u32| -> Result<u32, LayoutTomlError> {
                match &e.mode {
                    None => Ok(default),
                    Some(m) => u32::from_str_radix(m.trim_start_matches("0o"), 8).map_err(|_| {
                        err(format!(
                            "mode `{m}` is not an octal string such as \"0644\""
                        ))
                    }),
                }
            };
            let forbid = |field: &str, present: bool| -> Result<(), LayoutTomlError> {
                if present {
                    Err(err(format!(
                        "`{field}` does not apply to a {:?} entry",
                        e.kind
                    )
                    .to_lowercase()))
                } else {
                    Ok(())
                }
            };
            let kind = match e.kind {
                KindName::File => {
                    forbid("target", e.target.is_some() || e.target_root.is_some())?;
                    let content = match &e.content {
                        Some(c) => c.to_content().map_err(err)?,
                        None => Content::Text(String::new()),
                    };
                    EntryKind::File {
                        content,
                        mode: mode(0o644)?,
                    }
                }
                KindName::Dir | KindName::Fifo => {
                    forbid("content", e.content.is_some())?;
                    forbid("target", e.target.is_some() || e.target_root.is_some())?;
                    if e.kind == KindName::Dir {
                        EntryKind::Dir { mode: mode(0o755)? }
                    } else {
                        EntryKind::Fifo { mode: mode(0o644)? }
                    }
                }
                KindName::Symlink => {
                    forbid("content", e.content.is_some())?;
                    forbid("mode", e.mode.is_some())?;
                    forbid("target_root", e.target_root.is_some())?;
                    EntryKind::Symlink {
                        target: e
                            .target
                            .clone()
                            .ok_or_else(|| err("a symlink needs `target`".into()))?,
                    }
                }
                KindName::Hardlink => {
                    forbid("content", e.content.is_some())?;
                    forbid("mode", e.mode.is_some())?;
                    EntryKind::Hardlink {
                        target_root: e.target_root.unwrap_or(e.root),
                        target: e
                            .target
                            .clone()
                            .ok_or_else(|| err("a hard link needs `target`".into()))?,
                    }
                }
                KindName::Socket => {
                    forbid("content", e.content.is_some())?;
                    forbid("mode", e.mode.is_some())?;
                    forbid("target", e.target.is_some() || e.target_root.is_some())?;
                    EntryKind::Socket
                }
            };
            entries.push(Entry {
                root: e.root,
                path: e.path.clone(),
                kind,
            });
        }
        let layout = Layout {
            labels: t.labels.clone(),
            entries,
        };
        layout.validate()?;
        Ok(layout)
    }
}

impl Layout {
    /// The TOML form of this layout.
    pub fn to_toml(&self) -> String {
        // Serializing this plain data model to TOML cannot fail: no maps with non-string keys,
        // no values outside TOML's range (seeds above i64::MAX become strings).
        toml::to_string(&LayoutToml::from(self)).unwrap_or_default()
    }

    /// Parses and validates a TOML layout.
    pub fn from_toml(text: &str) -> Result<Layout, LayoutTomlError> {
        let t: LayoutToml = toml::from_str(text)?;
        Layout::try_from(&t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Layout {
        Layout::new()
            .labeled("stray-save-cwd")
            .with(
                Entry::file(Root::Model, "a b/ü.txt", Content::Text("hi\n".into()))
                    .with_mode(0o755),
            )
            .with(Entry::file(
                Root::Model,
                RawPath::new(b"bad\xff\n.bin".to_vec()),
                Content::Bytes(vec![0, 1, 255]),
            ))
            .with(Entry::file(
                Root::Cwd,
                "model.pt",
                Content::format(ModelFormat::TorchZip, u64::MAX, 4096),
            ))
            .with(Entry::file(
                Root::Model,
                "w.bin",
                Content::Seeded {
                    seed: 9,
                    size: 77,
                    fill: Fill::Floats,
                },
            ))
            .with(Entry::dir(Root::Model, "empty").with_mode(0o700))
            .with(Entry::symlink(
                Root::Model,
                "out",
                "../../../outside/secret",
            ))
            .with(Entry::hardlink(Root::Model, "hl", "w.bin"))
            .with(Entry::fifo(Root::Model, "pipe"))
            .with(Entry::socket(Root::Model, "sock"))
    }

    #[test]
    fn every_kind_round_trips_exactly() {
        let l = sample();
        let text = l.to_toml();
        let back = Layout::from_toml(&text).unwrap();
        assert_eq!(back, l, "TOML was:\n{text}");
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let err =
            Layout::from_toml("[[entry]]\nroot='model'\npath='a'\nkind='file'\ncolour='red'\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn fields_that_do_not_fit_the_kind_are_rejected() {
        let err = Layout::from_toml("[[entry]]\nroot='model'\npath='a'\nkind='dir'\ntarget='x'\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("target"), "{err}");
        let err = Layout::from_toml("[[entry]]\nroot='model'\npath='a'\nkind='file'\nmode='999'\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("octal"), "{err}");
    }

    #[test]
    fn loading_validates_the_layout() {
        let err =
            Layout::from_toml("[[entry]]\nroot='model'\npath='../x'\nkind='dir'\n").unwrap_err();
        assert!(matches!(
            err,
            LayoutTomlError::Invalid(LayoutError::UnnormalizedPath { .. })
        ));
    }
}
