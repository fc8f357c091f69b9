//! `st rules`: list, get, create and update from a JSON/YAML file, delete.

use anyhow::{Context, Result};
use comfy_table::Table;
use smartthings_ext::types::CreateRuleRequest;
use smartthings_ext::{SmartThings, collect_all};

use super::{deleted, to_json};
use crate::cli::{Format, RuleAction};
use crate::output::{emit, table};

fn rule_file(path: &std::path::Path) -> Result<CreateRuleRequest> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    // YAML is a superset of JSON: one parser reads both.
    serde_yaml::from_str(&text)
        .with_context(|| format!("{} is not a rule (needs name and actions)", path.display()))
}

fn rule_table(rules: &[smartthings_ext::types::Rule]) -> Table {
    let mut t = table(&["Rule", "Name", "Runs", "Time zone", "Actions"]);
    for r in rules {
        t.add_row(vec![
            r.id.clone().unwrap_or_default(),
            r.name.clone().unwrap_or_default(),
            r.execution_location
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            r.time_zone_id.clone().unwrap_or_default(),
            r.actions.as_ref().map_or(0, Vec::len).to_string(),
        ]);
    }
    t
}

pub(super) async fn run(
    c: &SmartThings,
    format: Format,
    location: &str,
    action: &RuleAction,
) -> Result<()> {
    let one = match action {
        RuleAction::List => {
            let list = collect_all(c.rules(location)).await?;
            return emit(format, &to_json(&list.items), || rule_table(&list.items));
        }
        RuleAction::Get { rule_id } => {
            c.get_rule()
                .rule_id(rule_id)
                .location_id(location)
                .send()
                .await?
        }
        RuleAction::Create { file } => {
            c.create_rule()
                .location_id(location)
                .body(rule_file(file)?)
                .send()
                .await?
        }
        RuleAction::Update { rule_id, file } => {
            c.update_rule()
                .rule_id(rule_id)
                .location_id(location)
                .body(rule_file(file)?)
                .send()
                .await?
        }
        RuleAction::Delete { rule_id } => {
            c.delete_rule()
                .rule_id(rule_id)
                .location_id(location)
                .send()
                .await?;
            return deleted(format, "rule", rule_id);
        }
    };
    emit(format, &to_json(&one), || {
        rule_table(std::slice::from_ref(&one))
    })
}
