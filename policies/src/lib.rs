//! Cedar policies for cedargate: the schema, the policy store with hot
//! reload, and decisions.
//!
//! The gateway's *authorize* stage will ask this crate for a decision on
//! every request. Until policies are loaded from files, the gateway allows
//! authenticated requests and refuses anonymous ones.
