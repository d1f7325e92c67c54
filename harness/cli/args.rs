//! The command line's arguments (clap derive): every subcommand and flag, with `--help` text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use packtest::detect::Framework;
use packtest::packager::ArchiveFormat;
use packtest::target::Target;

/// The command line.
#[derive(Parser, Debug)]
#[command(
    name = "packtest",
    version,
    about = "Test harness and property tests for ML model packagers (model.tar.gz)"
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Pack a model dir with the reference packager (deterministic, atomic write).
    Pack {
        /// The model directory (SM_MODEL_DIR).
        model_dir: PathBuf,
        /// Where to write the archive.
        #[arg(short, long)]
        output: PathBuf,
        /// Deflate level 0-9 (0 stores). Every level adapts per block (stored, Huffman-only or
        /// LZ); the level sets the effort of each: 1 fastest, 9 smallest.
        #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(0..=9))]
        level: u32,
        /// Compression threads (default: all cores); the output is identical for any count.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
        threads: Option<u32>,
        /// `tar.gz` (default) or `tar` (uncompressed model data).
        #[arg(long, value_enum, default_value_t = ArchiveFormat::TarGz)]
        format: ArchiveFormat,
        /// The deploy target: `sagemaker` copies what internal links point to and refuses
        /// links out, dangling links, FIFOs and devices; `posix` stores them as they are.
        #[arg(long, default_value = "sagemaker", value_parser = target_parser())]
        target: Target,
        /// Stamp every member with this mtime (seconds since 1970) instead of 0, like GNU
        /// tar's `--mtime`; defaults to `$SOURCE_DATE_EPOCH` when that is set.
        #[arg(long, value_name = "EPOCH", env = "SOURCE_DATE_EPOCH")]
        mtime: Option<u64>,
        /// With --mtime: keep each file's own mtime unless it is later than EPOCH (GNU tar's
        /// `--clamp-mtime`).
        #[arg(long, requires = "mtime")]
        clamp_mtime: bool,
    },
    /// Extract an archive exactly as a target's consumer would (refusing what it refuses).
    Unpack {
        /// The .tar.gz or .tar file.
        archive: PathBuf,
        /// A new or empty directory; nothing is written outside it.
        dir: PathBuf,
        /// Whose extraction to reproduce.
        #[arg(long, default_value = "sagemaker", value_parser = target_parser())]
        target: Target,
        /// Print what was written (or refused) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the packager contract of one target (or of every target).
    Contract {
        /// The target; all of them when omitted.
        #[arg(long, value_parser = target_parser())]
        target: Option<Target>,
    },
    /// Find silent failures in a finished job's dirs, or in an archive.
    Check(CheckArgs),
    /// Run a real training command in an emulated SageMaker job, pack, and check the result.
    Sim(SimArgs),
    /// The pitfall library (built in): list, show, or render its docs page.
    Scenarios {
        /// Also a team's own scenarios (*.toml) in DIR; one with a built-in id replaces it;
        /// repeatable.
        #[arg(long, value_name = "DIR", env = "PACKTEST_SCENARIOS")]
        dir: Vec<PathBuf>,
        #[command(subcommand)]
        action: ScenariosAction,
    },
    /// Build a layout, scenario or saved failure (TOML), or a built-in scenario by its id, into
    /// DIR, to look at it by hand.
    Materialize {
        /// A layout TOML, a scenario file, a saved failure, or a built-in scenario id
        /// (`packtest scenarios list`).
        #[arg(value_name = "FILE_OR_ID")]
        file: PathBuf,
        /// A new or empty directory; it becomes the sandbox root (DIR/opt/ml/model, …).
        dir: PathBuf,
    },
    /// Run a packager against generated job layouts and check the contract (`packtest contract`).
    Run(RunArgs),
    /// Compare two archives field by field: gzip header, member order, and per member type,
    /// mode, owner, mtime, size, content (sha256 and first differing byte), link target and
    /// pax records. Exit 0 same, 1 different, 2 unreadable.
    Diff {
        /// The first archive (A).
        a: PathBuf,
        /// The second archive (B).
        b: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Stop reading either archive after this many decompressed bytes (bomb guard);
        /// accepts K, M, G suffixes.
        #[arg(long, value_parser = parse_size, env = "PACKTEST_MAX_UNPACKED")]
        max_unpacked: Option<u64>,
    },
    /// Print an archive's manifest without extracting it.
    Inspect {
        /// A .tar.gz, multi-member gzip, or .tar file.
        archive: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Stop after this many decompressed bytes (bomb guard); accepts K, M, G suffixes.
        #[arg(long, value_parser = parse_size, env = "PACKTEST_MAX_UNPACKED")]
        max_unpacked: Option<u64>,
    },
}

/// `packtest run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The packager command, e.g. 'tar -czf {output} -C {model_dir} .' (no shell is used).
    /// Without it, packtest's own reference packager runs in-process.
    #[arg(long, env = "PACKTEST_PACKAGER")]
    pub packager: Option<String>,
    /// Generated cases.
    #[arg(long, default_value_t = 256, env = "PACKTEST_CASES")]
    pub cases: u64,
    /// Run only generated case N of the seed: no baseline, no scenarios. --cases does not
    /// bound it (a case depends only on the seed and N), so N may be any index; what every
    /// replay of a generated case uses.
    #[arg(long, value_name = "N", conflicts_with_all = ["scenario", "partition"])]
    pub case: Option<u64>,
    /// Run only the scenario or saved failure with this id: a built-in one (`packtest
    /// scenarios list`), one in a --scenarios DIR (a saved failure's id is its file name
    /// without `.toml`), or `baseline`.
    #[arg(long, value_name = "ID", conflicts_with = "partition")]
    pub scenario: Option<String>,
    /// Run seed; the same seed gives the same layouts whatever --jobs. Random when omitted.
    #[arg(long, env = "PACKTEST_SEED")]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Also check the strict profile: deterministic, sorted, normalized.
    #[arg(long)]
    pub strict: bool,
    /// The deploy target whose consumer judges the archive (`packtest contract`).
    #[arg(long, default_value = "sagemaker", value_parser = target_parser(), env = "PACKTEST_TARGET")]
    pub target: Target,
    /// Also run every scenario or saved failure (*.toml) in DIR; repeatable. A file whose id
    /// is already taken (a built-in one, an earlier DIR's) replaces it. The built-in library
    /// (`packtest scenarios list`) runs by default; `builtin` names it (redundant, accepted).
    #[arg(long, value_name = "DIR")]
    pub scenarios: Vec<PathBuf>,
    /// Leave the built-in scenario library out (run only generated cases and --scenarios
    /// DIRs).
    #[arg(long)]
    pub no_scenarios: bool,
    /// Per-run packager timeout in seconds.
    #[arg(long, default_value_t = packtest::outcome::DEFAULT_TIMEOUT.as_secs_f64())]
    pub timeout: f64,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Save each shrunk failure as a replayable TOML file in DIR.
    #[arg(long, value_name = "DIR")]
    pub save_failures: Option<PathBuf>,
    /// Run shard K of N (counted from 1): case i runs in shard i % N + 1.
    #[arg(long, value_name = "K/N")]
    pub partition: Option<packtest::outcome::Partition>,
    /// Do not shrink failures (with --save-failures, each cause's case is saved as it is).
    #[arg(long)]
    pub no_shrink: bool,
    /// Packager runs allowed for shrinking one cause (each broken property is one cause).
    #[arg(long, value_name = "N", default_value_t = 128)]
    pub shrink_runs: u32,
    /// Wall time in seconds for all the shrinking of the run; a cause not finished by then
    /// keeps the smallest layout found.
    #[arg(long, value_name = "SECS", default_value_t = packtest::runner::DEFAULT_SHRINK_TIME.as_secs_f64())]
    pub shrink_time: f64,
    /// Run every case even when the baseline layout fails (the strict profile of most
    /// packagers fails on the baseline).
    #[arg(long)]
    pub keep_going: bool,
    /// Print only the summary: the verdict and, per cause, its headline, minimal layout, one
    /// fix and replay (no progress on stderr).
    #[arg(long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print one line per failing case (its causes, labels and replay), and each failure
    /// on stderr as it happens.
    #[arg(long)]
    pub verbose: bool,
    /// Replace durations and sandbox paths with placeholders in the text report.
    #[arg(long, hide = true)]
    pub redact: bool,
}

/// `packtest scenarios`.
#[derive(Subcommand, Debug)]
pub enum ScenariosAction {
    /// One line per scenario: id, framework, expected codes, title.
    List,
    /// A scenario's story, layout, expectations and sources.
    Show {
        /// The scenario id (`packtest scenarios list`).
        id: String,
    },
    /// Render the library's docs page to stdout (with --dir: those dirs' scenarios alone), or
    /// with --check, fail if DIR/README.md is stale.
    Docs {
        /// Compare with DIR/README.md instead of printing (needs one --dir); exit 1 when it
        /// differs.
        #[arg(long)]
        check: bool,
    },
}

/// `packtest check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The model dir (SM_MODEL_DIR).
    #[arg(long, value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
    /// The job's working dir, where stray saves land.
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// SM_OUTPUT_DATA_DIR.
    #[arg(long, value_name = "DIR")]
    pub output_data_dir: Option<PathBuf>,
    /// The checkpoint dir.
    #[arg(long, value_name = "DIR")]
    pub checkpoints: Option<PathBuf>,
    /// A /tmp-like scratch dir to search for stray saves.
    #[arg(long, value_name = "DIR")]
    pub tmp: Option<PathBuf>,
    /// A packtest sandbox or an /opt/ml-style tree (ROOT/opt/ml/model or ROOT/model).
    #[arg(long, value_name = "ROOT", conflicts_with = "model_dir")]
    pub sandbox: Option<PathBuf>,
    /// An archive: checked against the model dir when one is given, else on its own.
    #[arg(long, value_name = "ARCHIVE")]
    pub archive: Option<PathBuf>,
    /// Stop reading the archive after this many decompressed bytes (bomb guard); accepts K,
    /// M, G suffixes.
    #[arg(long, value_parser = parse_size, env = "PACKTEST_MAX_UNPACKED")]
    pub max_unpacked: Option<u64>,
    /// Turn on a framework's rules.
    #[arg(long, value_enum, ignore_case = true)]
    pub framework: Option<Framework>,
    /// The deploy target whose consumer unpacks the archive: sagemaker, posix, kserve.
    #[arg(long, default_value = "sagemaker", value_parser = target_parser())]
    pub target: Target,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `packtest sim`.
#[derive(clap::Args, Debug)]
pub struct SimArgs {
    /// Package with this command instead of the reference packager.
    #[arg(long)]
    pub packager: Option<String>,
    /// Turn on a framework's rules.
    #[arg(long, value_enum, ignore_case = true)]
    pub framework: Option<Framework>,
    /// An input channel, NAME=DIR (repeatable); copied to opt/ml/input/data/NAME.
    #[arg(long, value_name = "NAME=DIR")]
    pub input: Vec<String>,
    /// Keep the sandbox and the archive on disk.
    #[arg(long)]
    pub keep: bool,
    /// Kill the training command after SECS seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// The deploy target: how the reference packager packs and whose rules `check` applies.
    #[arg(long, default_value = "sagemaker", value_parser = target_parser())]
    pub target: Target,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Copy this dir into /opt/ml/code, where the command runs (as SageMaker does with the
    /// estimator's source_dir); the command's relative paths are then relative to it.
    #[arg(long, value_name = "DIR")]
    pub source_dir: Option<PathBuf>,
    /// A hyperparameter, NAME=VALUE (repeatable): written to
    /// /opt/ml/input/config/hyperparameters.json and given as SM_HPS and SM_HP_<NAME>.
    #[arg(long = "hp", value_name = "NAME=VALUE")]
    pub hp: Vec<String>,
    /// Run N hosts (algo-1..algo-N) at once, each with its own /opt/ml; their model dirs are
    /// merged into one archive, as the platform does.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=packtest::sim::MAX_HOSTS as i64))]
    pub hosts: u16,
    /// Run the entry point (`python3 SCRIPT.py` or `SCRIPT`) through the real
    /// sagemaker-training toolkit (its Python: PACKTEST_TOOLKIT_PYTHON, or the venv made by
    /// tests/sim/toolkit-venv.sh).
    #[arg(long)]
    pub toolkit: bool,
    /// The training command, after `--`.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// `--target`: one of the targets' ids, listed in `--help` and in the error for any other.
pub(crate) fn target_parser() -> impl clap::builder::TypedValueParser<Value = Target> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Target::ALL.map(Target::id))
        .try_map(|s| s.parse::<Target>())
}

/// Parses `123`, `64K`, `512M`, `8G` (binary units).
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (&s[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&s[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&s[..i], 1 << 30),
        Some((i, 'T' | 't')) => (&s[..i], 1 << 40),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("`{s}` is not a size such as 1048576, 64K, 512M or 8G"))
}
