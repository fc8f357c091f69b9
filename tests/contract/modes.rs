//! Location modes: list (and its pages), create, the current mode and its
//! change, rename, delete.

use serde_json::json;
use smartthings_ext::LenientItems;
use smartthings_ext::collect_all;
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const LOCATION: &str = "95efee9b-6073-4871-b5ba-de6642187293";
const HOME: &str = "5a1e3b5c-2d4f-4c36-9a9e-3f0d1b7c8e21";
const AWAY: &str = "0b6c7e8d-91a2-4b3c-8d4e-5f6a7b8c9d0e";
const NIGHT: &str = "c41f2a7e-6d3b-4e58-b0a9-7e2d1c4b3a95";

fn modes_path() -> String {
    format!("/locations/{LOCATION}/modes")
}

fn mode(id: &str, name: &str) -> serde_json::Value {
    json!({"id": id, "label": name, "name": name})
}

mod get_modes {
    use super::*;

    #[tokio::test]
    async fn lists_the_modes_of_a_location() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&modes_path());
        let mock = server.get_modes(|when, then| {
            expect.apply(when.location_id(LOCATION).into_inner());
            then.ok(&typed(json!({
                "items": [mode(HOME, "Home"), mode(AWAY, "Away"), mode(NIGHT, "Night")],
                "_links": {}
            })));
        });
        let page = client(&server)
            .get_modes()
            .location_id(LOCATION)
            .send()
            .await
            .unwrap();
        mock.assert();
        let labels: Vec<_> = page
            .items
            .as_deref()
            .unwrap()
            .valid()
            .map(|m| (m.id.clone().unwrap(), m.label.clone().unwrap()))
            .collect();
        assert_eq!(
            labels,
            [
                (HOME.to_owned(), "Home".to_owned()),
                (AWAY.to_owned(), "Away".to_owned()),
                (NIGHT.to_owned(), "Night".to_owned())
            ]
        );
    }

    #[tokio::test]
    async fn items_follow_the_next_link() {
        let server = httpmock::MockServer::start_async().await;
        let first = Expect::get(&modes_path());
        let second = Expect::get(&modes_path()).query("page", "1");
        let next = format!("{}{}?page=1", server.base_url(), modes_path());
        let first_mock = server.get_modes(|when, then| {
            first.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [mode(HOME, "Home"), mode(AWAY, "Away")],
                "_links": {"next": {"href": next}}
            })));
        });
        let second_mock = server.get_modes(|when, then| {
            second.apply(when.into_inner());
            then.ok(&typed(
                json!({"items": [mode(NIGHT, "Night")], "_links": {}}),
            ));
        });
        let client = client(&server);
        let listing = collect_all(client.get_modes().location_id(LOCATION).items())
            .await
            .unwrap();
        first_mock.assert();
        second_mock.assert();
        let ids: Vec<_> = listing
            .items
            .iter()
            .map(|m| m.id.clone().unwrap())
            .collect();
        assert_eq!(ids, [HOME, AWAY, NIGHT]);
        assert!(listing.invalid.is_empty());
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors("getModes", Expect::get(&modes_path()), |c| async move {
            c.get_modes().location_id(LOCATION).send().await
        })
        .await;
    }
}

mod create_mode {
    use super::*;

    #[tokio::test]
    async fn posts_the_label() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post(&modes_path()).body(json!({"label": "Vacation"}));
        let mock = server.create_mode(|when, then| {
            expect.apply(when.location_id(LOCATION).into_inner());
            then.ok(&typed(mode(
                "7d9e0f1a-2b3c-4d5e-8f9a-0b1c2d3e4f5a",
                "Vacation",
            )));
        });
        let created = client(&server)
            .create_mode()
            .location_id(LOCATION)
            .body_map(|b| b.label("Vacation".to_owned()))
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(
            created.id.as_deref(),
            Some("7d9e0f1a-2b3c-4d5e-8f9a-0b1c2d3e4f5a")
        );
        assert_eq!(created.name.as_deref(), Some("Vacation"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createMode",
            Expect::post(&modes_path()).body(json!({"label": "Vacation"})),
            |c| async move {
                c.create_mode()
                    .location_id(LOCATION)
                    .body_map(|b| b.label("Vacation".to_owned()))
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod get_current_mode {
    use super::*;

    #[tokio::test]
    async fn gets_the_current_mode() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("{}/current", modes_path()));
        let mock = server.get_current_mode(|when, then| {
            expect.apply(when.location_id(LOCATION).into_inner());
            then.ok(&typed(mode(HOME, "Home")));
        });
        let current = client(&server)
            .get_current_mode()
            .location_id(LOCATION)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(current.id.as_deref(), Some(HOME));
        assert_eq!(current.label.as_deref(), Some("Home"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getCurrentMode",
            Expect::get(&format!("{}/current", modes_path())),
            |c| async move { c.get_current_mode().location_id(LOCATION).send().await },
        )
        .await;
    }
}

mod change_mode {
    use super::*;

    #[tokio::test]
    async fn puts_the_mode_id() {
        let server = httpmock::MockServer::start_async().await;
        let expect =
            Expect::put(&format!("{}/current", modes_path())).body(json!({"modeId": AWAY}));
        let mock = server.change_mode(|when, then| {
            expect.apply(when.location_id(LOCATION).into_inner());
            then.ok(&typed(mode(AWAY, "Away")));
        });
        let current = client(&server)
            .change_mode()
            .location_id(LOCATION)
            .body_map(|b| b.mode_id(AWAY))
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(current.id.as_deref(), Some(AWAY));
        assert_eq!(current.name.as_deref(), Some("Away"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "changeMode",
            Expect::put(&format!("{}/current", modes_path())).body(json!({"modeId": AWAY})),
            |c| async move {
                c.change_mode()
                    .location_id(LOCATION)
                    .body_map(|b| b.mode_id(AWAY))
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod update_mode {
    use super::*;

    #[tokio::test]
    async fn renames_the_mode_and_keeps_its_name() {
        let server = httpmock::MockServer::start_async().await;
        let expect =
            Expect::put(&format!("{}/{NIGHT}", modes_path())).body(json!({"label": "Sleep"}));
        let mock = server.update_mode(|when, then| {
            expect.apply(when.location_id(LOCATION).mode_id(NIGHT).into_inner());
            then.ok(&typed(
                json!({"id": NIGHT, "label": "Sleep", "name": "Night"}),
            ));
        });
        let renamed = client(&server)
            .update_mode()
            .location_id(LOCATION)
            .mode_id(NIGHT)
            .body_map(|b| b.label("Sleep".to_owned()))
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(renamed.label.as_deref(), Some("Sleep"));
        assert_eq!(renamed.name.as_deref(), Some("Night"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateMode",
            Expect::put(&format!("{}/{NIGHT}", modes_path())).body(json!({"label": "Sleep"})),
            |c| async move {
                c.update_mode()
                    .location_id(LOCATION)
                    .mode_id(NIGHT)
                    .body_map(|b| b.label("Sleep".to_owned()))
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod delete_mode {
    use super::*;

    #[tokio::test]
    async fn deletes_and_accepts_the_empty_object() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete(&format!("{}/{NIGHT}", modes_path()));
        let mock = server.delete_mode(|when, then| {
            expect.apply(when.location_id(LOCATION).mode_id(NIGHT).into_inner());
            then.ok().into_inner().json_body(json!({}));
        });
        let () = client(&server)
            .delete_mode()
            .location_id(LOCATION)
            .mode_id(NIGHT)
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "deleteMode",
            Expect::delete(&format!("{}/{NIGHT}", modes_path())),
            |c| async move {
                c.delete_mode()
                    .location_id(LOCATION)
                    .mode_id(NIGHT)
                    .send()
                    .await
            },
        )
        .await;
    }
}
