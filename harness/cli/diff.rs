//! `packtest diff A B`: which member and which field differ between two archives.

use std::io::Write;
use std::path::Path;

use packtest::archive::Limits;
use packtest::diff::{diff_archives, render_text, ArchiveDiff};

use super::exit::{output, usage, CliError, Status};

pub(super) fn diff(
    a: &Path,
    b: &Path,
    json: bool,
    max_unpacked: Option<u64>,
) -> Result<Status, CliError> {
    let limits = Limits {
        max_unpacked,
        ..Limits::default()
    };
    let d = diff_archives(a, b, limits).map_err(|e| {
        usage(
            anyhow::Error::new(e)
                .context("cannot compare the archives; pass two .tar.gz or .tar files"),
        )
    })?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if json {
        #[derive(serde::Serialize)]
        struct DiffJson<'a> {
            schema_version: u32,
            a: String,
            b: String,
            same: bool,
            #[serde(flatten)]
            diff: &'a ArchiveDiff,
        }
        serde_json::to_writer_pretty(
            &mut out,
            &DiffJson {
                schema_version: packtest::report::SCHEMA_VERSION,
                a: a.display().to_string(),
                b: b.display().to_string(),
                same: d.is_empty(),
                diff: &d,
            },
        )
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
    } else {
        write_text(&mut out, a, b, &d)
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| output(anyhow::Error::new(e).context("cannot write to stdout")))?;
    Ok(if d.is_empty() {
        Status::Ok
    } else {
        Status::Failed
    })
}

fn write_text(out: &mut impl Write, a: &Path, b: &Path, d: &ArchiveDiff) -> std::io::Result<()> {
    writeln!(out, "A: {}", a.display())?;
    writeln!(out, "B: {}", b.display())?;
    let lines = render_text(d);
    if lines.is_empty() {
        return writeln!(out, "same: byte-identical archives");
    }
    for l in &lines {
        writeln!(out, "{l}")?;
    }
    let members = d.members.len() + d.only_in_a.len() + d.only_in_b.len();
    writeln!(
        out,
        "different: {} differ{}{}{}",
        super::count(members as u64, "member"),
        if members == 1 { "s" } else { "" },
        if d.gzip.is_empty() {
            ""
        } else {
            ", and the gzip layer"
        },
        if d.order.is_some() {
            ", and the member order"
        } else {
            ""
        }
    )
}
