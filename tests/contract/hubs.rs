//! Hubs: the record, its characteristics, the Edge drivers installed on it
//! (list, get, install, uninstall, switch a device's driver) and the driver
//! channels it is enrolled in.

use serde_json::json;
use smartthings_ext::LenientItems;
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const HUB: &str = "d3f4e5a6-b7c8-4d9e-8f0a-2b3c4d5e6f70";
const LOCATION: &str = "95efee9b-6073-4871-b5ba-de6642187293";
const DRIVER: &str = "e4a5f6b7-c8d9-4e0f-9a1b-3c4d5e6f7a81";
const CHANNEL: &str = "f5b6a7c8-d9e0-4f1a-8b2c-4d5e6f7a8b92";
const DEVICE: &str = "80e26532-85d4-484c-b012-1c04f3d35f95";

fn driver(id: &str, name: &str) -> serde_json::Value {
    json!({
        "driverId": id,
        "name": name,
        "description": "Zigbee switches and outlets",
        "version": "2026-10-14T21:08:39.317213427",
        "channelId": CHANNEL,
        "developer": "SmartThings",
        "vendorSupportInformation": "https://support.smartthings.com",
        "permissions": {"zigbee": {}, "interfaces": {"discovery": {}}}
    })
}

mod get_hub {
    use super::*;

    #[tokio::test]
    async fn gets_the_hub_record() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/hubdevices/{HUB}"));
        let mock = server.get_hub(|when, then| {
            expect.apply(when.hub_id(HUB).into_inner());
            then.ok(&typed(json!({
                "id": HUB,
                "name": "SmartThings v3 Hub",
                "eui": "D052A8A1B2C3D4E5",
                "owner": LOCATION,
                "serialNumber": "R3AK4B5C6D7",
                "firmwareVersion": "000.056.00005"
            })));
        });
        let hub = client(&server).get_hub().hub_id(HUB).send().await.unwrap();
        mock.assert();
        assert_eq!(hub.id.as_deref(), Some(HUB));
        assert_eq!(hub.eui.as_deref(), Some("D052A8A1B2C3D4E5"));
        assert_eq!(hub.firmware_version.as_deref(), Some("000.056.00005"));
        assert_eq!(hub.serial_number.as_deref(), Some("R3AK4B5C6D7"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getHub",
            Expect::get(&format!("/hubdevices/{HUB}")),
            |c| async move { c.get_hub().hub_id(HUB).send().await },
        )
        .await;
    }
}

mod get_hub_characteristics {
    use super::*;

    #[tokio::test]
    async fn keeps_every_characteristic() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/hubdevices/{HUB}/characteristics"));
        let mock = server.get_hub_characteristics(|when, then| {
            expect.apply(when.hub_id(HUB).into_inner());
            then.ok(&typed(json!({
                "zigbeeEui": "286D97000100A2B3",
                "zigbeeChannel": "20",
                "zigbeeUnsecureRejoin": false,
                "zwaveRegion": "US",
                "zwaveHomeId": "E1A2B3C4",
                "matterCommissionedFabrics": 2,
                "localIP": "192.168.1.23"
            })));
        });
        let characteristics = client(&server)
            .get_hub_characteristics()
            .hub_id(HUB)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(characteristics.len(), 7);
        assert_eq!(characteristics["zwaveRegion"], "US");
        assert_eq!(characteristics["zigbeeUnsecureRejoin"], false);
        assert_eq!(characteristics["matterCommissionedFabrics"], 2);
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getHubCharacteristics",
            Expect::get(&format!("/hubdevices/{HUB}/characteristics")),
            |c| async move { c.get_hub_characteristics().hub_id(HUB).send().await },
        )
        .await;
    }
}

mod list_hub_installed_drivers {
    use super::*;

    #[tokio::test]
    async fn lists_the_drivers_matching_a_device() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/hubdevices/{HUB}/drivers")).query("deviceId", DEVICE);
        let mock = server.list_hub_installed_drivers(|when, then| {
            expect.apply(when.hub_id(HUB).device_id(DEVICE).into_inner());
            then.ok(&typed(json!([
                driver(DRIVER, "Zigbee Switch"),
                driver(
                    "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                    "Zigbee Switch Power"
                )
            ])));
        });
        let drivers = client(&server)
            .list_hub_installed_drivers()
            .hub_id(HUB)
            .device_id(DEVICE)
            .send()
            .await
            .unwrap();
        mock.assert();
        let names: Vec<_> = drivers.valid().filter_map(|d| d.name.clone()).collect();
        assert_eq!(names, ["Zigbee Switch", "Zigbee Switch Power"]);
        let first = drivers.valid().next().unwrap();
        assert_eq!(first.channel_id.as_deref(), Some(CHANNEL));
        assert!(first.permissions.as_ref().unwrap().contains_key("zigbee"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listHubInstalledDrivers",
            Expect::get(&format!("/hubdevices/{HUB}/drivers")),
            |c| async move { c.list_hub_installed_drivers().hub_id(HUB).send().await },
        )
        .await;
    }
}

mod get_hub_device_driver {
    use super::*;

    #[tokio::test]
    async fn gets_one_installed_driver() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/hubdevices/{HUB}/drivers/{DRIVER}"));
        let mock = server.get_hub_device_driver(|when, then| {
            expect.apply(when.hub_id(HUB).driver_id(DRIVER).into_inner());
            then.ok(&typed(driver(DRIVER, "Zigbee Switch")));
        });
        let installed = client(&server)
            .get_hub_device_driver()
            .hub_id(HUB)
            .driver_id(DRIVER)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(installed.driver_id.as_deref(), Some(DRIVER));
        assert_eq!(
            installed.version.as_deref(),
            Some("2026-10-14T21:08:39.317213427")
        );
        assert_eq!(installed.developer.as_deref(), Some("SmartThings"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getHubDeviceDriver",
            Expect::get(&format!("/hubdevices/{HUB}/drivers/{DRIVER}")),
            |c| async move {
                c.get_hub_device_driver()
                    .hub_id(HUB)
                    .driver_id(DRIVER)
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod install_drivers {
    use super::*;

    #[tokio::test]
    async fn puts_the_channel_to_install_from() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(&format!("/hubdevices/{HUB}/drivers/{DRIVER}"))
            .body(json!({"channelId": CHANNEL}));
        let mock = server.install_drivers(|when, then| {
            expect.apply(when.hub_id(HUB).driver_id(DRIVER).into_inner());
            then.ok();
        });
        // `()`: the 200 was accepted.
        let () = client(&server)
            .install_drivers()
            .hub_id(HUB)
            .driver_id(DRIVER)
            .body_map(|b| b.channel_id(CHANNEL))
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "installDrivers",
            Expect::put(&format!("/hubdevices/{HUB}/drivers/{DRIVER}"))
                .body(json!({"channelId": CHANNEL})),
            |c| async move {
                c.install_drivers()
                    .hub_id(HUB)
                    .driver_id(DRIVER)
                    .body_map(|b| b.channel_id(CHANNEL))
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod uninstall_driver {
    use super::*;

    #[tokio::test]
    async fn deletes_and_accepts_the_empty_object() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete(&format!("/hubdevices/{HUB}/drivers/{DRIVER}"));
        let mock = server.uninstall_driver(|when, then| {
            expect.apply(when.hub_id(HUB).driver_id(DRIVER).into_inner());
            then.ok().into_inner().json_body(json!({}));
        });
        let () = client(&server)
            .uninstall_driver()
            .hub_id(HUB)
            .driver_id(DRIVER)
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "uninstallDriver",
            Expect::delete(&format!("/hubdevices/{HUB}/drivers/{DRIVER}")),
            |c| async move {
                c.uninstall_driver()
                    .hub_id(HUB)
                    .driver_id(DRIVER)
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod update_hub_device {
    use super::*;

    #[tokio::test]
    async fn patches_the_driver_forcing_the_update() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::patch(&format!("/hubdevices/{HUB}/childdevice/{DEVICE}"))
            .query("forceUpdate", "true")
            .body(json!({"driverId": DRIVER}));
        let mock = server.update_hub_device(|when, then| {
            expect.apply(
                when.hub_id(HUB)
                    .device_id(DEVICE)
                    .force_update(true)
                    .into_inner(),
            );
            then.ok();
        });
        // `()`: the 200 was accepted.
        let () = client(&server)
            .update_hub_device()
            .hub_id(HUB)
            .device_id(DEVICE)
            .force_update(true)
            .body_map(|b| b.driver_id(DRIVER))
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn omits_force_update_when_unset() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::patch(&format!("/hubdevices/{HUB}/childdevice/{DEVICE}"))
            .body(json!({"driverId": DRIVER}));
        let mock = server.update_hub_device(|when, then| {
            expect.apply(when.into_inner());
            then.ok();
        });
        let () = client(&server)
            .update_hub_device()
            .hub_id(HUB)
            .device_id(DEVICE)
            .body_map(|b| b.driver_id(DRIVER))
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateHubDevice",
            Expect::patch(&format!("/hubdevices/{HUB}/childdevice/{DEVICE}"))
                .body(json!({"driverId": DRIVER})),
            |c| async move {
                c.update_hub_device()
                    .hub_id(HUB)
                    .device_id(DEVICE)
                    .body_map(|b| b.driver_id(DRIVER))
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod list_hub_enrolled_channels {
    use super::*;

    #[tokio::test]
    async fn lists_the_driver_channels() {
        let server = httpmock::MockServer::start_async().await;
        let expect =
            Expect::get(&format!("/hubdevices/{HUB}/channels")).query("channelType", "DRIVERS");
        let mock = server.list_hub_enrolled_channels(|when, then| {
            expect.apply(when.hub_id(HUB).channel_type("DRIVERS").into_inner());
            then.ok(&typed(json!([
                {
                    "channelId": CHANNEL,
                    "name": "SmartThings Beta Drivers",
                    "description": "Drivers in beta",
                    "createdDate": "2024-02-01T10:11:12.000Z",
                    "lastModifiedDate": "2026-10-14T21:08:39.000Z",
                    "subscriptionUrl": format!("https://bestow-regional.api.smartthings.com/invite/{CHANNEL}")
                },
                {"channelId": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5e", "name": "Community drivers"}
            ])));
        });
        let channels = client(&server)
            .list_hub_enrolled_channels()
            .hub_id(HUB)
            .channel_type("DRIVERS")
            .send()
            .await
            .unwrap();
        mock.assert();
        let channels: Vec<_> = channels.valid().collect();
        assert_eq!(channels.len(), 2);
        assert_eq!(
            channels[0].last_modified_date.as_deref(),
            Some("2026-10-14T21:08:39.000Z")
        );
        assert!(
            channels[0]
                .subscription_url
                .as_deref()
                .unwrap()
                .ends_with(CHANNEL)
        );
        assert_eq!(channels[1].name.as_deref(), Some("Community drivers"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listHubEnrolledChannels",
            Expect::get(&format!("/hubdevices/{HUB}/channels")),
            |c| async move { c.list_hub_enrolled_channels().hub_id(HUB).send().await },
        )
        .await;
    }
}
