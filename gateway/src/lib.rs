//! cedargate: an S3 authorization gateway.
//!
//! Every request passes the same pipeline: route, classify, authenticate,
//! authorize, limit, dispatch, respond; CORS preflights are answered by
//! [`cors`] right after routing. Each stage is a plain function in its
//! own module; [`proxy`] is the pingora glue that calls them in order.

pub mod admin;
pub mod auth;
pub mod authorize;
pub mod body;
pub mod buckets;
pub mod config;
pub mod console;
pub mod cors;
pub mod handlers;
pub mod health;
pub mod limits;
pub mod listener;
pub mod metrics;
pub mod object_tags;
pub mod open_files;
pub mod pipeline;
#[cfg(test)]
mod pipeline_tests;
pub mod proxy;
pub mod quota;
pub mod request;
pub mod response;
pub mod server;
pub mod sockets;
pub mod state;
pub mod sts;
pub mod telemetry;
pub mod xml;

pub use cedargate_s3::{classify, error, query, route};
