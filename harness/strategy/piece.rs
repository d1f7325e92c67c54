//! The building blocks every generator here shares: a [`Piece`] (entries plus the labels they
//! inject), the [`StrategyConfig`] knobs, and the small strategies names and seeds are drawn
//! from.

use proptest::prelude::*;

use crate::layout::Entry;

/// A group of entries and the labels they inject.
#[derive(Clone, Debug)]
pub struct Piece {
    /// Labels this piece injects.
    pub labels: Vec<&'static str>,
    /// Its entries.
    pub entries: Vec<Entry>,
}

/// A piece of `entries` that injects `labels`.
pub(super) fn piece(labels: &[&'static str], entries: Vec<Entry>) -> Piece {
    Piece {
        labels: labels.to_vec(),
        entries,
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
pub(super) fn stem() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_-]{0,10}"
}

/// A content seed.
pub(super) fn seed() -> impl Strategy<Value = u64> {
    0u64..1_000_000
}
