//! The JUnit XML report.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::text::{render_layout, write_violations};
use super::TextOptions;
use crate::layout::redact_paths;
use crate::outcome::{CaseStatus, RunReport};

/// The JUnit XML report.
pub fn junit(r: &RunReport, o: TextOptions) -> String {
    let mut report = Report::new("packtest");
    let mut suite = TestSuite::new(r.packager.clone());
    for c in &r.results {
        let status = match &c.status {
            CaseStatus::Passed => TestCaseStatus::success(),
            CaseStatus::Failed { violations, .. } => {
                let mut st = TestCaseStatus::non_success(if c.timed_out {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                });
                let props: Vec<&str> = c.broken().iter().map(|p| p.id()).collect();
                st.set_message(format!("broken: {}", props.join(", ")));
                st.set_type(props.first().copied().unwrap_or("failure").to_owned());
                let mut d = String::new();
                write_violations(&mut d, violations, "", o);
                if let Some(cause) = r.causes.iter().find(|x| x.cases.contains(&c.name)) {
                    if let Some(sh) = &cause.shrunk {
                        d.push_str(&format!(
                            "minimal layout for {}, shrunk from {}:\n",
                            cause.id(),
                            cause.representative
                        ));
                        for line in render_layout(&sh.layout) {
                            d.push_str(&format!("  {line}\n"));
                        }
                    }
                }
                if let Some(replay) = &c.replay {
                    d.push_str(&format!("replay: {replay}\n"));
                }
                st.set_description(d);
                st
            }
            CaseStatus::Rejected { reason } => {
                let mut st = TestCaseStatus::skipped();
                st.set_message(format!(
                    "layout rejected by the host: {}",
                    if o.redact {
                        redact_paths(reason)
                    } else {
                        reason.clone()
                    }
                ));
                st
            }
            CaseStatus::Cancelled => {
                let mut st = TestCaseStatus::skipped();
                st.set_message("cancelled");
                st
            }
        };
        let mut tc = TestCase::new(c.name.clone(), status);
        tc.set_classname(format!("packtest.seed{}", r.seed));
        if !o.redact {
            tc.set_time(c.duration);
        }
        suite.add_test_case(tc);
    }
    if !o.redact {
        suite.set_time(r.duration);
    }
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}
