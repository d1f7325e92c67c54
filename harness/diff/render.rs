//! The text form of an [`ArchiveDiff`]: one line per difference, grouped by member.

use super::{ArchiveDiff, FieldChange};

/// Shortens a sha256 to 16 hex digits for the text form (JSON keeps it whole).
/// An empty value (no owner name) shows as `""`.
fn short(field: &str, v: &str) -> String {
    if v.is_empty() {
        "\"\"".to_owned()
    } else if field == "sha256" && v.len() > 16 {
        format!("{}…", &v[..16])
    } else {
        v.to_owned()
    }
}

fn field_line(c: &FieldChange) -> String {
    format!(
        "{}: {} -> {}",
        c.field,
        short(&c.field, &c.a),
        short(&c.field, &c.b)
    )
}

/// The diff as lines (no trailing newlines): `gzip header`, the member list, then each
/// differing member with its fields indented. Empty when the archives are the same.
pub fn render_text(d: &ArchiveDiff) -> Vec<String> {
    let mut out = Vec::new();
    for c in &d.gzip {
        out.push(format!("gzip {}", field_line(c)));
    }
    for p in &d.only_in_a {
        out.push(format!("- `{p}` only in A"));
    }
    for p in &d.only_in_b {
        out.push(format!("+ `{p}` only in B"));
    }
    if let Some(o) = &d.order {
        out.push(format!(
            "member order differs from position {}: `{}` in A, `{}` in B",
            o.position, o.a, o.b
        ));
    }
    for m in &d.members {
        let at = if m.index_a == m.index_b {
            format!("#{}", m.index_a)
        } else {
            format!("#{} in A, #{} in B", m.index_a, m.index_b)
        };
        out.push(format!("~ `{}` ({at})", m.path));
        for c in &m.changes {
            let mut line = format!("    {}", field_line(c));
            if c.field == "sha256" {
                if let Some(o) = m.first_difference {
                    line.push_str(&format!(" (first difference at byte {o})"));
                }
            }
            out.push(line);
        }
    }
    if d.bytes_only {
        out.push(
            "the files differ only in encoding (deflate stream, tar padding or header form): every field read is equal"
                .into(),
        );
    }
    out
}
