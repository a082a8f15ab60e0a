#![doc = include_str!("../README.md")]

pub mod cases;
pub mod check;
mod conn;
pub mod errxml;
pub mod expected;
pub mod fixtures;
pub mod http;
pub mod metrics;
pub mod output;
pub mod report;
pub mod request;
mod runner;
pub mod table;

pub use expected::ExpectedFailures;
pub use fixtures::Fixtures;
pub use output::Format;
pub use report::{CaseReport, Report, Summary, Verdict};
pub use runner::{Config, Error, case_names, run, selected};
pub use table::ErrorTable;
