//! Managing SmartApps: create, update, delete, OAuth client, settings,
//! registration (`listApps` and `getApp` are in automations.rs).

use serde_json::json;
use smartthings_ext::OpenEnum;
use smartthings_ext::types::{
    ApiOnlyAppRequest, AppAppType, AppIconImageInput, AppOAuthInput, AppOwnerOwnerType,
    AppSettingsInput, AppUiSettingsInput, CreateAppRequest, CreateAppRequestAppType,
    CreateAppRequestClassificationsItem, CreateAppRequestOauth, CreateAppRequestPrincipalType,
    CreateAppSignatureType, GenerateAppOAuthRequest, UpdateAppRequest, UpdateAppRequestAppType,
    UpdateAppRequestClassificationsItem, WebhookSmartAppInput, WebhookSmartAppInputSignatureType,
    WebhookSmartAppTargetStatus,
};
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const APP: &str = "e6d9bc06-61a5-4ae3-9c43-0c1a8b1ad3c1";
const OWNER: &str = "3c4a5f0e-2b1d-4e8f-9a7b-6c5d4e3f2a10";
const TARGET: &str = "https://lights.example.com/smartapp";
const SCOPES: [&str; 3] = ["r:devices:*", "x:devices:*", "r:locations:*"];
const REDIRECT: &str = "https://lights.example.com/oauth/callback";

fn scopes() -> Vec<String> {
    SCOPES.iter().map(|s| (*s).to_owned()).collect()
}

/// A webhook app as the CLI creates it, with its OAuth client.
fn create_body() -> serde_json::Value {
    json!({
        "appName": "evening-lights-7d1e",
        "displayName": "Evening Lights",
        "description": "Turns the porch lights on at sunset",
        "appType": "WEBHOOK_SMART_APP",
        "classifications": ["AUTOMATION"],
        "singleInstance": false,
        "iconImage": {"url": "https://lights.example.com/icon.png"},
        "webhookSmartApp": {"targetUrl": TARGET, "signatureType": "ST_PADLOCK"},
        "principalType": "LOCATION",
        "oauth": {
            "clientName": "Evening Lights",
            "scope": SCOPES,
            "redirectUris": [REDIRECT]
        }
    })
}

fn create_request() -> CreateAppRequest {
    CreateAppRequest {
        app_name: "evening-lights-7d1e".into(),
        display_name: "Evening Lights".into(),
        description: "Turns the porch lights on at sunset".into(),
        app_type: CreateAppRequestAppType::WebhookSmartApp,
        classifications: vec![CreateAppRequestClassificationsItem::Automation],
        single_instance: Some(false),
        icon_image: Some(AppIconImageInput {
            url: Some("https://lights.example.com/icon.png".into()),
        }),
        webhook_smart_app: Some(WebhookSmartAppInput {
            target_url: TARGET.into(),
            signature_type: Some(WebhookSmartAppInputSignatureType::StPadlock),
            target_status: None,
            public_key: None,
        }),
        principal_type: Some(CreateAppRequestPrincipalType::Location),
        oauth: Some(CreateAppRequestOauth {
            client_name: Some("Evening Lights".into()),
            scope: scopes(),
            redirect_uris: vec![REDIRECT.into()],
        }),
        lambda_smart_app: None,
        api_only: None,
        ui: None,
    }
}

/// The app as the API returns it (core-sdk's AppResponse).
fn app_response() -> serde_json::Value {
    json!({
        "appName": "evening-lights-7d1e",
        "appId": APP,
        "appType": "WEBHOOK_SMART_APP",
        "principalType": "LOCATION",
        "classifications": ["AUTOMATION"],
        "displayName": "Evening Lights",
        "description": "Turns the porch lights on at sunset",
        "singleInstance": false,
        "iconImage": {"url": "https://lights.example.com/icon.png"},
        "installMetadata": {"certified": "false", "maxInstalls": "1"},
        "owner": {"ownerType": "USER", "ownerId": OWNER},
        "createdDate": "2026-11-30T18:02:11Z",
        "lastUpdatedDate": "2026-11-30T18:02:11Z",
        "webhookSmartApp": {
            "targetUrl": TARGET,
            "targetStatus": "PENDING",
            "publicKey": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n",
            "signatureType": "ST_PADLOCK"
        },
        "ui": {
            "pluginId": "plugin-7d1e",
            "dashboardCardsEnabled": false,
            "preInstallDashboardCardsEnabled": false
        }
    })
}

mod create_app {
    use super::*;

    fn expect() -> Expect {
        // core-sdk's AppsEndpoint.create: a webhook app goes with
        // requireConfirmation=true and its signature type as query parameters.
        Expect::post("/apps")
            .query("requireConfirmation", "true")
            .query("signatureType", "ST_PADLOCK")
            .body(create_body())
    }

    #[tokio::test]
    async fn posts_a_webhook_app_and_decodes_its_credentials() {
        let server = httpmock::MockServer::start_async().await;
        let expect = expect();
        let mock = server.create_app(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "app": app_response(),
                "oauthClientId": "7f1c2b3a-0d9e-4c8b-a7f6-e5d4c3b2a190",
                "oauthClientSecret": "0b6d7c1e-9f2a-4b3c-8d5e-6f7a8b9c0d1e"
            })));
        });
        let created = client(&server)
            .create_app()
            .require_confirmation(true)
            .signature_type(CreateAppSignatureType::StPadlock)
            .body(create_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(
            created.oauth_client_secret.as_deref(),
            Some("0b6d7c1e-9f2a-4b3c-8d5e-6f7a8b9c0d1e")
        );
        let app = created.app.unwrap();
        assert_eq!(app.app_id.as_deref(), Some(APP));
        assert_eq!(
            app.app_type,
            Some(OpenEnum::Known(AppAppType::WebhookSmartApp))
        );
        let webhook = app.webhook_smart_app.unwrap();
        assert_eq!(
            webhook.target_status,
            Some(OpenEnum::Known(WebhookSmartAppTargetStatus::Pending))
        );
        assert!(webhook.public_key.unwrap().starts_with("-----BEGIN"));
        assert_eq!(
            app.owner.unwrap().owner_type,
            Some(OpenEnum::Known(AppOwnerOwnerType::User))
        );
        assert_eq!(app.install_metadata.unwrap()["maxInstalls"], "1");
        assert_eq!(app.ui.unwrap().plugin_id.as_deref(), Some("plugin-7d1e"));
    }

    #[tokio::test]
    async fn posts_an_api_only_app_without_query_parameters() {
        let server = httpmock::MockServer::start_async().await;
        let body = json!({
            "appName": "home-dashboard-42",
            "displayName": "Home Dashboard",
            "description": "Reads device states for a wall dashboard",
            "appType": "API_ONLY",
            "classifications": ["CONNECTED_SERVICE"],
            "apiOnly": {"targetUrl": "https://dash.example.com/events"},
            "principalType": "USER_LEVEL",
            "oauth": {"clientName": "Home Dashboard", "scope": ["r:devices:*"]}
        });
        let expect = Expect::post("/apps").body(body);
        let mock = server.create_app(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "app": {
                    "appName": "home-dashboard-42",
                    "appId": "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
                    "appType": "API_ONLY",
                    "principalType": "USER_LEVEL",
                    "apiOnly": {"subscription": {"targetUrl": "https://dash.example.com/events", "targetStatus": "PENDING"}}
                },
                "oauthClientId": "client-42",
                "oauthClientSecret": "secret-42"
            })));
        });
        let created = client(&server)
            .create_app()
            .body(CreateAppRequest {
                app_name: "home-dashboard-42".into(),
                display_name: "Home Dashboard".into(),
                description: "Reads device states for a wall dashboard".into(),
                app_type: CreateAppRequestAppType::ApiOnly,
                classifications: vec![CreateAppRequestClassificationsItem::ConnectedService],
                api_only: Some(ApiOnlyAppRequest {
                    target_url: Some("https://dash.example.com/events".into()),
                }),
                principal_type: Some(CreateAppRequestPrincipalType::UserLevel),
                oauth: Some(CreateAppRequestOauth {
                    client_name: Some("Home Dashboard".into()),
                    scope: vec!["r:devices:*".into()],
                    redirect_uris: Vec::new(),
                }),
                single_instance: None,
                icon_image: None,
                lambda_smart_app: None,
                webhook_smart_app: None,
                ui: None,
            })
            .send()
            .await
            .unwrap();
        mock.assert();
        let subscription = created.app.unwrap().api_only.unwrap().subscription.unwrap();
        assert_eq!(
            subscription.target_url.as_deref(),
            Some("https://dash.example.com/events")
        );
        assert_eq!(created.oauth_client_id.as_deref(), Some("client-42"));
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors("createApp", expect(), |c| async move {
            c.create_app()
                .require_confirmation(true)
                .signature_type(CreateAppSignatureType::StPadlock)
                .body(create_request())
                .send()
                .await
        })
        .await;
    }
}

fn update_body() -> serde_json::Value {
    json!({
        "appName": "evening-lights-7d1e",
        "displayName": "Evening Lights",
        "description": "Turns the porch and garden lights on at sunset",
        "appType": "WEBHOOK_SMART_APP",
        "classifications": ["AUTOMATION"],
        "singleInstance": true,
        "webhookSmartApp": {"targetUrl": TARGET},
        "ui": {"dashboardCardsEnabled": true, "preInstallDashboardCardsEnabled": false}
    })
}

fn update_request() -> UpdateAppRequest {
    UpdateAppRequest {
        app_name: "evening-lights-7d1e".into(),
        display_name: "Evening Lights".into(),
        description: "Turns the porch and garden lights on at sunset".into(),
        app_type: UpdateAppRequestAppType::WebhookSmartApp,
        classifications: vec![UpdateAppRequestClassificationsItem::Automation],
        single_instance: Some(true),
        webhook_smart_app: Some(WebhookSmartAppInput {
            target_url: TARGET.into(),
            signature_type: None,
            target_status: None,
            public_key: None,
        }),
        ui: Some(AppUiSettingsInput {
            dashboard_cards_enabled: true,
            pre_install_dashboard_cards_enabled: false,
            plugin_id: None,
            plugin_uri: None,
        }),
        icon_image: None,
        lambda_smart_app: None,
        api_only: None,
    }
}

mod update_app {
    use super::*;

    #[tokio::test]
    async fn puts_the_new_definition() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(&format!("/apps/{APP}")).body(update_body());
        let mock = server.update_app(|when, then| {
            expect.apply(when.into_inner());
            let mut app = app_response();
            app["description"] = json!("Turns the porch and garden lights on at sunset");
            app["singleInstance"] = json!(true);
            app["ui"] =
                json!({"dashboardCardsEnabled": true, "preInstallDashboardCardsEnabled": false});
            app["lastUpdatedDate"] = json!("2026-12-01T07:45:00Z");
            then.ok(&typed(app));
        });
        let app = client(&server)
            .update_app()
            .app_id(APP)
            .body(update_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(app.single_instance, Some(true));
        assert_eq!(app.ui.unwrap().dashboard_cards_enabled, Some(true));
        assert_eq!(
            app.last_updated_date.as_deref(),
            Some("2026-12-01T07:45:00Z")
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateApp",
            Expect::put(&format!("/apps/{APP}")).body(update_body()),
            |c| async move {
                c.update_app()
                    .app_id(APP)
                    .body(update_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod delete_app {
    use super::*;

    #[tokio::test]
    async fn deletes_by_name() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete("/apps/evening-lights-7d1e");
        let mock = server.delete_app(|when, then| {
            expect.apply(when.into_inner());
            then.ok().into_inner().json_body(json!({}));
        });
        let () = client(&server)
            .delete_app()
            .app_id("evening-lights-7d1e")
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "deleteApp",
            Expect::delete(&format!("/apps/{APP}")),
            |c| async move { c.delete_app().app_id(APP).send().await },
        )
        .await;
    }
}

fn oauth_body() -> serde_json::Value {
    json!({
        "clientName": "Evening Lights",
        "scope": SCOPES,
        "redirectUris": [REDIRECT, "https://lights.example.com/oauth/callback2"]
    })
}

fn oauth_request() -> AppOAuthInput {
    AppOAuthInput {
        client_name: "Evening Lights".into(),
        scope: scopes(),
        redirect_uris: vec![
            REDIRECT.into(),
            "https://lights.example.com/oauth/callback2".into(),
        ],
    }
}

mod get_app_oauth {
    use super::*;

    #[tokio::test]
    async fn decodes_the_oauth_client() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/apps/{APP}/oauth"));
        let mock = server.get_app_oauth(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "clientName": "Evening Lights",
                "scope": SCOPES,
                "redirectUris": [REDIRECT]
            })));
        });
        let oauth = client(&server)
            .get_app_oauth()
            .app_id(APP)
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(oauth.client_name.as_deref(), Some("Evening Lights"));
        assert_eq!(oauth.scope.unwrap(), scopes());
        assert_eq!(oauth.redirect_uris.unwrap(), [REDIRECT]);
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getAppOauth",
            Expect::get(&format!("/apps/{APP}/oauth")),
            |c| async move { c.get_app_oauth().app_id(APP).send().await },
        )
        .await;
    }
}

mod update_app_oauth {
    use super::*;

    #[tokio::test]
    async fn puts_the_oauth_client() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(&format!("/apps/{APP}/oauth")).body(oauth_body());
        let mock = server.update_app_oauth(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(oauth_body()));
        });
        let oauth = client(&server)
            .update_app_oauth()
            .app_id(APP)
            .body(oauth_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(oauth.redirect_uris.unwrap().len(), 2);
        assert_eq!(oauth.scope.unwrap()[1], "x:devices:*");
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateAppOauth",
            Expect::put(&format!("/apps/{APP}/oauth")).body(oauth_body()),
            |c| async move {
                c.update_app_oauth()
                    .app_id(APP)
                    .body(oauth_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

fn generate_body() -> serde_json::Value {
    json!({"clientName": "Evening Lights", "scope": SCOPES})
}

fn generate_request() -> GenerateAppOAuthRequest {
    GenerateAppOAuthRequest {
        client_name: "Evening Lights".into(),
        scope: scopes(),
    }
}

mod generate_st_oauth_credentials {
    use super::*;

    #[tokio::test]
    async fn posts_the_client_and_decodes_new_credentials() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post(&format!("/apps/{APP}/oauth/generate")).body(generate_body());
        let mock = server.generate_st_oauth_credentials(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "oauthClientDetails": {
                    "clientName": "Evening Lights",
                    "scope": SCOPES,
                    "redirectUris": [REDIRECT]
                },
                "oauthClientId": "9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a",
                "oauthClientSecret": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
            })));
        });
        let generated = client(&server)
            .generate_st_oauth_credentials()
            .app_id(APP)
            .body(generate_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(
            generated.oauth_client_id.as_deref(),
            Some("9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a")
        );
        assert_eq!(
            generated.oauth_client_secret.as_deref(),
            Some("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
        );
        let details = generated.oauth_client_details.unwrap();
        assert_eq!(details.redirect_uris.unwrap(), [REDIRECT]);
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "generateStOauthCredentials",
            Expect::post(&format!("/apps/{APP}/oauth/generate")).body(generate_body()),
            |c| async move {
                c.generate_st_oauth_credentials()
                    .app_id(APP)
                    .body(generate_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

fn settings_body() -> serde_json::Value {
    json!({"settings": {"weatherApiKey": "k-5521", "region": "eu-west"}})
}

fn settings_request() -> AppSettingsInput {
    AppSettingsInput {
        settings: [("weatherApiKey", "k-5521"), ("region", "eu-west")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    }
}

mod get_app_settings {
    use super::*;

    #[tokio::test]
    async fn decodes_the_settings() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("/apps/{APP}/settings"));
        let mock = server.get_app_settings(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(settings_body()));
        });
        let settings = client(&server)
            .get_app_settings()
            .app_id(APP)
            .send()
            .await
            .unwrap();
        mock.assert();
        let settings = settings.settings.unwrap();
        assert_eq!(settings.len(), 2);
        assert_eq!(settings["weatherApiKey"], "k-5521");
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getAppSettings",
            Expect::get(&format!("/apps/{APP}/settings")),
            |c| async move { c.get_app_settings().app_id(APP).send().await },
        )
        .await;
    }
}

mod update_app_settings {
    use super::*;

    #[tokio::test]
    async fn puts_the_settings() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(&format!("/apps/{APP}/settings")).body(settings_body());
        let mock = server.update_app_settings(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(settings_body()));
        });
        let settings = client(&server)
            .update_app_settings()
            .app_id(APP)
            .body(settings_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(settings.settings.unwrap()["region"], "eu-west");
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "updateAppSettings",
            Expect::put(&format!("/apps/{APP}/settings")).body(settings_body()),
            |c| async move {
                c.update_app_settings()
                    .app_id(APP)
                    .body(settings_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod register {
    use super::*;

    #[tokio::test]
    async fn puts_without_a_body() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::put(&format!("/apps/{APP}/register"));
        let mock = server.register(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({})));
        });
        let registered = client(&server).register().app_id(APP).send().await.unwrap();
        mock.assert();
        assert!(registered.is_empty());
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "register",
            Expect::put(&format!("/apps/{APP}/register")),
            |c| async move { c.register().app_id(APP).send().await },
        )
        .await;
    }
}
