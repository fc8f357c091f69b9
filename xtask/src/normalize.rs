//! Forward compatibility, decided here once for every schema rather than
//! patched into generated code.
//!
//! The live API sends what no spec lists: new device types (`ZWAVE`, `MQTT`,
//! ...), new fields, `null`s, ids that are not UUIDs (seed 004's own examples
//! hold `6b3d1909-1elc-...`). The rules:
//!
//! * Request and response sides are separated first: a component schema used
//!   by both is copied, and request bodies use the copy (`<Name>Input`), so
//!   loosening a response type never loosens what the client sends.
//! * Response side: every string enum becomes `smartthings::OpenEnum<Known>`
//!   (an unlisted value is kept, not rejected); no property is required;
//!   arrays accept `null`; `additionalProperties: false` is dropped; string
//!   formats are dropped (a date or id the server formats its own way must not
//!   fail a decode; the ext crate parses them leniently); the `items` of a
//!   list response are `smartthings::Lenient<T>`, so one odd item never fails
//!   a page.
//! * Response objects keep what they do not declare: an object schema with
//!   properties gets `additionalProperties: {}`, which the generator turns
//!   into a flattened `extra` map (which `generate` makes a
//!   `smartthings::ExtraFields`), so re-encoding a decoded response gives
//!   back every field the server sent.
//! * The device-status schemas are not generated: the support crate's
//!   lossless status model (`smartthings::status`) stands in for them, so the
//!   status operations, the status embedded in device lists and the typed
//!   views all speak one type.
//! * Everywhere: `format: uuid` is dropped, because SmartThings ids are opaque
//!   strings that the caller must be able to pass back verbatim.
//! * Request side otherwise stays strict: enums closed, required fields
//!   required.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use heck::ToUpperCamelCase;
use serde_json::{Map, Value, json};

const SCHEMA_PREFIX: &str = "#/components/schemas/";
/// The HTTP methods an OpenAPI path item can hold.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "options", "head", "trace",
];
/// The crate the generated code lives in (see `x-rust-type` in typify).
pub const SUPPORT_CRATE: &str = "smartthings";

/// Schemas the support crate implements by hand, by name in the spec, and
/// the type that stands in for each (a path inside [`SUPPORT_CRATE`]).
/// A spec without them is left as it is.
pub const SUBSTITUTES: [(&str, &str); 4] = [
    ("DeviceStatus", "status::DeviceStatus"),
    ("ComponentStatus", "status::ComponentStatus"),
    ("CapabilityStatus", "status::CapabilityStatus"),
    ("AttributeState", "status::Attribute"),
];

/// What normalisation changed, for the summary line and for tests.
#[derive(Debug, Default)]
pub struct Report {
    /// Response objects that keep undeclared fields in an `extra` map.
    pub open_objects: usize,
    /// Schemas replaced by a hand-written type of the support crate.
    pub substituted: Vec<String>,
    /// Response enums turned into `OpenEnum`.
    pub open_enums: Vec<String>,
    /// List responses whose items became `Lenient`.
    pub lenient_lists: usize,
    /// Optional object properties of objects that come by the hundred (list
    /// items and the items of their lists) held in a `Boxed`.
    pub boxed_details: usize,
    /// Schemas copied to keep the request side strict.
    pub split_inputs: Vec<String>,
}

/// Rewrite `doc` (an OpenAPI 3.0 document as JSON) in place.
pub fn normalize(doc: &mut Value) -> Result<Report> {
    let mut report = Report::default();
    if doc.pointer("/components/schemas").is_none() {
        doc["components"]["schemas"] = json!({});
    }
    strip_uuid_formats(doc);
    for (name, path) in SUBSTITUTES {
        if let Some(schema) = schemas_mut(doc).get_mut(name) {
            let description = schema.get("description").cloned();
            *schema = json!({ "x-rust-type": rust_type(path, None) });
            if let Some(description) = description {
                schema["description"] = description;
            }
            report.substituted.push(name.to_owned());
        }
    }

    let request_roots = request_roots(doc);
    let response_roots = response_roots(doc);
    let request_names = reachable(doc, &request_roots);
    let response_names = reachable(doc, &response_roots);

    // Separate the sides.
    let shared: BTreeSet<String> = request_names
        .intersection(&response_names)
        .cloned()
        .collect();
    let mut renames = BTreeMap::new();
    for name in &shared {
        let input = unique_name(doc, &format!("{name}Input"));
        let copy = schemas(doc)[name].clone();
        schemas_mut(doc).insert(input.clone(), copy);
        renames.insert(name.clone(), input.clone());
        report.split_inputs.push(input);
    }
    if !renames.is_empty() {
        let request_only: Vec<String> = request_names.difference(&shared).cloned().collect();
        let mut pointers = request_roots.clone();
        pointers.extend(
            renames
                .values()
                .chain(&request_only)
                .map(|n| schema_pointer(n)),
        );
        for pointer in pointers {
            if let Some(node) = doc.pointer_mut(&pointer) {
                rewrite_refs(node, &renames);
            }
        }
    }

    // Loosen the response side.
    let mut hoisted = Map::new();
    let mut list_items = BTreeSet::new();
    for (pointer, hint) in list_response_schemas(doc) {
        if let Some(node) = doc.pointer_mut(&pointer) {
            list_items.extend(wrap_list_items(node, &hint, &mut hoisted));
            report.lenient_lists += 1;
        }
    }
    let mut loosener = Loosener {
        hoisted,
        taken: schemas(doc).keys().cloned().collect(),
        report: &mut report,
    };
    for (pointer, hint) in response_root_hints(doc) {
        if let Some(node) = doc.pointer_mut(&pointer) {
            loosener.loosen(node, &hint);
        }
    }
    for name in &response_names {
        if let Some(node) = doc.pointer_mut(&schema_pointer(name)) {
            loosener.loosen(node, name);
        }
    }
    let hoisted = std::mem::take(&mut loosener.hoisted);
    schemas_mut(doc).extend(hoisted);
    let objects = boxable_schemas(doc);
    for item in &by_the_hundred(doc, list_items) {
        report.boxed_details += box_details(doc, item, &objects);
    }
    Ok(report)
}

/// The schemas whose objects come by the hundred in one response: the
/// items of list responses and, within them, the items of their array
/// properties (a page's devices, their components, the components'
/// capability references), at any depth.
fn by_the_hundred(doc: &Value, list_items: BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending: Vec<String> = list_items.into_iter().collect();
    while let Some(name) = pending.pop() {
        if !found.insert(name.clone()) {
            continue;
        }
        let Some(properties) = schemas(doc)
            .get(&name)
            .and_then(|schema| schema.get("properties"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        pending.extend(
            properties
                .values()
                .filter_map(|p| p.get("items")?.get("$ref")?.as_str())
                .filter_map(|r| r.strip_prefix(SCHEMA_PREFIX))
                .map(str::to_owned),
        );
    }
    found
}

/// Hold the properties of `item` (an object that comes by the hundred)
/// that reference another object schema, or a hand-written status type, in
/// a `Boxed` (a `Box`): an item that lacks such a detail (a device has one
/// integration's details of a dozen kinds; a capability reference has a
/// status only when asked for) then costs a pointer for it, not the
/// detail's size. Returns how many were boxed.
fn box_details(doc: &mut Value, item: &str, objects: &BTreeSet<String>) -> usize {
    let Some(schema) = doc.pointer_mut(&schema_pointer(item)) else {
        return 0;
    };
    // Every property of a response object is optional by now (the loosener
    // dropped `required`), so each may be absent.
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return 0;
    };
    let mut boxed = 0;
    for property in properties.values_mut() {
        let target = property
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix(SCHEMA_PREFIX));
        if !target.is_some_and(|t| objects.contains(t)) {
            continue;
        }
        let reference = json!({ "$ref": property["$ref"].clone() });
        let description = property.get("description").cloned();
        *property = json!({ "x-rust-type": rust_type("Boxed", Some(reference)) });
        if let Some(description) = description {
            property["description"] = description;
        }
        boxed += 1;
    }
    boxed
}

/// The schemas a detail is boxed for: those of objects with properties,
/// and those the hand-written status types stand in for. Boxing a detail
/// changes no schema's own properties, so this is read once for all items.
fn boxable_schemas(doc: &Value) -> BTreeSet<String> {
    schemas(doc)
        .iter()
        .filter(|(name, schema)| {
            schema.get("properties").is_some()
                || SUBSTITUTES
                    .iter()
                    .any(|(substituted, _)| substituted == name)
        })
        .map(|(name, _)| name.clone())
        .collect()
}

fn schemas(doc: &Value) -> &Map<String, Value> {
    doc["components"]["schemas"]
        .as_object()
        .expect("created in normalize")
}

fn schemas_mut(doc: &mut Value) -> &mut Map<String, Value> {
    doc["components"]["schemas"]
        .as_object_mut()
        .expect("created in normalize")
}

fn schema_pointer(name: &str) -> String {
    format!("/components/schemas/{}", escape(name))
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn unique_name(doc: &Value, wanted: &str) -> String {
    let taken = schemas(doc);
    let mut name = wanted.to_owned();
    let mut n = 2;
    while taken.contains_key(&name) {
        name = format!("{wanted}{n}");
        n += 1;
    }
    name
}

/// Every operation as (JSON pointer, operationId or a name made from it).
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{method} {path}"));
                out.push((format!("/paths/{}/{method}", escape(path)), id));
            }
        }
    }
    out
}

/// Pointers to the schemas of every response body, with a type-name hint.
fn response_root_hints(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (op_pointer, id) in operations(doc) {
        let Some(responses) = doc
            .pointer(&format!("{op_pointer}/responses"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (status, response) in responses {
            for (media, _) in response
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let pointer = format!(
                    "{op_pointer}/responses/{}/content/{}/schema",
                    escape(status),
                    escape(media)
                );
                if doc.pointer(&pointer).is_some() {
                    out.push((pointer, format!("{}Response", id.to_upper_camel_case())));
                }
            }
        }
    }
    for (name, response) in doc
        .pointer("/components/responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (media, _) in response
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            out.push((
                format!(
                    "/components/responses/{}/content/{}/schema",
                    escape(name),
                    escape(media)
                ),
                name.to_upper_camel_case(),
            ));
        }
    }
    out
}

fn response_roots(doc: &Value) -> Vec<String> {
    response_root_hints(doc)
        .into_iter()
        .map(|(p, _)| p)
        .collect()
}

/// The schemas of successful list responses: a page (`{items: [...],
/// ...}`), inline or named by `$ref` (once, however many operations
/// answer it), or a bare array.
fn list_response_schemas(doc: &Value) -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    response_root_hints(doc)
        .into_iter()
        .filter(|(pointer, _)| pointer.contains("/responses/2"))
        .map(|(pointer, hint)| {
            let named = doc
                .pointer(&format!("{pointer}/$ref"))
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(SCHEMA_PREFIX))
                .map(str::to_owned);
            match named {
                Some(name) => (schema_pointer(&name), name),
                None => (pointer, hint),
            }
        })
        .filter(|(pointer, _)| {
            doc.pointer(&format!("{pointer}/properties/items/items"))
                .is_some()
                || doc.pointer(pointer).and_then(|s| s.get("type")) == Some(&json!("array"))
        })
        .filter(|(pointer, _)| seen.insert(pointer.clone()))
        .collect()
}

fn request_roots(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let add_params = |base: String, params: Option<&Value>, out: &mut Vec<String>| {
        for (i, _) in params
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            out.push(format!("{base}/parameters/{i}/schema"));
        }
    };
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let item_pointer = format!("/paths/{}", escape(path));
            add_params(item_pointer.clone(), item.get("parameters"), &mut out);
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let op_pointer = format!("{item_pointer}/{method}");
                add_params(op_pointer.clone(), op.get("parameters"), &mut out);
                for (media, _) in op
                    .pointer("/requestBody/content")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    out.push(format!(
                        "{op_pointer}/requestBody/content/{}/schema",
                        escape(media)
                    ));
                }
            }
        }
    }
    for (name, _) in doc
        .pointer("/components/parameters")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        out.push(format!("/components/parameters/{}/schema", escape(name)));
    }
    for (name, body) in doc
        .pointer("/components/requestBodies")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (media, _) in body
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            out.push(format!(
                "/components/requestBodies/{}/content/{}/schema",
                escape(name),
                escape(media)
            ));
        }
    }
    out
}

/// Component schema names reachable from the schemas at `roots`.
fn reachable(doc: &Value, roots: &[String]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue: Vec<String> = Vec::new();
    for root in roots {
        if let Some(node) = doc.pointer(root) {
            collect_refs(node, &mut queue);
        }
    }
    while let Some(name) = queue.pop() {
        if seen.insert(name.clone())
            && let Some(node) = doc.pointer(&schema_pointer(&name))
        {
            collect_refs(node, &mut queue);
        }
    }
    seen
}

fn collect_refs(node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(SCHEMA_PREFIX))
            {
                out.push(name.to_owned());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn rewrite_refs(node: &mut Value, renames: &BTreeMap<String, String>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(new) = r
                    .strip_prefix(SCHEMA_PREFIX)
                    .and_then(|name| renames.get(name))
            {
                *r = format!("{SCHEMA_PREFIX}{new}");
            }
            map.values_mut().for_each(|v| rewrite_refs(v, renames));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, renames)),
        _ => {}
    }
}

fn strip_uuid_formats(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if map.get("format").and_then(Value::as_str) == Some("uuid") {
                map.remove("format");
            }
            map.values_mut().for_each(strip_uuid_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_uuid_formats),
        _ => {}
    }
}

fn rust_type(path: &str, parameter: Option<Value>) -> Value {
    json!({
        "crate": SUPPORT_CRATE,
        "version": "*",
        "path": format!("{SUPPORT_CRATE}::{path}"),
        "parameters": parameter.into_iter().collect::<Vec<_>>(),
    })
}

/// Replace the item schema of a list response's `items` with `Lenient<T>`;
/// the name of `T`'s schema.
fn wrap_list_items(
    schema: &mut Value,
    hint: &str,
    hoisted: &mut Map<String, Value>,
) -> Option<String> {
    let bare = schema.get("type") == Some(&json!("array"));
    let items = if bare {
        "/items"
    } else {
        "/properties/items/items"
    };
    let item = schema.pointer_mut(items)?;
    let parameter = if item.get("$ref").is_some() {
        item.clone()
    } else {
        // typify needs a name for the parameter type.
        let name = format!("{hint}Item");
        hoisted.insert(name.clone(), item.clone());
        json!({ "$ref": format!("{SCHEMA_PREFIX}{name}") })
    };
    let name = parameter["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix(SCHEMA_PREFIX))
        .map(str::to_owned);
    *item = json!({ "x-rust-type": rust_type("Lenient", Some(parameter)) });
    name
}

/// A property whose Rust type defaults when absent (a `Vec` or a map) must
/// also take `null`, which serde's `default` alone does not.
fn accept_null(property: &mut Value) {
    let Value::Object(map) = property else { return };
    let kind = map.get("type").and_then(Value::as_str);
    let is_map = kind == Some("object") && !map.contains_key("properties");
    if kind == Some("array") || is_map {
        map.insert("nullable".into(), Value::Bool(true));
    }
}

struct Loosener<'r> {
    hoisted: Map<String, Value>,
    taken: BTreeSet<String>,
    report: &'r mut Report,
}

impl Loosener<'_> {
    fn loosen(&mut self, schema: &mut Value, hint: &str) {
        let Value::Object(map) = schema else { return };
        if map.contains_key("$ref") || map.contains_key("x-rust-type") {
            return;
        }
        let is_string = map.get("type").and_then(Value::as_str) == Some("string");
        if is_string && map.contains_key("enum") {
            self.open_enum(map, hint);
            return;
        }
        if is_string {
            map.remove("format");
            map.remove("pattern");
            map.remove("minLength");
            map.remove("maxLength");
        }
        map.remove("required");
        if map.contains_key("properties")
            && matches!(map.get("additionalProperties"), None | Some(Value::Bool(_)))
        {
            map.insert("additionalProperties".into(), json!({}));
            self.report.open_objects += 1;
        } else if map.get("additionalProperties") == Some(&Value::Bool(false)) {
            map.remove("additionalProperties");
        }
        if let Some(Value::Object(properties)) = map.get_mut("properties") {
            for (name, property) in properties.iter_mut() {
                self.loosen(property, &format!("{hint}{}", name.to_upper_camel_case()));
                accept_null(property);
            }
        }
        if let Some(items) = map.get_mut("items") {
            self.loosen(items, &format!("{hint}Item"));
        }
        if let Some(extra @ Value::Object(_)) = map.get_mut("additionalProperties") {
            self.loosen(extra, &format!("{hint}Value"));
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(Value::Array(variants)) = map.get_mut(key) {
                for (i, variant) in variants.iter_mut().enumerate() {
                    self.loosen(variant, &format!("{hint}Variant{i}"));
                }
            }
        }
    }

    /// `{type: string, enum: [...]}` becomes `OpenEnum<Hint>`, with the closed
    /// enum hoisted into its own component named `Hint`.
    fn open_enum(&mut self, map: &mut Map<String, Value>, hint: &str) {
        let mut name = hint.to_owned();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{hint}{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        let mut known = map.clone();
        known.remove("nullable");
        self.hoisted.insert(name.clone(), Value::Object(known));
        self.report.open_enums.push(name.clone());
        let description = map.remove("description");
        map.clear();
        if let Some(description) = description {
            map.insert("description".into(), description);
        }
        map.insert(
            "x-rust-type".into(),
            rust_type(
                "OpenEnum",
                Some(json!({ "$ref": format!("{SCHEMA_PREFIX}{name}") })),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "openapi": "3.0.3",
            "paths": {
                "/things": {
                    "get": {
                        "operationId": "listThings",
                        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}}
                        }}}}}
                    },
                    "post": {
                        "operationId": "createThing",
                        "parameters": [{"name": "id", "in": "query", "schema": {"type": "string", "format": "uuid"}}],
                        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
                    }
                }
            },
            "components": {"schemas": {
                "Thing": {
                    "type": "object",
                    "required": ["kind"],
                    "properties": {
                        "kind": {"type": "string", "enum": ["A", "B"]},
                        "when": {"type": "string", "format": "date-time"},
                        "tags": {"type": "array", "items": {"type": "string"}}
                    }
                }
            }}
        })
    }

    #[test]
    fn shared_schemas_are_split_and_only_the_response_side_is_loosened() {
        let mut d = doc();
        let report = normalize(&mut d).unwrap();
        assert_eq!(report.split_inputs, ["ThingInput"]);
        assert_eq!(
            d.pointer("/paths/~1things/post/requestBody/content/application~1json/schema/$ref"),
            Some(&json!("#/components/schemas/ThingInput"))
        );
        // Request side: strict.
        let input = &d["components"]["schemas"]["ThingInput"];
        assert_eq!(input["required"], json!(["kind"]));
        assert_eq!(input["properties"]["kind"]["enum"], json!(["A", "B"]));
        assert_eq!(input["properties"]["when"]["format"], "date-time");
        // Response side: open enum, optional, formats dropped, arrays nullable.
        let thing = &d["components"]["schemas"]["Thing"];
        assert!(thing.get("required").is_none());
        assert_eq!(
            thing["properties"]["kind"]["x-rust-type"]["path"],
            "smartthings::OpenEnum"
        );
        assert_eq!(
            d["components"]["schemas"]["ThingKind"]["enum"],
            json!(["A", "B"])
        );
        assert!(thing["properties"]["when"].get("format").is_none());
        assert_eq!(thing["properties"]["tags"]["nullable"], true);
        assert_eq!(report.open_enums, ["ThingKind"]);
    }

    #[test]
    fn optional_detail_objects_of_list_items_are_boxed_on_the_response_side_only() {
        let mut d = doc();
        let schemas = &mut d["components"]["schemas"];
        schemas["Detail"] = json!({"type": "object", "properties": {"x": {"type": "string"}}});
        schemas["Kind"] = json!({"type": "string", "enum": ["A"]});
        let thing = &mut schemas["Thing"];
        thing["properties"]["detail"] =
            json!({"$ref": "#/components/schemas/Detail", "description": "d"});
        thing["properties"]["needed"] = json!({"$ref": "#/components/schemas/Detail"});
        thing["properties"]["sort"] = json!({"$ref": "#/components/schemas/Kind"});
        thing["required"] = json!(["kind", "needed"]);
        let report = normalize(&mut d).unwrap();
        // Both: the response side makes every property optional (an item
        // that lacks one still decodes).
        assert_eq!(report.boxed_details, 2);
        let properties = &d["components"]["schemas"]["Thing"]["properties"];
        let boxed = &properties["detail"];
        assert_eq!(boxed["x-rust-type"]["path"], "smartthings::Boxed");
        assert_eq!(
            boxed["x-rust-type"]["parameters"][0]["$ref"],
            "#/components/schemas/Detail"
        );
        assert_eq!(boxed["description"], "d");
        assert_eq!(
            properties["needed"]["x-rust-type"]["path"],
            "smartthings::Boxed"
        );
        assert_eq!(properties["sort"]["$ref"], "#/components/schemas/Kind");
        // The request side (the copies the post body uses) stays plain.
        let input = &d["components"]["schemas"]["ThingInput"]["properties"]["detail"];
        assert_eq!(input["$ref"], "#/components/schemas/DetailInput");
    }

    #[test]
    fn the_items_of_a_list_item_s_lists_box_their_details_and_status_too() {
        let mut d = doc();
        let schemas = &mut d["components"]["schemas"];
        schemas["Detail"] = json!({"type": "object", "properties": {"x": {"type": "string"}}});
        schemas["CapabilityStatus"] =
            json!({"type": "object", "additionalProperties": {"type": "object"}});
        schemas["Part"] = json!({"type": "object", "properties": {
            "status": {"$ref": "#/components/schemas/CapabilityStatus"},
            "detail": {"$ref": "#/components/schemas/Detail"},
            "parts": {"type": "array", "items": {"$ref": "#/components/schemas/SubPart"}}
        }});
        schemas["SubPart"] = json!({"type": "object", "properties": {
            "detail": {"$ref": "#/components/schemas/Detail"}
        }});
        schemas["Thing"]["properties"]["parts"] =
            json!({"type": "array", "items": {"$ref": "#/components/schemas/Part"}});
        // Reached only through a plain object property: not by the hundred.
        schemas["Thing"]["properties"]["single"] = json!({"$ref": "#/components/schemas/Lone"});
        schemas["Lone"] = json!({"type": "object", "properties": {
            "detail": {"$ref": "#/components/schemas/Detail"}
        }});
        let report = normalize(&mut d).unwrap();
        let schemas = &d["components"]["schemas"];
        let boxed = |schema: &str, property: &str| {
            schemas[schema]["properties"][property]["x-rust-type"]["path"] == "smartthings::Boxed"
        };
        assert!(boxed("Part", "status"), "{}", schemas["Part"]);
        assert!(boxed("Part", "detail"));
        assert!(boxed("SubPart", "detail"));
        assert!(boxed("Thing", "single"));
        assert!(!boxed("Lone", "detail"), "{}", schemas["Lone"]);
        assert_eq!(report.boxed_details, 4);
    }

    #[test]
    fn list_items_become_lenient_and_uuid_formats_go_everywhere() {
        let mut d = doc();
        let report = normalize(&mut d).unwrap();
        assert_eq!(report.lenient_lists, 1);
        let item = d
            .pointer("/paths/~1things/get/responses/200/content/application~1json/schema/properties/items/items")
            .unwrap();
        assert_eq!(item["x-rust-type"]["path"], "smartthings::Lenient");
        assert_eq!(
            item["x-rust-type"]["parameters"][0]["$ref"],
            "#/components/schemas/Thing"
        );
        assert!(
            d.pointer("/paths/~1things/post/parameters/0/schema/format")
                .is_none()
        );
    }

    #[test]
    fn response_objects_keep_unknown_fields_and_requests_stay_closed() {
        let mut d = doc();
        let report = normalize(&mut d).unwrap();
        let thing = &d["components"]["schemas"]["Thing"];
        assert_eq!(thing["additionalProperties"], json!({}));
        assert!(
            d["components"]["schemas"]["ThingInput"]
                .get("additionalProperties")
                .is_none(),
            "request bodies are not widened"
        );
        let list = d
            .pointer("/paths/~1things/get/responses/200/content/application~1json/schema")
            .unwrap();
        assert_eq!(
            list["additionalProperties"],
            json!({}),
            "the page object too"
        );
        assert_eq!(report.open_objects, 2);
    }

    #[test]
    fn status_schemas_are_replaced_by_the_support_crate_model() {
        let mut d = doc();
        d["components"]["schemas"]["DeviceStatus"] = json!({
            "description": "full status",
            "type": "object",
            "properties": {"components": {"type": "object"}}
        });
        let report = normalize(&mut d).unwrap();
        assert_eq!(report.substituted, ["DeviceStatus"]);
        let status = &d["components"]["schemas"]["DeviceStatus"];
        assert_eq!(
            status["x-rust-type"]["path"],
            "smartthings::status::DeviceStatus"
        );
        assert_eq!(status["x-rust-type"]["parameters"], json!([]));
        assert_eq!(status["description"], "full status");
        assert!(status.get("properties").is_none());
    }
}
