//! Before the run: which scenarios are worth running against this server, by what its
//! `/ServiceProviderConfig` says (`capability`), and after it, putting the skipped ones and the
//! capability warnings back in their place.

use crate::outcome::{Finding, ScenarioResult};
use crate::scenario::Scenario;
use crate::transport::exchange::Exchange;

use super::capability::{self, Decision};

/// The scenarios to run after capability gating, and what to put back into the results.
pub struct Plan {
    pub run: Vec<Scenario>,
    pub skipped: Vec<ScenarioResult>,
    warnings: Vec<((String, String), Finding)>,
    order: Vec<(String, String)>,
}

/// Splits the scenarios by what the server's `/ServiceProviderConfig` (the preflight's answer)
/// says it supports. A dry run has no preflight: everything runs.
pub fn plan(scenarios: Vec<Scenario>, spc: Option<&Exchange>) -> Plan {
    let unsupported = capability::unsupported(spc);
    let mut plan = Plan {
        run: Vec::new(),
        skipped: Vec::new(),
        warnings: Vec::new(),
        order: Vec::new(),
    };
    for s in scenarios {
        let key = (s.file.clone(), s.name.clone());
        plan.order.push(key.clone());
        match capability::decide(&s, &unsupported) {
            Decision::Run => plan.run.push(s),
            Decision::Skip(reason) => plan.skipped.push(capability::skipped(&s, reason)),
            Decision::RunAndWarn(f) => {
                plan.warnings.push((key, f));
                plan.run.push(s);
            }
        }
    }
    plan
}

impl Plan {
    /// The results in the order the scenarios were selected, with capability warnings attached
    /// and skipped scenarios in their place.
    pub fn merge(
        self,
        mut results: Vec<ScenarioResult>,
        spc: Option<&Exchange>,
    ) -> Vec<ScenarioResult> {
        for (key, finding) in self.warnings {
            if let Some(r) = results
                .iter_mut()
                .find(|r| r.file == key.0 && r.name == key.1)
            {
                capability::attach(r, finding, spc);
            }
        }
        results.extend(self.skipped);
        let order = self.order;
        results.sort_by_key(|r| {
            order
                .iter()
                .position(|(f, n)| *f == r.file && *n == r.name)
                .unwrap_or(usize::MAX)
        });
        results
    }
}
