//! JUnit XML for CI systems: first a testsuite `distinct problems` with a testcase per problem
//! (a failure for an error, a pass with its text for a warning: the consequence for each IdP,
//! the first exchange, every place), then a testsuite per scenario, a testcase per step, the
//! findings and diffs as the failure text, each naming its problem. A step not run (it needed
//! what a failed step did not produce) is a skipped testcase saying which step it needed.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::console::Console;
use crate::outcome::problems::{self, Problem};
use crate::outcome::{Outcome, RunReport, Severity};
use crate::support::styles::Styles;

pub fn render(report: &RunReport) -> String {
    let console = Console {
        styles: Styles::plain(),
        verbose: false,
        sources: Default::default(),
    };
    let mut junit = Report::new("idpsim");
    junit.add_test_suite(problems_suite(report));
    for sc in &report.scenarios {
        // XML 1.0 forbids most control characters; CI systems print these names too.
        let mut suite = TestSuite::new(format!(
            "{} ({})",
            crate::support::text::printable_line(&sc.name),
            crate::support::text::printable_line(&sc.file)
        ));
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
            let name = format!(
                "{kind} {}: {}",
                step.index,
                crate::support::text::printable_line(&step.name)
            );
            let status = match step.outcome {
                Outcome::Passed | Outcome::Warned => TestCaseStatus::success(),
                // Not run: it needed what a failed step did not produce. Not a failure of its
                // own (the failed step is one), and not a pass either.
                Outcome::Skipped | Outcome::NotRun => {
                    let mut s = TestCaseStatus::skipped();
                    if let Some(r) = &step.skip_reason {
                        let r = crate::support::text::printable_line(r);
                        s.set_message(if step.outcome == Outcome::NotRun {
                            format!("not run: {r}")
                        } else {
                            r.into_owned()
                        });
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
                        let problem = problems::number(&report.problems, first)
                            .map(|n| format!(" (problem {n})"))
                            .unwrap_or_default();
                        s.set_message(format!(
                            "[{}] {}{problem}",
                            first.rule,
                            crate::support::text::printable_line(&first.message)
                        ));
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
                    case.set_system_out(crate::support::text::printable(reason).into_owned());
                }
            }
            case.set_classname(crate::support::text::printable_line(&sc.file).into_owned());
            case.set_time(std::time::Duration::from_millis(step.duration_ms));
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- cannot serialize the JUnit report: {e} -->"))
}

/// The distinct problems as a testsuite of their own, most consequential first.
fn problems_suite(report: &RunReport) -> TestSuite {
    let mut suite = TestSuite::new("distinct problems");
    for (i, p) in report.problems.iter().enumerate() {
        let name = format!("problem {}: {}", i + 1, p.rule);
        let text = problem_text(p);
        let mut case = if p.severity == Severity::Error {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!(
                "{} — {} scenario(s), {} step(s)",
                crate::support::text::printable_line(&p.message),
                p.scenarios,
                p.steps
            ));
            s.set_type(p.rule.clone());
            s.set_description(text);
            TestCase::new(name, s)
        } else {
            let mut case = TestCase::new(name, TestCaseStatus::success());
            case.set_system_out(text);
            case
        };
        case.set_classname("problems");
        suite.add_test_case(case);
    }
    suite
}

/// What a problem says, with every control character escaped: XML 1.0 forbids most of them,
/// and scenario and step names are a scenario author's text.
fn problem_text(p: &Problem) -> String {
    crate::support::text::printable(&problem_lines(p)).into_owned()
}

fn problem_lines(p: &Problem) -> String {
    let mut out = format!("{}: {}\n", p.severity.name(), p.message);
    for c in &p.consequences {
        out.push_str(&format!("{}: {}\n", c.idp, c.impact));
    }
    if let Some(r) = &p.reference {
        out.push_str(&format!("see {r}\n"));
    }
    if let Some(ex) = &p.first.exchange {
        out.push_str(&format!("first shown by: {}\n", ex.line()));
    }
    out.push_str(&format!(
        "in {} scenario(s), {} step(s):\n",
        p.scenarios, p.steps
    ));
    for pl in &p.places {
        out.push_str(&format!(
            "- {}: {} — {} {}: {} ({})\n",
            pl.file,
            pl.scenario,
            pl.phase.name(),
            pl.step,
            pl.step_name,
            pl.source
        ));
    }
    out
}
