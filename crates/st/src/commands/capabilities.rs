//! `st capabilities`: the capability definitions, and one in detail.

use anyhow::Result;
use serde_json::{Map, Value};
use smartthings_ext::types::CapabilityDefinition;
use smartthings_ext::{SmartThings, collect_all};

use super::to_json;
use crate::cli::{CapabilityAction, Format};
use crate::output::{cell, emit, table};

pub(super) async fn run(c: &SmartThings, format: Format, action: &CapabilityAction) -> Result<()> {
    match action {
        CapabilityAction::List => {
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
        CapabilityAction::Get {
            capability_id,
            version,
        } => {
            let definition = c
                .get_capability()
                .capability_id(capability_id)
                .capability_version(*version)
                .send()
                .await?;
            emit(format, &to_json(&definition), || {
                definition_table(&definition)
            })
        }
    }
}

/// One row per attribute and per command: what it is, and its value type
/// or arguments in a line.
fn definition_table(definition: &CapabilityDefinition) -> comfy_table::Table {
    let mut t = table(&["Kind", "Name", "Type", "Details"]);
    for (name, attribute) in definition.attributes.iter().flatten() {
        let value = attribute
            .schema
            .as_ref()
            .and_then(|s| s.get("properties"))
            .and_then(|p| p.get("value"))
            .and_then(Value::as_object);
        let mut details = Vec::new();
        if let Some(setter) = &attribute.setter {
            details.push(format!("set by {setter}"));
        }
        if let Some(unit) = attribute
            .schema
            .as_ref()
            .and_then(|s| s.get("properties"))
            .and_then(|p| p.pointer("/unit/enum"))
        {
            details.push(format!("unit {}", cell(unit)));
        }
        t.add_row(vec![
            "attribute".to_owned(),
            name.clone(),
            value.map(value_type).unwrap_or_default(),
            details.join("; "),
        ]);
    }
    for (name, command) in definition.commands.iter().flatten() {
        let arguments: Vec<String> = command
            .arguments
            .iter()
            .flatten()
            .map(|a| {
                let kind = a.schema.as_ref().map(value_type).unwrap_or_default();
                let optional = if a.optional == Some(true) { "?" } else { "" };
                format!("{}{optional}: {kind}", a.name.as_deref().unwrap_or("?"))
            })
            .collect();
        t.add_row(vec![
            "command".to_owned(),
            name.clone(),
            String::new(),
            format!("({})", arguments.join(", ")),
        ]);
    }
    t
}

/// A JSON Schema's type in a few characters: `string (on|off)`,
/// `integer 0..100`, `number`, ...
fn value_type(schema: &Map<String, Value>) -> String {
    let kind = schema
        .get("type")
        .map(cell)
        .or_else(|| schema.get("$ref").map(cell))
        .unwrap_or_else(|| "any".to_owned());
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(cell).collect();
        return format!("{kind} ({})", values.join("|"));
    }
    match (schema.get("minimum"), schema.get("maximum")) {
        (None, None) => kind,
        (min, max) => format!(
            "{kind} {}..{}",
            min.map(cell).unwrap_or_default(),
            max.map(cell).unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn value_types_read_in_a_few_characters() {
        let schema = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            value_type(&schema(json!({"type": "string", "enum": ["on", "off"]}))),
            "string (on|off)"
        );
        assert_eq!(
            value_type(&schema(
                json!({"type": "integer", "minimum": 0, "maximum": 100})
            )),
            "integer 0..100"
        );
        assert_eq!(
            value_type(&schema(json!({"$ref": "PositiveInteger"}))),
            "PositiveInteger"
        );
        assert_eq!(value_type(&schema(json!({}))), "any");
    }
}
