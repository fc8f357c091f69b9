//! The operations as users call them: one builder per operation on
//! `smartthings_ext::SmartThings`, generated from the generated client itself
//! so that the two can never disagree.
//!
//! Each builder wraps progenitor's, forwards every parameter setter with the
//! same signature, and ends in a `send` that returns the response body or a
//! `smartthings_ext::Error` carrying everything the server said. Progenitor
//! cannot be told to use another error type, and a conversion the caller
//! applies (`?` through `From`) cannot read the body of an undocumented
//! response; wrapping is the one place where nothing is lost.

use anyhow::{Context, Result, bail};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use syn::{Attribute, FnArg, ImplItem, Item, ItemImpl, ReturnType, Signature, Type};

use crate::generate::{first_generic, last_segment};

/// The ext crate's generated module, from the generated client's code.
pub fn generate(client: &syn::File) -> Result<TokenStream> {
    let operations = client_operations(client)?;
    let builders = builder_impls(client)?;
    let lists = list_pages(client)?;
    let mut methods = Vec::new();
    let mut structs = Vec::new();
    let mut pages = Vec::new();
    let mut paged = std::collections::BTreeSet::new();
    for operation in &operations {
        let Some(builder) = builders.iter().find(|b| b.name == operation.builder) else {
            bail!(
                "no builder `{}` for operation `{}`",
                operation.builder,
                operation.name
            );
        };
        let (name, builder_name, docs) = (&operation.name, &builder.name, &operation.docs);
        methods.push(quote! {
            #(#docs)*
            pub fn #name(&self) -> builder::#builder_name<'_> {
                builder::#builder_name {
                    client: self,
                    inner: self.api.#name(),
                }
            }
        });
        let setters = builder.setters.iter().map(|setter| {
            let signature = &setter.signature;
            let method = &signature.ident;
            let arguments = &setter.arguments;
            let doc = format!(
                "Sets `{method}` (see [`smartthings::builder::{builder_name}::{method}`])."
            );
            quote! {
                #[doc = #doc]
                pub #signature {
                    Self {
                        client: self.client,
                        inner: self.inner.#method(#(#arguments),*),
                    }
                }
            }
        });
        let body = &builder.body;
        // A list: `items()` streams every item across pages, and the page
        // type gets its `ListPage` impl (once, however many lists share it).
        let list = type_name(body).and_then(|page| Some((page.clone(), lists.get(&page)?)));
        let items = list.map(|(page, item)| {
            if paged.insert(page.clone()) {
                let page = Ident::new(&page, proc_macro2::Span::call_site());
                pages.push(quote! {
                    impl crate::ListPage for types::#page {
                        type Item = #item;
                        fn into_parts(
                            self,
                        ) -> (::std::vec::Vec<::smartthings::Lenient<#item>>, ::std::option::Option<::std::string::String>) {
                            let next = self.links.and_then(|l| l.next).and_then(|n| n.href);
                            (self.items.unwrap_or_default(), next.filter(|h| !h.is_empty()))
                        }
                    }
                });
            }
            let operation = name.to_string();
            let doc = "Every item of the list, fetched page by page as the stream is read \
                       (next links are followed on the configured origin only; an item that \
                       does not decode is an error item, and the stream goes on).";
            quote! {
                #[doc = #doc]
                pub fn items(self) -> crate::Items<'a, #item> {
                    let client = self.client;
                    client.paginate(#operation, ::std::boxed::Box::pin(self.send()))
                }
            }
        });
        let link = format!("Builder for [`SmartThings::{name}`](crate::SmartThings::{name}).");
        let send_doc = "Send the request: the response body, or an [`Error`](crate::Error) \
                        with everything the server said.";
        structs.push(quote! {
            #[doc = #link]
            #[derive(Debug, Clone)]
            #[must_use = "a request is sent only by `send`"]
            pub struct #builder_name<'a> {
                pub(crate) client: &'a crate::SmartThings,
                pub(crate) inner: smartthings::builder::#builder_name<'a>,
            }
            impl<'a> #builder_name<'a> {
                #(#setters)*
                #[doc = #send_doc]
                pub async fn send(self) -> ::std::result::Result<#body, crate::Error> {
                    self.client.call(self.inner.send()).await
                }
                #items
            }
        });
    }
    Ok(quote! {
        use smartthings::types;
        impl crate::SmartThings {
            #(#methods)*
        }
        /// One builder per operation: set its parameters, then `send` (or,
        /// for a list, `items`).
        pub mod builder {
            use super::types;
            #(#structs)*
        }
        #(#pages)*
    })
}

/// The list pages among the generated types: a struct with
/// `items: Option<Vec<Lenient<T>>>` and `links: Option<Links>` (`_links`),
/// by name, with `T` as the ext crate names it.
fn list_pages(file: &syn::File) -> Result<std::collections::HashMap<String, Type>> {
    let module = file
        .items
        .iter()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == "types" => m.content.as_ref(),
            _ => None,
        })
        .context("the generated client has no `types` module")?;
    let mut out = std::collections::HashMap::new();
    for item in &module.1 {
        let Item::Struct(s) = item else { continue };
        let field = |name: &str| {
            s.fields
                .iter()
                .find(|f| f.ident.as_ref().is_some_and(|i| i == name))
        };
        let (Some(items), Some(links)) = (field("items"), field("links")) else {
            continue;
        };
        let links_ok = first_generic(&links.ty).and_then(type_name).as_deref() == Some("Links");
        // Option<Vec<Lenient<T>>>
        let item = first_generic(&items.ty)
            .and_then(first_generic)
            .filter(|lenient| type_name(lenient).as_deref() == Some("Lenient"))
            .and_then(first_generic);
        if let (true, Some(item)) = (links_ok, item) {
            let item = match item {
                Type::Path(p) if p.path.segments.len() == 1 && p.qself.is_none() => {
                    syn::parse_quote!(types::#item)
                }
                _ => item.clone(),
            };
            out.insert(s.ident.to_string(), item);
        }
    }
    Ok(out)
}

/// The last path segment's name of a type (`types::Foo` -> `Foo`).
fn type_name(ty: &Type) -> Option<String> {
    last_segment(ty).map(|s| s.ident.to_string())
}

struct Operation {
    name: Ident,
    builder: Ident,
    docs: Vec<Attribute>,
}

struct Setter {
    signature: Signature,
    arguments: Vec<Ident>,
}

struct Builder {
    name: Ident,
    setters: Vec<Setter>,
    /// `T` of `send`'s `Result<ResponseValue<T>, Error<E>>`.
    body: Type,
}

/// `pub fn op(&self) -> builder::Op<'_>` methods of `impl Client`.
fn client_operations(file: &syn::File) -> Result<Vec<Operation>> {
    let mut out = Vec::new();
    for item in &file.items {
        let Item::Impl(block) = item else { continue };
        if block.trait_.is_some() || !is_named(&block.self_ty, "Client") {
            continue;
        }
        for item in &block.items {
            let ImplItem::Fn(method) = item else { continue };
            let ReturnType::Type(_, output) = &method.sig.output else {
                continue;
            };
            let Type::Path(path) = output.as_ref() else {
                continue;
            };
            let segments: Vec<_> = path.path.segments.iter().collect();
            if segments.len() == 2 && segments[0].ident == "builder" {
                out.push(Operation {
                    name: method.sig.ident.clone(),
                    builder: segments[1].ident.clone(),
                    docs: method
                        .attrs
                        .iter()
                        .filter(|a| a.path().is_ident("doc"))
                        .cloned()
                        .collect(),
                });
            }
        }
    }
    if out.is_empty() {
        bail!("the generated client has no operations");
    }
    Ok(out)
}

/// The inherent impls of the operation builders in `pub mod builder`.
fn builder_impls(file: &syn::File) -> Result<Vec<Builder>> {
    let module = file
        .items
        .iter()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
            _ => None,
        })
        .context("the generated client has no `builder` module")?;
    let mut out = Vec::new();
    for item in &module.1 {
        let Item::Impl(block) = item else { continue };
        if block.trait_.is_some() {
            continue;
        }
        if let Some(builder) = builder(block)? {
            out.push(builder);
        }
    }
    Ok(out)
}

fn builder(block: &ItemImpl) -> Result<Option<Builder>> {
    let Type::Path(path) = block.self_ty.as_ref() else {
        return Ok(None);
    };
    let name = path.path.segments.last().expect("a path").ident.clone();
    let mut setters = Vec::new();
    let mut body = None;
    for item in &block.items {
        let ImplItem::Fn(method) = item else { continue };
        let sig = &method.sig;
        if sig.ident == "new" {
            continue;
        }
        if sig.ident == "send" {
            body = Some(send_body(sig).with_context(|| format!("{name}::send"))?);
            continue;
        }
        if !returns_self(sig) {
            bail!(
                "{name}::{}: a builder method that does not return `Self`; teach \
                 xtask/src/ext_builders.rs to forward it",
                sig.ident
            );
        }
        let mut signature = sig.clone();
        let mut arguments = Vec::new();
        for input in &mut signature.inputs {
            match input {
                FnArg::Receiver(receiver) => receiver.mutability = None,
                FnArg::Typed(typed) => match typed.pat.as_ref() {
                    syn::Pat::Ident(ident) => arguments.push(ident.ident.clone()),
                    _ => bail!("{name}::{}: a parameter that is not a name", sig.ident),
                },
            }
        }
        setters.push(Setter {
            signature,
            arguments,
        });
    }
    Ok(body.map(|body| Builder {
        name,
        setters,
        body,
    }))
}

fn returns_self(sig: &Signature) -> bool {
    matches!(&sig.output, ReturnType::Type(_, t) if is_named(t, "Self"))
}

fn is_named(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(p) if p.path.is_ident(name))
}

/// `T` from `Result<ResponseValue<T>, Error<E>>`.
fn send_body(sig: &Signature) -> Result<Type> {
    let ReturnType::Type(_, output) = &sig.output else {
        bail!("`send` returns nothing");
    };
    let result = first_generic(output).context("`send` does not return a `Result<..>`")?;
    first_generic(result)
        .cloned()
        .context("`send` does not return a `Result<ResponseValue<T>, _>`")
}
