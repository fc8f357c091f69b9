//! Typed device commands, validated before anything is sent.

use serde_json::{Value, json};
use smartthings::types::{DeviceCommandRequest, DeviceCommandRequestCommandsItem};

use crate::client::SmartThings;
use crate::error::{Error, ErrorKind};

/// One command: `component`, `capability`, `command`, `arguments`.
///
/// ```
/// use smartthings_ext::Command;
///
/// let dim = Command::set_level(30).unwrap().on_component("outlet1");
/// assert_eq!(dim.capability(), "switchLevel");
/// assert!(Command::set_level(101).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    component: String,
    capability: String,
    command: String,
    arguments: Vec<Value>,
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::Validation, message)
}

fn in_range(name: &str, value: f64, min: f64, max: f64) -> Result<f64, Error> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(format!(
            "{name} must be within {min}..={max}, got {value}"
        )))
    }
}

impl Command {
    /// Any command of any capability, on the `main` component.
    pub fn new(capability: impl Into<String>, command: impl Into<String>) -> Self {
        Self {
            component: "main".into(),
            capability: capability.into(),
            command: command.into(),
            arguments: Vec::new(),
        }
    }

    /// Send to another component (`outlet1`, ...).
    pub fn on_component(mut self, component: impl Into<String>) -> Self {
        self.component = component.into();
        self
    }

    /// Append an argument.
    pub fn arg(mut self, argument: impl Into<Value>) -> Self {
        self.arguments.push(argument.into());
        self
    }

    /// The component.
    pub fn component(&self) -> &str {
        &self.component
    }

    /// The capability.
    pub fn capability(&self) -> &str {
        &self.capability
    }

    /// The command name.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The arguments.
    pub fn arguments(&self) -> &[Value] {
        &self.arguments
    }

    /// `switch.on`.
    pub fn switch_on() -> Self {
        Self::new("switch", "on")
    }

    /// `switch.off`.
    pub fn switch_off() -> Self {
        Self::new("switch", "off")
    }

    /// `switchLevel.setLevel(level)`, 0–100 %.
    pub fn set_level(level: u32) -> Result<Self, Error> {
        in_range("level", f64::from(level), 0.0, 100.0)?;
        Ok(Self::new("switchLevel", "setLevel").arg(level))
    }

    /// `colorControl.setColor({hue, saturation})`, both 0–100.
    pub fn set_color(hue: f64, saturation: f64) -> Result<Self, Error> {
        let hue = in_range("hue", hue, 0.0, 100.0)?;
        let saturation = in_range("saturation", saturation, 0.0, 100.0)?;
        Ok(
            Self::new("colorControl", "setColor")
                .arg(json!({"hue": hue, "saturation": saturation})),
        )
    }

    /// `colorTemperature.setColorTemperature(kelvin)`, 1–30000 K.
    pub fn set_color_temperature(kelvin: u32) -> Result<Self, Error> {
        in_range("color temperature", f64::from(kelvin), 1.0, 30000.0)?;
        Ok(Self::new("colorTemperature", "setColorTemperature").arg(kelvin))
    }

    /// `lock.lock`.
    pub fn lock() -> Self {
        Self::new("lock", "lock")
    }

    /// `lock.unlock`.
    pub fn unlock() -> Self {
        Self::new("lock", "unlock")
    }

    /// `thermostatHeatingSetpoint.setHeatingSetpoint(t)`, −50…212 (C or F,
    /// as the location's scale).
    pub fn set_heating_setpoint(setpoint: f64) -> Result<Self, Error> {
        let setpoint = in_range("heating setpoint", setpoint, -50.0, 212.0)?;
        Ok(Self::new("thermostatHeatingSetpoint", "setHeatingSetpoint").arg(setpoint))
    }

    /// `thermostatCoolingSetpoint.setCoolingSetpoint(t)`, −50…212.
    pub fn set_cooling_setpoint(setpoint: f64) -> Result<Self, Error> {
        let setpoint = in_range("cooling setpoint", setpoint, -50.0, 212.0)?;
        Ok(Self::new("thermostatCoolingSetpoint", "setCoolingSetpoint").arg(setpoint))
    }

    /// `thermostatMode.setThermostatMode(mode)`.
    pub fn set_thermostat_mode(mode: &str) -> Result<Self, Error> {
        const MODES: [&str; 7] = [
            "auto",
            "cool",
            "heat",
            "off",
            "emergency heat",
            "eco",
            "fanonly",
        ];
        if !MODES.contains(&mode) {
            return Err(invalid(format!(
                "thermostat mode {mode:?} is not one of {MODES:?}"
            )));
        }
        Ok(Self::new("thermostatMode", "setThermostatMode").arg(mode))
    }

    fn into_item(self) -> DeviceCommandRequestCommandsItem {
        DeviceCommandRequestCommandsItem {
            component: self.component,
            capability: self.capability,
            command: self.command,
            arguments: self.arguments,
        }
    }
}

/// What the server did with one command.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandStatus {
    /// ACCEPTED: queued for the device.
    Accepted,
    /// COMPLETED.
    Completed,
    /// ERROR.
    Error,
    /// A status this crate does not know.
    Other(String),
}

/// The result of one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandResult {
    /// The server's id for the command.
    pub id: Option<String>,
    /// Its status.
    pub status: CommandStatus,
}

impl SmartThings {
    /// Send commands to a device and return each command's result.
    ///
    /// ```no_run
    /// # async fn run(client: smartthings_ext::SmartThings) -> Result<(), smartthings_ext::Error> {
    /// use smartthings_ext::Command;
    /// let results = client
    ///     .execute("80e26532-85d4-484c-b012-1c04f3d35f95", [Command::switch_on(), Command::set_level(40)?])
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn execute(
        &self,
        device_id: &str,
        commands: impl IntoIterator<Item = Command>,
    ) -> Result<Vec<CommandResult>, Error> {
        let body = DeviceCommandRequest {
            commands: commands.into_iter().map(Command::into_item).collect(),
        };
        if body.commands.is_empty() {
            return Err(invalid("no commands to send".into()));
        }
        let response = self
            .execute_device_commands()
            .device_id(device_id)
            .body(body)
            .send()
            .await?;
        Ok(response
            .results
            .unwrap_or_default()
            .into_iter()
            .map(|r| CommandResult {
                id: r.id,
                status: match r.status.as_ref().map(ToString::to_string).as_deref() {
                    Some("ACCEPTED") => CommandStatus::Accepted,
                    Some("COMPLETED") => CommandStatus::Completed,
                    Some("ERROR") => CommandStatus::Error,
                    Some(other) => CommandStatus::Other(other.to_owned()),
                    None => CommandStatus::Other(String::new()),
                },
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_arguments_are_refused() {
        assert!(Command::set_level(100).is_ok());
        for bad in [
            Command::set_level(101),
            Command::set_color(101.0, 5.0),
            Command::set_color(5.0, f64::NAN),
            Command::set_color_temperature(0),
            Command::set_color_temperature(40000),
            Command::set_heating_setpoint(500.0),
            Command::set_thermostat_mode("party"),
        ] {
            let error = bad.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Validation, "{error}");
        }
        assert_eq!(
            Command::set_color(50.0, 100.0).unwrap().arguments(),
            [json!({"hue": 50.0, "saturation": 100.0})]
        );
    }
}
