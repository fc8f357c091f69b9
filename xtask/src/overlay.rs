//! OpenAPI Overlay 1.0 (<https://spec.openapis.org/overlay/v1.0.0>) applied
//! to a JSON document, with RFC 9535 JSONPath targets.

use std::cmp::Ordering;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use serde_json_path::JsonPath;

/// One action of an overlay document.
struct Action {
    target: String,
    description: String,
    update: Option<Value>,
    remove: bool,
}

/// Apply the overlay at `path` to `doc`; returns how many actions ran.
pub fn apply(doc: &mut Value, overlay: &Value, path: &Path) -> Result<usize> {
    let shown = path.display();
    if overlay.get("overlay").and_then(Value::as_str).is_none() {
        bail!("{shown}: not an Overlay 1.0 document (no `overlay:` version field)");
    }
    let actions = overlay
        .get("actions")
        .and_then(Value::as_array)
        .with_context(|| format!("{shown}: `actions` must be a list"))?;
    for (index, raw) in actions.iter().enumerate() {
        let action = parse_action(raw)
            .with_context(|| format!("{shown}: action #{index} ($.actions[{index}])"))?;
        run(doc, &action).with_context(|| {
            format!(
                "{shown}: action #{index} ($.actions[{index}], target `{}`: {})",
                action.target,
                first_line(&action.description)
            )
        })?;
    }
    Ok(actions.len())
}

fn parse_action(raw: &Value) -> Result<Action> {
    let target = raw
        .get("target")
        .and_then(Value::as_str)
        .context("every action needs a `target` JSONPath")?
        .to_owned();
    let remove = raw.get("remove").and_then(Value::as_bool).unwrap_or(false);
    let update = raw.get("update").cloned();
    if !remove && update.is_none() {
        bail!("the action has neither `update` nor `remove: true`");
    }
    let description = raw
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if description.is_empty() {
        bail!("the action has no `description`; cite the document it comes from");
    }
    Ok(Action {
        target,
        description,
        update,
        remove,
    })
}

fn run(doc: &mut Value, action: &Action) -> Result<()> {
    let path =
        JsonPath::parse(&action.target).map_err(|e| anyhow::anyhow!("invalid JSONPath: {e}"))?;
    let mut pointers: Vec<String> = path
        .query_located(doc)
        .locations()
        .map(|location| location.to_json_pointer())
        .collect();
    if pointers.is_empty() {
        bail!(
            "the target matches nothing in the spec; the spec has changed under this action: \
             fix its target or delete it if the spec now says the same"
        );
    }
    if action.remove {
        // Deepest and highest-index first, so earlier removals do not shift
        // the positions of later ones.
        pointers.sort_by(|a, b| compare_pointers(b, a));
        for pointer in &pointers {
            remove_at(doc, pointer)?;
        }
    } else if let Some(update) = &action.update {
        for pointer in &pointers {
            let node = doc.pointer_mut(pointer).expect("located just above");
            merge(node, update.clone());
        }
    }
    Ok(())
}

/// Overlay 1.0 merge: objects merge recursively, arrays append, anything
/// else is replaced.
pub fn merge(target: &mut Value, update: Value) {
    match (target, update) {
        (Value::Object(target), Value::Object(update)) => {
            for (key, value) in update {
                match target.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(update)) => target.extend(update),
        (Value::Array(target), update) => target.push(update),
        (target, update) => *target = update,
    }
}

fn remove_at(doc: &mut Value, pointer: &str) -> Result<()> {
    let (parent, last) = pointer.rsplit_once('/').context("cannot remove the root")?;
    let key = last.replace("~1", "/").replace("~0", "~");
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&key);
        }
        Some(Value::Array(items)) => {
            let index: usize = key.parse()?;
            items.remove(index);
        }
        _ => bail!("no container at {parent}"),
    }
    Ok(())
}

fn compare_pointers(a: &str, b: &str) -> Ordering {
    let tokens = |p: &'_ str| p.split('/').map(str::to_owned).collect::<Vec<_>>();
    let (a, b) = (tokens(a), tokens(b));
    for (x, y) in a.iter().zip(&b) {
        let order = match (x.parse::<usize>(), y.parse::<usize>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn overlay(actions: Value) -> Value {
        json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": actions})
    }

    #[test]
    fn update_merges_objects_and_appends_arrays() {
        let mut doc = json!({"a": {"b": 1, "list": [1]}});
        let o = overlay(json!([
            {"target": "$.a", "description": "d", "update": {"c": 2, "list": [2]}},
            {"target": "$.a.list", "description": "d", "update": 3}
        ]));
        apply(&mut doc, &o, Path::new("o.yaml")).unwrap();
        assert_eq!(doc, json!({"a": {"b": 1, "c": 2, "list": [1, 2, 3]}}));
    }

    #[test]
    fn remove_deletes_every_match_in_safe_order() {
        let mut doc = json!({"p": [{"n": "x"}, {"n": "y"}, {"n": "x"}, {"n": "z"}]});
        let o = overlay(json!([
            {"target": "$.p[?@.n == 'x']", "description": "d", "remove": true}
        ]));
        apply(&mut doc, &o, Path::new("o.yaml")).unwrap();
        assert_eq!(doc, json!({"p": [{"n": "y"}, {"n": "z"}]}));
    }

    #[test]
    fn a_target_that_matches_nothing_is_an_error_naming_the_action() {
        let mut doc = json!({"a": 1});
        let o = overlay(json!([
            {"target": "$.a", "description": "first", "update": 2},
            {"target": "$.missing", "description": "seed 003: the second", "remove": true}
        ]));
        let err = format!(
            "{:#}",
            apply(&mut doc, &o, Path::new("spec/o.yaml")).unwrap_err()
        );
        assert!(err.contains("spec/o.yaml"), "{err}");
        assert!(err.contains("$.actions[1]"), "{err}");
        assert!(err.contains("$.missing"), "{err}");
        assert!(err.contains("matches nothing"), "{err}");
    }

    #[test]
    fn an_action_without_provenance_is_refused() {
        let mut doc = json!({"a": 1});
        let o = overlay(json!([{"target": "$.a", "update": 2}]));
        let err = format!(
            "{:#}",
            apply(&mut doc, &o, Path::new("o.yaml")).unwrap_err()
        );
        assert!(err.contains("cite the document"), "{err}");
    }
}
