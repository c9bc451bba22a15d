//! The JSON report: `RunReport` as JSON, versioned (`"version": "1"`), described by the committed
//! schema `docs/report.schema.json`.

use crate::outcome::RunReport;

pub fn render(report: &RunReport) -> String {
    serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the report: {e}\"}}"))
}
