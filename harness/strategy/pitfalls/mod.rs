//! The pitfall pieces and how often each is drawn: one function per pitfall, each returning
//! its strategy, and [`pitfall`], the weighted choice among them.

mod damaged;
mod files;
mod links;

use proptest::prelude::*;

use super::piece::{Piece, StrategyConfig};

/// One pitfall piece.
pub(super) fn pitfall(cfg: &StrategyConfig) -> SBoxedStrategy<Piece> {
    let mut pieces: Vec<(u32, SBoxedStrategy<Piece>)> = vec![
        (3, files::model_saved_outside()),
        (1, files::savedmodel_broken()),
        (2, files::empty_dirs()),
        (2, files::dotfiles()),
        (3, files::odd_named_file(cfg.deep_paths)),
        (3, files::sized_file(cfg.large_files)),
        (1, files::json_file()),
        (2, links::symlink_inside()),
        (2, links::odd_inside_link()),
        (2, files::unreadable_by_server()),
        (1, files::appledouble()),
        (2, links::symlink_escape()),
        (2, links::dangling_symlink()),
        (2, links::hardlink()),
        (2, files::checkpoints_beside_model()),
        (2, files::output_data()),
        (1, files::checkpoints_in_model_dir()),
        (1, files::archive_in_model_dir()),
        (1, files::zero_byte_model_file()),
        (1, files::junk_files()),
    ];
    if cfg.special_files {
        pieces.push((1, files::fifo()));
        pieces.push((1, files::socket()));
    }
    // Knobs off by default: pushed last, so that without them the weights, and so every
    // existing seed's layouts, stay as they were.
    if cfg.unreadable_files {
        pieces.push((1, files::unreadable_file()));
    }
    if cfg.copied_models {
        pieces.push((2, files::copied_model()));
    }
    if cfg.damaged_models {
        pieces.push((2, damaged::damaged_model()));
    }
    proptest::strategy::Union::new_weighted(pieces).sboxed()
}
