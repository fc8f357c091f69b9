//! Push notifications to the mobile apps of a location.

use std::collections::BTreeMap;

use serde_json::json;
use smartthings_ext::types::{
    NotificationDeepLink, NotificationDeepLinkType, NotificationMessage, NotificationReplacement,
    NotificationRequest, NotificationRequestType,
};
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const LOCATION: &str = "95efee9b-6073-4871-b5ba-de6642187293";
const DEVICE: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

fn notification_body() -> serde_json::Value {
    json!({
        "locationId": LOCATION,
        "type": "ALERT",
        "messages": [
            {"default": {"title": "Front door", "body": "${System.locationNickname}: the front door is open"}},
            {"ko_KR": {"title": "현관문", "body": "${System.locationNickname}: 현관문이 열려 있습니다"}}
        ],
        "replacements": [{"key": "${System.locationNickname}", "value": "Home"}],
        "deepLink": {"type": "device", "id": DEVICE},
        "imageUrl": "https://lights.example.com/door.png"
    })
}

fn message(locale: &str, title: &str, body: &str) -> BTreeMap<String, NotificationMessage> {
    BTreeMap::from([(
        locale.to_owned(),
        NotificationMessage {
            title: Some(title.to_owned()),
            body: Some(body.to_owned()),
        },
    )])
}

fn notification_request() -> NotificationRequest {
    NotificationRequest {
        location_id: Some(LOCATION.into()),
        type_: NotificationRequestType::Alert,
        messages: vec![
            message(
                "default",
                "Front door",
                "${System.locationNickname}: the front door is open",
            ),
            message(
                "ko_KR",
                "현관문",
                "${System.locationNickname}: 현관문이 열려 있습니다",
            ),
        ],
        replacements: vec![NotificationReplacement {
            key: Some("${System.locationNickname}".into()),
            value: Some("Home".into()),
        }],
        deep_link: Some(NotificationDeepLink {
            type_: NotificationDeepLinkType::Device,
            id: DEVICE.into(),
        }),
        image_url: Some("https://lights.example.com/door.png".into()),
    }
}

mod create_notification {
    use super::*;

    #[tokio::test]
    async fn posts_the_localised_notification() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post("/notification").body(notification_body());
        let mock = server.create_notification(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({"code": 200, "message": "Notification sent"})));
        });
        let sent = client(&server)
            .create_notification()
            .body(notification_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(sent.code, Some(200));
        assert_eq!(sent.message.as_deref(), Some("Notification sent"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createNotification",
            Expect::post("/notification").body(notification_body()),
            |c| async move {
                c.create_notification()
                    .body(notification_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}
