//! Domains of the tenant and their federation (`/domains`,
//! `/domains/{id}/federationConfiguration`): a federated domain's users are sent to their
//! own provider at sign-in, unless they hold a usable pass.

use super::Latchkey;
use crate::audit::{SERVICE_CORE_DIRECTORY, TargetResource};
use crate::authz::{Access, Area, Caller};
use crate::error::CoreError;
use crate::session::{Domain, Federation};
use crate::tenant::parse_domain;

const ADD_DOMAIN: &str = "Add unverified domain";
const SET_FEDERATION: &str = "Set domain authentication";

/// Checks a URI that browsers will be sent to: absolute https (http only for loopback).
fn parse_sign_in_uri(field: &str, raw: &str) -> Result<String, CoreError> {
    let t = raw.trim();
    let loopback = ["http://localhost", "http://127.0.0.1"].iter().any(|p| t.starts_with(p));
    if t.len() > 2048 || !(t.starts_with("https://") || loopback) || t.contains(['#', ' ', '"', '<', '>']) || t.len() <= "https://".len() {
        return Err(CoreError::Invalid(format!("{field} must be an absolute https URL")));
    }
    Ok(t.to_owned())
}

impl Latchkey {
    /// The primary domain (always managed) and the domains added since.
    pub async fn list_domains(&self, caller: &Caller) -> Result<Vec<(Domain, bool)>, CoreError> {
        caller.authorize(Area::Domains, Access::Read)?;
        let tenant = self.tenant().await?;
        let primary = Domain {
            id: tenant.primary_domain.clone(),
            federation: None,
            created_at: tenant.created_at,
        };
        let mut out = vec![(primary, true)];
        out.extend(
            self.store()
                .list_domains()
                .await?
                .into_iter()
                .filter(|d| d.id != tenant.primary_domain)
                .map(|d| (d, false)),
        );
        Ok(out)
    }

    pub async fn get_domain(&self, caller: &Caller, id: &str) -> Result<(Domain, bool), CoreError> {
        let wanted = id.to_ascii_lowercase();
        self.list_domains(caller)
            .await?
            .into_iter()
            .find(|(d, _)| d.id == wanted)
            .ok_or_else(|| CoreError::not_found("domain", id))
    }

    /// Adds a domain (`POST /domains`); latchkey treats it as verified.
    pub async fn add_domain(&self, caller: &Caller, id: &str) -> Result<Domain, CoreError> {
        caller.authorize(Area::Domains, Access::Write)?;
        let name = parse_domain(id)?;
        if self.tenant().await?.primary_domain == name {
            return Err(CoreError::Conflict(format!("{name} is already the tenant's primary domain")));
        }
        let domain = Domain {
            id: name.clone(),
            federation: None,
            created_at: self.now(),
        };
        let audit = self.audit(
            caller,
            ADD_DOMAIN,
            (SERVICE_CORE_DIRECTORY, "DirectoryManagement", "Add"),
            "",
            vec![TargetResource::other("Domain", &name, Some(name.clone()))],
        );
        self.store().insert_domain(&domain, &audit).await.map_err(|e| match e {
            crate::StoreError::Conflict(_) => CoreError::Conflict(format!("The domain {name} already exists.")),
            other => other.into(),
        })?;
        Ok(domain)
    }

    /// Makes a domain federated (`POST /domains/{id}/federationConfiguration`).
    pub async fn federate_domain(
        &self,
        caller: &Caller,
        id: &str,
        passive_sign_in_uri: &str,
        issuer_uri: &str,
        display_name: &str,
    ) -> Result<Domain, CoreError> {
        caller.authorize(Area::Domains, Access::Write)?;
        let (mut domain, primary) = self.get_domain(caller, id).await?;
        if primary {
            return Err(CoreError::Invalid(
                "The primary domain stays managed: its administrators must be able to sign in here.".into(),
            ));
        }
        if domain.federation.is_some() {
            return Err(CoreError::Conflict(format!("The domain {} is already federated.", domain.id)));
        }
        domain.federation = Some(Federation {
            passive_sign_in_uri: parse_sign_in_uri("passiveSignInUri", passive_sign_in_uri)?,
            issuer_uri: crate::directory::parse_display_name("issuerUri", issuer_uri)?,
            display_name: crate::directory::parse_display_name("displayName", display_name)?,
        });
        let target = TargetResource::other("Domain", &domain.id, Some(domain.id.clone())).with(
            "AuthenticationType",
            Some("Managed".into()),
            Some("Federated".into()),
        );
        let audit = self.audit(
            caller,
            SET_FEDERATION,
            (SERVICE_CORE_DIRECTORY, "DirectoryManagement", "Update"),
            "",
            vec![target],
        );
        self.store().update_domain(&domain, &audit).await?;
        Ok(domain)
    }
}
