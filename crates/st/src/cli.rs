//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "Exit codes: 0 ok, 1 other failure, 2 usage error, 3 authentication or \
permission (401/403), 4 not found (404), 5 other API error (422, 429, 5xx, the event sink limit).";

/// `--version`: the version and the export formats this build has (DuckDB
/// is a build feature).
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    use smartthings_export::Destination;
    let formats: Vec<&str> = [
        ("jsonl", Destination::JsonLines(PathBuf::new())),
        ("parquet", Destination::Parquet(PathBuf::new())),
        ("duckdb", Destination::DuckDb(PathBuf::new())),
    ]
    .into_iter()
    .filter(|(_, d)| d.is_available())
    .map(|(name, _)| name)
    .collect();
    format!(
        "{} (export formats: {})",
        env!("CARGO_PKG_VERSION"),
        formats.join(", ")
    )
});

/// The SmartThings command line.
#[derive(Parser, Debug)]
#[command(
    name = "st",
    version = VERSION.as_str(),
    about = "Control and inspect a SmartThings home.",
    after_help = format!("Examples:\n  st --demo snapshot                  # no account needed: the built-in demo home\n  st devices --capability switch\n  st devices status 80e26532-85d4-484c-b012-1c04f3d35f95\n  st devices on 80e26532-85d4-484c-b012-1c04f3d35f95\n  st locations -o yaml\n  st --demo events                    # the home's events as they happen\n\nCredentials: --token, then SMARTTHINGS_TOKEN, then the profile: its OAuth session\n(`st login`, refreshed by every command), else its token (`st config set-token`).\n\n{EXIT_CODES}")
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug)]
pub struct Global {
    /// Bearer token (personal access token or OAuth token).
    #[arg(long, global = true, env = "SMARTTHINGS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// API root.
    #[arg(long, global = true, env = "SMARTTHINGS_BASE_URL")]
    pub base_url: Option<String>,
    /// Also send the token to event streams on this origin (repeatable, or
    /// comma-separated in the variable): a local simulator's, as
    /// smartthings-sim prints it. SmartThings' own stream hosts (https on
    /// *.api.smartthings.com) need nothing.
    #[arg(
        long,
        global = true,
        env = "SMARTTHINGS_STREAM_ORIGIN",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub stream_origin: Vec<String>,
    /// Profile of the config file to use.
    #[arg(long, global = true, default_value = "default")]
    pub profile: String,
    /// Run against the embedded simulator and its demo home.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Output format [default: table on a terminal, JSON otherwise].
    #[arg(long, short = 'o', global = true, value_enum)]
    pub output: Option<Format>,
    /// Same as `-o json`.
    #[arg(long, global = true, conflicts_with_all = ["output", "yaml"])]
    pub json: bool,
    /// Same as `-o yaml`.
    #[arg(long, global = true, conflicts_with = "output")]
    pub yaml: bool,
    /// Log requests to stderr (-v debug, -vv trace). Never logs the token.
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A DuckDB database file.
    Duckdb,
    /// A directory of Parquet files, one per table.
    Parquet,
    /// A directory of JSON Lines files, one per table.
    Jsonl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List devices, or act on one.
    #[command(
        after_help = "Examples:\n  st devices --capability switch --status\n  st devices get ID\n  st devices status ID\n  st devices command ID main switchLevel setLevel 40\n  st devices level ID 40\n  st devices rename ID \"Hall lamp\"\n  st devices move ID --room ROOM_ID\n  st devices history ID --since 1d --capability switch"
    )]
    Devices(DevicesArgs),
    /// List, show, create, update or delete locations.
    #[command(
        after_help = "Examples:\n  st locations\n  st locations get ID\n  st locations create --name Office --country-code USA\n  st locations update ID --name Home2\n  st locations delete ID"
    )]
    Locations {
        #[command(subcommand)]
        action: Option<LocationAction>,
    },
    /// The rooms of a location: list, show, create, rename or delete.
    #[command(
        after_help = "Examples:\n  st rooms LOCATION_ID\n  st rooms LOCATION_ID create Garage\n  st rooms LOCATION_ID get ROOM_ID\n  st rooms LOCATION_ID update ROOM_ID --name Workshop\n  st rooms LOCATION_ID delete ROOM_ID   # its devices stay, in no room"
    )]
    Rooms {
        /// The location.
        location_id: String,
        #[command(subcommand)]
        action: Option<RoomAction>,
    },
    /// List or execute scenes.
    #[command(
        after_help = "Examples:\n  st scenes\n  st scenes --location ID\n  st scenes execute SCENE_ID"
    )]
    Scenes {
        /// Only the scenes of this location.
        #[arg(long)]
        location: Option<String>,
        #[command(subcommand)]
        action: Option<SceneAction>,
    },
    /// List, show, create, update or delete rules (bodies from JSON or YAML files).
    #[command(
        after_help = "Examples:\n  st rules --location ID\n  st rules --location ID create rule.yaml\n  st rules --location ID execute RULE_ID\n  st rules --location ID delete RULE_ID"
    )]
    Rules {
        /// The location of the rules.
        #[arg(long)]
        location: String,
        #[command(subcommand)]
        action: Option<RuleAction>,
    },
    /// Capability definitions: list them, or one with its attributes and commands.
    #[command(
        after_help = "Examples:\n  st capabilities -o json\n  st capabilities get switchLevel\n  st capabilities get switchLevel 1"
    )]
    Capabilities {
        #[command(subcommand)]
        action: Option<CapabilityAction>,
    },
    /// Virtual devices, for testing automations without hardware: list,
    /// create from a prototype, and send them events.
    #[command(
        name = "virtual-devices",
        after_help = "Examples:\n  st virtual-devices --location LOCATION_ID\n  st virtual-devices create --location LOCATION_ID --prototype VIRTUAL_SWITCH --name \"Test switch\"\n  st virtual-devices event DEVICE_ID switch switch on\n  st virtual-devices event DEVICE_ID temperatureMeasurement temperature 21.5 --unit C"
    )]
    VirtualDevices {
        /// Only the virtual devices of this location (list).
        #[arg(long)]
        location: Option<String>,
        #[command(subcommand)]
        action: Option<VirtualDeviceAction>,
    },
    /// A hub: its details and characteristics, or its installed drivers.
    #[command(
        after_help = "Examples:\n  st hubs HUB_ID\n  st hubs HUB_ID drivers\n  st hubs HUB_ID drivers --device DEVICE_ID"
    )]
    Hubs {
        /// The hub's device id.
        hub_id: String,
        #[command(subcommand)]
        action: Option<HubAction>,
    },
    /// A location's modes: list them, show or set the current one.
    #[command(
        after_help = "Examples:\n  st modes LOCATION_ID\n  st modes LOCATION_ID current\n  st modes LOCATION_ID set Away      # by name or id"
    )]
    Modes {
        /// The location.
        location_id: String,
        #[command(subcommand)]
        action: Option<ModeAction>,
    },
    /// The whole home: locations, rooms, scenes, every device with status and health, in the fewest requests.
    #[command(after_help = "Examples:\n  st --demo snapshot\n  st snapshot --json > home.json")]
    Snapshot,
    /// Load the home into DuckDB (or Parquet / JSON Lines files), incrementally.
    #[command(
        after_help = "Examples:\n  st --demo export --format parquet --to ./home-parquet\n  st export --dataset my_home --history\n  st export --events-since 7d          # and the last week of device events; again later: only the new ones\n  st export --to home.duckdb          # a build with `--features duckdb`\n  st export --format parquet --to ./home --follow   # then keep it current from the event stream\n  st --demo export --format jsonl --to ./home --follow --count 100\n\nThen: duckdb home.duckdb \"SELECT label, value_string FROM smartthings_home_api_data.device_status JOIN smartthings_home_api_data.devices USING (device_id) WHERE attribute = 'switch'\"\n  or: duckdb -c \"SELECT * FROM 'home-parquet/devices.parquet'\""
    )]
    Export {
        /// The database file, or the directory for parquet and jsonl
        /// [default: smartthings_home_api.duckdb, or smartthings_home_api_parquet/, smartthings_home_api_jsonl/].
        #[arg(long)]
        to: Option<PathBuf>,
        /// The dataset (schema) name.
        #[arg(long, default_value = "smartthings_home_api_data")]
        dataset: String,
        /// The destination format [default: duckdb for a `.duckdb` or `.db`
        /// path, else duckdb when this build has it (`st --version`), else
        /// parquet].
        #[arg(long, value_enum)]
        format: Option<ExportFormat>,
        /// Keep a history row each time an attribute's value or timestamp changes.
        #[arg(long)]
        history: bool,
        /// Also append the device history since WHEN to `device_events`: an
        /// age (30m, 12h, 7d, 2w) or a time (2026-12-01T08:00:00Z). A later
        /// run continues where this one stopped, per location.
        #[arg(long, value_name = "WHEN")]
        events_since: Option<String>,
        /// After the load, keep the destination current from the event
        /// stream: every change appended to `device_events`, `device_status`
        /// and `device_health` written again batch by batch (every second
        /// or 500 changes); Ctrl-C stops, writes the last batch and deletes
        /// the sink.
        #[arg(long)]
        follow: bool,
        /// With --follow: only this location's events.
        #[arg(long, requires = "follow")]
        location: Option<String>,
        /// With --follow: stop after this many changes (Ctrl-C stops too).
        #[arg(long, requires = "follow", value_name = "N")]
        count: Option<u64>,
    },
    /// Tail the home's events as they happen (reconnects by itself; Ctrl-C deletes the sink).
    #[command(
        after_help = "Examples:\n  st --demo events\n  st events --location ID --capability switch\n  st events --device ID --device ID2 -o json | jq .value\n  st events --count 10 > events.jsonl\n  st --base-url http://127.0.0.1:8080/v1 --stream-origin STREAM_ORIGIN events   # a smartthings-sim (it prints its stream origin)\n\nA terminal gets one line per event (time, device, component/capability/attribute = value,\nor health and lifecycle changes); a pipe or -o json gets one JSON object per line.\nA reconnection is noted on stderr: events in between may be missing.\nAn OAuth session needs the `sse` scope; a token has at most 2 event sinks (exit 5 beyond)."
    )]
    Events(EventsArgs),
    /// Log in with an OAuth app (lasting access; a personal access token lasts 24 hours).
    #[command(
        after_help = "Examples:\n  st login --client-id ID --client-secret SECRET --redirect-uri http://127.0.0.1:8765/callback\n  SMARTTHINGS_CLIENT_SECRET=... st login --client-id ID --redirect-uri https://example.com/cb --no-browser\n\nThe app is one you created (an \"API Access\" app, see the README): its client id,\nsecret and registered redirect URI. A loopback redirect URI is received here;\nany other one: paste the URL the browser was sent to. The session is stored\nbeside the config file (readable by you only) and refreshed by every command."
    )]
    Login(LoginArgs),
    /// Forget the profile's OAuth session (the app's registration stays).
    Logout,
    /// Manage the config file's profiles.
    #[command(after_help = "Example:\n  echo \"$TOKEN\" | st config set-token --profile work")]
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Print shell completions.
    #[command(after_help = "Example:\n  st completions bash > /etc/bash_completion.d/st")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Only this location's devices [default: every location].
    #[arg(long, conflicts_with = "device")]
    pub location: Option<String>,
    /// Only these devices (repeatable).
    #[arg(long)]
    pub device: Vec<String>,
    /// Only device events of this capability (repeatable; filtered here,
    /// health and lifecycle events are then left out).
    #[arg(long)]
    pub capability: Vec<String>,
    /// Stop after N events (device, health or lifecycle).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The OAuth app's client id [default: the profile's].
    #[arg(long, env = "SMARTTHINGS_CLIENT_ID")]
    pub client_id: Option<String>,
    /// The OAuth app's client secret [default: the profile's].
    #[arg(long, env = "SMARTTHINGS_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// The redirect URI registered for the app [default: the profile's, else
    /// http://127.0.0.1:8765/callback].
    #[arg(long)]
    pub redirect_uri: Option<String>,
    /// A scope to ask for (repeatable) [default: the profile's, else devices,
    /// locations, scenes, rules and sse].
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// The token endpoint [default: https://api.smartthings.com/oauth/token].
    #[arg(long)]
    pub token_url: Option<String>,
    /// The authorize endpoint [default: https://api.smartthings.com/oauth/authorize].
    #[arg(long)]
    pub authorize_url: Option<String>,
    /// Print the authorize URL without opening a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// How long to wait for the browser's redirect, in seconds.
    #[arg(long, default_value_t = 300)]
    pub wait: u64,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DevicesArgs {
    #[command(subcommand)]
    pub action: Option<DeviceAction>,
    /// Only devices with this capability (repeatable).
    #[arg(long)]
    pub capability: Vec<String>,
    /// Only devices in this location.
    #[arg(long)]
    pub location: Option<String>,
    /// Only these devices (repeatable).
    #[arg(long)]
    pub device: Vec<String>,
    /// Include each device's status (one request per 200 devices).
    #[arg(long)]
    pub status: bool,
}

#[derive(Subcommand, Debug)]
pub enum DeviceAction {
    /// One device.
    Get { device_id: String },
    /// Full status: component → capability → attribute, with units.
    Status { device_id: String },
    /// Health.
    Health { device_id: String },
    /// Any command: st devices command ID main switch on
    Command {
        device_id: String,
        component: String,
        capability: String,
        command: String,
        /// Arguments, each parsed as JSON when it is JSON (`40`, `{"hue":10}`), else a string.
        arguments: Vec<String>,
    },
    /// switch.on
    On {
        device_id: String,
        #[arg(long, default_value = "main")]
        component: String,
    },
    /// switch.off
    Off {
        device_id: String,
        #[arg(long, default_value = "main")]
        component: String,
    },
    /// switchLevel.setLevel (0-100)
    Level {
        device_id: String,
        level: u32,
        #[arg(long, default_value = "main")]
        component: String,
    },
    /// colorTemperature.setColorTemperature (K)
    ColorTemperature { device_id: String, kelvin: u32 },
    /// lock.lock
    Lock { device_id: String },
    /// lock.unlock
    Unlock { device_id: String },
    /// Give a device a new label.
    Rename { device_id: String, label: String },
    /// Put a device in a room of its location.
    Move {
        device_id: String,
        /// The room's id.
        #[arg(long)]
        room: String,
    },
    /// The device's recorded events, newest first.
    History {
        device_id: String,
        /// Only events since: a time (2026-12-01T08:00:00Z) or an age (30m, 12h, 7d).
        #[arg(long)]
        since: Option<String>,
        /// Only events before: a time or an age, as for --since.
        #[arg(long)]
        until: Option<String>,
        /// Only events of this capability.
        #[arg(long)]
        capability: Option<String>,
        /// Only events of this attribute.
        #[arg(long)]
        attribute: Option<String>,
        /// At most this many events.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum LocationAction {
    /// All locations.
    List,
    /// One location.
    Get { location_id: String },
    /// Create a location.
    Create(LocationFields),
    /// Change the given fields of a location.
    Update {
        location_id: String,
        #[command(flatten)]
        fields: LocationFields,
    },
    /// Delete a location and everything in it.
    Delete { location_id: String },
}

#[derive(Args, Debug)]
pub struct LocationFields {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub country_code: Option<String>,
    #[arg(long)]
    pub latitude: Option<f64>,
    #[arg(long)]
    pub longitude: Option<f64>,
    #[arg(long)]
    pub region_radius: Option<i64>,
    /// F or C.
    #[arg(long)]
    pub temperature_scale: Option<String>,
    #[arg(long)]
    pub time_zone_id: Option<String>,
    #[arg(long)]
    pub locale: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum SceneAction {
    /// List scenes.
    List,
    /// Execute a scene.
    Execute { scene_id: String },
}

#[derive(Subcommand, Debug)]
pub enum RoomAction {
    /// Every room of the location.
    List,
    /// One room.
    Get { room_id: String },
    /// Create a room.
    Create { name: String },
    /// Rename a room.
    Update {
        room_id: String,
        #[arg(long)]
        name: String,
    },
    /// Delete a room (its devices stay in the location, in no room).
    Delete { room_id: String },
}

#[derive(Subcommand, Debug)]
pub enum CapabilityAction {
    /// Every capability (the standard ones).
    List,
    /// One capability's definition: attributes (with their value types) and
    /// commands (with their arguments).
    Get {
        capability_id: String,
        /// The version [default: 1].
        #[arg(default_value_t = 1)]
        version: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum VirtualDeviceAction {
    /// The virtual devices (of --location, if given).
    List,
    /// Create a virtual device from a standard prototype.
    Create {
        /// The location it belongs to.
        #[arg(long)]
        location: String,
        /// The prototype: VIRTUAL_SWITCH, VIRTUAL_DIMMER_SWITCH,
        /// VIRTUAL_CONTACT_SENSOR, VIRTUAL_MOTION_SENSOR, ...
        #[arg(long)]
        prototype: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// A room of the location to put it in.
        #[arg(long)]
        room: Option<String>,
    },
    /// Report an attribute value as the device would (its status changes).
    Event {
        device_id: String,
        capability: String,
        attribute: String,
        /// The value, parsed as JSON when it is JSON (`21.5`, `true`), else a string.
        value: String,
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, default_value = "main")]
        component: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum HubAction {
    /// The hub and its characteristics.
    Get,
    /// The drivers installed on the hub (or the one a device uses).
    Drivers {
        /// Only the driver this device uses.
        #[arg(long)]
        device: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ModeAction {
    /// Every mode of the location, the current one marked.
    List,
    /// The current mode.
    Current,
    /// Make a mode current (its label or its id).
    Set { mode: String },
}

#[derive(Subcommand, Debug)]
pub enum RuleAction {
    /// List the location's rules.
    List,
    /// One rule.
    Get { rule_id: String },
    /// Create a rule from a JSON or YAML file.
    Create { file: PathBuf },
    /// Replace a rule from a JSON or YAML file.
    Update { rule_id: String, file: PathBuf },
    /// Delete a rule.
    Delete { rule_id: String },
    /// Execute a rule's actions now.
    Execute { rule_id: String },
}

#[derive(Subcommand, Debug)]
pub enum ConfigAction {
    /// Store a token (read from standard input) in a profile.
    SetToken {
        /// Also store this API root in the profile.
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Show the profiles: base URL, token or OAuth session (scopes, expiry);
    /// never a secret.
    Show,
    /// Print the config file's path.
    Path,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
