//! What each command does.

use std::io::{IsTerminal, Read};

use anyhow::{Context, Result};
use clap::CommandFactory;
use comfy_table::Table;
use serde_json::{Value, json};
use smartthings::ResponseValue;
use smartthings::types::{CreateLocationRequest, CreateRuleRequest, ErrorBody};
use smartthings_ext::{
    Command as DeviceCommand, DeviceQuery, DeviceStatus, SmartThings, SnapshotOptions, Token,
    collect_all,
};
use smartthings_sim::{Home, Simulator};

use crate::cli::{
    Cli, Command, ConfigAction, DeviceAction, DevicesArgs, ExportFormat, Format, LocationAction,
    LocationFields, RuleAction, SceneAction,
};
use crate::config;
use crate::output::{cell, emit, table};

/// The result of a generated call, with this crate's error.
async fn api<T>(
    result: Result<ResponseValue<T>, smartthings::Error<ErrorBody>>,
) -> Result<T, smartthings_ext::Error> {
    match result {
        Ok(value) => Ok(value.into_inner()),
        Err(e) => Err(smartthings_ext::Error::from_api(e).await),
    }
}

fn to_json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A connected client, and the simulator behind it for `--demo`.
struct Session {
    client: SmartThings,
    format: Format,
    _simulator: Option<Simulator>,
}

async fn connect(cli: &Cli) -> Result<Session> {
    let global = &cli.global;
    let format = crate::output::format(global);
    if global.demo {
        let simulator = Simulator::start(Home::demo(), smartthings_sim::Config::default()).await?;
        let client = SmartThings::builder()
            .token(simulator.token())
            .base_url(simulator.base_url())
            .build()?;
        return Ok(Session {
            client,
            format,
            _simulator: Some(simulator),
        });
    }
    let profile = config::load()?
        .profiles
        .remove(&global.profile)
        .unwrap_or_default();
    let token = global
        .token
        .clone()
        .or(profile.token)
        .map(Token::new)
        .context("no token: pass --token, set SMARTTHINGS_TOKEN, or store one with `st config set-token` (or try --demo)")?;
    let mut builder = SmartThings::builder().token_value(token);
    if let Some(base) = global.base_url.clone().or(profile.base_url) {
        builder = builder.base_url(base);
    }
    Ok(Session {
        client: builder.build()?,
        format,
        _simulator: None,
    })
}

pub async fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "st", &mut std::io::stdout());
            return Ok(());
        }
        Command::Config { action } => return config_command(&cli.global.profile, action),
        _ => {}
    }
    let session = connect(&cli).await?;
    let (c, format) = (&session.client, session.format);
    match &cli.command {
        Command::Devices(args) => devices(c, format, args).await,
        Command::Locations { action } => {
            locations(c, format, action.as_ref().unwrap_or(&LocationAction::List)).await
        }
        Command::Rooms {
            location_id,
            create,
        } => rooms(c, format, location_id, create.as_deref()).await,
        Command::Scenes { location, action } => {
            scenes(
                c,
                format,
                location.as_deref(),
                action.as_ref().unwrap_or(&SceneAction::List),
            )
            .await
        }
        Command::Rules { location, action } => {
            rules(
                c,
                format,
                location,
                action.as_ref().unwrap_or(&RuleAction::List),
            )
            .await
        }
        Command::Capabilities => {
            let list = collect_all(c.capabilities()).await?;
            emit(format, &to_json(&list.items), || {
                let mut t = table(&["Capability", "Version", "Status"]);
                for cap in &list.items {
                    t.add_row(vec![
                        cap.id.clone().unwrap_or_default(),
                        cap.version.map(|v| v.to_string()).unwrap_or_default(),
                        cap.status.clone().unwrap_or_default(),
                    ]);
                }
                t
            })
        }
        Command::Snapshot => snapshot(c, format).await,
        Command::Export {
            to,
            dataset,
            format: kind,
            history,
        } => export(c, format, to.as_deref(), dataset, *kind, *history).await,
        Command::Config { .. } | Command::Completions { .. } => unreachable!("handled above"),
    }
}

fn config_command(profile: &str, action: &ConfigAction) -> Result<()> {
    match action {
        ConfigAction::SetToken { base_url } => {
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            let path = config::set_token(profile, &input, base_url.clone())?;
            eprintln!(
                "stored the token of profile {profile:?} in {} (mode 0600)",
                path.display()
            );
        }
        ConfigAction::Show => {
            let file = config::load()?;
            for (name, p) in &file.profiles {
                println!(
                    "{name}: token {}, base URL {}",
                    if p.token.is_some() {
                        "<set>"
                    } else {
                        "<unset>"
                    },
                    p.base_url
                        .as_deref()
                        .unwrap_or(smartthings::DEFAULT_BASE_URL)
                );
            }
        }
        ConfigAction::Path => println!("{}", config::path()?.display()),
    }
    Ok(())
}

fn device_row(device: &smartthings::types::Device) -> Vec<String> {
    let capabilities: usize = device
        .components
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|c| c.capabilities.as_ref().map_or(0, Vec::len))
        .sum();
    vec![
        device.device_id.clone().unwrap_or_default(),
        device
            .label
            .clone()
            .or_else(|| device.name.clone())
            .unwrap_or_default(),
        device
            .type_
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        device.location_id.clone().unwrap_or_default(),
        capabilities.to_string(),
        device
            .health_state
            .as_ref()
            .and_then(|h| h.state.as_ref())
            .map(ToString::to_string)
            .unwrap_or_default(),
    ]
}

/// Component → capability → attribute rows, with units.
fn status_table(status: &DeviceStatus) -> Table {
    let mut t = table(&[
        "Component",
        "Capability",
        "Attribute",
        "Value",
        "Unit",
        "Timestamp",
    ]);
    for (component, capability, name, attribute) in status.attributes() {
        t.add_row(vec![
            component.to_owned(),
            capability.to_owned(),
            name.to_owned(),
            attribute.value.as_ref().map(cell).unwrap_or_default(),
            attribute.unit.clone().unwrap_or_default(),
            attribute
                .raw_timestamp
                .as_ref()
                .map(cell)
                .unwrap_or_default(),
        ]);
    }
    t
}

async fn devices(c: &SmartThings, format: Format, args: &DevicesArgs) -> Result<()> {
    let Some(action) = &args.action else {
        let mut query = DeviceQuery::all();
        for capability in &args.capability {
            query = query.capability(capability);
        }
        for device in &args.device {
            query = query.device(device);
        }
        if let Some(location) = &args.location {
            query = query.location(location);
        }
        if args.status {
            query = query.with_status_and_health();
        }
        let list = collect_all(c.devices(query)).await?;
        for odd in &list.invalid {
            eprintln!(
                "warning: a device did not decode ({}); kept out of the list",
                odd.error
            );
        }
        return emit(format, &to_json(&list.items), || {
            let mut t = table(&[
                "Device",
                "Label",
                "Type",
                "Location",
                "Capabilities",
                "Health",
            ]);
            for device in &list.items {
                t.add_row(device_row(device));
            }
            t
        });
    };
    let commands = match action {
        DeviceAction::Get { device_id } => {
            let device = api(c.get_device().device_id(device_id).send().await).await?;
            return emit(format, &to_json(&device), || {
                let mut t = table(&[
                    "Device",
                    "Label",
                    "Type",
                    "Location",
                    "Capabilities",
                    "Health",
                ]);
                t.add_row(device_row(&device));
                t
            });
        }
        DeviceAction::Status { device_id } => {
            let status = c.device_status(device_id).await?;
            return emit(format, &to_json(&status), || status_table(&status));
        }
        DeviceAction::Health { device_id } => {
            let health = api(c.get_device_health().device_id(device_id).send().await).await?;
            return emit(format, &to_json(&health), || {
                let mut t = table(&["Device", "State", "Last updated"]);
                t.add_row(vec![
                    device_id.clone(),
                    health
                        .state
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    health.last_updated_date.clone().unwrap_or_default(),
                ]);
                t
            });
        }
        DeviceAction::Command {
            device_id,
            component,
            capability,
            command,
            arguments,
        } => {
            let mut cmd = DeviceCommand::new(capability, command).on_component(component);
            for argument in arguments {
                cmd = cmd.arg(
                    serde_json::from_str::<Value>(argument).unwrap_or_else(|_| json!(argument)),
                );
            }
            (device_id, vec![cmd])
        }
        DeviceAction::On {
            device_id,
            component,
        } => (
            device_id,
            vec![DeviceCommand::switch_on().on_component(component)],
        ),
        DeviceAction::Off {
            device_id,
            component,
        } => (
            device_id,
            vec![DeviceCommand::switch_off().on_component(component)],
        ),
        DeviceAction::Level {
            device_id,
            level,
            component,
        } => (
            device_id,
            vec![DeviceCommand::set_level(*level)?.on_component(component)],
        ),
        DeviceAction::ColorTemperature { device_id, kelvin } => (
            device_id,
            vec![DeviceCommand::set_color_temperature(*kelvin)?],
        ),
        DeviceAction::Lock { device_id } => (device_id, vec![DeviceCommand::lock()]),
        DeviceAction::Unlock { device_id } => (device_id, vec![DeviceCommand::unlock()]),
    };
    let (device_id, commands) = commands;
    let results = c.execute(device_id, commands).await?;
    let value: Vec<Value> = results
        .iter()
        .map(|r| json!({"id": r.id, "status": format!("{:?}", r.status).to_uppercase()}))
        .collect();
    emit(format, &Value::Array(value.clone()), || {
        let mut t = table(&["Command", "Status"]);
        for r in &value {
            t.add_row(vec![cell(&r["id"]), cell(&r["status"])]);
        }
        t
    })
}

/// The confirmation of a delete, in any format.
fn deleted(format: Format, what: &str, id: &str) -> Result<()> {
    emit(format, &json!({"deleted": id}), || {
        let mut t = table(&[&format!("Deleted {what}")]);
        t.add_row(vec![id.to_owned()]);
        t
    })
}

fn location_body(fields: &LocationFields) -> Result<CreateLocationRequest> {
    let mut body = json!({"name": fields.name});
    for (key, value) in [
        (
            "countryCode",
            fields.country_code.as_ref().map(|v| json!(v)),
        ),
        ("latitude", fields.latitude.map(|v| json!(v))),
        ("longitude", fields.longitude.map(|v| json!(v))),
        ("regionRadius", fields.region_radius.map(|v| json!(v))),
        (
            "temperatureScale",
            fields.temperature_scale.as_ref().map(|v| json!(v)),
        ),
        ("timeZoneId", fields.time_zone_id.as_ref().map(|v| json!(v))),
        ("locale", fields.locale.as_ref().map(|v| json!(v))),
    ] {
        if let Some(value) = value {
            body[key] = value;
        }
    }
    serde_json::from_value(body).context("invalid location fields (temperature scale is F or C)")
}

fn location_table(locations: &[smartthings::types::Location]) -> Table {
    let mut t = table(&["Location", "Name", "Country", "Time zone", "Scale"]);
    for l in locations {
        t.add_row(vec![
            l.location_id.clone().unwrap_or_default(),
            l.name.clone().unwrap_or_default(),
            l.country_code.clone().unwrap_or_default(),
            l.time_zone_id.clone().unwrap_or_default(),
            l.temperature_scale
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ]);
    }
    t
}

async fn locations(c: &SmartThings, format: Format, action: &LocationAction) -> Result<()> {
    let one = match action {
        LocationAction::List => {
            let list = collect_all(c.locations()).await?;
            return emit(format, &to_json(&list.items), || {
                location_table(&list.items)
            });
        }
        LocationAction::Get { location_id } => {
            api(c.get_location().location_id(location_id).send().await).await?
        }
        LocationAction::Create(fields) => {
            api(c
                .create_location()
                .body(location_body(fields)?)
                .send()
                .await)
            .await?
        }
        LocationAction::Update {
            location_id,
            fields,
        } => {
            api(c
                .update_location()
                .location_id(location_id)
                .body(location_body(fields)?)
                .send()
                .await)
            .await?
        }
        LocationAction::Delete { location_id } => {
            api(c.delete_location().location_id(location_id).send().await).await?;
            return deleted(format, "location", location_id);
        }
    };
    emit(format, &to_json(&one), || {
        location_table(std::slice::from_ref(&one))
    })
}

async fn rooms(
    c: &SmartThings,
    format: Format,
    location_id: &str,
    create: Option<&str>,
) -> Result<()> {
    let rooms = match create {
        Some(name) => vec![
            api(c
                .create_room()
                .location_id(location_id)
                .body_map(|b| b.name(name))
                .send()
                .await)
            .await?,
        ],
        None => collect_all(c.rooms(location_id)).await?.items,
    };
    emit(format, &to_json(&rooms), || {
        let mut t = table(&["Room", "Name", "Location"]);
        for r in &rooms {
            t.add_row(vec![
                r.room_id.clone().unwrap_or_default(),
                r.name.clone().unwrap_or_default(),
                r.location_id.clone().unwrap_or_default(),
            ]);
        }
        t
    })
}

async fn scenes(
    c: &SmartThings,
    format: Format,
    location: Option<&str>,
    action: &SceneAction,
) -> Result<()> {
    match action {
        SceneAction::List => {
            let list = collect_all(c.scenes(location)).await?;
            emit(format, &to_json(&list.items), || {
                let mut t = table(&["Scene", "Name", "Location", "Last executed"]);
                for s in &list.items {
                    t.add_row(vec![
                        s.scene_id.clone().unwrap_or_default(),
                        s.scene_name.clone().unwrap_or_default(),
                        s.location_id.clone().unwrap_or_default(),
                        s.last_executed_date.clone().unwrap_or_default(),
                    ]);
                }
                t
            })
        }
        SceneAction::Execute { scene_id } => {
            let result = api(c.execute_scene().scene_id(scene_id).send().await).await?;
            emit(format, &to_json(&result), || {
                let mut t = table(&["Scene", "Status"]);
                t.add_row(vec![
                    scene_id.clone(),
                    result.status.clone().unwrap_or_default(),
                ]);
                t
            })
        }
    }
}

fn rule_file(path: &std::path::Path) -> Result<CreateRuleRequest> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    // YAML is a superset of JSON: one parser reads both.
    serde_yaml::from_str(&text)
        .with_context(|| format!("{} is not a rule (needs name and actions)", path.display()))
}

fn rule_table(rules: &[smartthings::types::Rule]) -> Table {
    let mut t = table(&["Rule", "Name", "Runs", "Time zone", "Actions"]);
    for r in rules {
        t.add_row(vec![
            r.id.clone().unwrap_or_default(),
            r.name.clone().unwrap_or_default(),
            r.execution_location
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            r.time_zone_id.clone().unwrap_or_default(),
            r.actions.as_ref().map_or(0, Vec::len).to_string(),
        ]);
    }
    t
}

async fn rules(c: &SmartThings, format: Format, location: &str, action: &RuleAction) -> Result<()> {
    let one = match action {
        RuleAction::List => {
            let list = collect_all(c.rules(location)).await?;
            return emit(format, &to_json(&list.items), || rule_table(&list.items));
        }
        RuleAction::Get { rule_id } => {
            api(c
                .get_rule()
                .rule_id(rule_id)
                .location_id(location)
                .send()
                .await)
            .await?
        }
        RuleAction::Create { file } => {
            api(c
                .create_rule()
                .location_id(location)
                .body(rule_file(file)?)
                .send()
                .await)
            .await?
        }
        RuleAction::Update { rule_id, file } => {
            api(c
                .update_rule()
                .rule_id(rule_id)
                .location_id(location)
                .body(rule_file(file)?)
                .send()
                .await)
            .await?
        }
        RuleAction::Delete { rule_id } => {
            api(c
                .delete_rule()
                .rule_id(rule_id)
                .location_id(location)
                .send()
                .await)
            .await?;
            return deleted(format, "rule", rule_id);
        }
    };
    emit(format, &to_json(&one), || {
        rule_table(std::slice::from_ref(&one))
    })
}

fn progress_bar() -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {pos}/{len} devices")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    })
}

async fn export(
    c: &SmartThings,
    format: Format,
    to: Option<&std::path::Path>,
    dataset: &str,
    kind: ExportFormat,
    history: bool,
) -> Result<()> {
    use smartthings_export::{Destination, ExportOptions};
    // Like seed 000's pipeline: `<pipeline name>.duckdb`, or a directory.
    let path = |default: &str| to.map_or_else(|| default.into(), ToOwned::to_owned);
    let destination = match kind {
        ExportFormat::Duckdb => Destination::DuckDb(path("smartthings_home_api.duckdb")),
        ExportFormat::Parquet => Destination::Parquet(path("smartthings_home_api_parquet")),
        ExportFormat::Jsonl => Destination::JsonLines(path("smartthings_home_api_jsonl")),
    };
    let bar = progress_bar();
    let mut options = ExportOptions::default().dataset(dataset).history(history);
    if let Some(bar) = bar.clone() {
        bar.set_message("export");
        options = options.progress(move |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        });
    }
    let summary = smartthings_export::export(c, &destination, &options).await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let s = &summary.stats;
    let value = json!({
        "devices": s.devices, "locations": s.locations, "status_rows": s.status_rows,
        "changed_status_rows": s.changed_status_rows, "removed_devices": s.removed_devices,
        "requests": summary.requests, "seconds": summary.duration.as_secs_f64(),
        "destination": summary.destination, "dataset": dataset,
    });
    match format {
        Format::Table => {
            println!("{summary}");
            Ok(())
        }
        _ => emit(format, &value, Table::new),
    }
}

async fn snapshot(c: &SmartThings, format: Format) -> Result<()> {
    let bar = progress_bar();
    if let Some(bar) = &bar {
        bar.set_message("snapshot");
    }
    let mut options = SnapshotOptions::default();
    if let Some(bar) = bar.clone() {
        options = options.progress(move |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        });
    }
    let home = c.snapshot_with(options).await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let value = json!({
        "locations": home.locations.iter().map(|l| json!({"location": to_json(&l.location), "rooms": to_json(&l.rooms), "scenes": to_json(&l.scenes)})).collect::<Vec<_>>(),
        "devices": home.devices.iter().map(|d| json!({
            "device": to_json(&d.device),
            "status": to_json(&d.status),
            "health": d.health.as_ref().map(|h| json!({"state": h.state.as_str(), "lastUpdatedDate": h.last_updated})),
        })).collect::<Vec<_>>(),
        "requests": home.requests,
    });
    emit(format, &value, || {
        let mut t = table(&[
            "Device",
            "Location",
            "Health",
            "Switch",
            "Level",
            "Temperature",
            "Battery",
        ]);
        let location_name = |id: &Option<String>| {
            home.locations
                .iter()
                .find(|l| l.location.location_id == *id)
                .and_then(|l| l.location.name.clone())
                .unwrap_or_default()
        };
        let measured = |m: Option<smartthings_ext::Measurement<'_>>| {
            m.map(|m| {
                format!("{} {}", m.value, m.unit.unwrap_or_default())
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default()
        };
        for d in &home.devices {
            let main = d.status.main();
            t.add_row(vec![
                d.device.label.clone().unwrap_or_default(),
                location_name(&d.device.location_id),
                d.health
                    .as_ref()
                    .map(|h| h.state.as_str().to_owned())
                    .unwrap_or_default(),
                main.and_then(|m| m.switch())
                    .map(|on| if on { "on" } else { "off" }.to_owned())
                    .unwrap_or_default(),
                measured(main.and_then(|m| m.level())),
                measured(main.and_then(|m| m.temperature())),
                measured(main.and_then(|m| m.battery())),
            ]);
        }
        t
    })?;
    if format == Format::Table {
        let rooms: usize = home.locations.iter().map(|l| l.rooms.len()).sum();
        let scenes: usize = home.locations.iter().map(|l| l.scenes.len()).sum();
        println!(
            "{} devices, {} locations, {rooms} rooms, {scenes} scenes in {} requests",
            home.devices.len(),
            home.locations.len(),
            home.requests
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        crate::cli::Cli::command().debug_assert();
    }
}
