//! The domain's error: every way a use case can refuse, rendered by each surface in one place.

use crate::store::StoreError;

/// Why a use case did not happen. Messages are safe to show to the caller: they never
/// contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The caller is not signed in, or its credentials are not valid.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// No such object.
    #[error("Resource '{id}' does not exist or one of its queried reference-property objects are not present.")]
    NotFound { kind: &'static str, id: String },
    /// The request is well-formed but breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// The object exists already (e.g. a user principal name in use).
    #[error("{0}")]
    Conflict(String),
    /// Temporary Access Pass sign-in or creation refused by policy.
    #[error("{0}")]
    PolicyBlocked(String),
    /// The database has no tenant yet.
    #[error("this database has not been initialised: run `latchkey init` first")]
    NotInitialised,
    /// The database already holds a tenant.
    #[error("this database already holds a tenant; `latchkey init` changed nothing")]
    AlreadyInitialised,
    /// Anything the caller cannot act on; the detail goes to the log only.
    #[error("internal error")]
    Internal(String),
}

/// The exact text Entra gives for a pass aimed at an external guest (seed 001, "Guest access").
pub const EXTERNAL_GUEST_MESSAGE: &str = "Temporary Access Pass cannot be added to an external guest user.";

/// The exact text Entra gives when its policy refuses a pass (graph-tap-spec.md §1.6).
pub const POLICY_REFUSES_CREATION_MESSAGE: &str =
    "Converged UserCredentialPolicy does not allow creating or updating this authentication method. AuthMethodType [TemporaryAccessPass].";

impl CoreError {
    #[must_use]
    pub fn not_found(kind: &'static str, id: impl ToString) -> Self {
        Self::NotFound { kind, id: id.to_string() }
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { kind, id } => Self::NotFound { kind, id },
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::AlreadyInitialised => Self::AlreadyInitialised,
            StoreError::Backend(m) => Self::Internal(m),
        }
    }
}
