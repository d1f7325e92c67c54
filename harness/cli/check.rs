//! `packtest check`: the silent-failure detector on a job's dirs or an archive.

use std::io::IsTerminal;
use std::path::Path;

use packtest::archive::Manifest;
use packtest::detect::Framework;

use super::args::CheckArgs;
use super::exit::{usage, CliError, Status};

pub(super) fn framework(f: Option<Framework>) -> packtest::detect::DetectOptions {
    packtest::detect::DetectOptions {
        framework: f,
        ..Default::default()
    }
}

/// Reads an archive for `check`: not-an-archive is bad input, damage is a finding. With a
/// `tap`, model members are read by the integrity readers as the archive streams by.
pub(super) fn read_archive_for_check(
    path: &Path,
    max_unpacked: Option<u64>,
    tap: Option<&mut dyn packtest::archive::DataTap>,
) -> Result<(Manifest, Vec<packtest::detect::Finding>), CliError> {
    let (m, err) = super::inspect::read_manifest(path, max_unpacked, "pass the model.tar.gz", tap)?;
    let mut findings = Vec::new();
    if let Some(e) = err {
        findings.push(packtest::detect::archive_damaged(format!(
            "the archive is damaged: {e} ({})",
            e.class()
        )));
    }
    Ok((m, findings))
}

pub(super) fn print_findings(
    findings: &[packtest::detect::Finding],
    json: bool,
    extra: serde_json::Value,
) {
    if json {
        let v = serde_json::json!({ "findings": findings, "context": extra });
        println!("{}", packtest::report::versioned_json(&v));
    } else {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        print!("{}", packtest::report::findings_text(findings, color));
    }
}

pub(super) fn check(a: CheckArgs) -> Result<Status, CliError> {
    use packtest::detect::{self, JobDirs};
    let opts = detect::DetectOptions {
        target: a.target,
        ..framework(a.framework)
    };
    let dirs = match (&a.sandbox, &a.model_dir) {
        (Some(root), _) => {
            if !root.is_dir() {
                return Err(usage(anyhow::anyhow!(
                    "sandbox root `{}` is not a directory",
                    root.display()
                )));
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
                return Err(usage(anyhow::anyhow!(
                    "`{}` is not a directory",
                    p.display()
                )));
            }
        }
    }
    let mut findings = Vec::new();
    if let Some(d) = &dirs {
        findings.extend(detect::detect(d, &opts).map_err(usage)?);
    }
    if let Some(archive) = &a.archive {
        // Alone, the archive's model members are read for integrity as it streams by; with a
        // model dir, the dir's files were read and the archive must match them.
        let mut tap = detect::IntegrityTap::new();
        let tap_ref: Option<&mut dyn packtest::archive::DataTap> = dirs
            .is_none()
            .then_some(&mut tap as &mut dyn packtest::archive::DataTap);
        let (m, damaged) = read_archive_for_check(archive, a.max_unpacked, tap_ref)?;
        findings.extend(damaged);
        if dirs.is_none() {
            findings.extend(detect::archive_integrity(&m, &tap.finish()));
        }
        match &dirs {
            Some(d) => {
                findings.extend(detect::check_archive_against(d, &m, a.target).map_err(usage)?);
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
    if findings
        .iter()
        .any(|f| f.code == detect::Code::ArchiveDamaged)
    {
        detect::after_failure(
            &mut findings,
            "the archive is damaged, so its members were not all read",
            "re-create the archive",
        );
    }
    if dirs.is_none() && a.archive.is_none() {
        return Err(usage(anyhow::anyhow!(
            "nothing to check: give --model-dir DIR, --sandbox ROOT, or --archive model.tar.gz"
        )));
    }
    print_findings(
        &findings,
        a.json,
        serde_json::json!({ "target": opts.target }),
    );
    Ok(if detect::has_error(&findings) {
        Status::Failed
    } else {
        Status::Ok
    })
}
