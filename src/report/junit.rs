//! JUnit XML for CI systems: a testsuite per scenario, a testcase per step, the findings and
//! diffs as the failure text.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::console::Console;
use crate::outcome::{Outcome, RunReport};
use crate::support::styles::Styles;

pub fn render(report: &RunReport) -> String {
    let console = Console {
        styles: Styles::plain(),
        verbose: false,
        sources: Default::default(),
    };
    let mut junit = Report::new("idpsim");
    for sc in &report.scenarios {
        let mut suite = TestSuite::new(format!("{} ({})", sc.name, sc.file));
        suite.set_time(std::time::Duration::from_millis(sc.duration_ms));
        if report.interrupted {
            // A SIGINT/SIGTERM stopped the run: skipped steps were not checked, not passed.
            suite.add_property(("interrupted", "true"));
        }
        for step in sc.steps.iter().chain(&sc.cleanup) {
            let kind = if sc.cleanup.iter().any(|c| std::ptr::eq(c, step)) {
                "cleanup"
            } else {
                "step"
            };
            let name = format!("{kind} {}: {}", step.index, step.name);
            let status = match step.outcome {
                Outcome::Passed | Outcome::Warned => TestCaseStatus::success(),
                // Not run: it needed what a failed step did not produce. Not a failure of its
                // own (the failed step is one), and not a pass either.
                Outcome::Skipped | Outcome::NotRun => {
                    let mut s = TestCaseStatus::skipped();
                    if let Some(r) = &step.skip_reason {
                        s.set_message(r.clone());
                    }
                    s
                }
                Outcome::Failed => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    if let Some(first) = step
                        .findings
                        .iter()
                        .find(|f| f.severity == crate::outcome::Severity::Error)
                    {
                        s.set_message(format!("[{}] {}", first.rule, first.message));
                        s.set_type(first.rule.clone());
                    }
                    let mut text = String::new();
                    for f in &step.findings {
                        if let Some(ex) = f.exchange.and_then(|i| step.exchanges.get(i)) {
                            text.push_str(&console.exchange(ex, true));
                        }
                        text.push_str(&console.finding(f));
                    }
                    s.set_description(text);
                    s
                }
            };
            let mut case = TestCase::new(name, status);
            // A resource cleanup left behind after a signal is a warning (the test case passes),
            // but its URL must reach whoever reads only the JUnit file.
            if step.outcome != Outcome::Skipped {
                if let Some(reason) = &step.skip_reason {
                    case.set_system_out(reason.clone());
                }
            }
            case.set_classname(sc.file.clone());
            case.set_time(std::time::Duration::from_millis(step.duration_ms));
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- cannot serialize the JUnit report: {e} -->"))
}
