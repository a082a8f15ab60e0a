//! cedargate: an S3 authorization gateway.
//!
//! Every request passes the same pipeline: route, classify, authenticate,
//! authorize, limit, dispatch, respond; CORS preflights are answered by
//! [`cors`] right after routing. Each stage is a plain function in its
//! own module; [`proxy`] is the pingora glue that calls them in order.
//!
//! # Layers
//!
//! The modules form layers; a module imports only from its own layer's
//! earlier entries and from the layers before it, never from a later one
//! (`scripts/cycles.py gateway/src` reports any cycle):
//!
//! 1. S3 protocol: [`query`], [`route`], [`classify`], [`xml`], [`error`],
//!    [`response`], [`cors`], [`auth::sigv4`] and [`auth::Secret`], the
//!    [`body`] decoders.
//! 2. Configuration and state: [`state`], [`config`], [`metrics`],
//!    [`telemetry`], [`buckets`], [`listener`], [`sockets`],
//!    [`open_files`].
//! 3. Stages: [`request`], [`backend_error`], [`sts`] (sessions and
//!    tokens), [`auth`], [`outcome`], [`limits`], [`authorize`], [`quota`],
//!    [`object_tags`], [`health`], [`handlers`].
//! 4. The pipeline: [`pipeline`], which runs the stages in order.
//! 5. Services: [`console`], [`proxy`], [`admin`], [`server`].

pub mod admin;
pub mod auth;
pub mod authorize;
pub mod backend_error;
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
pub mod outcome;
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
