//! spec (YAML) + overlay -> normalised OpenAPI -> progenitor -> formatted
//! Rust files. Pure: nothing here writes to disk, so `--check` and `regen`
//! share every step.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use progenitor::{CrateVers, GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use serde_json::Value;

use crate::normalize::{self, SUPPORT_CRATE};
use crate::overlay;

/// The inputs of one regeneration.
pub struct Inputs {
    /// The OpenAPI document (YAML or JSON).
    pub spec: PathBuf,
    /// The overlay; `None` skips the overlay step.
    pub overlay: Option<PathBuf>,
}

/// One file the generator owns, relative to the workspace root.
pub struct GeneratedFile {
    pub path: PathBuf,
    pub contents: String,
}

/// Everything one regeneration produces.
pub struct Output {
    pub files: Vec<GeneratedFile>,
    pub operations: usize,
    pub types: usize,
    pub overlay_actions: usize,
    pub report: normalize::Report,
}

pub const CLIENT_FILE: &str = "crates/smartthings/src/generated.rs";
pub const HTTPMOCK_FILE: &str = "crates/smartthings-httpmock/src/generated.rs";
/// The spec after the overlay, before normalisation: what tests, the
/// simulator and the contract-coverage check read.
pub const RESOLVED_FILE: &str = "spec/resolved/smartthings-openapi.json";

pub fn run(inputs: &Inputs) -> Result<Output> {
    let mut doc = read_document(&inputs.spec)?;
    let mut overlay_actions = 0;
    if let Some(path) = &inputs.overlay {
        let overlay_doc = read_document(path)?;
        overlay_actions = overlay::apply(&mut doc, &overlay_doc, path)?;
    }
    let resolved = serde_json::to_string_pretty(&doc)? + "\n";

    let report = normalize::normalize(&mut doc)
        .with_context(|| format!("normalising {}", inputs.spec.display()))?;
    let api: openapiv3::OpenAPI = serde_json::from_value(doc.clone()).map_err(|e| {
        anyhow!(
            "{}: not a valid OpenAPI 3.0 document after the overlay: {e}",
            inputs.spec.display()
        )
    })?;
    let operations = api
        .paths
        .paths
        .values()
        .filter_map(|item| item.as_item())
        .map(|item| item.iter().count())
        .sum();

    let header = header(inputs);
    let mut client_gen = Generator::new(&settings());
    let client =
        guarded(|| client_gen.generate_tokens(&api)).map_err(|e| explain(&api, &inputs.spec, e))?;
    let types = client_gen.get_type_space().iter_types().count();
    let mut mock_gen = Generator::new(&settings());
    let mock_view = single_valued_queries(&api);
    let mock = guarded(|| mock_gen.httpmock(&mock_view, SUPPORT_CRATE))
        .map_err(|e| explain(&api, &inputs.spec, e))?;

    Ok(Output {
        files: vec![
            GeneratedFile {
                path: CLIENT_FILE.into(),
                contents: format(&header, client)?,
            },
            GeneratedFile {
                path: HTTPMOCK_FILE.into(),
                contents: format(&header, mock)?,
            },
            GeneratedFile {
                path: RESOLVED_FILE.into(),
                contents: resolved,
            },
        ],
        operations,
        types,
        overlay_actions,
        report,
    })
}

/// progenitor's httpmock generator cannot match array query parameters
/// (`?deviceId=a&deviceId=b`): it formats the whole `Vec` with `Display`. In
/// the mock view each such parameter takes one value per call, and calling
/// the matcher again adds the next value, which is how httpmock matches a
/// repeated parameter.
fn single_valued_queries(api: &openapiv3::OpenAPI) -> openapiv3::OpenAPI {
    use openapiv3::{ParameterSchemaOrContent, ReferenceOr, SchemaKind, Type};
    let mut api = api.clone();
    for item in api.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            for parameter in &mut op.parameters {
                let ReferenceOr::Item(openapiv3::Parameter::Query { parameter_data, .. }) =
                    parameter
                else {
                    continue;
                };
                let ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) =
                    &mut parameter_data.format
                else {
                    continue;
                };
                if let SchemaKind::Type(Type::Array(array)) = &schema.schema_kind
                    && let Some(ReferenceOr::Item(items)) = &array.items
                {
                    *schema = (**items).clone();
                }
            }
        }
    }
    api
}

fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_inner_type("crate::Hooks".parse().expect("a valid path"))
        // The hand-written root must implement the hooks: a missing impl is a
        // compile error, never a silent bypass of retries and rate limits.
        .with_hooks(HooksMode::Expected)
        .with_crate(SUPPORT_CRATE, CrateVers::Any, None)
        .with_derive("PartialEq")
        // Deterministic iteration (status maps print in a stable order).
        .with_map_type("::std::collections::BTreeMap")
        .with_timeout(30);
    settings
}

fn header(inputs: &Inputs) -> String {
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let overlay = inputs
        .overlay
        .as_deref()
        .map(|p| format!(" + {}", name(p)))
        .unwrap_or_default();
    format!(
        "// @generated by `cargo xtask regen` from {}{overlay}. Do not edit by hand:\n\
         // change the spec, the overlay or the generator (xtask/) and regenerate.\n\n",
        name(&inputs.spec)
    )
}

fn format(header: &str, tokens: proc_macro2::TokenStream) -> Result<String> {
    let file: syn::File =
        syn::parse2(tokens).context("progenitor produced code that does not parse")?;
    // progenitor's usage snippets are marked ```ignore, which rustdoc counts
    // as ignored tests; they are illustrations, so mark them as text.
    let code = prettyplease::unparse(&file).replace("```ignore", "```text");
    Ok(format!("{header}{code}"))
}

pub fn read_document(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_yaml::from_str(&text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        anyhow!(
            "{}{at}: not valid YAML/JSON: {e}; fix the document and run again",
            path.display()
        )
    })
}

/// Run progenitor, turning both its errors and its assertion panics (it has
/// some for shapes it does not support) into a message.
fn guarded<T>(generate: impl FnOnce() -> Result<T, progenitor::Error>) -> Result<T, String> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(generate));
    std::panic::set_hook(previous);
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unsupported construct".to_owned())),
    }
}

/// Turn a progenitor failure into a message that names the operation: retry
/// each operation alone until the culprit is found.
fn explain(api: &openapiv3::OpenAPI, spec: &Path, error: String) -> anyhow::Error {
    for (path, item) in &api.paths.paths {
        let Some(item) = item.as_item() else { continue };
        for (method, _) in item.iter() {
            let mut alone = api.clone();
            alone.paths.paths.retain(|p, _| p == path);
            if let Some(openapiv3::ReferenceOr::Item(only)) = alone.paths.paths.get_mut(path) {
                for other in normalize::METHODS {
                    if other != method {
                        clear_method(only, other);
                    }
                }
            }
            if let Err(e) = guarded(|| Generator::new(&settings()).generate_tokens(&alone)) {
                return anyhow!(
                    "{}: progenitor cannot express the operation at $.paths['{path}'].{method}: {e}. \
                     Add an overlay action that reshapes it (see spec/README.md)",
                    spec.display()
                );
            }
        }
    }
    anyhow!(
        "{}: progenitor failed on the document as a whole: {error}",
        spec.display()
    )
}

fn clear_method(item: &mut openapiv3::PathItem, method: &str) {
    let slot = match method {
        "get" => &mut item.get,
        "put" => &mut item.put,
        "post" => &mut item.post,
        "delete" => &mut item.delete,
        "patch" => &mut item.patch,
        "options" => &mut item.options,
        "head" => &mut item.head,
        _ => &mut item.trace,
    };
    *slot = None;
}
