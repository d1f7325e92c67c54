//! The `packtest` command line: argument parsing (clap) and exit codes.
//!
//! Exit codes (DESIGN §3, §5), mapped in one place, [`Code`]:
//! - 0: success, no error finding, every case passed;
//! - 1: a finding or a failed property: the archive is damaged, the packager broke the contract;
//! - 2: bad input or usage: a missing dir, a file that is not an archive, a bad flag, a
//!   packager that cannot be started, zero cases to run;
//! - 130: `run` was interrupted by Ctrl-C (partial report printed).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use packtest::target::Target;

use packtest::archive::{ArchiveError, Limits, Manifest};
use packtest::packager::{PackOptions, ReferencePackager};

/// The documented exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Code {
    /// Everything passed.
    Ok = 0,
    /// A finding, a damaged archive, or a failed property.
    Failed = 1,
    /// Bad input or usage.
    Usage = 2,
    /// Ctrl-C stopped a run.
    Interrupted = 130,
}

/// An error that carries its exit code to `main`.
#[derive(Debug)]
struct Exit(Code, anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for Exit {
    fn from(e: E) -> Self {
        Exit(Code::Usage, e.into())
    }
}

fn fail(code: Code, e: impl Into<anyhow::Error>) -> Exit {
    Exit(code, e.into())
}

#[derive(Parser, Debug)]
#[command(
    name = "packtest",
    version,
    about = "Test harness and property tests for ML model packagers (model.tar.gz)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Pack a model dir with the reference packager (deterministic, atomic write).
    Pack {
        /// The model directory (SM_MODEL_DIR).
        model_dir: PathBuf,
        /// Where to write the archive.
        #[arg(short, long)]
        output: PathBuf,
        /// Deflate level 0-9; 6 adapts per block (stored, Huffman-only, fast or normal LZ).
        #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(0..=9))]
        level: u32,
        /// Compression threads (default: all cores); the output is identical for any count.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
        threads: Option<u32>,
        /// `tar.gz` (default) or `tar` (uncompressed model data).
        #[arg(long, default_value = "tar.gz", value_parser = ["tar.gz", "tar"])]
        format: String,
        /// The deploy target: `sagemaker` copies what internal links point to and refuses
        /// links out, dangling links, FIFOs and devices; `posix` stores them as they are.
        #[arg(long, default_value = "sagemaker", value_parser = target_parser())]
        target: Target,
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
    /// Find silent failures in a finished job's dirs, or in an archive (DESIGN §3).
    Check(CheckArgs),
    /// Run a real training command in an emulated SageMaker job, pack, and check the result.
    Sim(SimArgs),
    /// The pitfall library: list, show, or render its docs page.
    Scenarios {
        /// The scenario directory.
        #[arg(long, default_value = "scenarios", env = "PACKTEST_SCENARIOS")]
        dir: PathBuf,
        #[command(subcommand)]
        action: ScenariosAction,
    },
    /// Build a layout, scenario or saved failure (TOML) into DIR, to look at it by hand.
    Materialize {
        /// A layout TOML, a scenario file, or a saved failure.
        file: PathBuf,
        /// A new or empty directory; it becomes the sandbox root (DIR/opt/ml/model, …).
        dir: PathBuf,
    },
    /// Run a packager against generated job layouts and check the contract (DESIGN §2).
    Run(RunArgs),
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

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The packager command, e.g. 'tar -czf {output} -C {model_dir} .' (no shell is used).
    /// Without it, packtest's own reference packager runs in-process.
    #[arg(long, env = "PACKTEST_PACKAGER")]
    packager: Option<String>,
    /// Generated cases.
    #[arg(long, default_value_t = 256, env = "PACKTEST_CASES")]
    cases: u64,
    /// Run seed; the same seed gives the same layouts whatever --jobs. Random when omitted.
    #[arg(long, env = "PACKTEST_SEED")]
    seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Also check the strict profile: deterministic, sorted, normalized.
    #[arg(long)]
    strict: bool,
    /// The deploy target whose consumer judges the archive (DESIGN §2).
    #[arg(long, default_value = "sagemaker", value_parser = target_parser(), env = "PACKTEST_TARGET")]
    target: Target,
    /// Also run every scenario or saved failure (*.toml) in DIR; repeatable.
    #[arg(long, value_name = "DIR")]
    scenarios: Vec<PathBuf>,
    /// Per-run packager timeout in seconds.
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Save each shrunk failure as a replayable TOML file in DIR.
    #[arg(long, value_name = "DIR")]
    save_failures: Option<PathBuf>,
    /// Run shard K of N (counted from 1): case i runs in shard i % N + 1.
    #[arg(long, value_name = "K/N")]
    partition: Option<packtest::runner::Partition>,
    /// Do not shrink failures.
    #[arg(long)]
    no_shrink: bool,
    /// Print only the summary (no progress, no per-failure lines).
    #[arg(long)]
    quiet: bool,
    /// Replace durations and sandbox paths with placeholders in the text report.
    #[arg(long, hide = true)]
    redact: bool,
}

#[derive(Subcommand, Debug)]
enum ScenariosAction {
    /// One line per scenario: id, framework, expected codes, title.
    List,
    /// A scenario's story, layout, expectations and sources.
    Show {
        /// The scenario id.
        id: String,
    },
    /// Render scenarios/README.md to stdout, or with --check, fail if the file is stale.
    Docs {
        /// Compare with DIR/README.md instead of printing; exit 1 when it differs.
        #[arg(long)]
        check: bool,
    },
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// The model dir (SM_MODEL_DIR).
    #[arg(long, value_name = "DIR")]
    model_dir: Option<PathBuf>,
    /// The job's working dir, where stray saves land.
    #[arg(long, value_name = "DIR")]
    cwd: Option<PathBuf>,
    /// SM_OUTPUT_DATA_DIR.
    #[arg(long, value_name = "DIR")]
    output_data_dir: Option<PathBuf>,
    /// The checkpoint dir.
    #[arg(long, value_name = "DIR")]
    checkpoints: Option<PathBuf>,
    /// A /tmp-like scratch dir to search for stray saves.
    #[arg(long, value_name = "DIR")]
    tmp: Option<PathBuf>,
    /// A packtest sandbox or an /opt/ml-style tree (ROOT/opt/ml/model or ROOT/model).
    #[arg(long, value_name = "ROOT", conflicts_with = "model_dir")]
    sandbox: Option<PathBuf>,
    /// An archive: checked against the model dir when one is given, else on its own.
    #[arg(long, value_name = "ARCHIVE")]
    archive: Option<PathBuf>,
    /// Stop reading the archive after this many decompressed bytes (bomb guard); accepts K,
    /// M, G suffixes.
    #[arg(long, value_parser = parse_size, env = "PACKTEST_MAX_UNPACKED")]
    max_unpacked: Option<u64>,
    /// Turn on a framework's rules: pytorch, tensorflow, huggingface, xgboost, sklearn.
    #[arg(long)]
    framework: Option<String>,
    /// The deploy target whose consumer unpacks the archive: sagemaker, posix, kserve.
    #[arg(long, default_value = "sagemaker", value_parser = target_parser())]
    target: Target,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
struct SimArgs {
    /// Package with this command instead of the reference packager.
    #[arg(long)]
    packager: Option<String>,
    /// Turn on a framework's rules.
    #[arg(long)]
    framework: Option<String>,
    /// An input channel, NAME=DIR (repeatable); copied to opt/ml/input/data/NAME.
    #[arg(long, value_name = "NAME=DIR")]
    input: Vec<String>,
    /// Keep the sandbox and the archive on disk.
    #[arg(long)]
    keep: bool,
    /// Kill the training command after SECS seconds.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// The deploy target: how the reference packager packs and whose rules `check` applies.
    #[arg(long, default_value = "sagemaker", value_parser = target_parser())]
    target: Target,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// The training command, after `--`.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// `--target`: one of the targets' ids, listed in `--help` and in the error for any other.
fn target_parser() -> impl clap::builder::TypedValueParser<Value = Target> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Target::ALL.map(Target::id))
        .try_map(|s| s.parse::<Target>())
}

/// Parses `123`, `64K`, `512M`, `8G` (binary units).
fn parse_size(s: &str) -> Result<u64, String> {
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

fn main() -> ExitCode {
    // Like ripgrep: a closed pipe (`packtest … | head`) ends the program quietly.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { Code::Usage as u8 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Pack {
            model_dir,
            output,
            level,
            threads,
            format,
            target,
        } => cmd_pack(&model_dir, &output, level, threads, &format, target),
        Command::Unpack {
            archive,
            dir,
            target,
            json,
        } => cmd_unpack(&archive, &dir, target, json),
        Command::Contract { target } => cmd_contract(target),
        Command::Inspect {
            archive,
            json,
            max_unpacked,
        } => cmd_inspect(&archive, json, max_unpacked),
        Command::Run(args) => cmd_run(args),
        Command::Check(args) => cmd_check(args),
        Command::Materialize { file, dir } => cmd_materialize(&file, &dir),
        Command::Scenarios { dir, action } => cmd_scenarios(&dir, action),
        Command::Sim(args) => cmd_sim(args),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(Exit(code, e)) => {
            eprintln!("packtest: error: {e:#}");
            ExitCode::from(code as u8)
        }
    }
}

fn cmd_pack(
    model_dir: &Path,
    output: &Path,
    level: u32,
    threads: Option<u32>,
    format: &str,
    target: Target,
) -> Result<Code, Exit> {
    // Under `ulimit -f` the kernel kills a writer with SIGXFSZ, leaving the temp file; ignored,
    // the write fails with EFBIG and the temp file is removed like on any error.
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    // SIGINT/SIGTERM/SIGHUP: delete the partial archive, then exit 130. The registry stays
    // locked until exit, so the archive cannot be renamed into place half-written.
    let _ = ctrlc::set_handler(|| {
        let _held = packtest::packager::remove_partial_outputs();
        eprintln!("packtest: interrupted; the partial archive was removed");
        std::process::exit(Code::Interrupted as i32);
    });
    let mut options = PackOptions {
        level,
        target,
        ..PackOptions::default()
    };
    if let Some(t) = threads {
        options.threads = t as usize;
    }
    if format == "tar" {
        options.format = packtest::packager::ArchiveFormat::Tar;
    }
    let packager = ReferencePackager { options };
    let start = std::time::Instant::now();
    match packager.pack_dir(model_dir, output) {
        Ok(stats) => {
            eprintln!(
                "packed {} files, {} dirs, {} symlinks, {} hard links, {} special files{} into `{}`: {} -> {} bytes in {:.2?}",
                stats.files,
                stats.dirs,
                stats.symlinks,
                stats.hardlinks,
                stats.specials,
                if stats.sockets_skipped > 0 {
                    format!(" ({} sockets left out)", stats.sockets_skipped)
                } else {
                    String::new()
                },
                output.display(),
                stats.bytes_in,
                stats.bytes_out,
                start.elapsed()
            );
            Ok(Code::Ok)
        }
        Err(e) if e.is_usage() => Err(fail(Code::Usage, e)),
        Err(e) => Err(fail(Code::Failed, e)),
    }
}

fn framework(f: &Option<String>) -> Result<packtest::detect::DetectOptions, Exit> {
    let framework = f
        .as_deref()
        .map(str::parse::<packtest::detect::Framework>)
        .transpose()
        .map_err(|e| fail(Code::Usage, anyhow::anyhow!(e)))?;
    Ok(packtest::detect::DetectOptions {
        framework,
        ..Default::default()
    })
}

/// Reads an archive for `check`: not-an-archive is bad input, damage is a finding.
fn read_archive_for_check(
    path: &Path,
    max_unpacked: Option<u64>,
) -> Result<(Manifest, Vec<packtest::detect::Finding>), Exit> {
    let file = packtest::archive::open_archive(path)
        .with_context(|| format!("cannot open the archive `{}`", path.display()))?;
    let limits = Limits {
        max_unpacked,
        ..Limits::default()
    };
    let (m, err) = Manifest::read_lenient(file, limits);
    let mut findings = Vec::new();
    match err {
        Some(ArchiveError::NotGzip { offset: 0 }) => {
            return Err(fail(
                Code::Usage,
                anyhow::anyhow!(
                    "`{}` is not a gzip or tar archive; pass the model.tar.gz",
                    path.display()
                ),
            ))
        }
        Some(ArchiveError::Io(e)) => {
            return Err(fail(
                Code::Usage,
                anyhow::anyhow!("cannot read `{}`: {e}", path.display()),
            ))
        }
        Some(e) => findings.push(packtest::detect::Finding {
            code: packtest::detect::Code::ArchiveDamaged,
            severity: packtest::detect::Severity::Error,
            root: packtest::detect::Where::Archive,
            path: None,
            message: format!("the archive is damaged: {e} ({})", e.class()),
            fix: "re-create it; a packager that crashed mid-write leaves exactly this".into(),
        }),
        None => {}
    }
    Ok((m, findings))
}

fn print_findings(findings: &[packtest::detect::Finding], json: bool, extra: serde_json::Value) {
    if json {
        let v = serde_json::json!({ "findings": findings, "context": extra });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        print!("{}", packtest::report::findings_text(findings, color));
    }
}

fn cmd_scenarios(dir: &Path, action: ScenariosAction) -> Result<Code, Exit> {
    use packtest::scenario::{self, ScenarioLibrary};
    let lib = ScenarioLibrary::load_dir(dir)?;
    match action {
        ScenariosAction::List => {
            for (s, _, _) in lib.scenarios.values() {
                println!(
                    "{:<42} {:<12} {:<50} {}",
                    s.id,
                    format!("{:?}", s.framework).to_lowercase(),
                    s.expect.codes.join(","),
                    s.title
                );
            }
            eprintln!("{} scenarios in `{}`", lib.scenarios.len(), dir.display());
        }
        ScenariosAction::Show { id } => {
            let (s, layout, path) = lib.get(&id)?;
            println!("{} ({})\n", s.title, path.display());
            println!("{}\n", s.summary);
            print!("{}", scenario::render_tree(layout));
            println!(
                "\nexpected codes: {}",
                if s.expect.codes.is_empty() {
                    "none".into()
                } else {
                    s.expect.codes.join(", ")
                }
            );
            for t in Target::ALL {
                let e = s.expect.targets.get(t);
                println!(
                    "{t}: reference packager {:?}; a typical archive {:?}: {}",
                    e.reference_packager, e.typical_archive, e.consumer
                );
            }
            println!("fix: {}", s.fix);
            for src in &s.sources {
                println!("source: {src}");
            }
        }
        ScenariosAction::Docs { check } => {
            let text =
                scenario::render_docs(&lib).map_err(|e| fail(Code::Failed, anyhow::anyhow!(e)))?;
            if check {
                let path = dir.join("README.md");
                let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
                if on_disk != text {
                    return Err(fail(
                        Code::Failed,
                        anyhow::anyhow!("`{}` is stale; regenerate it with `packtest scenarios --dir {} docs > {}`", path.display(), dir.display(), path.display()),
                    ));
                }
                eprintln!("`{}` is up to date", path.display());
            } else {
                print!("{text}");
            }
        }
    }
    Ok(Code::Ok)
}

fn cmd_materialize(file: &Path, dir: &Path) -> Result<Code, Exit> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read `{}`", file.display()))?;
    let layout = if text.contains("[failure]") {
        packtest::replay::SavedFailure::from_toml(&text)
            .map(|(_, l)| l)
            .map_err(|e| anyhow::anyhow!("`{}`: {e}", file.display()))?
    } else if text.contains("[layout]") {
        packtest::scenario::load_for_runner(file, &text)
            .map(|n| n.layout)
            .map_err(|e| anyhow::anyhow!(e))?
    } else {
        packtest::layout::Layout::from_toml(&text)
            .map_err(|e| anyhow::anyhow!("`{}`: {e}", file.display()))?
    };
    let sb = packtest::Sandbox::materialize_at(dir, &layout)?;
    println!("{}", sb.model_dir().display());
    eprintln!(
        "built {} entries under `{}` (model dir printed on stdout)",
        layout.entries.len(),
        dir.display()
    );
    Ok(Code::Ok)
}

fn cmd_check(a: CheckArgs) -> Result<Code, Exit> {
    use packtest::detect::{self, JobDirs};
    let opts = detect::DetectOptions {
        target: a.target,
        ..framework(&a.framework)?
    };
    let dirs = match (&a.sandbox, &a.model_dir) {
        (Some(root), _) => {
            if !root.is_dir() {
                return Err(fail(
                    Code::Usage,
                    anyhow::anyhow!("sandbox root `{}` is not a directory", root.display()),
                ));
            }
            Some(JobDirs::from_root(root))
        }
        (None, Some(m)) => Some(JobDirs {
            model_dir: m.clone(),
            cwd: a.cwd.clone(),
            output_data_dir: a.output_data_dir.clone(),
            checkpoints: a.checkpoints.clone(),
            tmp: a.tmp.clone(),
        }),
        (None, None) => None,
    };
    if let Some(d) = &dirs {
        for p in [&d.cwd, &d.output_data_dir, &d.checkpoints, &d.tmp]
            .into_iter()
            .flatten()
        {
            if !p.is_dir() {
                return Err(fail(
                    Code::Usage,
                    anyhow::anyhow!("`{}` is not a directory", p.display()),
                ));
            }
        }
    }
    let mut findings = Vec::new();
    if let Some(d) = &dirs {
        findings.extend(detect::detect(d, &opts).map_err(|e| fail(Code::Usage, e))?);
    }
    if let Some(archive) = &a.archive {
        let (m, damaged) = read_archive_for_check(archive, a.max_unpacked)?;
        findings.extend(damaged);
        match &dirs {
            Some(d) => {
                findings.extend(
                    detect::check_archive_against(d, &m, a.target)
                        .map_err(|e| fail(Code::Usage, e))?,
                );
                // Archive-only rules that the dir scan cannot see (names as stored).
                findings.extend(detect::detect_archive(&m, &opts).into_iter().filter(|f| {
                    matches!(
                        f.code,
                        detect::Code::UnsafeMemberName
                            | detect::Code::LinkInArchive
                            | detect::Code::UnreadableByServer
                    )
                }));
            }
            None => findings.extend(detect::detect_archive(&m, &opts)),
        }
    }
    if dirs.is_none() && a.archive.is_none() {
        return Err(fail(
            Code::Usage,
            anyhow::anyhow!(
                "nothing to check: give --model-dir DIR, --sandbox ROOT, or --archive model.tar.gz"
            ),
        ));
    }
    print_findings(
        &findings,
        a.json,
        serde_json::json!({ "target": opts.target }),
    );
    Ok(if detect::has_error(&findings) {
        Code::Failed
    } else {
        Code::Ok
    })
}

fn cmd_sim(a: SimArgs) -> Result<Code, Exit> {
    use packtest::detect::{self, JobDirs};
    use packtest::sim::{self, SimError, SimOptions};
    let opts = packtest::detect::DetectOptions {
        target: a.target,
        ..framework(&a.framework)?
    };
    let mut inputs = Vec::new();
    for i in &a.input {
        let (name, dir) = i.split_once('=').ok_or_else(|| {
            fail(
                Code::Usage,
                anyhow::anyhow!("--input `{i}` is not NAME=DIR"),
            )
        })?;
        inputs.push((name.to_owned(), PathBuf::from(dir)));
    }
    let timeout = match a.timeout {
        Some(t) if t > 0.0 && t.is_finite() => Some(std::time::Duration::from_secs_f64(t)),
        Some(_) => {
            return Err(fail(
                Code::Usage,
                anyhow::anyhow!("--timeout must be a positive number of seconds"),
            ))
        }
        None => None,
    };
    let packager: Box<dyn packtest::Packager> = match &a.packager {
        Some(cmd) => Box::new(packtest::CommandPackager::parse(cmd)?),
        None => Box::new(ReferencePackager::for_target(a.target)),
    };
    let job = match sim::run_job(&SimOptions {
        argv: a.command.clone(),
        inputs,
        timeout,
    }) {
        Ok(j) => j,
        Err(e @ SimError::Sandbox(_)) => return Err(fail(Code::Failed, e)),
        Err(e) => return Err(fail(Code::Usage, e)),
    };
    let job_ok = job.outcome.exit.success();
    let mut out = String::new();
    out.push_str(&format!(
        "job: {} after {:.2?}\n",
        job.outcome.exit, job.outcome.duration
    ));
    if !job_ok {
        out.push_str("the training job FAILED");
        if let Some(f) = &job.failure {
            out.push_str(&format!(": opt/ml/output/failure says: {}", f.trim()));
        }
        out.push('\n');
    }
    let pack_job = packtest::packager::PackJob::for_sandbox(
        &job.sandbox,
        std::time::Duration::from_secs(3600),
    );
    let packed = packager.pack(&pack_job);
    let dirs = JobDirs::from_sandbox(&job.sandbox);
    let mut findings = detect::detect(&dirs, &opts).map_err(|e| fail(Code::Failed, e))?;
    let mut members = Vec::new();
    if packed.exit.success() && pack_job.output.is_file() {
        let (m, damaged) = read_archive_for_check(&pack_job.output, None)?;
        findings.extend(damaged);
        findings.extend(
            detect::check_archive_against(&dirs, &m, a.target)
                .map_err(|e| fail(Code::Failed, e))?,
        );
        members = m
            .members
            .iter()
            .filter(|x| !x.is_root_entry())
            .map(|x| (x.kind.name(), x.size, x.path.display()))
            .collect();
        out.push_str(&format!(
            "archive: {} member(s){}\n",
            members.len(),
            if members.is_empty() {
                " (EMPTY: nothing was saved to SM_MODEL_DIR)"
            } else {
                ""
            }
        ));
        for (k, size, p) in &members {
            out.push_str(&format!("  {k:<9} {size:>12}  {p}\n"));
        }
    } else {
        out.push_str(&format!(
            "packaging failed ({}): {}\n",
            packed.exit,
            String::from_utf8_lossy(&packed.stderr).trim()
        ));
    }
    let kept = a.keep.then(|| job.sandbox.keep());
    if a.json {
        print_findings(
            &findings,
            true,
            serde_json::json!({
                "job_exit": job.outcome.exit.to_string(),
                "job_failed": !job_ok,
                "failure": job.failure,
                "archive_members": members.iter().map(|m| m.2.clone()).collect::<Vec<_>>(),
                "kept": kept.as_ref().map(|k| k.display().to_string()),
            }),
        );
    } else {
        print!("{out}");
        print_findings(&findings, false, serde_json::json!({}));
        match &kept {
            Some(k) => println!(
                "sandbox kept at {} (archive: {}/out/model.tar.gz)",
                k.display(),
                k.display()
            ),
            None => println!("(use --keep to keep the sandbox and the archive)"),
        }
    }
    Ok(
        if job_ok && packed.exit.success() && !detect::has_error(&findings) {
            Code::Ok
        } else {
            Code::Failed
        },
    )
}

fn cmd_run(a: RunArgs) -> Result<Code, Exit> {
    use packtest::report::{self, Progress, TextOptions};
    use packtest::runner::{self, RunConfig};
    if !(a.timeout > 0.0 && a.timeout.is_finite()) {
        return Err(fail(
            Code::Usage,
            anyhow::anyhow!("--timeout must be a positive number of seconds"),
        ));
    }
    let packager: Box<dyn packtest::Packager> = match &a.packager {
        Some(cmd) => Box::new(packtest::CommandPackager::parse(cmd)?),
        None => Box::new(ReferencePackager {
            options: PackOptions {
                target: a.target,
                ..PackOptions::default()
            },
        }),
    };
    let seed = a.seed.unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        (t as u64) % 1_000_000_007
    });
    let mut scenarios = Vec::new();
    for dir in &a.scenarios {
        scenarios.extend(packtest::replay::load_dir(
            dir,
            &packtest::scenario::load_for_runner,
        )?);
    }
    let cfg = RunConfig {
        cases: a.cases,
        seed,
        jobs: a.jobs,
        strict: a.strict,
        target: a.target,
        timeout: std::time::Duration::from_secs_f64(a.timeout),
        partition: a.partition,
        shrink: !a.no_shrink,
        save_failures: a.save_failures.clone(),
        ..RunConfig::default()
    };
    let _ = ctrlc::set_handler(runner::cancel);
    if !a.quiet {
        eprintln!("packtest run: seed {seed} (replay with --seed {seed})");
    }
    let progress = Progress::new(a.quiet);
    let strategy = packtest::strategy::job_layout();
    let result = runner::run(packager.as_ref(), &strategy, &scenarios, &[], &cfg, &|e| {
        progress.event(e)
    });
    progress.finish();
    let r = result?;
    let opts = TextOptions { redact: a.redact };
    print!("{}", report::text(&r, opts));
    if let Some(p) = &a.json {
        std::fs::write(p, report::json(&r))
            .with_context(|| format!("cannot write the JSON report to `{}`", p.display()))?;
    }
    if let Some(p) = &a.junit {
        std::fs::write(p, report::junit(&r, opts))
            .with_context(|| format!("cannot write the JUnit report to `{}`", p.display()))?;
    }
    if r.interrupted {
        return Ok(Code::Interrupted);
    }
    Ok(if r.ok() { Code::Ok } else { Code::Failed })
}

fn cmd_unpack(archive: &Path, dir: &Path, target: Target, json: bool) -> Result<Code, Exit> {
    use packtest::target::unpack::{unpack, UnpackError};
    let r = unpack(archive, dir, target, Limits::default());
    if json {
        let v = match &r {
            Ok(rep) => {
                serde_json::json!({ "status": if rep.refusals.is_empty() { "ok" } else { "partial" }, "report": rep })
            }
            Err(e) => serde_json::json!({
                "status": if e.is_usage() { "bad-input" } else { "refused" },
                "target": target,
                "error": e.to_string(),
                "refusals": match e { UnpackError::Refused { refusals, .. } => serde_json::to_value(refusals).unwrap_or_default(), _ => serde_json::Value::Null },
            }),
        };
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    }
    match r {
        Ok(rep) => {
            for x in &rep.refusals {
                eprintln!(
                    "packtest unpack: {}: skipped `{}`: {}",
                    target, x.name, x.message
                );
            }
            if !json {
                eprintln!(
                    "packtest unpack: {} files, {} dirs, {} symlinks, {} special files into `{}` as {} extracts them{}",
                    rep.files,
                    rep.dirs,
                    rep.symlinks,
                    rep.specials,
                    dir.display(),
                    target,
                    if rep.refusals.is_empty() {
                        String::new()
                    } else {
                        format!("; {} member(s) skipped", rep.refusals.len())
                    }
                );
            }
            Ok(if rep.refusals.is_empty() {
                Code::Ok
            } else {
                Code::Failed
            })
        }
        Err(e) => {
            let code = if e.is_usage() {
                Code::Usage
            } else {
                Code::Failed
            };
            if let UnpackError::Refused { refusals, .. } = &e {
                for x in refusals.iter().skip(1).take(20) {
                    eprintln!("packtest unpack: also refused `{}`: {}", x.name, x.message);
                }
            }
            Err(fail(code, anyhow::anyhow!(e)))
        }
    }
}

fn cmd_contract(target: Option<Target>) -> Result<Code, Exit> {
    let targets: Vec<Target> = match target {
        Some(t) => vec![t],
        None => Target::ALL.to_vec(),
    };
    print!("{}", packtest::target::contract_text(&targets));
    Ok(Code::Ok)
}

fn cmd_inspect(archive: &Path, json: bool, max_unpacked: Option<u64>) -> Result<Code, Exit> {
    let file = packtest::archive::open_archive(archive)
        .with_context(|| format!("cannot open `{}`", archive.display()))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(fail(
            Code::Usage,
            anyhow::anyhow!("`{}` is a directory, not an archive", archive.display()),
        ));
    }
    let limits = Limits {
        max_unpacked,
        ..Limits::default()
    };
    let (manifest, error) = Manifest::read_lenient(file, limits);
    if let Some(ArchiveError::NotGzip { offset: 0 }) = &error {
        return Err(fail(
            Code::Usage,
            anyhow::anyhow!(
                "`{}` is not a gzip or tar archive; pass a .tar.gz or .tar file",
                archive.display()
            ),
        ));
    }
    if let Some(ArchiveError::Io(e)) = &error {
        return Err(fail(
            Code::Usage,
            anyhow::anyhow!("cannot read `{}`: {e}", archive.display()),
        ));
    }
    let problems = manifest.name_problems();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        // Streamed, not built as a `serde_json::Value`: a Value tree costs ~3 KB per member, so
        // a 3 MB archive of 500k empty members took 1.5 GB (tests/hostile_archives).
        #[derive(serde::Serialize)]
        struct ErrorJson {
            class: &'static str,
            message: String,
        }
        #[derive(serde::Serialize)]
        struct InspectJson<'a> {
            archive: String,
            compression: packtest::archive::Compression,
            error: Option<ErrorJson>,
            gzip_header: &'a Option<packtest::archive::GzipHeader>,
            gzip_members: u32,
            members: &'a [packtest::archive::Member],
            name_problems: &'a [packtest::archive::NameProblem],
        }
        let v = InspectJson {
            archive: archive.display().to_string(),
            compression: manifest.compression,
            error: error.as_ref().map(|e| ErrorJson {
                class: e.class(),
                message: e.to_string(),
            }),
            gzip_header: &manifest.gzip_header,
            gzip_members: manifest.gzip_members,
            members: &manifest.members,
            name_problems: &problems,
        };
        let _ = serde_json::to_writer_pretty(&mut out, &v);
        let _ = writeln!(out);
    } else {
        let _ = write_table(&mut out, &manifest);
        for p in &problems {
            let _ = writeln!(
                out,
                "unsafe member: `{}`: {} ({})",
                p.name, p.reason, p.class
            );
        }
        if let Some(e) = &error {
            let _ = writeln!(out, "error ({}): {e}", e.class());
        }
    }
    let _ = out.flush();
    Ok(if error.is_some() || !problems.is_empty() {
        Code::Failed
    } else {
        Code::Ok
    })
}

fn write_table(out: &mut dyn Write, m: &Manifest) -> std::io::Result<()> {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for mem in &m.members {
        let sha = mem
            .sha256
            .map(|h| packtest::RawPath::new(h[..6].to_vec()).to_hex())
            .unwrap_or_else(|| "-".repeat(12));
        let target = mem
            .link_target
            .as_ref()
            .map(|t| format!(" -> {t}"))
            .unwrap_or_default();
        let (b, r) = if color && mem.kind == packtest::archive::MemberKind::Dir {
            ("\x1b[1;34m", "\x1b[0m")
        } else {
            ("", "")
        };
        writeln!(
            out,
            "{:<12} {:04o} {:>5}/{:<5} {:>12} {} {b}{}{r}{}",
            mem.kind.name(),
            mem.mode,
            mem.uid,
            mem.gid,
            mem.size,
            sha,
            mem.raw_name,
            target
        )?;
    }
    let bytes: u64 = m.members.iter().map(|x| x.size).sum();
    writeln!(
        out,
        "{} members, {} bytes of file data, {:?}{}",
        m.members.len(),
        bytes,
        m.compression,
        if m.gzip_members > 1 {
            format!(" ({} gzip members)", m.gzip_members)
        } else {
            String::new()
        }
    )
}
