#![doc = include_str!("../README.md")]

mod cache;
mod decide;
mod error;
mod implied;
mod load;
mod request;
mod schema;
mod slice;
mod snapshot;
mod store;
mod time;
mod usage;
mod watch;

pub mod cli;

pub use decide::{Decision, REASON_EVALUATION_ERROR, REASON_INVALID_REQUEST, REASON_NO_PERMIT};
pub use error::{Diagnostic, Location, PolicyError};
pub use implied::{
    HeaderName, IMPLIED_ACTIONS, ImpliedAction, ImpliedRule, decide_with_implied, implied_actions,
};
pub use load::{DENY_ERROR_CODES, PolicyEffect, PolicyInfo};
pub use request::{AuthMode, AuthzRequest, PrincipalRef, RequestContext};
pub use schema::{
    ACTION_GROUPS, ACTION_PREFIX, ResourceKind, SCHEMA_SRC, action_group, action_names,
    action_resource,
};
pub use snapshot::PolicySnapshot;
pub use store::{PolicyStore, ReloadStatus};
pub use watch::{WatchHandle, watch_files};
