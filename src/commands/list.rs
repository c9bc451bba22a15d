//! `idpsim list [PATHS]`: the scenarios with their IdP, profile, tags and description.

use crate::cli::ListArgs;
use crate::error::Result;
use crate::support::out::say;
use crate::verdict::Verdict;

pub fn list(args: ListArgs) -> Result<Verdict> {
    let (scenarios, _) = super::load_scenarios(&args.paths)?;
    let sel = super::selection(&args.select);
    for s in scenarios.iter().filter(|s| sel.matches(s)) {
        let profile = s
            .profile
            .as_deref()
            .map(|p| format!(" {p}"))
            .unwrap_or_default();
        use crate::support::text::{printable, printable_line};
        say!(
            "{}  [{}{}]  {}",
            printable_line(&s.name),
            s.idp.name(),
            printable_line(&profile),
            printable_line(&s.file)
        );
        if !s.tags.is_empty() {
            say!("    tags: {}", printable_line(&s.tags.join(", ")));
        }
        if let Some(d) = &s.description {
            say!("    {}", printable(&d.trim().replace('\n', "\n    ")));
        }
    }
    Ok(Verdict::Passed)
}
