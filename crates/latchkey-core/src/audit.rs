//! Audit records (Graph `directoryAudit`), written in the same transaction as the change
//! they describe. They name who did what to whom; they never hold a secret.

use crate::authz::Caller;
use crate::directory::User;
use crate::ids::AuditId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Entra's activity names (graph-tap-spec.md §5).
pub mod activity {
    pub const ADMIN_REGISTERED_SECURITY_INFO: &str = "Admin registered security info";
    pub const ADMIN_DELETED_SECURITY_INFO: &str = "Admin deleted security info";
    pub const USER_DELETED_SECURITY_INFO: &str = "User deleted security info";
    pub const USER_REGISTERED_SECURITY_INFO: &str = "User registered security info";
    pub const UPDATE_POLICY: &str = "Update authentication methods policy";
    pub const RESET_POLICY: &str = "Reset authentication methods policy";
    pub const ADD_USER: &str = "Add user";
    pub const UPDATE_USER: &str = "Update user";
    pub const DELETE_USER: &str = "Delete user";
    pub const INVITE_EXTERNAL_USER: &str = "Invite external user";
    pub const ADD_GROUP: &str = "Add group";
    pub const DELETE_GROUP: &str = "Delete group";
    pub const ADD_MEMBER_TO_GROUP: &str = "Add member to group";
    pub const REMOVE_MEMBER_FROM_GROUP: &str = "Remove member from group";
    pub const ADD_MEMBER_TO_ROLE: &str = "Add member to role";
    pub const REMOVE_MEMBER_FROM_ROLE: &str = "Remove member from role";
    pub const ADD_APPLICATION: &str = "Add application";
    pub const DELETE_APPLICATION: &str = "Delete application";
    /// Entra writes an en dash here.
    pub const UPDATE_APPLICATION_SECRETS: &str = "Update application – Certificates and secrets management";
    pub const CREATE_TENANT: &str = "Create company";
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ModifiedProperty {
    pub display_name: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// The object a record is about.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TargetResource {
    pub id: String,
    pub display_name: Option<String>,
    /// `User`, `Group`, `Policy`, `Role`, `Application`, `Tenant`.
    #[serde(rename = "type")]
    pub kind: String,
    pub user_principal_name: Option<String>,
    pub modified_properties: Vec<ModifiedProperty>,
}

impl TargetResource {
    #[must_use]
    pub fn user(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            display_name: Some(u.display_name.clone()),
            kind: "User".into(),
            user_principal_name: Some(u.user_principal_name.to_string()),
            modified_properties: Vec::new(),
        }
    }

    #[must_use]
    pub fn other(kind: &str, id: impl ToString, display_name: Option<String>) -> Self {
        Self {
            id: id.to_string(),
            display_name,
            kind: kind.into(),
            user_principal_name: None,
            modified_properties: Vec::new(),
        }
    }

    #[must_use]
    pub fn with(mut self, name: &str, old: Option<String>, new: Option<String>) -> Self {
        self.modified_properties.push(ModifiedProperty {
            display_name: name.into(),
            old_value: old,
            new_value: new,
        });
        self
    }
}

/// Who did it, as Graph's `initiatedBy`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Initiator {
    User { id: String, user_principal_name: String },
    App { app_id: String, display_name: String },
    Operator { name: String },
}

impl From<&Caller> for Initiator {
    fn from(c: &Caller) -> Self {
        match c {
            Caller::User { id, upn, .. } => Self::User {
                id: id.to_string(),
                user_principal_name: upn.clone(),
            },
            Caller::App { app_id, display_name, .. } => Self::App {
                app_id: app_id.to_string(),
                display_name: display_name.clone(),
            },
            Caller::Operator { name } => Self::Operator { name: name.clone() },
        }
    }
}

/// One `directoryAudit` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: AuditId,
    pub activity_date_time: DateTime<Utc>,
    pub activity_display_name: String,
    pub category: String,
    pub logged_by_service: String,
    pub operation_type: String,
    pub result: String,
    pub result_reason: String,
    pub initiated_by: Initiator,
    pub target_resources: Vec<TargetResource>,
}

/// Graph's `loggedByService` for directory and method events.
pub const SERVICE_AUTH_METHODS: &str = "Authentication Methods";
pub const SERVICE_CORE_DIRECTORY: &str = "Core Directory";

impl AuditRecord {
    /// A successful change.
    #[must_use]
    pub fn success(
        now: DateTime<Utc>,
        by: &Caller,
        activity: &str,
        (service, category, operation): (&str, &str, &str),
        reason: impl Into<String>,
        targets: Vec<TargetResource>,
    ) -> Self {
        Self {
            id: AuditId::new_random(),
            activity_date_time: now,
            activity_display_name: activity.into(),
            category: category.into(),
            logged_by_service: service.into(),
            operation_type: operation.into(),
            result: "success".into(),
            result_reason: reason.into(),
            initiated_by: by.into(),
            target_resources: targets,
        }
    }
}
