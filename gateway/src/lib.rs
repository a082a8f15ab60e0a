//! cedargate: an S3 authorization gateway.
//!
//! Every request passes the same pipeline: route, classify, authenticate,
//! authorize, limit, dispatch, respond; CORS preflights are answered by
//! [`cors`] right after routing. Each stage is a plain function in its
//! own module; [`proxy`] is the pingora glue that calls them in order.
//!
//! # Layers
//!
//! The S3 wire protocol (SigV4, routing, classification, query, errors,
//! XML bodies, CORS rules, aws-chunked decoding) is its own crate,
//! `cedargate_s3`, which knows nothing of pingora, Cedar, backends or
//! configuration. Above it, this crate's modules form layers; a module
//! imports only modules named before it here, never a later one
//! (`python3 scripts/cycles.py gateway/src --layers` checks it):
//!
//! 1. Protocol glue: [`response`], [`backend_error`], [`body`], [`xml`],
//!    [`cors`], [`request`], [`outcome`].
//! 2. Configuration and state: [`state`], [`config`], [`metrics`],
//!    [`telemetry`], [`buckets`], [`listener`], [`sockets`],
//!    [`open_files`].
//! 3. Stages: [`sts`] (sessions and tokens), [`auth`], [`limits`],
//!    [`authorize`], [`quota`], [`object_tags`], [`resource_acl`], [`health`],
//!    [`handlers`].
//! 4. The pipeline: [`pipeline`], which runs the stages in order and
//!    serves the STS endpoint; it takes an `http` request head, the peer
//!    and a [`body::ClientBody`], and never sees pingora.
//! 5. Services: [`console`], [`proxy`] (the only pingora glue of the
//!    request path), [`admin`], [`server`]; then `pipeline_tests`, the
//!    in-process tests of the pipeline.

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
pub mod resource_acl;
pub mod response;
pub mod server;
pub mod sockets;
pub mod state;
pub mod sts;
pub mod telemetry;
pub mod xml;
