//! packtest: a test harness and property-testing framework for ML model packagers.
//!
//! A packager turns a training job's model directory (`/opt/ml/model`) into `model.tar.gz`.
//! packtest generates job layouts ([`layout`]), runs a packager on them ([`packager`]), reads
//! the archive without extracting it ([`archive`]), and checks the packager contract
//! ([`contract`]) the way the archive's consumer will unpack it ([`target`]: SageMaker hosting
//! by default, GNU tar, or KServe). `packtest contract` prints the contract;
//! [`target::contract_text`] renders it.

mod api;
pub mod archive;
pub mod contract;
pub mod detect;
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

pub use packager::{CommandPackager, Packager, ReferencePackager};

pub use api::{Harness, HarnessOutcome};
pub use layout::{Content, Entry, EntryKind, Layout, RawPath, Root, Sandbox};
