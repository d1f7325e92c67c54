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
        if dir.as_os_str() == packtest::scenario::BUILT_IN_DIR {
            let lib = packtest::scenario::ScenarioLibrary::built_in().map_err(output)?;
            scenarios.extend(lib.named_layouts());
        } else {
            scenarios.extend(packtest::replay::load_dir(dir)?);
        }
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
        max_shrink_runs: a.shrink_runs,
        shrink_time: Some(std::time::Duration::from_secs_f64(a.shrink_time)),
        keep_going: a.keep_going,
        save_failures: a.save_failures.clone(),
        scenario_dirs: a.scenarios.clone(),
        ..RunConfig::default()
    };
    let cancel = cfg.cancel.clone();
    let _ = ctrlc::set_handler(move || cancel.cancel());
    if !a.quiet {
        eprintln!("packtest run: seed {seed} (replay with --seed {seed})");
    }
    let progress = Progress::new(a.quiet, a.verbose);
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
