//! packtest: a test harness and property-testing framework for ML model packagers.
//!
//! A packager turns a training job's model directory (`/opt/ml/model`) into `model.tar.gz`.
//! packtest generates randomized job layouts, runs the packager on each, judges the archive
//! the way its consumer will unpack it (SageMaker hosting by default, GNU tar, or KServe),
//! shrinks every failure to a minimal layout, and prints the command that replays it.
//!
//! In a platform team's `cargo test` (the packager here is a command; any [`Packager`]
//! implementation, such as [`packager::FnPackager`] around Rust code, works the same way):
//!
//! ```no_run
//! # fn main() -> Result<(), packtest::Error> {
//! // In a test: `#[test] fn our_packager_keeps_the_contract() -> Result<(), packtest::Error>`.
//! let packager = packtest::CommandPackager::parse("my-packager {model_dir} {output}")?;
//! packtest::Harness::new(packager)
//!     .scenario_library() // the built-in pitfalls, as in `packtest scenarios list`
//!     .cases(64)
//!     .run()
//!     .assert_passed(); // panics with the shrunk layout and the replay command
//! # Ok(()) }
//! ```
//!
//! Return [`Error`] from such a test, not `Box<dyn std::error::Error>`: a failing test prints
//! its error's `Debug`, and [`Error`]'s is the message (the path or command, what is wrong,
//! the next step). Add to your `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! packtest = { path = "../packtest" }
//!
//! # packtest's gzip, tar and sha256 code is several times slower unoptimized
//! [profile.dev.package."*"]
//! opt-level = 2
//! ```
//!
//! The contract a packager must meet is in [`contract`] (and `packtest contract` prints it).
//!
//! The modules, from the bottom up; each uses only modules listed before it:
//! - [`layout`]: what a training job left behind, as a value, and the sandbox it is built in;
//! - [`archive`]: the one bounded, streaming reader of `.tar.gz` and `.tar`;
//! - [`process`]: running a child process with a timeout, its whole process group, and
//!   cancellation;
//! - [`gzip`]: the parallel gzip writer, what each level does, and the Huffman encoder;
//! - [`packager`]: the [`Packager`] trait, the command adapter, the reference packager;
//! - [`diff`]: two archives compared field by field (`packtest diff`), streaming both;
//! - [`target`]: deploy targets and their consumers' extraction;
//! - [`contract`]: the properties a packager's archive must have, per target;
//! - [`detect`]: the silent-failure detector and its typed finding codes;
//! - [`strategy`]: the proptest strategies that generate layouts;
//! - [`outcome`]: what a run produced (case results, events, the report, the replay command);
//! - [`runner`]: the parallel runner that generates, judges and shrinks;
//! - [`report`]: text, JSON, JUnit and progress, read from [`outcome`] only;
//! - [`scenario`]: the scenario library and its documentation page;
//! - [`replay`]: loading saved failures and scenarios to run again;
//! - [`sim`]: a training command run in an emulated job (private `/opt/ml` and `/tmp`, the
//!   platform's config files, several hosts, the real toolkit);
//! - [`Harness`]: the builder for `cargo test`, and [`Error`], any error of its API.

mod api;
pub mod archive;
pub mod contract;
pub mod detect;
pub mod diff;
mod error;
pub mod formats;
pub mod gzip;
pub mod layout;
pub mod outcome;
pub mod packager;
pub mod process;
pub mod replay;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod strategy;
pub mod target;

/// What a unit test does when something it needs cannot be had here: the same rule as the
/// integration tests' (say so where `cargo test` shows it, fail under `CI=true`).
#[cfg(test)]
#[path = "../tests/common/unavailable.rs"]
pub(crate) mod unavailable;

pub use packager::{CommandPackager, Packager, ReferencePackager};

pub use api::{built_unoptimized, Harness, HarnessOutcome};
pub use error::Error;
pub use layout::{Content, Entry, EntryKind, Layout, RawPath, Root, Sandbox};
