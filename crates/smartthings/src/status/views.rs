//! Typed views of the common capabilities' attributes: `switch` as a
//! `bool`, a level as a [`Measurement`], a lock state as a [`Known`] word.

use super::{ComponentStatus, Measurement};

/// A value that is one of a few known words, or something else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known<'a, T> {
    /// A value this crate knows.
    Known(T),
    /// Any other value, as sent.
    Other(&'a str),
}

/// `contactSensor.contact`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contact {
    /// open
    Open,
    /// closed
    Closed,
}

/// `lock.lock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockState {
    /// locked
    Locked,
    /// unlocked
    Unlocked,
    /// unlocked with timeout
    UnlockedWithTimeout,
    /// unknown
    Unknown,
}

/// Hue and saturation (`colorControl`, both 0–100).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hsv {
    /// Hue, 0–100.
    pub hue: f64,
    /// Saturation, 0–100.
    pub saturation: f64,
}

/// `healthCheck`'s `DeviceWatch-DeviceStatus` with its reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceWatch<'a> {
    /// `online` or `offline`.
    pub status: &'a str,
    /// Why (`data.reason`), if given.
    pub reason: Option<&'a str>,
}

fn word<'a, T>(raw: &'a str, table: &[(&str, T)]) -> Known<'a, T>
where
    T: Copy,
{
    table
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(raw))
        .map(|(_, t)| Known::Known(*t))
        .unwrap_or(Known::Other(raw))
}

/// Typed views of the common capabilities. Each returns `None` when the
/// capability or attribute is absent or of an unexpected type; none panics.
impl ComponentStatus {
    /// `switch.switch`: on → `true`, off → `false`.
    pub fn switch(&self) -> Option<bool> {
        match self.attr("switch", "switch")?.as_str()? {
            "on" => Some(true),
            "off" => Some(false),
            _ => None,
        }
    }

    /// `colorControl.hue` and `.saturation`.
    pub fn color(&self) -> Option<Hsv> {
        Some(Hsv {
            hue: self.attr("colorControl", "hue")?.as_f64()?,
            saturation: self.attr("colorControl", "saturation")?.as_f64()?,
        })
    }

    /// `contactSensor.contact`.
    pub fn contact(&self) -> Option<Known<'_, Contact>> {
        let raw = self.attr("contactSensor", "contact")?.as_str()?;
        Some(word(
            raw,
            &[("open", Contact::Open), ("closed", Contact::Closed)],
        ))
    }

    /// `motionSensor.motion`: active → `true`, inactive → `false`.
    pub fn motion(&self) -> Option<bool> {
        match self.attr("motionSensor", "motion")?.as_str()? {
            "active" => Some(true),
            "inactive" => Some(false),
            _ => None,
        }
    }

    /// `lock.lock`.
    pub fn lock(&self) -> Option<Known<'_, LockState>> {
        let raw = self.attr("lock", "lock")?.as_str()?;
        Some(word(
            raw,
            &[
                ("locked", LockState::Locked),
                ("unlocked", LockState::Unlocked),
                ("unlocked with timeout", LockState::UnlockedWithTimeout),
                ("unknown", LockState::Unknown),
            ],
        ))
    }

    /// `thermostatMode.thermostatMode` (heat, cool, auto, off, ...).
    pub fn thermostat_mode(&self) -> Option<&str> {
        self.attr("thermostatMode", "thermostatMode")?.as_str()
    }

    /// `thermostatFanMode.thermostatFanMode`.
    pub fn thermostat_fan_mode(&self) -> Option<&str> {
        self.attr("thermostatFanMode", "thermostatFanMode")?
            .as_str()
    }

    /// `healthCheck.DeviceWatch-DeviceStatus`.
    pub fn device_watch(&self) -> Option<DeviceWatch<'_>> {
        let attribute = self.attr("healthCheck", "DeviceWatch-DeviceStatus")?;
        Some(DeviceWatch {
            status: attribute.as_str()?,
            reason: attribute.data_str("reason"),
        })
    }
}

/// Views that read one attribute as a number with its unit, each written
/// as its doc, its name and the `capability.attribute` it reads.
macro_rules! measurement_views {
    ($($(#[doc = $doc:literal])+ $name:ident: $capability:literal . $attribute:literal;)+) => {
        /// Typed views of the common measurements. Each returns `None` when
        /// the capability or attribute is absent or not a number.
        impl ComponentStatus {
            $(
                $(#[doc = $doc])+
                pub fn $name(&self) -> Option<Measurement<'_>> {
                    self.attr($capability, $attribute)?.measurement()
                }
            )+
        }
    };
}

measurement_views! {
    /// `switchLevel.level` (%).
    level: "switchLevel"."level";
    /// `colorTemperature.colorTemperature` (K).
    color_temperature: "colorTemperature"."colorTemperature";
    /// `temperatureMeasurement.temperature` (C or F).
    temperature: "temperatureMeasurement"."temperature";
    /// `relativeHumidityMeasurement.humidity` (%).
    humidity: "relativeHumidityMeasurement"."humidity";
    /// `battery.battery` (%).
    battery: "battery"."battery";
    /// `thermostatHeatingSetpoint.heatingSetpoint`.
    heating_setpoint: "thermostatHeatingSetpoint"."heatingSetpoint";
    /// `thermostatCoolingSetpoint.coolingSetpoint`.
    cooling_setpoint: "thermostatCoolingSetpoint"."coolingSetpoint";
    /// `powerMeter.power` (W).
    power: "powerMeter"."power";
    /// `energyMeter.energy` (kWh).
    energy: "energyMeter"."energy";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn views_never_panic_on_unexpected_types() {
        let status: ComponentStatus = serde_json::from_value(json!({
            "switch": {"switch": {"value": 1}},
            "switchLevel": {"level": {"value": "high"}},
            "lock": {"lock": {"value": ["locked"]}},
            "colorControl": {"hue": {"value": null}, "saturation": {"value": 3}},
            "temperatureMeasurement": {"temperature": {"value": "21.5", "unit": "C"}},
            "contactSensor": {"contact": {"value": "ajar"}}
        }))
        .unwrap();
        assert_eq!(status.switch(), None);
        assert_eq!(status.level(), None);
        assert_eq!(status.lock(), None);
        assert_eq!(status.color(), None);
        assert_eq!(status.battery(), None);
        assert_eq!(status.temperature().unwrap().value, 21.5);
        assert_eq!(status.contact(), Some(Known::Other("ajar")));
    }
}
