//! Writing gzip: the parallel, deterministic, content-adaptive writer ([`pgzip`]) and the
//! Huffman-only deflate encoder it uses for incompressible or weight-like blocks
//! ([`huffman`]). Reading gzip is [`crate::archive`]'s job; this module depends on nothing
//! else in the crate.

pub mod huffman;
pub mod level;
pub mod pgzip;

pub use pgzip::{PgzWriter, PgzipStats};
