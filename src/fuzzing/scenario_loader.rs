//! Scenario files are written by people: whatever the text, loading gives a `Scenario` or
//! diagnostics with positions, never a panic, overflow or hang.

/// One fuzz input: must not panic, hang or overflow the stack, whatever the bytes.
pub fn run(data: &[u8]) {
    // Non-UTF-8 files are read lossily by the loader's callers; fuzz both shapes.
    let text = String::from_utf8_lossy(data);
    if let Ok(root) = crate::scenario::yaml::parse_document(&text) {
        // The node tree feeds `variables`, `directory` and `mappings` as JSON.
        let _ = root.to_json();
    }
    match crate::scenario::parse::parse_scenario("fuzz.yaml", &text, &crate::idp::Catalogue) {
        Ok(scenario) => {
            for step in scenario.steps.iter().chain(&scenario.cleanup) {
                let _ = step.label();
            }
        }
        Err(diagnostics) => {
            // A failed load always says why.
            assert!(
                !diagnostics.is_empty(),
                "an invalid scenario without a diagnostic"
            );
        }
    }
}
