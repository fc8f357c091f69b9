//! Locations CRUD (seed 004 bodies) and rooms.
//!
//! Seed payloads go out raw, verbatim; other bodies through the typed
//! `then.ok(..)` (see `tests/README.md`).

use serde_json::json;
use smartthings_ext::types::{CreateLocationRequest, CreateLocationRequestTemperatureScale};
use smartthings_ext::{LenientItems, OpenEnum};
use smartthings_httpmock::MockServerExt;
use smartthings_tests::fixture_json;

use crate::harness::{Expect, check_declared_errors, client, typed};

const LOCATION: &str = "6b3d1909-1e1c-43ec-adc2-5f941de4fbf9";

fn create_request() -> CreateLocationRequest {
    serde_json::from_value(fixture_json("seed004/create_location_request.json")).unwrap()
}

fn update_request() -> CreateLocationRequest {
    CreateLocationRequest {
        name: "Home".into(),
        temperature_scale: Some(CreateLocationRequestTemperatureScale::C),
        country_code: None,
        latitude: None,
        longitude: None,
        locale: None,
        region_radius: None,
        time_zone_id: None,
    }
}

mod list_locations {
    use super::*;

    #[tokio::test]
    async fn decodes_the_seed_list() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get("/locations");
        let mock = server.list_locations(|when, then| {
            expect.apply(when.into_inner());
            then.into_inner()
                .status(200)
                .json_body(fixture_json("seed004/list_locations.json"));
        });
        let page = client(&server).list_locations().send().await.unwrap();
        mock.assert();
        let first = page
            .items
            .as_deref()
            .unwrap()
            .valid()
            .next()
            .unwrap()
            .clone();
        assert_eq!(first.location_id.as_deref(), Some(LOCATION));
        assert_eq!(first.name.as_deref(), Some("Home"));
        assert!(page.links.unwrap().previous.is_some());
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors("listLocations", Expect::get("/locations"), |c| async move {
            c.list_locations().send().await
        })
        .await;
    }
}

mod create_location {
    use super::*;

    #[tokio::test]
    async fn posts_the_seed_body_and_decodes_the_seed_response() {
        let server = httpmock::MockServer::start_async().await;
        let expect =
            Expect::post("/locations").body(fixture_json("seed004/create_location_request.json"));
        let mock = server.create_location(|when, then| {
            expect.apply(when.into_inner());
            then.into_inner()
                .status(200)
                .json_body(fixture_json("seed004/create_location_response.json"));
        });
        let created = client(&server)
            .create_location()
            .body(create_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(created.region_radius, Some(150));
        assert_eq!(created.time_zone_id.as_deref(), Some("American/Chicago"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createLocation",
            Expect::post("/locations").body(fixture_json("seed004/create_location_request.json")),
            |c| async move { c.create_location().body(create_request()).send().await },
        )
        .await;
    }
}

mod get_location {
    use super::*;

    #[tokio::test]
    async fn decodes_the_seed_location() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/locations/{LOCATION}"));
        let mock = server.get_location(|when, then| {
            expect.apply(when.into_inner());
            then.into_inner()
                .status(200)
                .json_body(fixture_json("seed004/get_location.json"));
        });
        let location = client(&server)
            .get_location()
            .location_id(LOCATION)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(location.time_zone_id.as_deref(), Some("America/Chicago"));
        assert_eq!(location.longitude, Some(-93.11223629));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getLocation",
            Expect::get(&format!("/locations/{LOCATION}")),
            |c| async move { c.get_location().location_id(LOCATION).send().await },
        )
        .await;
    }
}

mod update_location {
    use super::*;

    #[tokio::test]
    async fn puts_only_the_given_fields_and_decodes_the_seed_response() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(&format!("/locations/{LOCATION}"))
            .body(fixture_json("seed004/update_location_request.json"));
        let mock = server.update_location(|when, then| {
            expect.apply(when.into_inner());
            then.into_inner()
                .status(200)
                .json_body(fixture_json("seed004/update_location_response.json"));
        });
        let updated = client(&server)
            .update_location()
            .location_id(LOCATION)
            .body(update_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(
            updated
                .temperature_scale
                .as_ref()
                .and_then(OpenEnum::known)
                .map(ToString::to_string),
            Some("C".to_owned())
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateLocation",
            Expect::put(&format!("/locations/{LOCATION}"))
                .body(fixture_json("seed004/update_location_request.json")),
            |c| async move {
                c.update_location()
                    .location_id(LOCATION)
                    .body(update_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod delete_location {
    use super::*;

    #[tokio::test]
    async fn deletes_and_accepts_the_seed_empty_object() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete(&format!("/locations/{LOCATION}"));
        let mock = server.delete_location(|when, then| {
            expect.apply(when.into_inner());
            // The typed `ok()` sends no body; seed 004 shows `{}`.
            then.ok()
                .into_inner()
                .json_body(fixture_json("seed004/delete_location.json"));
        });
        // `()`: the 200 and its `{}` body were accepted.
        let () = client(&server)
            .delete_location()
            .location_id(LOCATION)
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "deleteLocation",
            Expect::delete(&format!("/locations/{LOCATION}")),
            |c| async move { c.delete_location().location_id(LOCATION).send().await },
        )
        .await;
    }
}

mod list_rooms {
    use super::*;

    #[tokio::test]
    async fn decodes_rooms() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/locations/{LOCATION}/rooms"));
        let mock = server.list_rooms(|when, then| {
            expect.apply(when.into_inner());
            // Raw: the typed response would send `backgroundImage: null` as
            // no key at all.
            then.into_inner().status(200).json_body(json!({
                "items": [
                    {"roomId": "r-1", "locationId": LOCATION, "name": "Kitchen"},
                    {"roomId": "r-2", "locationId": LOCATION, "name": "Bedroom", "backgroundImage": null}
                ],
                "_links": {}
            }));
        });
        let page = client(&server)
            .list_rooms()
            .location_id(LOCATION)
            .send()
            .await
            .unwrap();
        mock.assert();
        let names: Vec<_> = page
            .items
            .as_deref()
            .unwrap()
            .valid()
            .filter_map(|r| r.name.clone())
            .collect();
        assert_eq!(names, ["Kitchen", "Bedroom"]);
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listRooms",
            Expect::get(&format!("/locations/{LOCATION}/rooms")),
            |c| async move { c.list_rooms().location_id(LOCATION).send().await },
        )
        .await;
    }
}

mod create_room {
    use super::*;

    #[tokio::test]
    async fn posts_the_name() {
        let server = httpmock::MockServer::start_async().await;
        let expect =
            Expect::post(&format!("/locations/{LOCATION}/rooms")).body(json!({"name": "Garage"}));
        let mock = server.create_room(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(
                json!({"roomId": "r-3", "locationId": LOCATION, "name": "Garage"}),
            ));
        });
        let room = client(&server)
            .create_room()
            .location_id(LOCATION)
            .body_map(|b| b.name("Garage"))
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(room.room_id.as_deref(), Some("r-3"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createRoom",
            Expect::post(&format!("/locations/{LOCATION}/rooms")).body(json!({"name": "Garage"})),
            |c| async move {
                c.create_room()
                    .location_id(LOCATION)
                    .body_map(|b| b.name("Garage"))
                    .send()
                    .await
            },
        )
        .await;
    }
}
