//! The bodies of the fuzz targets in `fuzz/`, public so that the test suite
//! also runs them over the committed corpus. Each panics only on a bug.

use crate::paginate::next_page_url;
use crate::status::DeviceStatus;
use crate::transport::same_origin;

/// Any bytes: decoding never panics, and a status that decodes re-encodes to
/// the same model (lossless); a device page decodes item by item.
pub fn status_decode(data: &[u8]) {
    if let Ok(status) = serde_json::from_slice::<DeviceStatus>(data) {
        let text = serde_json::to_vec(&status).expect("a decoded status encodes");
        let again: DeviceStatus = serde_json::from_slice(&text).expect("an encoded status decodes");
        assert_eq!(again, status, "status round trip");
        for (_, _, _, attribute) in status.attributes() {
            let _ = attribute.timestamp();
            let _ = attribute.as_f64();
            let _ = attribute.as_str_list();
        }
        for component in status.components.values() {
            let _ = (
                component.switch(),
                component.level(),
                component.color(),
                component.lock(),
            );
            let _ = (
                component.temperature(),
                component.device_watch(),
                component.contact(),
            );
        }
        let _ = status.enabled();
    }
    let _ = serde_json::from_slice::<smartthings::types::ListDevicesResponse>(data);
}

/// Any string as a next link: never panics, and an accepted link is always
/// on the base URL's origin.
pub fn next_link(data: &[u8]) {
    let Ok(href) = std::str::from_utf8(data) else {
        return;
    };
    for base in ["https://api.smartthings.com/v1", "http://127.0.0.1:8080/v1"] {
        let base = url::Url::parse(base).expect("a valid base");
        if let Ok(url) = next_page_url(&base, href) {
            assert!(same_origin(&url, &base), "{href:?} escaped {base}");
        }
    }
}
