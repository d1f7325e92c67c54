//! `packtest pack`: the reference packager on a model dir.

use std::path::Path;

use packtest::packager::{PackOptions, ReferencePackager};
use packtest::target::Target;

use super::exit::{failed, usage, CliError, Status};

pub(super) fn pack(
    model_dir: &Path,
    output: &Path,
    (level, threads): (u32, Option<u32>),
    format: packtest::packager::ArchiveFormat,
    target: Target,
    mtime: packtest::packager::MtimeRule,
) -> Result<Status, CliError> {
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
        std::process::exit(i32::from(super::exit::code(&Ok(Status::Interrupted))));
    });
    let mut options = PackOptions {
        level,
        target,
        mtime,
        ..PackOptions::default()
    };
    if let Some(t) = threads {
        options.threads = t as usize;
    }
    options.format = format;
    let packager = ReferencePackager { options };
    let start = std::time::Instant::now();
    match packager.pack_dir(model_dir, output) {
        Ok(stats) => {
            eprintln!(
                "packed {}{} into `{}`: {} -> {} bytes in {:.2?}",
                super::tally(&[
                    (stats.files, "file"),
                    (stats.dirs, "dir"),
                    (stats.symlinks, "symlink"),
                    (stats.hardlinks, "hard link"),
                    (stats.specials, "special file"),
                ]),
                if stats.sockets_skipped > 0 {
                    format!(
                        " ({} left out)",
                        super::count(stats.sockets_skipped, "socket")
                    )
                } else {
                    String::new()
                },
                output.display(),
                stats.bytes_in,
                stats.bytes_out,
                start.elapsed()
            );
            Ok(Status::Ok)
        }
        Err(e) if e.is_usage() => Err(usage(e)),
        Err(e) => Err(failed(e)),
    }
}
