//! Shared fixtures for the consumer-side test suites in this folder.
