//! `packtest run`: the property-test run of a packager, and its reports.

use packtest::packager::{PackOptions, ReferencePackager};

use super::args::RunArgs;
use super::exit::{output, usage, CliError, Status};

pub(super) fn run(a: RunArgs) -> Result<Status, CliError> {
    use packtest::report::{self, Progress, TextOptions};
    use packtest::runner::{self, RunConfig};
    if !(a.timeout > 0.0 && a.timeout.is_finite()) {
        return Err(usage(anyhow::anyhow!(
            "--timeout must be a positive number of seconds"
        )));
    }
    if !(a.shrink_time >= 0.0 && a.shrink_time.is_finite()) {
        return Err(usage(anyhow::anyhow!(
            "--shrink-time must be a number of seconds, 0 or more"
        )));
    }
    let builtin_named = a
        .scenarios
        .iter()
        .any(|d| d.as_os_str() == packtest::scenario::BUILT_IN_DIR);
    if a.no_scenarios && builtin_named {
        return Err(usage(anyhow::anyhow!(
            "--no-scenarios leaves out the built-in library that --scenarios builtin asks for; \
             give one of them"
        )));
    }
    // Bad input ends the run here, before any case: exit 2, one line.
    for (flag, path) in [("--json", &a.json), ("--junit", &a.junit)] {
        if let Some(p) = path {
            check_writable_file(flag, p).map_err(usage)?;
        }
    }
    if let Some(d) = &a.save_failures {
        check_writable_dir(d).map_err(usage)?;
    }
    let packager: Box<dyn packtest::Packager> = match &a.packager {
        Some(cmd) => {
            let p = packtest::CommandPackager::parse(cmd)?;
            p.check_paths()?;
            Box::new(p)
        }
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
    // The built-in library first (unless --no-scenarios), then each DIR; a file whose id is
    // already taken replaces the earlier one, so every id names one case (`--scenario ID`).
    let mut scenarios: Vec<packtest::layout::NamedLayout> = Vec::new();
    if !a.no_scenarios {
        let lib = packtest::scenario::ScenarioLibrary::built_in().map_err(output)?;
        scenarios.extend(lib.named_layouts());
    }
    let dirs: Vec<std::path::PathBuf> = a
        .scenarios
        .iter()
        .filter(|d| d.as_os_str() != packtest::scenario::BUILT_IN_DIR)
        .cloned()
        .collect();
    for dir in &dirs {
        for n in packtest::replay::load_dir(dir)? {
            scenarios.retain(|s| s.id != n.id);
            scenarios.push(n);
        }
    }
    let only = match (a.case, &a.scenario) {
        (Some(i), _) => Some(packtest::outcome::Only::Case(i)),
        (None, Some(id)) => Some(packtest::outcome::Only::Scenario(id.clone())),
        (None, None) => None,
    };
    let cfg = RunConfig {
        cases: a.cases,
        seed,
        jobs: a.jobs,
        strict: a.strict,
        target: a.target,
        timeout: std::time::Duration::from_secs_f64(a.timeout),
        partition: a.partition,
        shrink: !a.no_shrink,
        max_shrink_runs: a.shrink_runs,
        shrink_time: Some(std::time::Duration::from_secs_f64(a.shrink_time)),
        keep_going: a.keep_going,
        save_failures: a.save_failures.clone(),
        scenario_dirs: dirs,
        builtin: !a.no_scenarios,
        only,
        ..RunConfig::default()
    };
    let cancel = cfg.cancel.clone();
    let _ = ctrlc::set_handler(move || cancel.cancel());
    // A one-case run is itself a replay: no seed line to copy.
    if !a.quiet && cfg.only.is_none() {
        eprintln!("packtest run: seed {seed} (replay with --seed {seed})");
    }
    let progress = Progress::new(a.quiet, a.verbose);
    progress.stall_notices(
        std::time::Duration::from_secs(10),
        std::time::Duration::from_secs_f64(a.timeout),
    );
    let strategy = packtest::strategy::job_layout();
    let result = runner::run(packager.as_ref(), &strategy, &scenarios, &[], &cfg, &|e| {
        progress.event(e)
    });
    progress.finish();
    let r = result?;
    let opts = TextOptions {
        redact: a.redact,
        detail: if a.quiet {
            report::Detail::Quiet
        } else if a.verbose {
            report::Detail::Verbose
        } else {
            report::Detail::Normal
        },
    };
    print!("{}", report::text(&r, opts));
    if let Some(p) = &a.json {
        std::fs::write(p, report::json(&r)).map_err(|e| {
            output(anyhow::anyhow!(
                "cannot write the JSON report to `{}`: {e}",
                p.display()
            ))
        })?;
    }
    if let Some(p) = &a.junit {
        std::fs::write(p, report::junit(&r, opts)).map_err(|e| {
            output(anyhow::anyhow!(
                "cannot write the JUnit report to `{}`: {e}",
                p.display()
            ))
        })?;
    }
    if r.interrupted {
        return Ok(Status::Interrupted);
    }
    Ok(if r.ok() { Status::Ok } else { Status::Failed })
}

/// `--json FILE`, `--junit FILE`: the file can be written, checked before any case runs. An
/// existing file is opened for appending (not changed); otherwise a probe file is created in
/// its directory and removed at once. No directory is created.
fn check_writable_file(flag: &str, path: &std::path::Path) -> anyhow::Result<()> {
    let fail = |why: String| {
        anyhow::anyhow!(
            "{flag} `{}`: {why}; give a path packtest can write",
            path.display()
        )
    };
    if path.is_dir() {
        return Err(fail("it is a directory".into()));
    }
    if path.exists() {
        return std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop)
            .map_err(|e| fail(format!("cannot write it ({e})")));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    probe_dir(parent).map_err(fail)
}

/// `--save-failures DIR`: DIR, or else its parent (packtest creates DIR itself when it saves
/// the first failure, but no missing parent), can be written; checked before any case runs.
fn check_writable_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let fail = |why: String| {
        anyhow::anyhow!(
            "--save-failures `{}`: {why}; give a directory packtest can write (it creates the \
             last component, not missing parents)",
            dir.display()
        )
    };
    if dir.exists() {
        if !dir.is_dir() {
            return Err(fail("it is not a directory".into()));
        }
        return probe_dir(dir).map_err(fail);
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    probe_dir(parent).map_err(fail)
}

/// Creates and removes a probe file in `dir`; `Err` says why it cannot be written.
fn probe_dir(dir: &std::path::Path) -> Result<(), String> {
    if !dir.is_dir() {
        return Err(format!("the directory `{}` does not exist", dir.display()));
    }
    tempfile::Builder::new()
        .prefix(".packtest-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| format!("cannot write in `{}` ({e})", dir.display()))
}
