//! Decode regression guard, by counting allocations rather than timing: a
//! timed test flakes on a busy machine, a count does not. The fast paths it
//! guards: a well-formed list item decodes straight into its type (never
//! through a `serde_json::Value`), a known `OpenEnum` value allocates
//! nothing, and the status model allocates only for what it keeps.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use smartthings::status::DeviceStatus;
use smartthings::types::{Device, DeviceType, ListDevicesResponse};
use smartthings::{LenientItems, OpenEnum};

/// Counts the allocations made on the current thread (tests run on several
/// threads at once; each counts only its own).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded to the system allocator with the same layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded to the system allocator, as `alloc` above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `f`'s result and the allocations it made on this thread.
fn counted<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (out, ALLOCATIONS.with(Cell::get) - before)
}

/// A listed device as the API sends it with `includeStatus=true`: ids,
/// names, an open enum, components with embedded status, health, and a
/// field no type knows.
fn device(i: usize) -> String {
    format!(
        r#"{{"deviceId": "c3ebc842-7a47-47f1-bb97-4ebb8ef5{i:04}",
  "ownerId": "c257d2c7-332b-d60d-808d-550bfbd54556", "name": "Plug {i}",
  "label": "Plug {i}", "manufacturerName": "SmartThingsCommunity",
  "presentationId": "3cc33789-ec49-3b77-8629-3bfad351b116",
  "deviceManufacturerCode": "STS", "locationId": "d768125b-abb6-46ea-9e73-2eb58b82d0db",
  "roomId": "8ab6bd2c-2b9b-4b3a-a6b0-2d5a3c8f3e21", "type": "ZWAVE",
  "restrictionTier": 0, "allowed": ["w:devices"], "executionContext": "LOCAL",
  "somethingNew": {{"nested": [1, 2, "three"]}},
  "profile": {{"id": "0f2f9b52-8c4e-3d1d-9f0b-3c2d3f2f0a1b"}},
  "components": [{{"id": "main", "label": "main", "capabilities": [
    {{"id": "switch", "version": 1, "status": {{
      "switch": {{"value": "on", "timestamp": "2026-04-08T15:22:05.134Z"}}}}}},
    {{"id": "powerMeter", "version": 1, "status": {{
      "power": {{"value": 12.5, "unit": "W", "timestamp": "2026-04-08T15:22:05.134Z"}}}}}},
    {{"id": "healthCheck", "version": 1, "status": {{
      "checkInterval": {{"value": 60, "unit": "s",
        "data": {{"deviceScheme": "UNTRACKED", "protocol": "cloud"}},
        "timestamp": "2026-04-08T15:22:02.825Z"}}}}}}],
    "categories": [{{"name": "SmartPlug", "categoryType": "manufacturer"}}]}}],
  "healthState": {{"state": "ONLINE", "lastUpdatedDate": "2026-04-08T15:22:02.825Z"}}}}"#
    )
}

#[test]
fn a_list_item_costs_no_allocation_beyond_its_own_decode() {
    const N: usize = 64;
    let one = device(7);
    let (direct, per_device) = counted(|| serde_json::from_str::<Device>(&one).unwrap());
    assert!(direct.extra.contains_key("somethingNew"));
    drop(direct);

    let page = format!(
        r#"{{"items": [{}], "_links": {{}}}}"#,
        (0..N).map(device).collect::<Vec<_>>().join(",")
    );
    let (decoded, total) = counted(|| serde_json::from_str::<ListDevicesResponse>(&page).unwrap());
    let items = decoded.items.as_deref().unwrap();
    assert_eq!(items.valid().count(), N);
    // Beyond N direct decodes, only the page's own: the item vector growing
    // (one allocation per doubling) and the `_links` object. An item that
    // went through a `serde_json::Value` first would cost about as many
    // allocations again as its direct decode.
    let page_own = N.ilog2() as usize + 1 + 4;
    assert!(
        total <= N * per_device + page_own,
        "{total} allocations for {N} devices of {per_device} each: a list item is decoded through an intermediate"
    );
}

#[test]
fn an_odd_item_is_still_kept_raw() {
    let page = format!(
        r#"{{"items": [{}, {{"deviceId": 42}}, {}]}}"#,
        device(1),
        device(2)
    );
    let decoded: ListDevicesResponse = serde_json::from_str(&page).unwrap();
    let items = decoded.items.unwrap();
    assert_eq!(items.valid().count(), 2);
    let odd = items.invalid().next().unwrap();
    assert_eq!(odd.raw, serde_json::json!({"deviceId": 42}));
    assert_eq!(odd.error, "invalid type: integer `42`, expected a string");
}

#[test]
fn a_known_enum_value_allocates_nothing() {
    let (known, allocations) =
        counted(|| serde_json::from_str::<OpenEnum<DeviceType>>(r#""VIPER""#).unwrap());
    assert_eq!(known, OpenEnum::Known(DeviceType::Viper));
    assert_eq!(
        allocations, 0,
        "a known enum value went through an owned string"
    );
    let (unknown, _) =
        counted(|| serde_json::from_str::<OpenEnum<DeviceType>>(r#""MQTT""#).unwrap());
    assert_eq!(unknown.unknown(), Some("MQTT"));
}

#[test]
fn the_status_model_allocates_only_what_it_keeps() {
    // 3 components x 10 capabilities x 3 attributes, each with a string
    // value, a string timestamp and a field the model does not know.
    let attribute = r#"{"value": "on", "timestamp": "2026-04-08T15:22:05.134Z", "new": 1}"#;
    let capability = format!(
        "{{{}}}",
        (0..3)
            .map(|a| format!(r#""attr{a}": {attribute}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    let component = format!(
        "{{{}}}",
        (0..10)
            .map(|c| format!(r#""cap{c}": {capability}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    let status = format!(
        r#"{{"components": {{{}}}}}"#,
        (0..3)
            .map(|c| format!(r#""comp{c}": {component}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    // Once to warm the decoder's per-thread scratch vectors, then counted.
    drop(serde_json::from_str::<DeviceStatus>(&status).unwrap());
    let (decoded, allocations) = counted(|| serde_json::from_str::<DeviceStatus>(&status).unwrap());
    assert_eq!(decoded.attributes().count(), 90);
    // What the model keeps, allocation by allocation: per attribute its
    // string value, its timestamp, and for its unknown field the boxed
    // map and that map's one entry (4); per map (30 capability maps, 3 component maps,
    // the map of components) its one vector of entries, allocated at its
    // exact size. Names cost nothing: held inline. (The model of IndexMaps
    // with owned names made 551: a name and an index table more per entry.)
    let kept = 90 * 4 + 34;
    assert!(
        allocations <= kept,
        "{allocations} allocations for a status whose model keeps about {kept}"
    );
}

/// A page holds its devices inline: each absent integration detail (a
/// device has one kind of a dozen) must cost a pointer, not its size. Held
/// inline they made a device 4 256 bytes (744 boxed), and a 200-device page's vector
/// alone over 1 MB while it grew.
#[test]
fn a_device_is_small_and_its_absent_details_cost_a_pointer() {
    let size = std::mem::size_of::<Device>();
    assert!(size <= 1_024, "a Device is {size} bytes");
    let device: Device = serde_json::from_str(&device(1)).unwrap();
    assert!(device.ocf.is_none() && device.hub.is_none());
}

/// Every list of a decoded page is allocated at its length: serde's own
/// decode leaves vectors with room to grow (a page of 200 devices with room
/// for 256, each one-component device with room for four components), a
/// quarter of a decoded page's heap.
#[test]
fn a_decoded_page_s_lists_hold_no_slack() {
    let page = format!(
        r#"{{"items": [{}]}}"#,
        (0..5).map(device).collect::<Vec<_>>().join(",")
    );
    for decoded in [
        serde_json::from_str::<ListDevicesResponse>(&page).unwrap(),
        smartthings::decode_body::<ListDevicesResponse>(page.as_bytes()).unwrap(),
    ] {
        let items = decoded.items.unwrap();
        assert_eq!((items.len(), items.capacity()), (5, 5));
        for device in items.valid() {
            let components = device.components.as_ref().unwrap();
            assert_eq!((components.len(), components.capacity()), (1, 1));
            let main = &components[0];
            let capabilities = main.capabilities.as_ref().unwrap();
            assert_eq!((capabilities.len(), capabilities.capacity()), (3, 3));
            let categories = main.categories.as_ref().unwrap();
            assert_eq!((categories.len(), categories.capacity()), (1, 1));
            let allowed = device.allowed.as_ref().unwrap();
            assert_eq!((allowed.len(), allowed.capacity()), (1, 1));
        }
    }
}

/// A page of 82 devices holds about 1 700 capability references, and most
/// objects have no undeclared field: neither an absent status nor an empty
/// `extra` may cost more than a pointer (as a status and a
/// `serde_json::Map`, they took 56 bytes of every reference's 104).
#[test]
fn a_capability_reference_is_small_and_an_empty_extra_costs_a_pointer() {
    use smartthings::types::CapabilityReference;
    let size = std::mem::size_of::<CapabilityReference>();
    assert!(size <= 64, "a CapabilityReference is {size} bytes");
    assert_eq!(std::mem::size_of::<smartthings::ExtraFields>(), 8);
    let (reference, allocations) = counted(|| {
        serde_json::from_str::<CapabilityReference>(r#"{"id": "switch", "version": 1}"#).unwrap()
    });
    assert!(reference.extra.is_empty() && reference.status.is_none());
    assert_eq!(allocations, 1, "only the id's text is allocated");
}

/// A real page has hundreds of values its enums do not list; each must cost
/// its kept text and nothing more (matching it against the known variants
/// once formatted serde's "unknown variant, expected one of …" message,
/// 3 % of the page's decode).
#[test]
fn an_unknown_enum_value_allocates_only_its_text() {
    let (unknown, allocations) =
        counted(|| serde_json::from_str::<OpenEnum<DeviceType>>(r#""MQTT""#).unwrap());
    assert_eq!(unknown.unknown(), Some("MQTT"));
    assert_eq!(
        allocations, 1,
        "an unknown enum value built more than its text"
    );
}
