//! Schedules of an installed app: recurring (cron) and one-time runs.

use serde_json::json;
use smartthings_ext::types::{CreateScheduleRequest, CronScheduleInput, OnceScheduleInput};
use smartthings_ext::{LenientItems, collect_all};
use smartthings_httpmock::MockServerExt;

use crate::harness::{Expect, check_declared_errors, client, typed};

const LOCATION: &str = "95efee9b-6073-4871-b5ba-de6642187293";
const INSTALLED: &str = "5336bd07-435f-4f1c-9d7d-a1f3a4b54a8e";

fn schedules_path() -> String {
    format!("/installedapps/{INSTALLED}/schedules")
}

/// A daily cron schedule as the API returns it.
fn cron_schedule(name: &str) -> serde_json::Value {
    json!({
        "installedAppId": INSTALLED,
        "locationId": LOCATION,
        "name": name,
        "cron": {"expression": "35 16 * * ? *", "timezone": "America/Chicago"},
        "scheduledExecutions": [1796164500000i64, 1796250900000i64]
    })
}

fn cron_body() -> serde_json::Value {
    json!({
        "name": "sunset-check",
        "cron": {"expression": "35 16 * * ? *", "timezone": "America/Chicago"}
    })
}

fn cron_request() -> CreateScheduleRequest {
    CreateScheduleRequest {
        name: "sunset-check".into(),
        cron: Some(CronScheduleInput {
            expression: "35 16 * * ? *".into(),
            timezone: "America/Chicago".into(),
        }),
        once: None,
    }
}

mod list_schedules {
    use super::*;

    #[tokio::test]
    async fn decodes_cron_and_once_schedules() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&schedules_path());
        let mock = server.list_schedules(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [
                    cron_schedule("sunset-check"),
                    {
                        "installedAppId": INSTALLED,
                        "locationId": LOCATION,
                        "name": "porch-off",
                        "once": {"time": 1796169600000i64, "overwrite": true},
                        "scheduledExecutions": [1796169600000i64]
                    }
                ],
                "_links": {}
            })));
        });
        let page = client(&server)
            .list_schedules()
            .installed_app_id(INSTALLED)
            .send()
            .await
            .unwrap();
        mock.assert();
        let schedules: Vec<_> = page.items.as_deref().unwrap().valid().cloned().collect();
        assert_eq!(schedules.len(), 2);
        let cron = schedules[0].cron.clone().unwrap();
        assert_eq!(cron.expression.as_deref(), Some("35 16 * * ? *"));
        assert_eq!(cron.timezone.as_deref(), Some("America/Chicago"));
        assert_eq!(
            schedules[0].scheduled_executions.as_deref(),
            Some(&[1796164500000, 1796250900000][..])
        );
        let once = schedules[1].once.clone().unwrap();
        assert_eq!(once.time, Some(1796169600000));
        assert_eq!(once.overwrite, Some(true));
    }

    #[tokio::test]
    async fn items_follows_the_next_page() {
        let server = httpmock::MockServer::start_async().await;
        let first = Expect::get(&schedules_path());
        let second = Expect::get(&schedules_path()).query("page", "1");
        let next = format!("{}{}?page=1", server.base_url(), schedules_path());
        let first_page = server.list_schedules(|when, then| {
            first.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [cron_schedule("sunset-check")],
                "_links": {"next": {"href": next}}
            })));
        });
        let second_page = server.list_schedules(|when, then| {
            second.apply(when.into_inner());
            then.ok(&typed(json!({
                "items": [cron_schedule("sunrise-check")],
                "_links": {}
            })));
        });
        let c = client(&server);
        let listing = collect_all(c.list_schedules().installed_app_id(INSTALLED).items())
            .await
            .unwrap();
        first_page.assert();
        second_page.assert();
        let names: Vec<_> = listing
            .items
            .iter()
            .map(|s| s.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["sunset-check", "sunrise-check"]);
        assert!(listing.invalid.is_empty());
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "listSchedules",
            Expect::get(&schedules_path()),
            |c| async move { c.list_schedules().installed_app_id(INSTALLED).send().await },
        )
        .await;
    }
}

mod create_schedule {
    use super::*;

    #[tokio::test]
    async fn posts_a_cron_schedule() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post(&schedules_path()).body(cron_body());
        let mock = server.create_schedule(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(cron_schedule("sunset-check")));
        });
        let created = client(&server)
            .create_schedule()
            .installed_app_id(INSTALLED)
            .body(cron_request())
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(created.name.as_deref(), Some("sunset-check"));
        assert_eq!(created.installed_app_id.as_deref(), Some(INSTALLED));
        assert_eq!(created.scheduled_executions.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn posts_a_one_time_schedule() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::post(&schedules_path()).body(json!({
            "name": "porch-off",
            "once": {"time": 1796169600000i64, "overwrite": true}
        }));
        let mock = server.create_schedule(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(json!({
                "installedAppId": INSTALLED,
                "locationId": LOCATION,
                "name": "porch-off",
                "once": {"time": 1796169600000i64, "overwrite": true},
                "scheduledExecutions": [1796169600000i64]
            })));
        });
        let created = client(&server)
            .create_schedule()
            .installed_app_id(INSTALLED)
            .body(CreateScheduleRequest {
                name: "porch-off".into(),
                cron: None,
                once: Some(OnceScheduleInput {
                    time: 1796169600000,
                    overwrite: Some(true),
                }),
            })
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(created.once.unwrap().time, Some(1796169600000));
        assert_eq!(created.scheduled_executions.unwrap(), [1796169600000]);
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "createSchedule",
            Expect::post(&schedules_path()).body(cron_body()),
            |c| async move {
                c.create_schedule()
                    .installed_app_id(INSTALLED)
                    .body(cron_request())
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod delete_all_schedules {
    use super::*;

    #[tokio::test]
    async fn deletes_every_schedule_of_the_app() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete(&schedules_path());
        let mock = server.delete_all_schedules(|when, then| {
            expect.apply(when.into_inner());
            then.ok().into_inner().json_body(json!({}));
        });
        let () = client(&server)
            .delete_all_schedules()
            .installed_app_id(INSTALLED)
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "deleteAllSchedules",
            Expect::delete(&schedules_path()),
            |c| async move {
                c.delete_all_schedules()
                    .installed_app_id(INSTALLED)
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod get_schedule {
    use super::*;

    #[tokio::test]
    async fn gets_by_an_encoded_name() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::get(&format!("{}/evening%20check", schedules_path()));
        let mock = server.get_schedule(|when, then| {
            expect.apply(when.into_inner());
            then.ok(&typed(cron_schedule("evening check")));
        });
        let schedule = client(&server)
            .get_schedule()
            .installed_app_id(INSTALLED)
            .schedule_name("evening check")
            .send()
            .await
            .unwrap();
        mock.assert();
        assert_eq!(schedule.name.as_deref(), Some("evening check"));
        assert_eq!(schedule.location_id.as_deref(), Some(LOCATION));
        assert_eq!(
            schedule.cron.unwrap().expression.as_deref(),
            Some("35 16 * * ? *")
        );
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "getSchedule",
            Expect::get(&format!("{}/sunset-check", schedules_path())),
            |c| async move {
                c.get_schedule()
                    .installed_app_id(INSTALLED)
                    .schedule_name("sunset-check")
                    .send()
                    .await
            },
        )
        .await;
    }
}

mod delete_schedule {
    use super::*;

    #[tokio::test]
    async fn deletes_one_schedule() {
        let server = httpmock::MockServer::start_async().await;
        let expect = Expect::delete(&format!("{}/sunset-check", schedules_path()));
        let mock = server.delete_schedule(|when, then| {
            expect.apply(when.into_inner());
            then.ok().into_inner().json_body(json!({}));
        });
        let () = client(&server)
            .delete_schedule()
            .installed_app_id(INSTALLED)
            .schedule_name("sunset-check")
            .send()
            .await
            .unwrap();
        mock.assert();
    }

    #[tokio::test]
    async fn declared_errors() {
        check_declared_errors(
            "deleteSchedule",
            Expect::delete(&format!("{}/sunset-check", schedules_path())),
            |c| async move {
                c.delete_schedule()
                    .installed_app_id(INSTALLED)
                    .schedule_name("sunset-check")
                    .send()
                    .await
            },
        )
        .await;
    }
}
