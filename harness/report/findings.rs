//! Detector findings as human text.

/// Findings as human text; `color` adds ANSI colors (only for a terminal).
pub fn findings_text(findings: &[crate::detect::Finding], color: bool) -> String {
    use crate::detect::Severity;
    let mut s = String::new();
    for f in findings {
        let (c, r) = match (color, f.severity) {
            (false, _) => ("", ""),
            (true, Severity::Error) => ("\x1b[1;31m", "\x1b[0m"),
            (true, Severity::Warning) => ("\x1b[1;33m", "\x1b[0m"),
            (true, Severity::Info) => ("\x1b[1;36m", "\x1b[0m"),
        };
        let path = f
            .path
            .as_ref()
            .map(|p| format!(" {}:{}", f.root, crate::contract::elide(&p.display())))
            .unwrap_or_default();
        s.push_str(&format!(
            "{c}{:<7}{r} {}{path}\n",
            f.severity.name(),
            f.code
        ));
        for line in f.message.lines() {
            s.push_str(&format!("        {line}\n"));
        }
        s.push_str(&format!("        fix: {}\n", f.fix));
    }
    let count = |sev| findings.iter().filter(|f| f.severity == sev).count();
    let (e, w) = (count(Severity::Error), count(Severity::Warning));
    s.push_str(&format!(
        "{e} error{}, {w} warning{}, {} info\n",
        if e == 1 { "" } else { "s" },
        if w == 1 { "" } else { "s" },
        count(Severity::Info)
    ));
    s
}
