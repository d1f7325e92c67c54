//! `packtest sim`: a training command in an emulated job, packed and checked.

use std::path::PathBuf;

use packtest::packager::ReferencePackager;

use super::args::SimArgs;
use super::check::{framework, print_findings, read_archive_for_check};
use super::exit::{failed, usage, CliError, Status};

pub(super) fn sim(a: SimArgs) -> Result<Status, CliError> {
    use packtest::detect::{self, JobDirs};
    use packtest::sim::{self, SimError, SimOptions};
    let opts = packtest::detect::DetectOptions {
        target: a.target,
        ..framework(a.framework)
    };
    let mut inputs = Vec::new();
    for i in &a.input {
        let (name, dir) = i
            .split_once('=')
            .ok_or_else(|| usage(anyhow::anyhow!("--input `{i}` is not NAME=DIR")))?;
        inputs.push((name.to_owned(), PathBuf::from(dir)));
    }
    let timeout = match a.timeout {
        Some(t) if t > 0.0 && t.is_finite() => Some(std::time::Duration::from_secs_f64(t)),
        Some(_) => {
            return Err(usage(anyhow::anyhow!(
                "--timeout must be a positive number of seconds"
            )))
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
        Err(e @ SimError::Sandbox(_)) => return Err(failed(e)),
        Err(e) => return Err(usage(e)),
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
    let mut findings = detect::detect(&dirs, &opts).map_err(failed)?;
    let mut members = Vec::new();
    if packed.exit.success() && pack_job.output.is_file() {
        let (m, damaged) = read_archive_for_check(&pack_job.output, None, None)?;
        findings.extend(damaged);
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
    } else {
        out.push_str(&format!("packaging failed ({}):\n", packed.exit));
        for line in packtest::contract::stderr_excerpt(&packed.stderr) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    if !job_ok {
        detect::after_failure(
            &mut findings,
            &format!("the training job failed ({})", job.outcome.exit),
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
            Status::Ok
        } else {
            Status::Failed
        },
    )
}
