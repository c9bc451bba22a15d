//! `idpsim validate [PATHS]`: parse and check scenario files; nothing is sent.

use crate::cli::ValidateArgs;
use crate::error::Result;
use crate::support::out::say;
use crate::support::styles::Styles;
use crate::verdict::Verdict;

pub fn validate(args: ValidateArgs, styles: Styles) -> Result<Verdict> {
    let (scenarios, _) = super::load_scenarios(&args.paths)?;
    let steps: usize = scenarios
        .iter()
        .map(|s| s.steps.len() + s.cleanup.len())
        .sum();
    say!(
        "{}: {} scenario(s), {} step(s): all valid",
        styles.pass.paint("ok"),
        scenarios.len(),
        steps
    );
    Ok(Verdict::Passed)
}
