//! latchkey's domain: the rules of DESIGN.md as types and use cases, with no I/O.
//!
//! Time comes from an injected [`Clock`], storage from the [`Store`] trait, so
//! every rule here can be tested with a fake clock and either database.

pub mod audit;
pub mod authz;
pub mod clock;
pub mod device;
pub mod directory;
pub mod error;
pub mod ids;
pub mod methods;
pub mod pass;
pub mod policy;
pub mod read_cache;
pub mod secrets;
pub mod service;
pub mod session;
pub mod signin;
pub mod store;
pub mod tenant;

pub use clock::{Clock, SystemClock};
pub use error::CoreError;
pub use service::Latchkey;
pub use store::{Store, StoreError};
