//! spec (YAML) + overlay -> normalised OpenAPI -> progenitor -> formatted
//! Rust files. Pure: nothing here writes to disk, so `--check` and `regen`
//! share every step.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail, ensure};
use progenitor::{CrateVers, GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use serde_json::Value;

use crate::ext_builders;
use crate::normalize::{self, SUPPORT_CRATE};
use crate::overlay;

/// The inputs of one regeneration.
pub struct Inputs {
    /// The OpenAPI document (YAML or JSON).
    pub spec: PathBuf,
    /// The overlays, applied in this order (empty: none).
    pub overlays: Vec<PathBuf>,
}

/// One file the generator owns, relative to the workspace root — or, with
/// `section`, the part of a hand-written file between
/// `<!-- begin {section} -->` and `<!-- end {section} -->`.
pub struct GeneratedFile {
    pub path: PathBuf,
    pub contents: String,
    pub section: Option<&'static str>,
}

impl GeneratedFile {
    /// What the file at `path` should hold, given what it holds now (if it
    /// exists); `None` for a section of a file that does not exist (a
    /// scratch output directory has no hand-written files to fill).
    pub fn merged(&self, current: Option<&str>) -> Result<Option<String>> {
        let Some(section) = self.section else {
            return Ok(Some(self.contents.clone()));
        };
        let Some(current) = current else {
            return Ok(None);
        };
        let (begin, end) = (
            format!("<!-- begin {section} -->\n"),
            format!("<!-- end {section} -->"),
        );
        let start = current.find(&begin).map(|i| i + begin.len());
        let stop = current.find(&end);
        match (start, stop) {
            (Some(start), Some(stop)) if start <= stop => Ok(Some(format!(
                "{}{}{}",
                &current[..start],
                self.contents,
                &current[stop..]
            ))),
            _ => bail!(
                "{} has no `{}` ... `{end}` section for the generator to fill",
                self.path.display(),
                begin.trim_end()
            ),
        }
    }
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
/// The operations as `smartthings_ext::SmartThings` offers them.
pub const EXT_FILE: &str = "crates/smartthings-ext/src/generated.rs";
/// The spec after the overlay, before normalisation: what tests, the
/// simulator and the contract-coverage check read.
pub const RESOLVED_FILE: &str = "spec/resolved/smartthings-openapi.json";
/// Where the table of every operation goes: the `operations` section.
pub const OPERATIONS_FILE: &str = "spec/README.md";

pub fn run(inputs: &Inputs) -> Result<Output> {
    let mut doc = read_document(&inputs.spec)?;
    let mut overlay_actions = 0;
    for path in &inputs.overlays {
        let overlay_doc = read_document(path)?;
        overlay_actions += overlay::apply(&mut doc, &overlay_doc, path)?;
    }
    let resolved = serde_json::to_string_pretty(&doc)? + "\n";
    let operations_table = operations_table(&doc);

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

    let (client, decoders) = bodies_decoded_by_the_support_crate(client);
    ensure!(
        decoders > 0,
        "progenitor no longer decodes bodies with `ResponseValue::from_response`: \
         update `bodies_decoded_by_the_support_crate`, or list items decode the slow way"
    );
    ensure!(
        !client.to_string().contains("from_response"),
        "a body decoder of progenitor's was left in place: update `bodies_decoded_by_the_support_crate`"
    );
    let mut client: syn::File = syn::parse2(checked_path_segments(client))
        .context("progenitor produced code that does not parse")?;
    let open = undeclared_fields_kept_compactly(&mut client)?;
    ensure!(
        open > 0,
        "no flattened `extra` map was found: update `undeclared_fields_kept_compactly`, \
         or every generated struct keeps a 24-byte map for fields it rarely has"
    );
    derive_default_for_open_structs(&mut client);
    let exact = vectors_of_their_exact_length(&mut client)?;
    ensure!(
        exact > 0,
        "no list field of a generated type was found: update `vectors_of_their_exact_length`, \
         or decoded lists keep their growth slack"
    );
    import_checked_encode_path(&mut client);
    let ext = ext_builders::generate(&client)
        .with_context(|| format!("wrapping the operations of {}", inputs.spec.display()))?;

    Ok(Output {
        files: vec![
            GeneratedFile {
                path: CLIENT_FILE.into(),
                contents: format(&header, quote::quote!(#client))?,
                section: None,
            },
            GeneratedFile {
                path: HTTPMOCK_FILE.into(),
                contents: format(&header, mock)?,
                section: None,
            },
            GeneratedFile {
                path: EXT_FILE.into(),
                contents: format(&header, ext)?,
                section: None,
            },
            GeneratedFile {
                path: RESOLVED_FILE.into(),
                contents: resolved,
                section: None,
            },
            GeneratedFile {
                path: OPERATIONS_FILE.into(),
                contents: operations_table,
                section: Some("operations"),
            },
        ],
        operations,
        types,
        overlay_actions,
        report,
    })
}

/// A path parameter of `.` or `..` (or nothing) would not stay one segment:
/// URL parsing folds `/devices/../status` into `/status` even when the dots
/// are percent-encoded (WHATWG URL). Every `encode_path(x)` in the generated
/// client becomes `encode_path(x).map_err(Error::InvalidRequest)?`, calling
/// the support crate's checked version, so such a value is refused before
/// anything is sent.
fn checked_path_segments(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use proc_macro2::{Delimiter, Group, TokenTree};
    let mut out = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Ident(ident) if ident == "encode_path" => {
                let call = matches!(
                    tokens.peek(),
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis
                );
                out.push(TokenTree::Ident(ident));
                if call {
                    let arguments = tokens.next().expect("peeked");
                    out.push(arguments);
                    out.extend(quote::quote!(.map_err(Error::InvalidRequest)?));
                }
            }
            TokenTree::Group(group) => {
                let mut inner =
                    Group::new(group.delimiter(), checked_path_segments(group.stream()));
                inner.set_span(group.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// Every `ResponseValue::from_response` (progenitor's body decoder, a
/// plain `serde_json::from_slice`) becomes the support crate's
/// `decode_response`, which decodes list items in one pass and again item
/// by item only when one fails (`smartthings::decode_body`); returns the
/// rewritten tokens and how many calls were rewritten.
fn bodies_decoded_by_the_support_crate(
    tokens: proc_macro2::TokenStream,
) -> (proc_macro2::TokenStream, usize) {
    use proc_macro2::{Group, TokenTree};
    let decoder: proc_macro2::TokenStream = format!("::{SUPPORT_CRATE}::decode_response")
        .parse()
        .expect("a valid path");
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let (mut out, mut rewritten, mut i) = (Vec::new(), 0, 0);
    while i < tokens.len() {
        let is = |at: usize, text: &str| tokens.get(at).is_some_and(|t| t.to_string() == text);
        let qualified = i > 0 && is(i - 1, ":");
        if !qualified
            && is(i, "ResponseValue")
            && is(i + 1, ":")
            && is(i + 2, ":")
            && is(i + 3, "from_response")
        {
            out.extend(decoder.clone());
            rewritten += 1;
            i += 4;
            continue;
        }
        match &tokens[i] {
            TokenTree::Group(group) => {
                let (inner, n) = bodies_decoded_by_the_support_crate(group.stream());
                let mut inner = Group::new(group.delimiter(), inner);
                inner.set_span(group.span());
                out.push(TokenTree::Group(inner));
                rewritten += n;
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    (out.into_iter().collect(), rewritten)
}

/// `use progenitor_client::{encode_path, ..}` becomes `use crate::encode_path`
/// plus the rest (see [`checked_path_segments`]).
fn import_checked_encode_path(file: &mut syn::File) {
    for item in &mut file.items {
        let syn::Item::Use(import) = item else {
            continue;
        };
        let syn::UseTree::Path(path) = &mut import.tree else {
            continue;
        };
        if path.ident != "progenitor_client" {
            continue;
        }
        let syn::UseTree::Group(group) = path.tree.as_mut() else {
            continue;
        };
        let before = group.items.len();
        group.items = group
            .items
            .iter()
            .filter(|tree| !matches!(tree, syn::UseTree::Name(n) if n.ident == "encode_path"))
            .cloned()
            .collect();
        if group.items.len() < before {
            file.items.insert(
                0,
                syn::parse_quote!(
                    use crate::encode_path;
                ),
            );
            return;
        }
    }
}

/// typify keeps an object's undeclared fields in a flattened `extra:
/// serde_json::Map`: 24 bytes in every struct, and a 632-byte tree node
/// once it holds one field, which many live devices have. Those maps
/// become `smartthings::ExtraFields` (a pointer, null when empty; exactly
/// its entries otherwise, in the server's order), in the types and in
/// their builders. Returns how many structs; a flattened `extra` of any
/// other type is an error, since it would keep its map unnoticed.
fn undeclared_fields_kept_compactly(file: &mut syn::File) -> Result<usize> {
    let map =
        quote::quote!(::serde_json::Map<::std::string::String, ::serde_json::Value>).to_string();
    let fields = format!(":: {SUPPORT_CRATE} :: ExtraFields");
    let replaced = |tokens: String| tokens.replace(&map, &fields);
    fn is_extra(field: &syn::Field) -> bool {
        field.ident.as_ref().is_some_and(|i| i == "extra")
    }
    let mut open = std::collections::HashSet::new();
    for strukt in module_structs(file) {
        let syn::Fields::Named(named) = &mut strukt.fields else {
            continue;
        };
        for field in named.named.iter_mut().filter(|f| is_extra(f)) {
            let keys = serde_keys(field).with_context(|| {
                format!("reading the serde attributes of {}::extra", strukt.ident)
            })?;
            if !keys.iter().any(|k| k == "flatten") {
                continue;
            }
            let ty = &field.ty;
            let ty = quote::quote!(#ty).to_string();
            ensure!(
                ty == map,
                "{}::extra is flattened as `{ty}`, not as the map that \
                 `undeclared_fields_kept_compactly` replaces: update it",
                strukt.ident
            );
            field.ty = syn::parse_str(&fields).expect("a type path");
            open.insert(strukt.ident.to_string());
        }
    }
    let types = items_of_modules(file.items.iter_mut(), |name| name == "types");
    for item in items_of_modules(types, |name| name == "builder") {
        match item {
            syn::Item::Struct(strukt) if open.contains(&strukt.ident.to_string()) => {
                let syn::Fields::Named(named) = &mut strukt.fields else {
                    continue;
                };
                for field in named.named.iter_mut().filter(|f| is_extra(f)) {
                    let ty = &field.ty;
                    field.ty = syn::parse_str(&replaced(quote::quote!(#ty).to_string()))
                        .expect("a type with one path replaced by another");
                }
            }
            syn::Item::Impl(imp) if imp.trait_.is_none() => {
                let of_open =
                    last_segment(&imp.self_ty).is_some_and(|s| open.contains(&s.ident.to_string()));
                if !of_open {
                    continue;
                }
                for f in &mut imp.items {
                    let syn::ImplItem::Fn(f) = f else { continue };
                    if f.sig.ident != "extra" {
                        continue;
                    }
                    if let Some(clause) = &f.sig.generics.where_clause {
                        f.sig.generics.where_clause = Some(
                            syn::parse_str(&replaced(quote::quote!(#clause).to_string()))
                                .expect("a where clause with one path replaced by another"),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    Ok(open.len())
}

/// typify derives no `Default` for a struct with a flattened `extra` map (it
/// counts the map as required), though an empty map is the right default.
/// Response structs whose other fields are all optional get it back, so that
/// `Device { label: .., ..Default::default() }` works as it did before
/// unknown fields were kept.
fn derive_default_for_open_structs(file: &mut syn::File) {
    fn defaults(ty: &syn::Type) -> bool {
        let last = last_segment(ty).map(|s| s.ident.to_string());
        matches!(
            last.as_deref(),
            Some("Option" | "Vec" | "Map" | "BTreeMap" | "HashMap" | "ExtraFields")
        )
    }
    for strukt in module_structs(file) {
        let syn::Fields::Named(fields) = &strukt.fields else {
            continue;
        };
        let open = fields
            .named
            .iter()
            .any(|f| f.ident.as_ref().is_some_and(|i| i == "extra"));
        if !open || !fields.named.iter().all(|f| defaults(&f.ty)) {
            continue;
        }
        for attr in &mut strukt.attrs {
            let Some(mut derives) = derive_list(attr) else {
                continue;
            };
            if !derives.iter().any(|d| d.is_ident("Default")) {
                derives.push(syn::parse_quote!(Default));
                *attr = syn::parse_quote!(#[derive(#derives)]);
            }
        }
    }
}

/// Every list field of a decoded struct (`Vec<T>` or `Option<Vec<T>>`)
/// decodes through `smartthings::exact`, into a vector of exactly its
/// length: serde's own decode leaves up to half of each vector unused (a
/// one-component device with room for four). A list inside a list or a map,
/// or a field of an enum variant, keeps serde's decode. Returns how many
/// fields.
fn vectors_of_their_exact_length(file: &mut syn::File) -> Result<usize> {
    fn vector(ty: &syn::Type) -> bool {
        last_segment(ty).is_some_and(|s| s.ident == "Vec")
    }
    fn optional_vector(ty: &syn::Type) -> bool {
        last_segment(ty).is_some_and(|s| s.ident == "Option")
            && first_generic(ty).is_some_and(vector)
    }
    fn derives_deserialize(attrs: &[syn::Attribute]) -> bool {
        attrs.iter().any(|attr| {
            derive_list(attr).is_some_and(|derives| {
                derives
                    .iter()
                    .any(|d| d.segments.last().is_some_and(|s| s.ident == "Deserialize"))
            })
        })
    }
    let vec = format!("::{SUPPORT_CRATE}::exact::vec");
    let option_vec = format!("::{SUPPORT_CRATE}::exact::option_vec");
    let mut fields_rewritten = 0;
    for strukt in module_structs(file) {
        if !derives_deserialize(&strukt.attrs) {
            continue;
        }
        let syn::Fields::Named(fields) = &mut strukt.fields else {
            continue;
        };
        for field in &mut fields.named {
            let keys = serde_keys(field).with_context(|| {
                format!(
                    "reading the serde attributes of {}::{}",
                    strukt.ident,
                    field
                        .ident
                        .as_ref()
                        .map_or(String::new(), ToString::to_string)
                )
            })?;
            let decoded_otherwise = [
                "with",
                "deserialize_with",
                "flatten",
                "skip",
                "skip_deserializing",
            ]
            .iter()
            .any(|k| keys.iter().any(|key| key == k));
            if decoded_otherwise {
                continue;
            }
            let has_default = keys.iter().any(|k| k == "default");
            let attr: syn::Attribute = if vector(&field.ty) {
                syn::parse_quote!(#[serde(deserialize_with = #vec)])
            } else if optional_vector(&field.ty) {
                // serde lets an `Option` be absent only when it decodes it
                // itself.
                if has_default {
                    syn::parse_quote!(#[serde(deserialize_with = #option_vec)])
                } else {
                    syn::parse_quote!(#[serde(default, deserialize_with = #option_vec)])
                }
            } else {
                continue;
            };
            field.attrs.push(attr);
            fields_rewritten += 1;
        }
    }
    Ok(fields_rewritten)
}

/// The last segment of a type's path (`Vec` of `::std::vec::Vec<T>`).
pub(crate) fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
}

/// The first type argument of a type's last path segment (`T` of
/// `Option<T>`).
pub(crate) fn first_generic(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::PathArguments::AngleBracketed(args) = &last_segment(ty)?.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// The names in the field's `#[serde(..)]` attributes, at their top
/// level (`rename(deserialize = ..)` names `rename`).
fn serde_keys(field: &syn::Field) -> syn::Result<Vec<String>> {
    fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
        if meta.input.peek(syn::Token![=]) {
            meta.value()?.parse::<syn::Expr>()?;
        } else if meta.input.peek(syn::token::Paren) {
            meta.parse_nested_meta(|inner| skip_value(&inner))?;
        }
        Ok(())
    }
    let mut keys = Vec::new();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if let Some(ident) = meta.path.get_ident() {
                keys.push(ident.to_string());
            }
            skip_value(&meta)
        })?;
    }
    Ok(keys)
}

/// The paths a `#[derive(..)]` attribute lists; `None` for any other
/// attribute.
fn derive_list(
    attr: &syn::Attribute,
) -> Option<syn::punctuated::Punctuated<syn::Path, syn::Token![,]>> {
    if !attr.path().is_ident("derive") {
        return None;
    }
    attr.parse_args_with(syn::punctuated::Punctuated::parse_terminated)
        .ok()
}

/// The structs directly inside the generated file's top-level modules
/// (`types`, `builder`): where progenitor puts every response and request
/// type (`types::builder`'s builders derive no `Deserialize`).
fn module_structs(file: &mut syn::File) -> impl Iterator<Item = &mut syn::ItemStruct> {
    items_of_modules(file.items.iter_mut(), |_| true).filter_map(|item| match item {
        syn::Item::Struct(strukt) => Some(strukt),
        _ => None,
    })
}

/// The items directly inside each inline module among `items` whose name
/// `wanted` accepts (modules nested in those are not entered).
fn items_of_modules<'a>(
    items: impl Iterator<Item = &'a mut syn::Item>,
    wanted: impl Fn(&syn::Ident) -> bool,
) -> impl Iterator<Item = &'a mut syn::Item> {
    items
        .filter_map(move |item| match item {
            syn::Item::Mod(module) if wanted(&module.ident) => module.content.as_mut(),
            _ => None,
        })
        .flat_map(|(_, items)| items.iter_mut())
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
    let overlay: String = inputs
        .overlays
        .iter()
        .map(|p| format!(" + {}", name(p)))
        .collect();
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

/// Every operation of the resolved spec, a Markdown table row each: the
/// official id (`x-official-operation-id` where the spec's own differs),
/// method and path, where it comes from (`x-source`; the published spec
/// otherwise) and the `st` command that calls it (`x-cli`).
fn operations_table(doc: &Value) -> String {
    let mut rows = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let text = |key: &str| op.get(key).and_then(Value::as_str).unwrap_or_default();
            let (official, ours) = match text("x-official-operation-id") {
                "" => (id, String::new()),
                official => (official, format!("`{id}`")),
            };
            let source = match text("x-source") {
                "" => "seed 001 (the published spec)",
                source => source,
            };
            let cli = match text("x-cli") {
                "" => String::new(),
                cli => format!("`{cli}`"),
            };
            let row = format!(
                "| `{official}` | {ours} | {} `{path}` | {source} | {cli} |",
                method.to_uppercase()
            );
            rows.push((official.to_owned(), row));
        }
    }
    rows.sort();
    let rows: Vec<String> = rows.into_iter().map(|(_, row)| row).collect();
    format!(
        "{} operations (generated by `cargo xtask regen` from the spec and its overlays).\n\n\
         | operation | id in this spec, if different | request | source | command |\n\
         |---|---|---|---|---|\n{}\n",
        rows.len(),
        rows.join("\n")
    )
}
