//! `st rules`: list, get, create and update from a JSON/YAML file, delete.

use anyhow::{Context, Result, bail};
use comfy_table::Table;
use serde_json::Value;
use smartthings_ext::types::CreateRuleRequest;
use smartthings_ext::{SmartThings, collect_all};

use super::{deleted, to_json};
use crate::cli::{Format, RuleAction};
use crate::output::{emit, table};

fn rule_file(path: &std::path::Path) -> Result<CreateRuleRequest> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    // YAML is a superset of JSON: one parser reads both.
    let raw: Value = serde_yaml::from_str(&text)
        .with_context(|| format!("{} is not JSON or YAML", path.display()))?;
    let rule: CreateRuleRequest = serde_json::from_value(raw.clone())
        .with_context(|| format!("{} is not a rule (needs name and actions)", path.display()))?;
    // A misspelt key would otherwise vanish silently from what is sent.
    let mut unknown = Vec::new();
    unknown_keys(&raw, &serde_json::to_value(&rule)?, "$", &mut unknown);
    if let Some(key) = unknown.first() {
        bail!(
            "{}: unknown key {key} (not part of a rule; check its spelling)",
            path.display()
        );
    }
    Ok(rule)
}

/// The keys of `input` (with a value) that `typed`, its decoded and
/// re-encoded form, no longer has, as JSON paths.
fn unknown_keys(input: &Value, typed: &Value, at: &str, out: &mut Vec<String>) {
    match (input, typed) {
        (Value::Object(given), Value::Object(kept)) => {
            for (key, value) in given {
                let path = format!("{at}.{key}");
                match kept.get(key) {
                    Some(kept) => unknown_keys(value, kept, &path, out),
                    None if !value.is_null() => out.push(path),
                    None => {}
                }
            }
        }
        (Value::Array(given), Value::Array(kept)) => {
            for (i, (value, kept)) in given.iter().zip(kept).enumerate() {
                unknown_keys(value, kept, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
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
        RuleAction::Execute { rule_id } => {
            let run = c
                .execute_rule()
                .rule_id(rule_id)
                .location_id(location)
                .send()
                .await?;
            return emit(format, &to_json(&run), || {
                let mut t = table(&["Rule", "Execution", "Result", "Actions"]);
                t.add_row(vec![
                    rule_id.clone(),
                    run.execution_id.clone().unwrap_or_default(),
                    run.result
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    run.actions.as_ref().map_or(0, Vec::len).to_string(),
                ]);
                t
            });
        }
    };
    emit(format, &to_json(&one), || {
        rule_table(std::slice::from_ref(&one))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rule.yaml");
        let rule = |extra: &str| {
            format!(
                "name: porch\n{extra}actions:\n  - if:\n      equals:\n        left: {{string: a}}\n        right: {{string: a}}\n"
            )
        };
        std::fs::write(&path, rule("")).unwrap();
        rule_file(&path).unwrap();
        std::fs::write(&path, rule("timeZone: UTC\n")).unwrap();
        let error = rule_file(&path).unwrap_err().to_string();
        assert!(error.contains("unknown key $.timeZone"), "{error}");
    }
}
