//! The building blocks every generator here shares: a [`Piece`] (entries plus the labels they
//! inject and the findings they promise), the [`StrategyConfig`] knobs, and the small
//! strategies names and seeds are drawn from.

use proptest::prelude::*;

use crate::layout::Entry;

use super::truth::Promise;

/// A group of entries, the labels they inject and the findings they promise.
#[derive(Clone, Debug)]
pub struct Piece {
    /// Labels this piece injects.
    pub labels: Vec<&'static str>,
    /// Its entries.
    pub entries: Vec<Entry>,
    /// The findings its entries cause, by (code, path), relative to the model dir it is
    /// assembled into (see [`super::Truth`]).
    pub promises: Vec<Promise>,
}

impl Piece {
    /// This piece, also promising `promises` (builder style).
    pub fn promising(mut self, promises: impl IntoIterator<Item = Promise>) -> Self {
        self.promises.extend(promises);
        self
    }
}

/// A piece of `entries` that injects `labels` and promises nothing yet.
pub(super) fn piece(labels: &[&'static str], entries: Vec<Entry>) -> Piece {
    Piece {
        labels: labels.to_vec(),
        entries,
        promises: Vec::new(),
    }
}

/// Knobs for [`job_layout_with`](super::job_layout_with).
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
    /// Generate files and dirs with no read permission (mode 0000), which promise
    /// `unreadable-file`. Off by default. Only meaningful for a user other than root: root
    /// reads every file, so the detector rightly finds nothing and the promise is false.
    /// [`StrategyConfig::every_pitfall`] turns it on only when the effective uid is not 0.
    pub unreadable_files: bool,
    /// Generate models saved outside the model dir together with a copy in it: the same
    /// bytes (no `model-saved-outside`, the detector's copy exception) or the same name and
    /// size with other bytes (still `model-saved-outside`). Off by default.
    pub copied_models: bool,
    /// Generate model files cut short or with a flipped byte in a CRC-checked zip record,
    /// which promise `model-file-truncated` and `model-file-corrupt`. Off by default.
    pub damaged_models: bool,
}

impl StrategyConfig {
    /// Every pitfall on, the knobs that are off by default included; `unreadable_files`
    /// only when this process's effective uid is not 0 (see the field).
    pub fn every_pitfall() -> Self {
        StrategyConfig {
            unreadable_files: !is_root(),
            copied_models: true,
            damaged_models: true,
            ..StrategyConfig::default()
        }
    }
}

/// True when this process runs with effective uid 0, for which no file is unreadable.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

impl Default for StrategyConfig {
    fn default() -> Self {
        StrategyConfig {
            max_pitfalls: 5,
            special_files: true,
            large_files: true,
            deep_paths: true,
            unreadable_files: false,
            copied_models: false,
            damaged_models: false,
        }
    }
}

/// A plain file-name stem: lowercase, digits, `_` and `-`.
pub(super) fn stem() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_-]{0,10}"
}

/// A content seed.
pub(super) fn seed() -> impl Strategy<Value = u64> {
    0u64..1_000_000
}
