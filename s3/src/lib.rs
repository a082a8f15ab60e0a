//! cedargate-s3: the S3 wire protocol, without a server.
//!
//! What a request means and how an answer is written, for any S3 service:
//!
//! - [`route`] and [`query`]: bucket and key from host and path, the query
//!   string's parameters;
//! - [`classify`]: the S3 operation a request is;
//! - [`sigv4`]: SigV4 verification (header, presigned) against a
//!   [`sigv4::SecretLookup`], and the client-side signer;
//! - [`body`]: `aws-chunked` framing, chunk and trailer signatures,
//!   checksums, and the [`body::BodyPlan`] that says which apply;
//! - [`error`]: the S3 error type, its codes and their status per profile;
//! - [`xml`]: the XML documents read and written;
//! - [`cors`]: CORS rules and how they answer browsers;
//! - [`header_text`]: header values as text, read and written as S3 does;
//! - [`post`]: POST Object's form, policy document, signature and answer.
//!
//! It knows nothing of a network server, of authorization policies, of
//! storage or of configuration files.
//!
//! # Layers
//!
//! A module imports only modules named before it here
//! (`python3 scripts/cycles.py s3/src --layers` checks it): [`query`],
//! [`route`], [`classify`], [`sigv4`], [`xml`], [`error`], [`cors`],
//! [`body`], [`header_text`], [`post`].

pub mod body;
pub mod classify;
pub mod cors;
pub mod error;
pub mod header_text;
pub mod post;
pub mod query;
pub mod route;
pub mod sigv4;
pub mod xml;
