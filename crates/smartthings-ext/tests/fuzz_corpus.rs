//! The fuzz targets' bodies over their committed corpus (fuzz/corpus), so
//! every input a fuzzer ever kept is re-checked in every test run.

use std::path::Path;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn status_decode_corpus() {
    let inputs = corpus("status_decode");
    assert!(inputs.len() >= 5);
    for input in inputs {
        smartthings_ext::fuzzing::status_decode(&input);
    }
}

#[test]
fn next_link_corpus() {
    let inputs = corpus("next_link");
    assert!(inputs.len() >= 6);
    for input in inputs {
        smartthings_ext::fuzzing::next_link(&input);
    }
    // And the check itself decides as expected on the corpus's cases.
    let base = url::Url::parse("https://api.smartthings.com/v1").unwrap();
    let accepted = |href: &str| smartthings_ext::next_page_url(&base, href).is_ok();
    assert!(accepted(
        "https://api.smartthings.com/v1/devices?max=200&page=1&isNext=true"
    ));
    assert!(accepted(
        "https://api.smartthings.com:443/v1/devices?page=2"
    ));
    assert!(accepted("/v1/devices?page=3"));
    assert!(!accepted("//evil.example/v1/devices"));
    assert!(!accepted("https://api.smartthings.com@evil.example/v1"));
}

#[test]
fn response_corpus() {
    let inputs = corpus("response");
    assert!(inputs.len() >= 20);
    for input in inputs {
        smartthings_ext::fuzzing::response(&input);
    }
}
