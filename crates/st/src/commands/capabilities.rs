//! `st capabilities`: the capability definitions.

use anyhow::Result;
use smartthings_ext::{SmartThings, collect_all};

use super::to_json;
use crate::cli::Format;
use crate::output::{emit, table};

pub(super) async fn list(c: &SmartThings, format: Format) -> Result<()> {
    let list = collect_all(c.capabilities()).await?;
    emit(format, &to_json(&list.items), || {
        let mut t = table(&["Capability", "Version", "Status"]);
        for cap in &list.items {
            t.add_row(vec![
                cap.id.clone().unwrap_or_default(),
                cap.version.map(|v| v.to_string()).unwrap_or_default(),
                cap.status.clone().unwrap_or_default(),
            ]);
        }
        t
    })
}
