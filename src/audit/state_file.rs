//! The state file `idpsim run --write-state FILE` writes: what the IdP believes after the run,
//! in the shape `idpsim audit --expect` reads. Built from the believed state each scenario's
//! result carries (taken before cleanup, see `idp::believed`).

use serde_json::{Map, Value};

use crate::outcome::ScenarioResult;
use crate::record::emit::{self, Y};

/// The believed state of the results as a state file. With several scenarios, keys are prefixed
/// with the scenario's position (`s1.alice`) so that they stay unique and members still resolve.
pub fn document(results: &[ScenarioResult]) -> String {
    let with_state: Vec<(&String, &String, &Value)> = results
        .iter()
        .filter_map(|r| Some((&r.name, &r.file, r.believed.as_ref()?)))
        .filter(|(_, _, v)| v.as_object().is_some_and(|m| !m.is_empty()))
        .collect();
    let prefix = with_state.len() > 1;
    let mut users = Map::new();
    let mut groups = Map::new();
    let mut header = String::from("# What the IdP believes after the run (idpsim run --write-state).\n# Check a server against it: idpsim audit --target URL --expect THIS_FILE\n");
    for (i, (name, file, v)) in with_state.iter().enumerate() {
        let p = if prefix {
            format!("s{}.", i + 1)
        } else {
            String::new()
        };
        header.push_str(&format!(
            "# {}{name} ({file})\n",
            if prefix {
                format!("s{}: ", i + 1)
            } else {
                String::new()
            }
        ));
        for (kind, target) in [("users", &mut users), ("groups", &mut groups)] {
            for (k, e) in v.get(kind).and_then(Value::as_object).into_iter().flatten() {
                let mut e = e.clone();
                if let Some(ms) = e.get_mut("members").and_then(Value::as_array_mut) {
                    for m in ms.iter_mut() {
                        if let Some(s) = m.as_str() {
                            let known = v.get("users").and_then(|u| u.get(s)).is_some()
                                || v.get("groups").and_then(|g| g.get(s)).is_some();
                            if known {
                                *m = Value::String(format!("{p}{s}"));
                            }
                        }
                    }
                }
                target.insert(format!("{p}{k}"), e);
            }
        }
    }
    let mut root = Y::map();
    root = root.with("users", Y::from(&Value::Object(users)));
    root = root.with("groups", Y::from(&Value::Object(groups)));
    format!("{header}{}", emit::document(&root))
}
