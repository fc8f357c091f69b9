//! One room of a location: get, rename, delete (the list and creation are
//! in `locations.rs`).

use serde_json::json;
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const LOCATION: &str = "6b3d1909-1e1c-43ec-adc2-5f941de4fbf9";
const ROOM: &str = "8f1e5b2a-3c4d-4e6f-9a0b-1c2d3e4f5a6b";

fn room_path() -> String {
    format!("/locations/{LOCATION}/rooms/{ROOM}")
}

fn room(name: &str) -> serde_json::Value {
    json!({
        "roomId": ROOM,
        "locationId": LOCATION,
        "name": name,
        "backgroundImage": "https://client.smartthings.com/rooms/default/living_room.png"
    })
}

mod get_room {
    use super::*;

    #[tokio::test]
    async fn gets_the_room() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&room_path());
        let mock = server.get_room(|when, then| {
            expect.apply(when.location_id(LOCATION).room_id(ROOM).into_inner());
            then.ok(&typed(room("Living Room")));
        });
        let got = client(&server)
            .get_room()
            .location_id(LOCATION)
            .room_id(ROOM)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(got.room_id.as_deref(), Some(ROOM));
        assert_eq!(got.location_id.as_deref(), Some(LOCATION));
        assert_eq!(got.name.as_deref(), Some("Living Room"));
        assert!(got.background_image.unwrap().ends_with("living_room.png"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors("getRoom", Expect::get(&room_path()), |c| async move {
            c.get_room()
                .location_id(LOCATION)
                .room_id(ROOM)
                .send()
                .await
        })
        .await;
    }
}

mod update_room {
    use super::*;

    #[tokio::test]
    async fn puts_the_new_name() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(&room_path()).body(json!({"name": "Den"}));
        let mock = server.update_room(|when, then| {
            expect.apply(when.location_id(LOCATION).room_id(ROOM).into_inner());
            then.ok(&typed(room("Den")));
        });
        let renamed = client(&server)
            .update_room()
            .location_id(LOCATION)
            .room_id(ROOM)
            .body_map(|b| b.name("Den".to_owned()))
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(renamed.name.as_deref(), Some("Den"));
        assert_eq!(renamed.room_id.as_deref(), Some(ROOM));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateRoom",
            Expect::put(&room_path()).body(json!({"name": "Den"})),
            |c| async move {
                c.update_room()
                    .location_id(LOCATION)
                    .room_id(ROOM)
                    .body_map(|b| b.name("Den".to_owned()))
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod delete_room {
    use super::*;

    #[tokio::test]
    async fn deletes_and_accepts_the_empty_object() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete(&room_path());
        let mock = server.delete_room(|when, then| {
            expect.apply(when.location_id(LOCATION).room_id(ROOM).into_inner());
            then.ok().into_inner().json_body(json!({}));
        });
        let () = client(&server)
            .delete_room()
            .location_id(LOCATION)
            .room_id(ROOM)
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors("deleteRoom", Expect::delete(&room_path()), |c| async move {
            c.delete_room()
                .location_id(LOCATION)
                .room_id(ROOM)
                .send()
                .await
        })
        .await;
    }
}
