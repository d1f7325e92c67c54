//! `packtest unpack`: extract an archive as a target's consumer would.

use std::path::Path;

use packtest::archive::Limits;
use packtest::target::Target;

use super::exit::{failed, usage, CliError, Status};

pub(super) fn unpack(
    archive: &Path,
    dir: &Path,
    target: Target,
    json: bool,
) -> Result<Status, CliError> {
    use packtest::target::unpack::{unpack, UnpackError};
    let r = unpack(archive, dir, target, Limits::default());
    // A gzip file that holds no tar stream is bad input, not a damaged archive.
    let no_tar = match &r {
        Err(UnpackError::Damaged { source, .. }) => {
            super::inspect::gzip_without_tar(archive, source)
        }
        _ => None,
    };
    if json {
        let v = match &r {
            Err(_) if no_tar.is_some() => serde_json::json!({
                "status": "bad-input",
                "target": target,
                "error": no_tar.as_ref().map(|e| e.to_string()),
            }),
            Ok(rep) => {
                serde_json::json!({ "status": if rep.refusals.is_empty() { "ok" } else { "partial" }, "target": target, "report": rep })
            }
            Err(e) => serde_json::json!({
                "status": if e.is_usage() { "bad-input" } else { "refused" },
                "target": target,
                "error": e.to_string(),
                "refusals": match e { UnpackError::Refused { refusals, .. } => serde_json::to_value(refusals).unwrap_or_default(), _ => serde_json::Value::Null },
            }),
        };
        println!("{}", packtest::report::versioned_json(&v));
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
                    "packtest unpack: {} into `{}` as {} extracts them{}",
                    super::tally(&[
                        (rep.files, "file"),
                        (rep.dirs, "dir"),
                        (rep.symlinks, "symlink"),
                        (rep.specials, "special file"),
                    ]),
                    dir.display(),
                    target,
                    if rep.refusals.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; {} skipped",
                            super::count(rep.refusals.len() as u64, "member")
                        )
                    }
                );
            }
            Ok(if rep.refusals.is_empty() {
                Status::Ok
            } else {
                Status::Failed
            })
        }
        Err(_) if no_tar.is_some() => {
            Err(usage(no_tar.unwrap_or_else(|| {
                anyhow::anyhow!("`{}` holds no tar stream", archive.display())
            })))
        }
        Err(e) => {
            let usage_error = e.is_usage();
            if let UnpackError::Refused { refusals, .. } = &e {
                for x in refusals.iter().skip(1).take(20) {
                    eprintln!("packtest unpack: also refused `{}`: {}", x.name, x.message);
                }
            }
            Err(if usage_error { usage(e) } else { failed(e) })
        }
    }
}
