//! `packtest sim`: a training command in an emulated job, packed and checked, and its archive
//! unpacked as the deploy target would.

use std::path::PathBuf;

use packtest::detect::{self, Finding, JobDirs};
use packtest::packager::ReferencePackager;
use packtest::sim::{self, SimJob, SimOptions};

use super::args::SimArgs;
use super::check::{framework, print_findings, read_archive_for_check};
use super::exit::{failed, usage, CliError, Status};

/// Splits `NAME=VALUE` words of `flag`.
fn pairs(words: &[String], flag: &str, what: &str) -> Result<Vec<(String, String)>, CliError> {
    words
        .iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| usage(anyhow::anyhow!("{flag} `{w}` is not {what}")))
        })
        .collect()
}

fn options(a: &SimArgs) -> Result<SimOptions, CliError> {
    let inputs = pairs(&a.input, "--input", "NAME=DIR")?
        .into_iter()
        .map(|(k, v)| (k, PathBuf::from(v)))
        .collect();
    let timeout = match a.timeout {
        Some(t) if t > 0.0 && t.is_finite() => Some(std::time::Duration::from_secs_f64(t)),
        Some(_) => {
            return Err(usage(anyhow::anyhow!(
                "--timeout must be a positive number of seconds"
            )))
        }
        None => None,
    };
    Ok(SimOptions {
        argv: a.command.clone(),
        inputs,
        timeout,
        source_dir: a.source_dir.clone(),
        hyperparameters: pairs(&a.hp, "--hp", "NAME=VALUE (e.g. --hp epochs=3)")?,
        hosts: usize::from(a.hosts),
        toolkit: a.toolkit.then(sim::toolkit::default_python),
    })
}

/// The detector's findings on every host's dirs, against the packed (merged) model dir,
/// without repeats; and the hosts' name clashes.
fn job_findings(job: &SimJob, opts: &detect::DetectOptions) -> Result<Vec<Finding>, CliError> {
    let model_dir = job.packed().model_dir();
    let mut findings: Vec<Finding> = Vec::new();
    for h in &job.hosts {
        let dirs = JobDirs {
            model_dir: model_dir.clone(),
            ..JobDirs::from_sandbox(&h.sandbox)
        };
        for f in detect::detect(&dirs, opts).map_err(failed)? {
            if !findings.contains(&f) {
                findings.push(f);
            }
        }
    }
    if job.hosts.len() > 1 {
        let dirs: Vec<(String, PathBuf)> = (job.hosts.iter())
            .map(|h| (h.name.clone(), h.sandbox.model_dir()))
            .collect();
        findings.extend(detect::host_clashes(&dirs).map_err(failed)?);
    }
    Ok(findings)
}

/// The report's first lines: the paths, and how each host's command ended.
fn job_lines(job: &SimJob) -> String {
    let mut out = format!("{}\n", job.paths.report_line());
    let many = job.hosts.len() > 1;
    for h in &job.hosts {
        let who = if many {
            format!("{} ", h.name)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "job: {who}{} after {:.2?}\n",
            h.outcome.exit, h.outcome.duration
        ));
        if !h.outcome.exit.success() {
            out.push_str(&format!(
                "the training job FAILED{}",
                if many {
                    format!(" on {}", h.name)
                } else {
                    String::new()
                }
            ));
            if let Some(f) = &h.failure {
                out.push_str(&format!(": opt/ml/output/failure says: {}", f.trim()));
            }
            out.push('\n');
        }
    }
    if many {
        out.push_str(&format!(
            "hosts: {} model dirs merged into one archive, as the platform does\n",
            job.hosts.len()
        ));
    }
    out
}

pub(super) fn sim(a: SimArgs) -> Result<Status, CliError> {
    let opts = detect::DetectOptions {
        target: a.target,
        ..framework(a.framework)
    };
    let packager: Box<dyn packtest::Packager> = match &a.packager {
        Some(cmd) => Box::new(packtest::CommandPackager::parse(cmd)?),
        None => Box::new(ReferencePackager::for_target(a.target)),
    };
    let job =
        sim::run_job(&options(&a)?).map_err(|e| if e.is_usage() { usage(e) } else { failed(e) })?;
    let job_ok = job.succeeded();
    let mut out = job_lines(&job);
    let pack_job = packtest::packager::PackJob::for_sandbox(
        job.packed(),
        std::time::Duration::from_secs(3600),
    );
    let packed = packager.pack(&pack_job);
    let mut findings = job_findings(&job, &opts)?;
    let mut members = Vec::new();
    let mut deploy = Vec::new();
    if packed.exit.success() && pack_job.output.is_file() {
        let (m, damaged) = read_archive_for_check(&pack_job.output, None, None)?;
        findings.extend(damaged);
        let dirs = JobDirs::from_sandbox(job.packed());
        findings.extend(detect::check_archive_against(&dirs, &m, a.target).map_err(failed)?);
        members = m
            .members
            .iter()
            .filter(|x| !x.is_root_entry())
            .map(|x| (x.kind.name(), x.size, x.path.display()))
            .collect();
        out.push_str(&format!(
            "archive: {} member{}{}\n",
            members.len(),
            if members.len() == 1 { "" } else { "s" },
            if members.is_empty() {
                " (EMPTY: nothing was saved to SM_MODEL_DIR)"
            } else {
                ""
            }
        ));
        for (k, size, p) in &members {
            out.push_str(&format!("  {k:<9} {size:>12}  {p}\n"));
        }
        deploy = match sim::endpoint_view(&pack_job.output, a.target) {
            Ok(v) => v.report_lines(a.target),
            Err(e) => vec![format!(
                "deploy: cannot unpack the archive as {}: {e}",
                a.target
            )],
        };
        for l in &deploy {
            out.push_str(&format!("{l}\n"));
        }
    } else {
        out.push_str(&format!("packaging failed ({}):\n", packed.exit));
        for line in packtest::contract::stderr_excerpt(&packed.stderr) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    if !job_ok {
        let exit = job.hosts.iter().find(|h| !h.outcome.exit.success());
        detect::after_failure(
            &mut findings,
            &format!(
                "the training job failed ({})",
                exit.map_or(String::new(), |h| h.outcome.exit.to_string())
            ),
            "fix the job's failure first (its output is above)",
        );
    } else if findings
        .iter()
        .any(|f| f.code == detect::Code::ArchiveDamaged)
    {
        detect::after_failure(
            &mut findings,
            "the packager wrote a damaged archive",
            "fix the packager",
        );
    }
    let status = if job_ok && packed.exit.success() && !detect::has_error(&findings) {
        Status::Ok
    } else {
        Status::Failed
    };
    report(a.json, job, out, &findings, &members, &deploy, a.keep);
    Ok(status)
}

/// Prints the report (text or JSON), keeping the sandboxes when asked.
fn report(
    json: bool,
    job: SimJob,
    out: String,
    findings: &[Finding],
    members: &[(String, u64, String)],
    deploy: &[String],
    keep: bool,
) {
    let paths_line = job.paths.report_line();
    let exits: Vec<String> = job
        .hosts
        .iter()
        .map(|h| h.outcome.exit.to_string())
        .collect();
    let failures: Vec<Option<String>> = job.hosts.iter().map(|h| h.failure.clone()).collect();
    let job_ok = job.succeeded();
    let kept: Vec<PathBuf> = if keep {
        let SimJob { hosts, merged, .. } = job;
        let mut k: Vec<PathBuf> = hosts.into_iter().map(|h| h.sandbox.keep()).collect();
        if let Some(m) = merged {
            k.insert(0, m.keep());
        }
        k
    } else {
        Vec::new()
    };
    if json {
        print_findings(
            findings,
            true,
            serde_json::json!({
                "paths": paths_line,
                "job_exit": exits.first(),
                "host_exits": exits,
                "job_failed": !job_ok,
                "failure": failures.first().cloned().flatten(),
                "archive_members": members.iter().map(|m| m.2.clone()).collect::<Vec<_>>(),
                "deploy": deploy,
                "kept": kept.first().map(|k| k.display().to_string()),
            }),
        );
        return;
    }
    print!("{out}");
    print_findings(findings, false, serde_json::json!({}));
    match kept.first() {
        Some(k) => {
            println!(
                "sandbox kept at {} (archive: {}/out/model.tar.gz)",
                k.display(),
                k.display()
            );
            for h in kept.iter().skip(1) {
                println!("host sandbox kept at {}", h.display());
            }
        }
        None => println!("(use --keep to keep the sandbox and the archive)"),
    }
}
