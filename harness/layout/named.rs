//! Layouts with a name: scenarios and saved failures as the runner receives them, and the
//! redaction of sandbox paths in text meant to be compared across runs.

use super::Layout;

/// A layout to run besides the generated ones (a scenario or a saved failure).
#[derive(Clone, Debug)]
pub struct NamedLayout {
    /// Its id, used as the case name.
    pub id: String,
    /// The layout.
    pub layout: Layout,
}

/// Replaces sandbox temp dir names (`…/packtest-XXXXXX`) with `[sandbox]`, so text that names
/// a sandbox path compares equal across runs (snapshots, scenario observations).
pub fn redact_paths(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find("packtest-") {
        let (head, tail) = rest.split_at(pos);
        let after = &tail["packtest-".len()..];
        let n = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if n >= 6 {
            // Drop the directory prefix before the sandbox name too.
            let cut = head
                .rfind(|c: char| c.is_whitespace() || c == '`' || c == '\'' || c == '"')
                .map_or(0, |i| i + 1);
            out.push_str(&head[..cut]);
            out.push_str("[sandbox]");
            rest = &after[n..];
        } else {
            out.push_str(head);
            out.push_str("packtest-");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_sandbox_paths_and_is_idempotent() {
        let s = "cannot read `/tmp/packtest-Ab12Cd/opt/ml/model/x`: denied";
        let r = redact_paths(s);
        assert_eq!(r, "cannot read `[sandbox]/opt/ml/model/x`: denied");
        assert_eq!(redact_paths(&r), r);
        assert_eq!(redact_paths("packtest-run"), "packtest-run");
    }
}
