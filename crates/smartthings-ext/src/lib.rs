#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod client;
mod commands;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod lists;
mod paginate;
mod ratelimit;
mod retry;
mod snapshot;
mod status;
mod token;
mod transport;

pub use client::{ClientBuilder, SmartThings};
pub use commands::{Command, CommandResult, CommandStatus};
pub use error::{Error, ErrorKind};
pub use lists::DeviceQuery;
pub use paginate::{ItemStream, ListPage, Listing, collect_all, next_page_url};
pub use ratelimit::{Limit, RateLimitPolicy, Scope};
pub use retry::{RetryPolicy, retry_hint};
pub use snapshot::{DeviceSnapshot, LocationSnapshot, Snapshot, SnapshotOptions};
pub use status::{
    Attribute, CapabilityStatus, ComponentStatus, Contact, DeviceStatus, DeviceWatch, Health,
    HealthState, Hsv, Known, LockState, Measurement, parse_timestamp,
};
pub use token::{TOKEN_ENV, Token};
pub use transport::Metrics;

/// The generated client and its types, for convenience.
pub use smartthings;

/// The workspace README's library example, compiled as a doctest so that
/// the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct WorkspaceReadme;
