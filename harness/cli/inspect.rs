//! `packtest inspect`: an archive's manifest, without extracting it.

use std::io::{IsTerminal, Write};
use std::path::Path;

use packtest::archive::{ArchiveError, Compression, Limits, Manifest};

use super::exit::{usage, CliError, Status};

pub(super) fn inspect(
    archive: &Path,
    json: bool,
    max_unpacked: Option<u64>,
) -> Result<Status, CliError> {
    let (manifest, error) =
        read_manifest(archive, max_unpacked, "pass a .tar.gz or .tar file", None)?;
    // A gzip file that holds no tar stream is bad input here, not a damaged archive. (`check`
    // keeps it as an `archive-damaged` finding: a packager wrote it.)
    if let Some(e) = &error {
        if manifest.members.is_empty() && manifest.compression == Compression::Gzip {
            if let Some(line) = gzip_without_tar(archive, e) {
                return Err(usage(line));
            }
        }
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
            schema_version: u32,
            archive: String,
            compression: packtest::archive::Compression,
            error: Option<ErrorJson>,
            gzip_header: &'a Option<packtest::archive::GzipHeader>,
            gzip_members: u32,
            members: &'a [packtest::archive::Member],
            name_problems: &'a [packtest::archive::NameProblem],
        }
        let v = InspectJson {
            schema_version: packtest::report::SCHEMA_VERSION,
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
        Status::Failed
    } else {
        Status::Ok
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
        "{} member{}, {} bytes of file data, {:?}{}",
        m.members.len(),
        if m.members.len() == 1 { "" } else { "s" },
        bytes,
        m.compression,
        if m.gzip_members > 1 {
            format!(" ({} gzip members)", m.gzip_members)
        } else {
            String::new()
        }
    )
}

/// Reads an archive's manifest, leniently: what could be read, and the error that stopped
/// the read. A path that is not an archive at all (a directory, a file that is neither gzip
/// nor tar, an I/O error) is bad input; `hint` says what to pass instead.
pub(super) fn read_manifest(
    path: &Path,
    max_unpacked: Option<u64>,
    hint: &str,
    tap: Option<&mut dyn packtest::archive::DataTap>,
) -> Result<(Manifest, Option<ArchiveError>), CliError> {
    let file = packtest::archive::open_archive(path)
        .map_err(|e| usage(anyhow::anyhow!("cannot open `{}`: {e}", path.display())))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(usage(anyhow::anyhow!(
            "`{}` is a directory, not an archive; {hint}",
            path.display()
        )));
    }
    let limits = Limits {
        max_unpacked,
        ..Limits::default()
    };
    let (manifest, error) = match tap {
        Some(t) => Manifest::read_tapped(file, limits, t),
        None => Manifest::read_lenient(file, limits),
    };
    match error {
        Some(ArchiveError::NotGzip { offset: 0 }) => Err(usage(anyhow::anyhow!(
            "`{}` is not a gzip or tar archive; {hint}",
            path.display()
        ))),
        Some(ArchiveError::Io(e)) => Err(usage(anyhow::anyhow!(
            "cannot read `{}`: {e}",
            path.display()
        ))),
        error => Ok((manifest, error)),
    }
}

/// How many decompressed bytes [`gzip_without_tar`] reads, at most, to tell a whole gzip
/// stream from one cut short.
const PROBE_LIMIT: u64 = 1 << 20;

/// The one-line error for a gzip file that holds no tar stream (`echo hello | gzip`, a file
/// gzipped on its own), given the error that stopped reading `path` at its first tar block.
/// `None` when the error is not at the first block, or when the gzip layer itself is cut
/// short or corrupt (then the archive is damaged, which is a finding, not bad input).
pub(super) fn gzip_without_tar(path: &Path, error: &ArchiveError) -> Option<anyhow::Error> {
    use std::io::Read;
    let short = match error {
        ArchiveError::TarTruncated {
            offset: 0,
            member: None,
        }
        | ArchiveError::MissingEndMarker { offset: 0, .. } => true,
        ArchiveError::HeaderChecksum { offset: 0, .. }
        | ArchiveError::BadNumber { offset: 0, .. } => false,
        _ => return None,
    };
    let file = packtest::archive::open_archive(path).ok()?;
    let mut gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file)).take(PROBE_LIMIT);
    let mut head = [0u8; 512];
    let mut got = 0;
    while got < head.len() {
        match gz.read(&mut head[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    // A first block with the ustar magic is a tar header, damaged: that is a finding.
    if !short && got == head.len() && &head[257..262] == b"ustar" {
        return None;
    }
    let read = std::io::copy(&mut gz, &mut std::io::sink()).map(|n| n + got as u64);
    let what = match (short, read) {
        // Fewer bytes than one tar header, and the gzip layer must be whole to say so.
        (true, Ok(n)) => format!("it decompresses to {n} byte(s), less than one tar header"),
        (true, Err(_)) => return None,
        // The first block decompressed and is not a tar header.
        (false, _) => "its decompressed bytes do not start with a tar header".to_string(),
    };
    Some(anyhow::anyhow!(
        "`{}` is a gzip file but holds no tar stream: {what} (a file gzipped on its own?); pack a directory with `tar -czf model.tar.gz -C DIR .`",
        path.display()
    ))
}
