//! `st devices history`: a device's recorded events, newest first, within
//! a time window and filtered by capability or attribute.

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use futures::{StreamExt, TryStreamExt};
use smartthings_ext::SmartThings;
use smartthings_ext::types::DeviceActivity;

use super::{UsageError, to_json};
use crate::cli::Format;
use crate::output::{cell, emit, table};

/// Which events: since (inclusive) and until (exclusive), epoch millis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl Window {
    /// From `--since` and `--until`: each a time or an age.
    pub fn parse(since: Option<&str>, until: Option<&str>) -> Result<Self> {
        let now = Utc::now();
        let window = Self {
            since: since.map(|s| instant(s, now)).transpose()?,
            until: until.map(|s| instant(s, now)).transpose()?,
        };
        if let (Some(since), Some(until)) = (window.since, window.until)
            && since >= until
        {
            return Err(UsageError("--since must be before --until".into()).into());
        }
        Ok(window)
    }
}

/// `2026-12-01T08:00:00Z` (RFC 3339), or an age before `now`: a number
/// and a unit, `s`, `m`, `h`, `d` or `w`.
pub(super) fn instant(text: &str, now: DateTime<Utc>) -> Result<i64> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.timestamp_millis());
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| bad(text))?;
    let age = match unit {
        "s" => Duration::try_seconds(number),
        "m" => Duration::try_minutes(number),
        "h" => Duration::try_hours(number),
        "d" => Duration::try_days(number),
        "w" => Duration::try_weeks(number),
        _ => None,
    }
    .ok_or_else(|| bad(text))?;
    // An age past the representable past (`100000000w`) is a bad argument,
    // not a panic.
    let at = now.checked_sub_signed(age).ok_or_else(|| bad(text))?;
    Ok(at.timestamp_millis())
}

fn bad(text: &str) -> anyhow::Error {
    UsageError(format!(
        "{text:?} is neither a time (2026-12-01T08:00:00Z) nor an age (30m, 12h, 7d, 2w)"
    ))
    .into()
}

/// Events of one capability or attribute only.
#[derive(Clone, Debug, Default)]
pub(super) struct Filter {
    pub capability: Option<String>,
    pub attribute: Option<String>,
}

impl Filter {
    fn keeps(&self, event: &DeviceActivity) -> bool {
        let same = |wanted: &Option<String>, got: &Option<String>| {
            wanted.is_none() || wanted.as_deref() == got.as_deref()
        };
        same(&self.capability, &event.capability) && same(&self.attribute, &event.attribute)
    }
}

pub(super) async fn show(
    c: &SmartThings,
    format: Format,
    device_id: &str,
    window: Window,
    filter: &Filter,
    limit: usize,
) -> Result<()> {
    // The history is kept per location, and asked for by it.
    let device = c.get_device().device_id(device_id).send().await?;
    let location = device
        .location_id
        .context("the device has no location, and history is kept per location")?;
    let mut request = c
        .list_device_history()
        .location_id(vec![location])
        .device_id(vec![device_id.to_owned()]);
    if let Some(until) = window.until {
        request = request.paging_before_epoch(until);
    }
    // Newest first: the window's start ends the walk; pages after it are
    // never asked for.
    let events: Vec<DeviceActivity> = request
        .items()
        .try_take_while(|e| {
            let inside = match (window.since, e.epoch) {
                (Some(since), Some(epoch)) => epoch >= since,
                _ => true,
            };
            std::future::ready(Ok(inside))
        })
        .try_filter(|e| std::future::ready(filter.keeps(e)))
        .take(limit)
        .try_collect()
        .await
        .map_err(anyhow::Error::from)?;
    emit(format, &to_json(&events), || {
        let mut t = table(&[
            "Time",
            "Component",
            "Capability",
            "Attribute",
            "Value",
            "Unit",
        ]);
        for e in &events {
            t.add_row(vec![
                e.time.clone().unwrap_or_default(),
                e.component.clone().unwrap_or_default(),
                e.capability.clone().unwrap_or_default(),
                e.attribute.clone().unwrap_or_default(),
                e.value.as_ref().map(cell).unwrap_or_default(),
                e.unit.clone().unwrap_or_default(),
            ]);
        }
        t
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_ages_become_epoch_millis() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |s| instant(s, now).unwrap();
        assert_eq!(
            at("2026-12-01T08:00:00Z"),
            now.timestamp_millis() - 4 * 3_600_000
        );
        assert_eq!(at("30m"), now.timestamp_millis() - 30 * 60_000);
        assert_eq!(at("7d"), now.timestamp_millis() - 7 * 86_400_000);
        assert_eq!(at("2w"), now.timestamp_millis() - 14 * 86_400_000);
        for wrong in ["", "7", "d", "7y", "-1d", "yesterday", "100000000w"] {
            let error = instant(wrong, now).unwrap_err();
            assert!(error.downcast_ref::<UsageError>().is_some(), "{wrong}");
        }
    }

    #[test]
    fn a_window_that_ends_before_it_starts_is_refused() {
        assert!(Window::parse(Some("1d"), Some("2d")).is_err());
        let window = Window::parse(Some("2d"), Some("1d")).unwrap();
        assert!(window.since < window.until);
    }
}
