//! The OpenAPI 3.1 document at `/openapi.json`: every operation the server routes (the
//! Graph API, the OAuth/OpenID Connect endpoints and the sign-in pages), with the bodies the
//! handlers really render.
//!
//! Operations are declared on doc-only functions in [`paths`], so handlers carry no
//! documentation macros; [`schemas`] adds the envelopes the handlers build around the wire
//! types (`@odata.context`, `value` collections), and [`Conventions`] adds what every Graph
//! operation shares: the bearer scheme and the error responses. Only `/v1.0` is listed;
//! `/beta` serves the same operations. `crates/latchkey/tests/openapi_document.rs` checks
//! the list against the router, and `crates/latchkey/tests/openapi_fuzz.sh` fuzzes the
//! running server against this document.

use crate::AppState;
use crate::error::{ErrorResponse, OAuthErrorResponse};
use crate::graph::applications::{
    AddPasswordRequest, ApplicationResponse, CreateApplicationRequest, PasswordCredentialResponse, RedirectUrisResponse,
};
use crate::graph::audit::{DirectoryAuditResponse, SignInResponse};
use crate::graph::domains::{CreateDomainRequest, DomainResponse, FederationRequest, FederationResponse};
use crate::graph::groups::{CreateGroupRequest, GroupResponse, ReferenceRequest};
use crate::graph::methods::{Fido2MethodResponse, SoftwareOathMethodResponse};
use crate::graph::passes::{CreateTemporaryAccessPassRequest, PasswordMethodResponse, TemporaryAccessPassResponse};
use crate::graph::policy::{TapConfigurationResponse, UpdateTapConfigurationRequest};
use crate::graph::roles::{CreateRoleAssignmentRequest, RoleAssignmentResponse, RoleDefinitionResponse};
use crate::graph::users::{CreateUserRequest, InvitationRequest, InvitationResponse, UpdateUserRequest, UserResponse};
use crate::oauth::{DeviceCodeResponse, DiscoveryResponse, JwksResponse};
use axum::Json;
use axum::Router;
use axum::routing::get;
use schemas::{
    ApplicationCollection, ApplicationEntity, AuthenticationMethod, AuthenticationMethodCollection, AuthenticationMethodsPolicyResponse,
    AuthorizeRequest, ConfirmAuthenticatorForm, DeleteMethodForm, DeviceCodeRequest, DeviceLoginForm, DirectoryAuditCollection,
    DomainCollection, DomainEntity, FederationEntity, Fido2MethodCollection, Fido2MethodEntity, GroupCollection, GroupEntity, GroupMember,
    GroupMemberCollection, InvitationEntity, LoginForm, LogoutRequest, PageErrorResponse, PasskeyChallengeResponse,
    PasskeyRegisteredResponse, PasskeyRegistrationRequest, PasskeySignInRequest, PasskeySignInResponse, PasswordCredentialEntity,
    RoleAssignmentCollection, RoleAssignmentEntity, RoleDefinitionCollection, RoleDefinitionEntity, SignInCollection, SignOutForm,
    SoftwareOathMethodCollection, SoftwareOathMethodEntity, TapConfigurationCollection, TapConfigurationEntity,
    TemporaryAccessPassCollection, TemporaryAccessPassEntity, TokenRequest, TokenResponse, UserCollection, UserEntity, UserInfoResponse,
};
use utoipa::Modify;
/// Re-exported so callers without a `utoipa` dependency can call `ApiDoc::openapi()`.
pub use utoipa::OpenApi;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{Object, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr};

/// The whole document; `ApiDoc::openapi()` builds it.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "latchkey",
        description = "Graph-compatible Temporary Access Pass API, and the Entra-style OAuth endpoints that issue its tokens.\n\n\
            Every `/v1.0` path is also served under `/beta` with the same behaviour. Graph's OData key syntax \
            (`/users('alice@contoso.test')`) is accepted wherever a path names an object. List endpoints also \
            accept `$select`, which trims each item to the properties named (plus `id`); it is left out of this \
            document because it makes properties optional. JSON request bodies may also carry OData annotations \
            (`@odata.type`) and read-only properties echoed from a response (`id`, `createdDateTime`); both are \
            ignored, though the schemas below leave them out. Errors use Graph's envelope \
            `{\"error\":{\"code\",\"message\",\"innerError\"}}` on the Graph API and RFC 6749's body on the OAuth endpoints."
    ),
    paths(
        paths::list_users,
        paths::create_user,
        paths::get_user,
        paths::update_user,
        paths::delete_user,
        paths::invite_user,
        paths::list_groups,
        paths::create_group,
        paths::get_group,
        paths::delete_group,
        paths::list_members,
        paths::add_member,
        paths::remove_member,
        paths::list_role_definitions,
        paths::get_role_definition,
        paths::list_role_assignments,
        paths::create_role_assignment,
        paths::get_role_assignment,
        paths::delete_role_assignment,
        paths::list_methods,
        paths::list_passes,
        paths::create_pass,
        paths::get_pass,
        paths::delete_pass,
        paths::get_me,
        paths::list_my_methods,
        paths::list_my_passes,
        paths::get_my_pass,
        paths::delete_my_pass,
        paths::get_methods_policy,
        paths::list_configurations,
        paths::get_configuration,
        paths::update_configuration,
        paths::reset_configuration,
        paths::list_directory_audits,
        paths::list_sign_ins,
        paths::list_applications,
        paths::create_application,
        paths::get_application,
        paths::delete_application,
        paths::add_password,
        paths::list_domains,
        paths::create_domain,
        paths::get_domain,
        paths::create_federation,
        paths::discovery,
        paths::token,
        paths::device_code,
        paths::jwks,
        paths::userinfo,
        paths::userinfo_post,
        paths::authorize,
        paths::authorize_post,
        paths::login_page,
        paths::login_submit,
        paths::logout,
        paths::logout_post,
        paths::device_login_page,
        paths::device_login_submit,
        paths::whoami,
        paths::sign_out,
        paths::list_fido2_methods,
        paths::get_fido2_method,
        paths::delete_fido2_method,
        paths::list_software_oath_methods,
        paths::get_software_oath_method,
        paths::delete_software_oath_method,
        paths::list_my_fido2_methods,
        paths::get_my_fido2_method,
        paths::delete_my_fido2_method,
        paths::list_my_software_oath_methods,
        paths::get_my_software_oath_method,
        paths::delete_my_software_oath_method,
        paths::continue_authorization,
        paths::passkey_sign_in_options,
        paths::passkey_sign_in_finish,
        paths::my_security_info,
        paths::delete_method,
        paths::add_passkey_page,
        paths::passkey_registration_options,
        paths::passkey_registration_finish,
        paths::add_authenticator_page,
        paths::confirm_authenticator,
        paths::webauthn_js,

        paths::home,
        paths::openapi_document,
    ),
    components(schemas(
        ErrorResponse,
        Fido2MethodResponse,
        SoftwareOathMethodResponse,
        Fido2MethodCollection,
        Fido2MethodEntity,
        SoftwareOathMethodCollection,
        SoftwareOathMethodEntity,
        PasskeyChallengeResponse,
        PasskeyRegistrationRequest,
        PasskeyRegisteredResponse,
        PasskeySignInRequest,
        PasskeySignInResponse,
        PageErrorResponse,
        DeleteMethodForm,
        ConfirmAuthenticatorForm,
        OAuthErrorResponse,
        UserResponse,
        UserEntity,
        UserCollection,
        CreateUserRequest,
        UpdateUserRequest,
        InvitationRequest,
        InvitationResponse,
        InvitationEntity,
        GroupResponse,
        GroupEntity,
        GroupCollection,
        GroupMember,
        GroupMemberCollection,
        CreateGroupRequest,
        ReferenceRequest,
        RoleDefinitionResponse,
        RoleDefinitionEntity,
        RoleDefinitionCollection,
        RoleAssignmentResponse,
        RoleAssignmentEntity,
        RoleAssignmentCollection,
        CreateRoleAssignmentRequest,
        TemporaryAccessPassResponse,
        TemporaryAccessPassEntity,
        TemporaryAccessPassCollection,
        CreateTemporaryAccessPassRequest,
        PasswordMethodResponse,
        AuthenticationMethod,
        AuthenticationMethodCollection,
        TapConfigurationResponse,
        TapConfigurationEntity,
        TapConfigurationCollection,
        UpdateTapConfigurationRequest,
        AuthenticationMethodsPolicyResponse,
        DirectoryAuditResponse,
        DirectoryAuditCollection,
        DiscoveryResponse,
        JwksResponse,
        TokenRequest,
        TokenResponse,
        DeviceCodeRequest,
        DeviceCodeResponse,
        DeviceLoginForm,
        SignInResponse,
        SignInCollection,
        UserInfoResponse,
        AuthorizeRequest,
        LoginForm,
        LogoutRequest,
        SignOutForm,
        ApplicationResponse,
        ApplicationEntity,
        ApplicationCollection,
        RedirectUrisResponse,
        PasswordCredentialResponse,
        PasswordCredentialEntity,
        CreateApplicationRequest,
        AddPasswordRequest,
        DomainResponse,
        DomainEntity,
        DomainCollection,
        CreateDomainRequest,
        FederationRequest,
        FederationResponse,
        FederationEntity,
    )),
    security(("bearer" = [])),
    modifiers(&Conventions),
    tags(
        (name = "users", description = "Users and invitations (Graph `user`, `invitation`)."),
        (name = "groups", description = "Security groups and their members."),
        (name = "roles", description = "Directory role definitions and assignments."),
        (name = "applications", description = "Application registrations, the OAuth clients (`appId` is the `client_id`), and their secrets."),
        (name = "domains", description = "The tenant's domains and their federation with another identity provider."),
        (name = "passes", description = "Temporary Access Passes and a user's authentication methods."),
        (name = "methods", description = "Passkeys (`fido2Methods`) and authenticator apps (`softwareOathMethods`) registered on My Security Info: list, get, delete."),
        (name = "me", description = "The signed-in user; needs a delegated (user) token, an app-only token gets 400."),
        (name = "policy", description = "The tenant's Temporary Access Pass policy."),
        (name = "audit", description = "Directory audit and sign-in logs, newest first."),
        (name = "oauth", description = "Entra-style OpenID Connect discovery, token endpoint, device authorization endpoint (RFC 8628), UserInfo and JWKS under `/{tenant}`."),
        (name = "web", description = "The browser sign-in pages (HTML, usable without JavaScript) and the OpenID Connect \
            authorization and logout endpoints. They answer with pages and `303 See Other` redirects; forms carry a \
            CSRF token that must match the `lk_csrf` cookie, and a sign-in sets the `lk_session` cookie."),
        (name = "openapi", description = "This document."),
    )
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}

/// The name of the bearer security scheme every Graph operation requires.
pub const BEARER_SCHEME: &str = "bearer";

/// What operations share, added after the paths are built so each path declares only what
/// is particular to it: the security schemes; on the Graph API the error responses in
/// Graph's envelope (400 always; 404 where the path names an object or the caller; 413 and
/// 415 where a JSON body is read); and request bodies that may be left out.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from `POST /{tenant}/oauth2/v2.0/token` (app-only, client credentials) \
                         or from interactive sign-in (delegated).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_secret_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "client_id:client_secret, each form-urlencoded (RFC 6749 §2.3.1); the alternative is \
                         client_secret_post.",
                    ))
                    .build(),
            ),
        );
        for (name, description) in GRAPH_ERRORS {
            let mut response = ResponseBuilder::new()
                .description(*description)
                .content("application/json", Content::new(Some(Ref::from_schema_name("ErrorResponse"))));
            if *name == "Unauthorized" {
                response = response.header(
                    "WWW-Authenticate",
                    HeaderBuilder::new()
                        .schema(Some(Object::with_type(Type::String)))
                        .description(Some("`Bearer`"))
                        .build(),
                );
            }
            components.responses.insert((*name).to_owned(), RefOr::T(response.build()));
        }
        for (path, item) in &mut openapi.paths.paths {
            let graph = path.starts_with("/v1.0/");
            let names_an_object = path.contains('{') || path == "/v1.0/me" || path.starts_with("/v1.0/me/");
            for op in [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete, &mut item.put]
                .into_iter()
                .flatten()
            {
                if graph {
                    add_graph_errors(op, names_an_object);
                }
                unwrap_optional_body(op);
            }
        }
    }
}

/// The shared error responses, by component name.
const GRAPH_ERRORS: &[(&str, &str)] = &[
    (
        "BadRequest",
        "The request is malformed: a query option, a path key, or the body (bad JSON, wrong types, unknown \
         properties); or a rule refused it (lifetimes outside the policy, a duplicate name, `/me` with an app-only token).",
    ),
    (
        "Unauthorized",
        "No access token, or one that is expired, malformed, signed by another key or for another tenant.",
    ),
    ("Forbidden", "The caller lacks the role or application permission this needs."),
    ("NotFound", "The object named in the path (or body) does not exist."),
    ("PayloadTooLarge", "The request body is larger than 64 KiB."),
    (
        "UnsupportedMediaType",
        "The request has a Content-Type other than application/json.",
    ),
];

fn add_graph_errors(op: &mut Operation, names_an_object: bool) {
    let has_body = op.request_body.is_some();
    let mut wanted = vec![("400", "BadRequest"), ("401", "Unauthorized"), ("403", "Forbidden")];
    if names_an_object {
        wanted.push(("404", "NotFound"));
    }
    if has_body {
        wanted.extend([("413", "PayloadTooLarge"), ("415", "UnsupportedMediaType")]);
    }
    for (status, name) in wanted {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    }
}

/// `request_body = Option<T>` says the body may be left out (an empty body reads as `{}`),
/// but utoipa also lets it be JSON `null`, which the server refuses as not an object; keep
/// only `T`.
fn unwrap_optional_body(op: &mut Operation) {
    let Some(RefOr::T(body)) = &mut op.request_body else { return };
    for content in body.content.values_mut() {
        let RefOr::T(content) = content else { continue };
        if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema {
            let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null));
            let rest: Vec<_> = one_of.items.iter().filter(|s| !is_null(s)).cloned().collect();
            if let [only] = rest.as_slice()
                && rest.len() < one_of.items.len()
            {
                content.schema = Some(only.clone());
            }
        }
    }
}

/// Query options shared by the list operations. Each is also accepted without its `$`.
mod params {
    #![allow(dead_code)] // fields are read by the derive only

    /// `$top` and `$skiptoken`: paging, followed with `@odata.nextLink`.
    #[derive(utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct Paging {
        /// Page size, 1 to 999; 100 when absent.
        #[param(rename = "$top", minimum = 1, maximum = 999, nullable = false)]
        top: Option<u32>,
        /// Where the page starts. Take it from `@odata.nextLink` rather than making one up; here
        /// it is a whole number.
        #[param(rename = "$skiptoken", pattern = "^[0-9]{1,19}$", nullable = false)]
        skiptoken: Option<String>,
    }

    /// `$count` and `$filter` on `/users`.
    #[derive(utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct UserQuery {
        /// `true` adds `@odata.count`, the number of users matching `$filter` across all pages.
        #[param(rename = "$count", nullable = false)]
        count: Option<bool>,
        /// Clauses joined by `and`, each `prop eq 'value'` or `startswith(prop,'value')`, on
        /// `userPrincipalName`, `displayName`, `userType` or `mail` (at most 8). Anything else is
        /// a 400 `Request_UnsupportedQuery`.
        #[param(
            rename = "$filter",
            nullable = false,
            min_length = 1,
            example = "startswith(displayName,'A') and userType eq 'Member'"
        )]
        filter: Option<String>,
    }

    /// `$filter` on role assignments.
    #[derive(utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct RoleAssignmentQuery {
        /// Only `principalId eq '{object id}'`, the filter scripts use to list a user's roles.
        #[param(
            rename = "$filter",
            nullable = false,
            min_length = 1,
            example = "principalId eq '00000000-0000-0000-0000-000000000000'"
        )]
        filter: Option<String>,
    }
}

/// Response envelopes built by `graph::entity` / `graph::collection` around the wire types,
/// and bodies with no wire type of their own. Never constructed: they exist for their schema.
pub mod schemas {
    #![allow(dead_code)]

    use crate::graph::applications::{ApplicationResponse, PasswordCredentialResponse};
    use crate::graph::audit::{DirectoryAuditResponse, SignInResponse};
    use crate::graph::domains::{DomainResponse, FederationResponse};
    use crate::graph::groups::GroupResponse;
    use crate::graph::methods::{Fido2MethodResponse, SoftwareOathMethodResponse};
    use crate::graph::passes::{PasswordMethodResponse, TemporaryAccessPassResponse};
    use crate::graph::policy::TapConfigurationResponse;
    use crate::graph::roles::{RoleAssignmentResponse, RoleDefinitionResponse};
    use crate::graph::users::{InvitationResponse, UserResponse};
    use std::borrow::Cow;
    use utoipa::openapi::schema::{AnyOfBuilder, Schema};
    use utoipa::openapi::{Ref, RefOr};
    use utoipa::{IntoParams, PartialSchema, ToSchema};

    /// Declares `{"@odata.context", ...T}`: one Graph entity.
    macro_rules! entity {
        ($(#[$doc:meta])* $name:ident, $inner:ty) => {
            $(#[$doc])*
            #[derive(ToSchema)]
            pub struct $name {
                /// `{public-url}/v1.0/$metadata#...` naming the entity set.
                #[serde(rename = "@odata.context")]
                odata_context: String,
                #[serde(flatten)]
                inner: $inner,
            }
        };
    }

    /// Declares `{"@odata.context", "value": [T], "@odata.nextLink"?}`; `paged` lists
    /// carry the link when more items follow.
    macro_rules! collection {
        ($(#[$doc:meta])* $name:ident, $item:ty) => {
            $(#[$doc])*
            #[derive(ToSchema)]
            pub struct $name {
                #[serde(rename = "@odata.context")]
                odata_context: String,
                value: Vec<$item>,
            }
        };
        ($(#[$doc:meta])* $name:ident, $item:ty, paged) => {
            $(#[$doc])*
            #[derive(ToSchema)]
            pub struct $name {
                #[serde(rename = "@odata.context")]
                odata_context: String,
                value: Vec<$item>,
                /// The absolute URL of the next page; absent on the last page.
                #[serde(rename = "@odata.nextLink")]
                #[schema(nullable = false)]
                odata_next_link: Option<String>,
            }
        };
    }

    entity!(
        /// A Graph `user`.
        UserEntity,
        UserResponse
    );
    entity!(
        /// A Graph `invitation`; the invited user is an external guest.
        InvitationEntity,
        InvitationResponse
    );
    entity!(
        /// A Graph security `group`.
        GroupEntity,
        GroupResponse
    );
    entity!(
        /// A Graph `unifiedRoleDefinition`.
        RoleDefinitionEntity,
        RoleDefinitionResponse
    );
    entity!(
        /// A Graph `unifiedRoleAssignment`.
        RoleAssignmentEntity,
        RoleAssignmentResponse
    );
    entity!(
        /// A Graph `temporaryAccessPassAuthenticationMethod`. `temporaryAccessPass` holds the
        /// code only in the create response and is `null` everywhere else.
        TemporaryAccessPassEntity,
        TemporaryAccessPassResponse
    );

    /// The Temporary Access Pass configuration as one entity.
    #[derive(ToSchema)]
    pub struct TapConfigurationEntity {
        #[serde(rename = "@odata.context")]
        odata_context: String,
        #[serde(rename = "includeTargets@odata.context")]
        include_targets_context: String,
        #[serde(flatten)]
        inner: TapConfigurationResponse,
    }

    /// Graph `users` collection.
    #[derive(ToSchema)]
    pub struct UserCollection {
        #[serde(rename = "@odata.context")]
        odata_context: String,
        /// With `$count=true`: how many users match `$filter`, across all pages.
        #[serde(rename = "@odata.count")]
        #[schema(nullable = false)]
        odata_count: Option<u64>,
        value: Vec<UserResponse>,
        /// The absolute URL of the next page; absent on the last page.
        #[serde(rename = "@odata.nextLink")]
        #[schema(nullable = false)]
        odata_next_link: Option<String>,
    }

    collection!(
        /// Graph `groups` collection.
        GroupCollection,
        GroupResponse,
        paged
    );

    /// A group member: a `directoryObject` that is a user, so it names its type.
    #[derive(ToSchema)]
    pub struct GroupMember {
        /// `#microsoft.graph.user`.
        #[serde(rename = "@odata.type")]
        odata_type: String,
        #[serde(flatten)]
        inner: UserResponse,
    }

    collection!(
        /// A group's members (`directoryObjects`).
        GroupMemberCollection,
        GroupMember,
        paged
    );
    collection!(
        /// The built-in directory role definitions.
        RoleDefinitionCollection,
        RoleDefinitionResponse
    );
    collection!(
        /// Directory role assignments.
        RoleAssignmentCollection,
        RoleAssignmentResponse,
        paged
    );
    collection!(
        /// A user's Temporary Access Passes: zero or one (`temporaryAccessPass` is `null`).
        TemporaryAccessPassCollection,
        TemporaryAccessPassResponse
    );
    collection!(
        /// A user's authentication methods: the password (when one is set), passkeys,
        /// authenticator apps and the pass (when one exists).
        AuthenticationMethodCollection,
        AuthenticationMethod
    );
    collection!(
        /// A user's passkeys.
        Fido2MethodCollection,
        Fido2MethodResponse
    );
    entity!(
        /// A Graph `fido2AuthenticationMethod` (a passkey).
        Fido2MethodEntity,
        Fido2MethodResponse
    );
    collection!(
        /// A user's authenticator apps.
        SoftwareOathMethodCollection,
        SoftwareOathMethodResponse
    );
    entity!(
        /// A Graph `softwareOathAuthenticationMethod` (an authenticator app); `secretKey` is always `null`.
        SoftwareOathMethodEntity,
        SoftwareOathMethodResponse
    );

    /// A passkey ceremony's start: the id to send back and the options for
    /// `navigator.credentials.create()` / `.get()` (WebAuthn JSON, under `publicKey`).
    #[derive(ToSchema)]
    pub struct PasskeyChallengeResponse {
        ceremony: uuid::Uuid,
        options: serde_json::Value,
    }

    /// A new passkey: the ceremony id, the browser's `credential.toJSON()`, and a name.
    #[derive(ToSchema)]
    pub struct PasskeyRegistrationRequest {
        ceremony: uuid::Uuid,
        credential: serde_json::Value,
        #[schema(nullable = false)]
        name: Option<String>,
    }

    /// A registered passkey.
    #[derive(ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct PasskeyRegisteredResponse {
        id: uuid::Uuid,
        display_name: String,
    }

    /// A passkey sign-in: the ceremony id, the browser's assertion (`credential.toJSON()`),
    /// and optionally the user name typed first, the pending authorization request, and a
    /// local path to return to.
    #[derive(ToSchema)]
    pub struct PasskeySignInRequest {
        ceremony: uuid::Uuid,
        credential: serde_json::Value,
        username: Option<String>,
        request: Option<String>,
        next: Option<String>,
    }

    /// Where the browser goes after a passkey sign-in.
    #[derive(ToSchema)]
    pub struct PasskeySignInResponse {
        redirect: String,
    }

    /// The error body of the passkey JSON endpoints.
    #[derive(ToSchema)]
    pub struct PageErrorResponse {
        /// What went wrong, in words a person can act on.
        error: String,
    }

    /// A deletion on My Security Info.
    #[derive(ToSchema)]
    pub struct DeleteMethodForm {
        /// The page's CSRF token; it must match the `lk_csrf` cookie.
        csrf: String,
        /// `passkey`, `authenticator` or `pass`.
        kind: String,
        id: String,
        /// `yes` to delete the last method the person can sign in with.
        #[schema(nullable = false)]
        confirm: Option<String>,
    }

    /// An authenticator app's first code, confirming its enrolment.
    #[derive(ToSchema)]
    pub struct ConfirmAuthenticatorForm {
        csrf: String,
        ceremony: String,
        otp: String,
    }
    collection!(
        /// The authentication method configurations: only `TemporaryAccessPass`.
        TapConfigurationCollection,
        TapConfigurationResponse
    );
    collection!(
        /// Directory audit records, newest first.
        DirectoryAuditCollection,
        DirectoryAuditResponse,
        paged
    );

    entity!(
        /// A Graph `application`.
        ApplicationEntity,
        ApplicationResponse
    );
    entity!(
        /// A new Graph `passwordCredential`: `secretText` holds the secret, shown only here.
        PasswordCredentialEntity,
        PasswordCredentialResponse
    );
    entity!(
        /// A Graph `domain`.
        DomainEntity,
        DomainResponse
    );
    entity!(
        /// A Graph `internalDomainFederation`.
        FederationEntity,
        FederationResponse
    );
    collection!(
        /// Application registrations.
        ApplicationCollection,
        ApplicationResponse,
        paged
    );
    collection!(
        /// The tenant's domains.
        DomainCollection,
        DomainResponse
    );
    collection!(
        /// Sign-in records (Graph `signIn`), newest first.
        SignInCollection,
        SignInResponse,
        paged
    );

    /// Graph `authenticationMethodsPolicy`, with its configurations expanded.
    #[derive(ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct AuthenticationMethodsPolicyResponse {
        #[serde(rename = "@odata.context")]
        odata_context: String,
        /// `authenticationMethodsPolicy`.
        id: String,
        display_name: String,
        description: String,
        policy_version: String,
        policy_migration_state: String,
        reconfirmation_in_days: i32,
        #[serde(rename = "authenticationMethodConfigurations@odata.context")]
        authentication_method_configurations_context: String,
        authentication_method_configurations: Vec<TapConfigurationResponse>,
    }

    /// One item of `/authentication/methods`: each names its type in `@odata.type`
    /// (`#microsoft.graph.passwordAuthenticationMethod` or
    /// `#microsoft.graph.temporaryAccessPassAuthenticationMethod`).
    pub struct AuthenticationMethod;

    impl PartialSchema for AuthenticationMethod {
        fn schema() -> RefOr<Schema> {
            // anyOf, not oneOf: a pass also satisfies the password method's looser schema.
            AnyOfBuilder::new()
                .item(Ref::from_schema_name(PasswordMethodResponse::name()))
                .item(Ref::from_schema_name(TemporaryAccessPassResponse::name()))
                .item(Ref::from_schema_name(Fido2MethodResponse::name()))
                .item(Ref::from_schema_name(SoftwareOathMethodResponse::name()))
                .description(Some(
                    "A password, Temporary Access Pass, passkey (FIDO2) or authenticator app (software OATH) method, told apart by `@odata.type`.",
                ))
                .into()
        }
    }

    impl ToSchema for AuthenticationMethod {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("AuthenticationMethod")
        }

        fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
            schemas.push((PasswordMethodResponse::name().into_owned(), PasswordMethodResponse::schema()));
            schemas.push((
                TemporaryAccessPassResponse::name().into_owned(),
                TemporaryAccessPassResponse::schema(),
            ));
            schemas.push((Fido2MethodResponse::name().into_owned(), Fido2MethodResponse::schema()));
            schemas.push((
                SoftwareOathMethodResponse::name().into_owned(),
                SoftwareOathMethodResponse::schema(),
            ));
        }
    }

    /// The token request (RFC 6749 §4.1.3, §4.4.2, §6), form-encoded. A confidential client
    /// authenticates with `client_secret_post` (`client_id` and `client_secret` here) or
    /// `client_secret_basic` (the `Authorization: Basic` header), never both; a public client
    /// (a `spa` or `publicClient` redirect URI) sends only `client_id` and, for a code, its PKCE
    /// `code_verifier`. A parameter sent twice is refused.
    #[derive(ToSchema)]
    pub struct TokenRequest {
        /// Any other grant is refused with `unsupported_grant_type`.
        grant_type: GrantType,
        /// The application (client) id; with Basic authentication it must match the header's.
        #[schema(nullable = false)]
        client_id: Option<String>,
        /// The client secret, for `client_secret_post`.
        #[schema(nullable = false)]
        client_secret: Option<String>,
        /// `client_credentials` only, and required there: `https://graph.microsoft.com/.default`
        /// or `00000003-0000-0000-c000-000000000000/.default` (anything else is `invalid_scope`).
        /// The user grants keep the scope the authorization request asked for.
        #[schema(nullable = false, example = "https://graph.microsoft.com/.default")]
        scope: Option<String>,
        /// `authorization_code`: the code from the authorization endpoint (single use).
        #[schema(nullable = false)]
        code: Option<String>,
        /// `authorization_code`: the redirect URI the code was sent to.
        #[schema(nullable = false)]
        redirect_uri: Option<String>,
        /// `authorization_code`: the PKCE verifier when the request carried a `code_challenge`.
        #[schema(nullable = false)]
        code_verifier: Option<String>,
        /// `refresh_token`: the refresh token to redeem (it is rotated).
        #[schema(nullable = false)]
        refresh_token: Option<String>,
        /// `urn:ietf:params:oauth:grant-type:device_code`: the device code from the device
        /// authorization endpoint.
        #[schema(nullable = false)]
        device_code: Option<String>,
    }

    /// A device authorization request (RFC 8628 §3.1), form-encoded. A public client (one
    /// with a `publicClient` redirect URI) sends only `client_id`; any other authenticates
    /// with its secret, as at the token endpoint.
    #[derive(ToSchema)]
    pub struct DeviceCodeRequest {
        /// The application (client) id.
        #[schema(nullable = false)]
        client_id: Option<String>,
        /// The client secret, for `client_secret_post`.
        #[schema(nullable = false)]
        client_secret: Option<String>,
        /// Space-separated: `openid`, `profile`, `email`, `offline_access` and Graph scopes.
        #[schema(example = "openid profile offline_access User.Read")]
        scope: String,
    }

    /// The `/devicelogin` form: a typed code, or with `answer` the reply to the
    /// confirmation.
    #[derive(ToSchema)]
    pub struct DeviceLoginForm {
        /// The page's CSRF token; it must match the `lk_csrf` cookie.
        csrf: String,
        /// The code the device shows, in any case, with or without the dash.
        #[schema(nullable = false, example = "BCDF-GHJK")]
        user_code: Option<String>,
        /// `continue` signs the device in as the signed-in person; `cancel` refuses it.
        #[schema(nullable = false)]
        answer: Option<String>,
    }

    /// The grants the token endpoint issues tokens for.
    #[derive(ToSchema)]
    pub enum GrantType {
        #[serde(rename = "client_credentials")]
        ClientCredentials,
        #[serde(rename = "authorization_code")]
        AuthorizationCode,
        #[serde(rename = "refresh_token")]
        RefreshToken,
        #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
        DeviceCode,
    }

    /// A successful token response (RFC 6749 §5.1). App-only tokens carry the first four
    /// fields; the user grants add `scope`, `id_token` with the `openid` scope, and
    /// `refresh_token` with `offline_access` (and always when refreshing).
    #[derive(ToSchema)]
    pub struct TokenResponse {
        /// `Bearer`.
        token_type: String,
        /// Seconds until the access token expires.
        expires_in: i64,
        ext_expires_in: i64,
        /// A JWT for the Graph API.
        access_token: String,
        #[schema(nullable = false)]
        scope: Option<String>,
        #[schema(nullable = false)]
        id_token: Option<String>,
        #[schema(nullable = false)]
        refresh_token: Option<String>,
    }

    /// OpenID Connect UserInfo (Core §5.3.2).
    #[derive(ToSchema)]
    pub struct UserInfoResponse {
        /// The user's object id.
        sub: String,
        oid: String,
        name: String,
        preferred_username: String,
        /// The user's mail; left out when they have none (Core §5.3.2).
        #[schema(nullable = false)]
        email: Option<String>,
    }

    /// An authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1, RFC 7636),
    /// in the query (GET) or as a form (POST). Until `client_id` and `redirect_uri` are known
    /// good, errors are shown as a page; after that they go back to `redirect_uri`.
    #[derive(ToSchema, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AuthorizeRequest {
        /// A registered application's client id.
        client_id: String,
        /// One of the application's registered redirect URIs, exactly.
        redirect_uri: String,
        /// Only `code`.
        response_type: String,
        /// Space-separated: `openid`, `profile`, `email`, `offline_access` and Graph scopes;
        /// `openid` when absent.
        #[schema(nullable = false)]
        #[param(nullable = false)]
        scope: Option<String>,
        /// Echoed back to the application (at most 2048 characters).
        #[schema(nullable = false)]
        #[param(nullable = false)]
        state: Option<String>,
        /// Put in the ID token (at most 512 characters).
        #[schema(nullable = false)]
        #[param(nullable = false)]
        nonce: Option<String>,
        /// PKCE: the base64url SHA-256 of the verifier (43 characters); required for public clients.
        #[schema(nullable = false)]
        #[param(nullable = false)]
        code_challenge: Option<String>,
        /// Only `S256`.
        #[schema(nullable = false)]
        #[param(nullable = false)]
        code_challenge_method: Option<String>,
        /// `query` (default) or `form_post`.
        #[schema(nullable = false)]
        #[param(nullable = false)]
        response_mode: Option<String>,
        /// `login` forces a fresh sign-in; `none` fails with `login_required` rather than ask.
        #[schema(nullable = false)]
        #[param(nullable = false)]
        prompt: Option<String>,
        /// Fills in the user name.
        #[schema(nullable = false)]
        #[param(nullable = false)]
        login_hint: Option<String>,
    }

    /// The sign-in form the login page posts to itself.
    #[derive(ToSchema)]
    pub struct LoginForm {
        /// The page's CSRF token; it must match the `lk_csrf` cookie.
        csrf: String,
        /// The pending authorization request, when signing in to an application.
        #[schema(nullable = false)]
        request: Option<String>,
        /// `username` (the first step, the default), `switch` (change method), `tap` or `password`.
        #[schema(nullable = false)]
        step: Option<String>,
        #[schema(nullable = false)]
        username: Option<String>,
        /// With `step=switch`: `password` to use the password rather than the pass.
        #[schema(nullable = false)]
        method: Option<String>,
        /// With `step=tap`: the Temporary Access Pass.
        #[schema(nullable = false)]
        tap: Option<String>,
        /// With `step=password`: the password.
        #[schema(nullable = false)]
        password: Option<String>,
    }

    /// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), in the query or a form.
    #[derive(ToSchema, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct LogoutRequest {
        /// Names the application whose registered URI `post_logout_redirect_uri` must be.
        #[schema(nullable = false)]
        #[param(nullable = false)]
        client_id: Option<String>,
        /// An ID token for the application, instead of `client_id`.
        #[schema(nullable = false)]
        #[param(nullable = false)]
        id_token_hint: Option<String>,
        /// Where to go after signing out; followed only when registered for the application.
        #[schema(nullable = false)]
        #[param(nullable = false)]
        post_logout_redirect_uri: Option<String>,
        /// Echoed back on the redirect.
        #[schema(nullable = false)]
        #[param(nullable = false)]
        state: Option<String>,
    }

    /// The sign-out form.
    #[derive(ToSchema)]
    pub struct SignOutForm {
        /// The page's CSRF token; it must match the `lk_csrf` cookie.
        csrf: String,
    }
}

/// One doc-only function per operation; the real handlers live in `crate::graph` and
/// `crate::oauth`.
mod paths {
    #![allow(dead_code)] // only the generated path types are used

    use super::params::{Paging, RoleAssignmentQuery, UserQuery};
    use super::schemas::{
        ApplicationCollection, ApplicationEntity, AuthenticationMethodCollection, AuthenticationMethodsPolicyResponse, AuthorizeRequest,
        ConfirmAuthenticatorForm, DeleteMethodForm, DeviceCodeRequest, DeviceLoginForm, DirectoryAuditCollection, DomainCollection,
        DomainEntity, FederationEntity, Fido2MethodCollection, Fido2MethodEntity, GroupCollection, GroupEntity, GroupMemberCollection,
        InvitationEntity, LoginForm, LogoutRequest, PageErrorResponse, PasskeyChallengeResponse, PasskeyRegisteredResponse,
        PasskeyRegistrationRequest, PasskeySignInRequest, PasskeySignInResponse, PasswordCredentialEntity, RoleAssignmentCollection,
        RoleAssignmentEntity, RoleDefinitionCollection, RoleDefinitionEntity, SignInCollection, SignOutForm, SoftwareOathMethodCollection,
        SoftwareOathMethodEntity, TapConfigurationCollection, TapConfigurationEntity, TemporaryAccessPassCollection,
        TemporaryAccessPassEntity, TokenRequest, TokenResponse, UserCollection, UserEntity, UserInfoResponse,
    };
    use crate::error::{ErrorResponse, OAuthErrorResponse};
    use crate::graph::applications::{AddPasswordRequest, CreateApplicationRequest};
    use crate::graph::domains::{CreateDomainRequest, FederationRequest};
    use crate::graph::groups::{CreateGroupRequest, ReferenceRequest};
    use crate::graph::passes::CreateTemporaryAccessPassRequest;
    use crate::graph::policy::UpdateTapConfigurationRequest;
    use crate::graph::roles::CreateRoleAssignmentRequest;
    use crate::graph::users::{CreateUserRequest, InvitationRequest, UpdateUserRequest};
    use crate::oauth::{DeviceCodeResponse, DiscoveryResponse, JwksResponse};

    // ---- users -------------------------------------------------------------------------

    /// List users
    ///
    /// Paged with `$top` / `@odata.nextLink`, ordered by user principal name.
    #[utoipa::path(get, path = "/v1.0/users", tag = "users",
        params(Paging, UserQuery),
        responses((status = 200, description = "A page of users.", body = UserCollection)))]
    fn list_users() {}

    /// Create a user
    #[utoipa::path(post, path = "/v1.0/users", tag = "users",
        request_body = CreateUserRequest,
        responses((status = 201, description = "The new user.", body = UserEntity,
            links(
                ("GetUser" = (operation_id = "get_user", parameters(("user" = "$response.body#/id")))),
                ("UpdateUser" = (operation_id = "update_user", parameters(("user" = "$response.body#/id")))),
                ("DeleteUser" = (operation_id = "delete_user", parameters(("user" = "$response.body#/id")))),
                ("CreatePass" = (operation_id = "create_pass", parameters(("user" = "$response.body#/id")))),
                ("ListPasses" = (operation_id = "list_passes", parameters(("user" = "$response.body#/id")))),
                ("ListMethods" = (operation_id = "list_methods", parameters(("user" = "$response.body#/id")))),
            ))))]
    fn create_user() {}

    /// Get a user
    #[utoipa::path(get, path = "/v1.0/users/{user}", tag = "users",
        params(("user" = String, Path, description = "The user's object id or userPrincipalName.")),
        responses((status = 200, description = "The user.", body = UserEntity)))]
    fn get_user() {}

    /// Update a user
    ///
    /// A partial update: properties left out keep their values; `mail: null` clears the mail.
    #[utoipa::path(patch, path = "/v1.0/users/{user}", tag = "users",
        params(("user" = String, Path, description = "The user's object id or userPrincipalName.")),
        request_body = Option<UpdateUserRequest>,
        responses((status = 204, description = "Updated.")))]
    fn update_user() {}

    /// Delete a user
    ///
    /// Their pass, group memberships and role assignments go with them.
    #[utoipa::path(delete, path = "/v1.0/users/{user}", tag = "users",
        params(("user" = String, Path, description = "The user's object id or userPrincipalName.")),
        responses((status = 204, description = "Deleted.")))]
    fn delete_user() {}

    /// Invite an external guest
    ///
    /// Creates the guest user at once; latchkey sends no mail, so the redeem URL is the redirect URL.
    #[utoipa::path(post, path = "/v1.0/invitations", tag = "users",
        request_body = InvitationRequest,
        responses((status = 201, description = "The invitation.", body = InvitationEntity,
            links(
                ("GetInvitedUser" = (operation_id = "get_user", parameters(("user" = "$response.body#/invitedUser/id")))),
            ))))]
    fn invite_user() {}

    // ---- groups ------------------------------------------------------------------------

    /// List groups
    #[utoipa::path(get, path = "/v1.0/groups", tag = "groups",
        params(Paging),
        responses((status = 200, description = "A page of groups.", body = GroupCollection)))]
    fn list_groups() {}

    /// Create a security group
    #[utoipa::path(post, path = "/v1.0/groups", tag = "groups",
        request_body = CreateGroupRequest,
        responses((status = 201, description = "The new group.", body = GroupEntity,
            links(
                ("GetGroup" = (operation_id = "get_group", parameters(("group" = "$response.body#/id")))),
                ("ListMembers" = (operation_id = "list_members", parameters(("group" = "$response.body#/id")))),
                ("DeleteGroup" = (operation_id = "delete_group", parameters(("group" = "$response.body#/id")))),
            ))))]
    fn create_group() {}

    /// Get a group
    #[utoipa::path(get, path = "/v1.0/groups/{group}", tag = "groups",
        params(("group" = uuid::Uuid, Path, description = "The group's object id.")),
        responses((status = 200, description = "The group.", body = GroupEntity)))]
    fn get_group() {}

    /// Delete a group
    #[utoipa::path(delete, path = "/v1.0/groups/{group}", tag = "groups",
        params(("group" = uuid::Uuid, Path, description = "The group's object id.")),
        responses((status = 204, description = "Deleted.")))]
    fn delete_group() {}

    /// List a group's members
    #[utoipa::path(get, path = "/v1.0/groups/{group}/members", tag = "groups",
        params(("group" = uuid::Uuid, Path, description = "The group's object id."), Paging),
        responses((status = 200, description = "A page of members.", body = GroupMemberCollection)))]
    fn list_members() {}

    /// Add a member
    ///
    /// The body references the user: `{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}`.
    #[utoipa::path(post, path = "/v1.0/groups/{group}/members/$ref", tag = "groups",
        params(("group" = uuid::Uuid, Path, description = "The group's object id.")),
        request_body = ReferenceRequest,
        responses((status = 204, description = "Added.")))]
    fn add_member() {}

    /// Remove a member
    #[utoipa::path(delete, path = "/v1.0/groups/{group}/members/{member}/$ref", tag = "groups",
        params(
            ("group" = uuid::Uuid, Path, description = "The group's object id."),
            ("member" = String, Path, description = "The member's object id or userPrincipalName."),
        ),
        responses((status = 204, description = "Removed.")))]
    fn remove_member() {}

    // ---- roles -------------------------------------------------------------------------

    /// List role definitions
    #[utoipa::path(get, path = "/v1.0/roleManagement/directory/roleDefinitions", tag = "roles",
        responses((status = 200, description = "The built-in roles latchkey knows.", body = RoleDefinitionCollection)))]
    fn list_role_definitions() {}

    /// Get a role definition
    #[utoipa::path(get, path = "/v1.0/roleManagement/directory/roleDefinitions/{id}", tag = "roles",
        params(("id" = String, Path, description = "The role's template id (a GUID).")),
        responses((status = 200, description = "The role.", body = RoleDefinitionEntity)))]
    fn get_role_definition() {}

    /// List role assignments
    #[utoipa::path(get, path = "/v1.0/roleManagement/directory/roleAssignments", tag = "roles",
        params(Paging, RoleAssignmentQuery),
        responses((status = 200, description = "A page of assignments.", body = RoleAssignmentCollection)))]
    fn list_role_assignments() {}

    /// Assign a role
    ///
    /// `directoryScopeId` must be `/` (the tenant) when given.
    #[utoipa::path(post, path = "/v1.0/roleManagement/directory/roleAssignments", tag = "roles",
        request_body = CreateRoleAssignmentRequest,
        responses(
            (status = 201, description = "The new assignment.", body = RoleAssignmentEntity,
                links(
                ("GetRoleAssignment" = (operation_id = "get_role_assignment", parameters(("id" = "$response.body#/id")))),
                ("DeleteRoleAssignment" = (operation_id = "delete_role_assignment", parameters(("id" = "$response.body#/id")))),
                )),
            (status = 404, description = "The principal or role does not exist.", body = ErrorResponse),
        ))]
    fn create_role_assignment() {}

    /// Get a role assignment
    #[utoipa::path(get, path = "/v1.0/roleManagement/directory/roleAssignments/{id}", tag = "roles",
        params(("id" = uuid::Uuid, Path, description = "The assignment's id.")),
        responses((status = 200, description = "The assignment.", body = RoleAssignmentEntity)))]
    fn get_role_assignment() {}

    /// Remove a role assignment
    #[utoipa::path(delete, path = "/v1.0/roleManagement/directory/roleAssignments/{id}", tag = "roles",
        params(("id" = uuid::Uuid, Path, description = "The assignment's id.")),
        responses((status = 204, description = "Removed.")))]
    fn delete_role_assignment() {}

    // ---- passes ------------------------------------------------------------------------

    /// List a user's authentication methods
    #[utoipa::path(get, path = "/v1.0/users/{user}/authentication/methods", tag = "passes",
        params(("user" = String, Path, description = "The user's object id or userPrincipalName.")),
        responses((status = 200, description = "The user's methods.", body = AuthenticationMethodCollection)))]
    fn list_methods() {}

    /// List a user's Temporary Access Passes
    #[utoipa::path(get, path = "/v1.0/users/{user}/authentication/temporaryAccessPassMethods", tag = "passes",
        params(("user" = String, Path, description = "The user's object id or userPrincipalName.")),
        responses((status = 200, description = "Zero or one pass, without its code.", body = TemporaryAccessPassCollection)))]
    fn list_passes() {}

    /// Create a Temporary Access Pass
    ///
    /// Replaces the user's existing pass, if any. The response is the only place the code is
    /// ever shown. Every body property is optional; an empty body is `{}`.
    #[utoipa::path(post, path = "/v1.0/users/{user}/authentication/temporaryAccessPassMethods", tag = "passes",
        params(("user" = String, Path, description = "The user's object id or userPrincipalName.")),
        request_body = Option<CreateTemporaryAccessPassRequest>,
        responses((status = 201, description = "The new pass, with its code in `temporaryAccessPass`.", body = TemporaryAccessPassEntity,
            links(
                ("GetPass" = (operation_id = "get_pass", parameters(("user" = "$request.path.user"), ("id" = "$response.body#/id")))),
                ("DeletePass" = (operation_id = "delete_pass", parameters(("user" = "$request.path.user"), ("id" = "$response.body#/id")))),
            ))))]
    fn create_pass() {}

    /// Get a Temporary Access Pass
    #[utoipa::path(get, path = "/v1.0/users/{user}/authentication/temporaryAccessPassMethods/{id}", tag = "passes",
        params(
            ("user" = String, Path, description = "The user's object id or userPrincipalName."),
            ("id" = uuid::Uuid, Path, description = "The pass's id."),
        ),
        responses((status = 200, description = "The pass, without its code.", body = TemporaryAccessPassEntity)))]
    fn get_pass() {}

    /// Delete a Temporary Access Pass
    ///
    /// Ends every session and token obtained with it.
    #[utoipa::path(delete, path = "/v1.0/users/{user}/authentication/temporaryAccessPassMethods/{id}", tag = "passes",
        params(
            ("user" = String, Path, description = "The user's object id or userPrincipalName."),
            ("id" = uuid::Uuid, Path, description = "The pass's id."),
        ),
        responses((status = 204, description = "Deleted.")))]
    fn delete_pass() {}

    // ---- me ----------------------------------------------------------------------------

    /// Get the signed-in user
    #[utoipa::path(get, path = "/v1.0/me", tag = "me",
        responses((status = 200, description = "The signed-in user.", body = UserEntity)))]
    fn get_me() {}

    /// List the signed-in user's authentication methods
    #[utoipa::path(get, path = "/v1.0/me/authentication/methods", tag = "me",
        responses((status = 200, description = "The signed-in user's methods.", body = AuthenticationMethodCollection)))]
    fn list_my_methods() {}

    /// List the signed-in user's Temporary Access Passes
    #[utoipa::path(get, path = "/v1.0/me/authentication/temporaryAccessPassMethods", tag = "me",
        responses((status = 200, description = "Zero or one pass, without its code.", body = TemporaryAccessPassCollection)))]
    fn list_my_passes() {}

    /// Get the signed-in user's Temporary Access Pass
    #[utoipa::path(get, path = "/v1.0/me/authentication/temporaryAccessPassMethods/{id}", tag = "me",
        params(("id" = uuid::Uuid, Path, description = "The pass's id.")),
        responses((status = 200, description = "The pass, without its code.", body = TemporaryAccessPassEntity)))]
    fn get_my_pass() {}

    /// Delete the signed-in user's Temporary Access Pass
    #[utoipa::path(delete, path = "/v1.0/me/authentication/temporaryAccessPassMethods/{id}", tag = "me",
        params(("id" = uuid::Uuid, Path, description = "The pass's id.")),
        responses((status = 204, description = "Deleted.")))]
    fn delete_my_pass() {}

    // ---- policy ------------------------------------------------------------------------

    /// Get the authentication methods policy
    #[utoipa::path(get, path = "/v1.0/policies/authenticationMethodsPolicy", tag = "policy",
        responses((status = 200, description = "The policy with its configurations expanded.", body = AuthenticationMethodsPolicyResponse)))]
    fn get_methods_policy() {}

    /// List authentication method configurations
    #[utoipa::path(get, path = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations", tag = "policy",
        responses((status = 200, description = "The one configuration latchkey has.", body = TapConfigurationCollection)))]
    fn list_configurations() {}

    /// Get the Temporary Access Pass configuration
    #[utoipa::path(get, path = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}", tag = "policy",
        params(("id" = String, Path, description = "`TemporaryAccessPass`, in any case; any other id is a 404.", example = "TemporaryAccessPass")),
        responses((status = 200, description = "The configuration.", body = TapConfigurationEntity)))]
    fn get_configuration() {}

    /// Update the Temporary Access Pass configuration
    ///
    /// A partial update. Lifetimes are 10 to 43,200 minutes with minimum ≤ default ≤ maximum;
    /// `defaultLength` is 8 to 48; `state` is `enabled` or `disabled`; a target list replaces
    /// the current one.
    #[utoipa::path(patch, path = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}", tag = "policy",
        params(("id" = String, Path, description = "`TemporaryAccessPass`, in any case; any other id is a 404.", example = "TemporaryAccessPass")),
        request_body = Option<UpdateTapConfigurationRequest>,
        responses((status = 204, description = "Updated.")))]
    fn update_configuration() {}

    /// Reset the Temporary Access Pass configuration to its defaults
    #[utoipa::path(delete, path = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}", tag = "policy",
        params(("id" = String, Path, description = "`TemporaryAccessPass`, in any case; any other id is a 404.", example = "TemporaryAccessPass")),
        responses((status = 204, description = "Reset.")))]
    fn reset_configuration() {}

    // ---- audit -------------------------------------------------------------------------

    /// List directory audit records
    #[utoipa::path(get, path = "/v1.0/auditLogs/directoryAudits", tag = "audit",
        params(Paging),
        responses((status = 200, description = "A page of records, newest first.", body = DirectoryAuditCollection)))]
    fn list_directory_audits() {}

    /// List sign-in records
    ///
    /// Every interactive sign-in, successful or not, with the method used and, on failure,
    /// the reason.
    #[utoipa::path(get, path = "/v1.0/auditLogs/signIns", tag = "audit",
        params(Paging),
        responses((status = 200, description = "A page of records, newest first.", body = SignInCollection)))]
    fn list_sign_ins() {}

    // ---- applications ------------------------------------------------------------------

    /// List application registrations
    #[utoipa::path(get, path = "/v1.0/applications", tag = "applications",
        params(Paging),
        responses((status = 200, description = "A page of applications.", body = ApplicationCollection)))]
    fn list_applications() {}

    /// Register an application
    ///
    /// Redirect URIs are grouped by platform: `web` (a confidential client with a secret),
    /// `spa` and `publicClient` (public clients, which must use PKCE).
    #[utoipa::path(post, path = "/v1.0/applications", tag = "applications",
        request_body = CreateApplicationRequest,
        responses((status = 201, description = "The new application; it has no secret until `addPassword`.", body = ApplicationEntity,
            links(
                ("GetApplication" = (operation_id = "get_application", parameters(("application" = "$response.body#/id")))),
                ("AddPassword" = (operation_id = "add_password", parameters(("application" = "$response.body#/id")))),
                ("DeleteApplication" = (operation_id = "delete_application", parameters(("application" = "$response.body#/id")))),
            ))))]
    fn create_application() {}

    /// Get an application registration
    #[utoipa::path(get, path = "/v1.0/applications/{application}", tag = "applications",
        params(("application" = uuid::Uuid, Path, description = "The application's object id (`id`, not `appId`).")),
        responses((status = 200, description = "The application; `secretText` of each credential is `null`.", body = ApplicationEntity)))]
    fn get_application() {}

    /// Delete an application registration
    ///
    /// Its secrets go with it, and its clients can no longer get tokens.
    #[utoipa::path(delete, path = "/v1.0/applications/{application}", tag = "applications",
        params(("application" = uuid::Uuid, Path, description = "The application's object id (`id`, not `appId`).")),
        responses((status = 204, description = "Deleted.")))]
    fn delete_application() {}

    /// Add a client secret
    ///
    /// The server makes the secret; the response is the only place it is shown. Every body
    /// property is optional; the server-set ones (`secretText`, `keyId`, `hint`,
    /// `startDateTime`, `customKeyIdentifier`) are refused unless `null`.
    #[utoipa::path(post, path = "/v1.0/applications/{application}/addPassword", tag = "applications",
        params(("application" = uuid::Uuid, Path, description = "The application's object id (`id`, not `appId`).")),
        request_body = Option<AddPasswordRequest>,
        responses((status = 200, description = "The new credential, with its secret in `secretText`.", body = PasswordCredentialEntity)))]
    fn add_password() {}

    // ---- domains -----------------------------------------------------------------------

    /// List domains
    #[utoipa::path(get, path = "/v1.0/domains", tag = "domains",
        responses((status = 200, description = "The tenant's domains, the primary one first.", body = DomainCollection)))]
    fn list_domains() {}

    /// Add a domain
    #[utoipa::path(post, path = "/v1.0/domains", tag = "domains",
        request_body = CreateDomainRequest,
        responses((status = 201, description = "The new (managed) domain.", body = DomainEntity,
            links(
                ("GetDomain" = (operation_id = "get_domain", parameters(("id" = "$response.body#/id")))),
                ("Federate" = (operation_id = "create_federation", parameters(("id" = "$response.body#/id")))),
            ))))]
    fn create_domain() {}

    /// Get a domain
    #[utoipa::path(get, path = "/v1.0/domains/{id}", tag = "domains",
        params(("id" = String, Path, description = "The domain name.")),
        responses((status = 200, description = "The domain.", body = DomainEntity)))]
    fn get_domain() {}

    /// Federate a domain
    ///
    /// Users of a federated domain are sent to `passiveSignInUri` to sign in, unless they
    /// hold a usable Temporary Access Pass.
    #[utoipa::path(post, path = "/v1.0/domains/{id}/federationConfiguration", tag = "domains",
        params(("id" = String, Path, description = "The domain name.")),
        request_body = FederationRequest,
        responses((status = 201, description = "The federation.", body = FederationEntity)))]
    fn create_federation() {}

    // ---- oauth -------------------------------------------------------------------------

    /// OpenID Connect discovery
    #[utoipa::path(get, path = "/{tenant}/v2.0/.well-known/openid-configuration", tag = "oauth",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain.")),
        security(()),
        responses(
            (status = 200, description = "OpenID Provider Metadata.", body = DiscoveryResponse),
            (status = 400, description = "No such tenant.", body = OAuthErrorResponse),
        ))]
    fn discovery() {}

    /// Token endpoint
    ///
    /// `client_credentials` gives automation an app-only token for an hour;
    /// `authorization_code`, `refresh_token` and `urn:ietf:params:oauth:grant-type:device_code`
    /// give a signed-in user's tokens, which end no later than the sign-in session (and so
    /// the pass it used). While a device code waits for the person the answer is a 400 with
    /// `authorization_pending`, `slow_down` (polled too soon), `expired_token` or
    /// `access_denied` (RFC 8628 §3.5).
    #[utoipa::path(post, path = "/{tenant}/oauth2/v2.0/token", tag = "oauth",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain.")),
        request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
        security((), ("client_secret_basic" = [])),
        responses(
            (status = 200, description = "Tokens.", body = TokenResponse),
            (status = 400, description = "No such tenant, a missing or repeated parameter, an unsupported grant or \
                scope, a code, refresh token or device code that is not valid (`invalid_grant`), or a device code \
                still waiting (`authorization_pending`, `slow_down`, `expired_token`, `access_denied`).", body = OAuthErrorResponse),
            (status = 401, description = "Client authentication failed (`invalid_client`).", body = OAuthErrorResponse),
            (status = 413, description = "The form is larger than 64 KiB.", body = OAuthErrorResponse),
            (status = 429, description = "Too many token requests from this address (`temporarily_unavailable`); \
                the per-address limit is `LATCHKEY_RATE_LIMIT_PER_MINUTE`.", body = OAuthErrorResponse,
                headers(("Retry-After" = String, description = "Seconds to wait."))),
        ))]
    fn token() {}

    /// Device authorization endpoint
    ///
    /// Starts the device flow (RFC 8628): the device shows `user_code` and `message`, the
    /// person enters the code at `verification_uri` (`{public-url}/devicelogin`) and signs
    /// in, and the device polls the token endpoint with `device_code` every `interval`
    /// seconds.
    #[utoipa::path(post, path = "/{tenant}/oauth2/v2.0/devicecode", tag = "oauth",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain.")),
        request_body(content = DeviceCodeRequest, content_type = "application/x-www-form-urlencoded"),
        security((), ("client_secret_basic" = [])),
        responses(
            (status = 200, description = "The codes.", body = DeviceCodeResponse),
            (status = 400, description = "No such tenant, a missing or repeated parameter, or a scope that cannot be \
                granted (`invalid_scope`).", body = OAuthErrorResponse),
            (status = 401, description = "Unknown client, or a confidential client without its secret (`invalid_client`).", body = OAuthErrorResponse),
            (status = 413, description = "The form is larger than 64 KiB.", body = OAuthErrorResponse),
            (status = 429, description = "Too many requests from this address (`temporarily_unavailable`); \
                the per-address limit is `LATCHKEY_RATE_LIMIT_PER_MINUTE`.", body = OAuthErrorResponse,
                headers(("Retry-After" = String, description = "Seconds to wait."))),
        ))]
    fn device_code() {}

    /// UserInfo
    ///
    /// Who the bearer of a delegated token from a live sign-in is; app-only tokens and tokens
    /// whose session has ended get 401.
    #[utoipa::path(get, path = "/{tenant}/openid/userinfo", tag = "oauth",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain.")),
        security(("bearer" = [])),
        responses(
            (status = 200, description = "The signed-in user's claims.", body = UserInfoResponse),
            (status = 400, description = "No such tenant.", body = OAuthErrorResponse),
            (status = 401, description = "No token, or not one from a live sign-in (`invalid_token`).", body = OAuthErrorResponse),
        ))]
    fn userinfo() {}

    /// UserInfo (POST)
    ///
    /// The same as GET; any body is ignored.
    #[utoipa::path(post, path = "/{tenant}/openid/userinfo", tag = "oauth",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain.")),
        security(("bearer" = [])),
        responses(
            (status = 200, description = "The signed-in user's claims.", body = UserInfoResponse),
            (status = 400, description = "No such tenant.", body = OAuthErrorResponse),
            (status = 401, description = "No token, or not one from a live sign-in (`invalid_token`).", body = OAuthErrorResponse),
        ))]
    fn userinfo_post() {}

    /// JSON Web Key Set
    #[utoipa::path(get, path = "/{tenant}/discovery/v2.0/keys", tag = "oauth",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain.")),
        security(()),
        responses(
            (status = 200, description = "The public keys that verify tokens.", body = JwksResponse),
            (status = 400, description = "No such tenant.", body = OAuthErrorResponse),
        ))]
    fn jwks() {}

    // ---- web ---------------------------------------------------------------------------

    /// Authorization endpoint
    ///
    /// Starts a sign-in for an application: with a live session (and no `prompt=login`) it
    /// answers at once with a code, otherwise it sends the browser to the sign-in page.
    #[utoipa::path(get, path = "/{tenant}/oauth2/v2.0/authorize", tag = "web",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain."), AuthorizeRequest),
        security(()),
        responses(
            (status = 200, description = "`response_mode=form_post` with a live session: a page that posts the code to the application.", body = String, content_type = "text/html"),
            (status = 303, description = "To the sign-in page; or back to `redirect_uri` with `code` (live session) or `error`.",
                headers(("Location" = String, description = "Where to go next."))),
            (status = 400, description = "The request is not valid and cannot go back to the application: unknown tenant or client, \
                unregistered redirect URI, repeated parameter.",
                content((String = "text/html"), (OAuthErrorResponse = "application/json"))),
            (status = 403, description = "Refused.", body = String, content_type = "text/html"),
            (status = 404, description = "The application or user is gone.", body = String, content_type = "text/html"),
        ))]
    fn authorize() {}

    /// Authorization endpoint (POST)
    ///
    /// The same as GET, with the parameters as a form.
    #[utoipa::path(post, path = "/{tenant}/oauth2/v2.0/authorize", tag = "web",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain.")),
        request_body(content = AuthorizeRequest, content_type = "application/x-www-form-urlencoded"),
        security(()),
        responses(
            (status = 200, description = "`response_mode=form_post` with a live session: a page that posts the code to the application.", body = String, content_type = "text/html"),
            (status = 303, description = "To the sign-in page; or back to `redirect_uri` with `code` (live session) or `error`.",
                headers(("Location" = String, description = "Where to go next."))),
            (status = 400, description = "The request is not valid and cannot go back to the application, or the form is over 16 KiB.",
                content((String = "text/html"), (OAuthErrorResponse = "application/json"))),
            (status = 403, description = "Refused.", body = String, content_type = "text/html"),
            (status = 404, description = "The application or user is gone.", body = String, content_type = "text/html"),
        ))]
    fn authorize_post() {}

    /// Sign-in page
    #[utoipa::path(get, path = "/{tenant}/login", tag = "web",
        params(
            ("tenant" = String, Path, description = "The tenant id or its primary domain."),
            ("request" = Option<String>, Query, nullable = false, description = "The pending authorization request the authorization endpoint made."),
        ),
        security(()),
        responses(
            (status = 200, description = "The user name step.", body = String, content_type = "text/html"),
            (status = 400, description = "The authorization request has expired.", content((String = "text/html"), (OAuthErrorResponse = "application/json"))),
            (status = 404, description = "No such tenant.", body = String, content_type = "text/html"),
        ))]
    fn login_page() {}

    /// Sign in
    ///
    /// Posted by the sign-in page: the user name first, then the pass or the password as
    /// home-realm discovery decides.
    #[utoipa::path(post, path = "/{tenant}/login", tag = "web",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain.")),
        request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
        security(()),
        responses(
            (status = 200, description = "The next step (pass or password).", body = String, content_type = "text/html"),
            (status = 303, description = "Signed in: back to the application, or to `/whoami`; or to a federated domain's identity provider.",
                headers(("Location" = String, description = "Where to go next."))),
            (status = 400, description = "The form is not valid, the user name is missing, or the request has expired.",
                content((String = "text/html"), (OAuthErrorResponse = "application/json"))),
            (status = 401, description = "Wrong or unusable pass or password; the page says why.", body = String, content_type = "text/html"),
            (status = 403, description = "The CSRF token is missing or does not match.", body = String, content_type = "text/html"),
            (status = 404, description = "No such tenant.", body = String, content_type = "text/html"),
            (status = 413, description = "The form is larger than 16 KiB.", body = String, content_type = "text/html"),
            (status = 429, description = "Too many sign-in attempts from this address; the per-address limit is \
                `LATCHKEY_RATE_LIMIT_PER_MINUTE`.", body = String, content_type = "text/html",
                headers(("Retry-After" = String, description = "Seconds to wait."))),
        ))]
    fn login_submit() {}

    /// Log out (RP-initiated)
    #[utoipa::path(get, path = "/{tenant}/oauth2/v2.0/logout", tag = "web",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain."), LogoutRequest),
        security(()),
        responses(
            (status = 200, description = "Signed out.", body = String, content_type = "text/html"),
            (status = 303, description = "Signed out; back to the registered `post_logout_redirect_uri`.",
                headers(("Location" = String, description = "Where to go next."))),
            (status = 400, description = "The tenant in the path cannot be read.", body = OAuthErrorResponse),
            (status = 404, description = "No such tenant.", body = String, content_type = "text/html"),
        ))]
    fn logout() {}

    /// Log out (RP-initiated, POST)
    ///
    /// The same as GET; parameters may come in the query or the form.
    #[utoipa::path(post, path = "/{tenant}/oauth2/v2.0/logout", tag = "web",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain.")),
        request_body(content = Option<LogoutRequest>, content_type = "application/x-www-form-urlencoded"),
        security(()),
        responses(
            (status = 200, description = "Signed out.", body = String, content_type = "text/html"),
            (status = 303, description = "Signed out; back to the registered `post_logout_redirect_uri`.",
                headers(("Location" = String, description = "Where to go next."))),
            (status = 400, description = "The tenant in the path cannot be read.", body = OAuthErrorResponse),
            (status = 404, description = "No such tenant.", body = String, content_type = "text/html"),
        ))]
    fn logout_post() {}

    /// Device sign-in page
    ///
    /// The form where a person types the code their device shows. With `user_code` (the
    /// way back from sign-in) and a live session, the confirmation naming the application;
    /// without a session, to the sign-in page and back here.
    #[utoipa::path(get, path = "/devicelogin", tag = "web",
        params(("user_code" = Option<String>, Query, nullable = false, description = "The code the device shows.")),
        security(()),
        responses(
            (status = 200, description = "The code form, or the confirmation.", body = String, content_type = "text/html"),
            (status = 303, description = "Not signed in: to the sign-in page, which comes back here.",
                headers(("Location" = String, description = "The sign-in page."))),
            (status = 400, description = "The code is malformed, unknown, expired or already used; the form says which.", body = String, content_type = "text/html"),
            (status = 429, description = "Too many code look-ups from this address; the per-address limit is \
                `LATCHKEY_RATE_LIMIT_PER_MINUTE`.", body = String, content_type = "text/html",
                headers(("Retry-After" = String, description = "Seconds to wait."))),
        ))]
    fn device_login_page() {}

    /// Device sign-in
    ///
    /// Posted by the device sign-in page: a typed code (shows the confirmation, or sends the
    /// browser to sign in first), or the person's answer (`continue` or `cancel`).
    #[utoipa::path(post, path = "/devicelogin", tag = "web",
        request_body(content = DeviceLoginForm, content_type = "application/x-www-form-urlencoded"),
        security(()),
        responses(
            (status = 200, description = "The confirmation, or the answer recorded.", body = String, content_type = "text/html"),
            (status = 303, description = "Not signed in: to the sign-in page, which comes back here.",
                headers(("Location" = String, description = "The sign-in page."))),
            (status = 400, description = "The form is not valid, or the code is malformed, unknown, expired or already used.", body = String, content_type = "text/html"),
            (status = 403, description = "The CSRF token is missing or does not match.", body = String, content_type = "text/html"),
            (status = 413, description = "The form is larger than 16 KiB.", body = String, content_type = "text/html"),
            (status = 429, description = "Too many attempts from this address; the per-address limit is \
                `LATCHKEY_RATE_LIMIT_PER_MINUTE`.", body = String, content_type = "text/html",
                headers(("Retry-After" = String, description = "Seconds to wait."))),
        ))]
    fn device_login_submit() {}

    /// Who am I
    ///
    /// The signed-in person (by the `lk_session` cookie), how they signed in and until when.
    #[utoipa::path(get, path = "/whoami", tag = "web",
        security(()),
        responses(
            (status = 200, description = "The page.", body = String, content_type = "text/html"),
            (status = 303, description = "Not signed in: to the sign-in page.", headers(("Location" = String, description = "The sign-in page."))),
        ))]
    fn whoami() {}

    /// Sign out
    #[utoipa::path(post, path = "/signout", tag = "web",
        request_body(content = SignOutForm, content_type = "application/x-www-form-urlencoded"),
        security(()),
        responses(
            (status = 200, description = "Signed out.", body = String, content_type = "text/html"),
            (status = 403, description = "The CSRF token is missing or does not match.", body = String, content_type = "text/html"),
        ))]
    fn sign_out() {}

    /// List a user's passkeys
    #[utoipa::path(get, path = "/v1.0/users/{user}/authentication/fido2Methods", tag = "methods",
        params(("user" = String, Path, description = "The user's object id or userPrincipalName.")),
        responses((status = 200, description = "The passkeys.", body = Fido2MethodCollection)))]
    fn list_fido2_methods() {}

    /// Get a user's passkey
    #[utoipa::path(get, path = "/v1.0/users/{user}/authentication/fido2Methods/{id}", tag = "methods",
        params(("user" = String, Path, description = "The user's object id or userPrincipalName."), ("id" = uuid::Uuid, Path, description = "The method's id.")),
        responses((status = 200, description = "The passkey.", body = Fido2MethodEntity)))]
    fn get_fido2_method() {}

    /// Delete a user's passkey
    #[utoipa::path(delete, path = "/v1.0/users/{user}/authentication/fido2Methods/{id}", tag = "methods",
        params(("user" = String, Path, description = "The user's object id or userPrincipalName."), ("id" = uuid::Uuid, Path, description = "The method's id.")),
        responses((status = 204, description = "Deleted; the audit log records who deleted it.")))]
    fn delete_fido2_method() {}

    /// List the signed-in user's passkeys
    #[utoipa::path(get, path = "/v1.0/me/authentication/fido2Methods", tag = "me",
        responses((status = 200, description = "The passkeys.", body = Fido2MethodCollection)))]
    fn list_my_fido2_methods() {}

    /// Get one of the signed-in user's passkeys
    #[utoipa::path(get, path = "/v1.0/me/authentication/fido2Methods/{id}", tag = "me",
        params(("id" = uuid::Uuid, Path, description = "The method's id.")),
        responses((status = 200, description = "The passkey.", body = Fido2MethodEntity)))]
    fn get_my_fido2_method() {}

    /// Delete one of the signed-in user's passkeys
    #[utoipa::path(delete, path = "/v1.0/me/authentication/fido2Methods/{id}", tag = "me",
        params(("id" = uuid::Uuid, Path, description = "The method's id.")),
        responses((status = 204, description = "Deleted.")))]
    fn delete_my_fido2_method() {}

    /// List a user's authenticator apps
    #[utoipa::path(get, path = "/v1.0/users/{user}/authentication/softwareOathMethods", tag = "methods",
        params(("user" = String, Path, description = "The user's object id or userPrincipalName.")),
        responses((status = 200, description = "The authenticator apps.", body = SoftwareOathMethodCollection)))]
    fn list_software_oath_methods() {}

    /// Get a user's authenticator app
    #[utoipa::path(get, path = "/v1.0/users/{user}/authentication/softwareOathMethods/{id}", tag = "methods",
        params(("user" = String, Path, description = "The user's object id or userPrincipalName."), ("id" = uuid::Uuid, Path, description = "The method's id.")),
        responses((status = 200, description = "The authenticator app.", body = SoftwareOathMethodEntity)))]
    fn get_software_oath_method() {}

    /// Delete a user's authenticator app
    #[utoipa::path(delete, path = "/v1.0/users/{user}/authentication/softwareOathMethods/{id}", tag = "methods",
        params(("user" = String, Path, description = "The user's object id or userPrincipalName."), ("id" = uuid::Uuid, Path, description = "The method's id.")),
        responses((status = 204, description = "Deleted; the audit log records who deleted it.")))]
    fn delete_software_oath_method() {}

    /// List the signed-in user's authenticator apps
    #[utoipa::path(get, path = "/v1.0/me/authentication/softwareOathMethods", tag = "me",
        responses((status = 200, description = "The authenticator apps.", body = SoftwareOathMethodCollection)))]
    fn list_my_software_oath_methods() {}

    /// Get one of the signed-in user's authenticator apps
    #[utoipa::path(get, path = "/v1.0/me/authentication/softwareOathMethods/{id}", tag = "me",
        params(("id" = uuid::Uuid, Path, description = "The method's id.")),
        responses((status = 200, description = "The authenticator app.", body = SoftwareOathMethodEntity)))]
    fn get_my_software_oath_method() {}

    /// Delete one of the signed-in user's authenticator apps
    #[utoipa::path(delete, path = "/v1.0/me/authentication/softwareOathMethods/{id}", tag = "me",
        params(("id" = uuid::Uuid, Path, description = "The method's id.")),
        responses((status = 204, description = "Deleted.")))]
    fn delete_my_software_oath_method() {}

    /// Continue to the application
    ///
    /// Finishes a pending authorization request for the browser's live session (after a
    /// passkey sign-in, or after skipping the passkey offer).
    #[utoipa::path(get, path = "/{tenant}/login/continue", tag = "web",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain."), ("request" = Option<String>, Query, nullable = false, description = "The pending authorization request.")),
        security(()),
        responses(
            (status = 200, description = "The form_post page back to the application.", body = String, content_type = "text/html"),
            (status = 303, description = "Back to the application with a code; to sign-in without a session; to My Security Info without a request.",
                headers(("Location" = String, description = "Where to go next."))),
            (status = 400, description = "The request has expired, or the tenant cannot be read.", content((String = "text/html"), (OAuthErrorResponse = "application/json"))),
            (status = 404, description = "No such tenant.", body = String, content_type = "text/html"),
        ))]
    fn continue_authorization() {}

    /// Start a passkey sign-in
    ///
    /// Called by the sign-in page's script; the CSRF token goes in `x-csrf-token`.
    #[utoipa::path(post, path = "/{tenant}/passkey/options", tag = "web",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain."), ("x-csrf-token" = String, Header, description = "The `lk_csrf` cookie's value.")),
        request_body(content = serde_json::Value, content_type = "application/json"),
        security(()),
        responses(
            (status = 200, description = "The challenge.", body = PasskeyChallengeResponse),
            (status = 400, description = "The body is not JSON, or passkeys are off (an IP public URL).", body = PageErrorResponse),
            (status = 403, description = "The CSRF token is missing or does not match.", body = PageErrorResponse),
            (status = 404, description = "No such tenant.", body = PageErrorResponse),
            (status = 413, description = "The body is larger than 64 KiB.", body = PageErrorResponse),
            (status = 429, description = "Too many requests from this address; the per-address limit is \
                `LATCHKEY_RATE_LIMIT_PER_MINUTE`.", body = String, content_type = "text/html",
                headers(("Retry-After" = String, description = "Seconds to wait."))),
        ))]
    fn passkey_sign_in_options() {}

    /// Sign in with a passkey
    #[utoipa::path(post, path = "/{tenant}/passkey", tag = "web",
        params(("tenant" = String, Path, description = "The tenant id or its primary domain."), ("x-csrf-token" = String, Header, description = "The `lk_csrf` cookie's value.")),
        request_body(content = PasskeySignInRequest, content_type = "application/json"),
        security(()),
        responses(
            (status = 200, description = "Signed in (the `lk_session` cookie is set); where to go next.", body = PasskeySignInResponse),
            (status = 400, description = "The body is not valid, or the authorization request expired.", body = PageErrorResponse),
            (status = 401, description = "The passkey was not accepted; `error` says why (expired or reused challenge, unknown passkey, wrong origin, bad signature).", body = PageErrorResponse),
            (status = 403, description = "The CSRF token is missing or does not match.", body = PageErrorResponse),
            (status = 404, description = "No such tenant.", body = PageErrorResponse),
            (status = 413, description = "The body is larger than 64 KiB.", body = PageErrorResponse),
            (status = 429, description = "Too many requests from this address; the per-address limit is \
                `LATCHKEY_RATE_LIMIT_PER_MINUTE`.", body = String, content_type = "text/html",
                headers(("Retry-After" = String, description = "Seconds to wait."))),
        ))]
    fn passkey_sign_in_finish() {}

    /// My Security Info
    ///
    /// The signed-in person's methods, the pass with its expiry, the "add a method" banner
    /// while the pass is their only method, and the ways to add and delete methods.
    #[utoipa::path(get, path = "/mysecurityinfo", tag = "web",
        security(()),
        responses(
            (status = 200, description = "The page.", body = String, content_type = "text/html"),
            (status = 303, description = "Not signed in: to the sign-in page, which comes back here.", headers(("Location" = String, description = "The sign-in page."))),
        ))]
    fn my_security_info() {}

    /// Delete a method on My Security Info
    #[utoipa::path(post, path = "/mysecurityinfo/delete", tag = "web",
        request_body(content = DeleteMethodForm, content_type = "application/x-www-form-urlencoded"),
        security(()),
        responses(
            (status = 200, description = "Deleted, or the confirmation before deleting the last method.", body = String, content_type = "text/html"),
            (status = 303, description = "Not signed in.", headers(("Location" = String, description = "The sign-in page."))),
            (status = 403, description = "The CSRF token is missing or does not match.", body = String, content_type = "text/html"),
        ))]
    fn delete_method() {}

    /// Add a passkey (page)
    #[utoipa::path(get, path = "/mysecurityinfo/passkey", tag = "web",
        security(()),
        responses(
            (status = 200, description = "The page that creates a passkey, or My Security Info saying a recent sign-in is needed.", body = String, content_type = "text/html"),
            (status = 303, description = "Not signed in.", headers(("Location" = String, description = "The sign-in page."))),
            (status = 400, description = "Passkeys are off (an IP public URL).", body = String, content_type = "text/html"),
        ))]
    fn add_passkey_page() {}

    /// Start registering a passkey
    #[utoipa::path(post, path = "/mysecurityinfo/passkey/options", tag = "web",
        params(("x-csrf-token" = String, Header, description = "The `lk_csrf` cookie's value.")),
        request_body(content = serde_json::Value, content_type = "application/json"),
        security(()),
        responses(
            (status = 200, description = "The creation options.", body = PasskeyChallengeResponse),
            (status = 400, description = "The body is not JSON, or passkeys are off.", body = PageErrorResponse),
            (status = 401, description = "Not signed in.", body = PageErrorResponse),
            (status = 403, description = "CSRF, or the session may not register methods now (no recent strong sign-in).", body = PageErrorResponse),
            (status = 413, description = "The body is larger than 64 KiB.", body = PageErrorResponse),
            (status = 429, description = "Too many requests from this address; the per-address limit is \
                `LATCHKEY_RATE_LIMIT_PER_MINUTE`.", body = String, content_type = "text/html",
                headers(("Retry-After" = String, description = "Seconds to wait."))),
        ))]
    fn passkey_registration_options() {}

    /// Register a passkey
    #[utoipa::path(post, path = "/mysecurityinfo/passkey/register", tag = "web",
        params(("x-csrf-token" = String, Header, description = "The `lk_csrf` cookie's value.")),
        request_body(content = PasskeyRegistrationRequest, content_type = "application/json"),
        security(()),
        responses(
            (status = 201, description = "Registered.", body = PasskeyRegisteredResponse),
            (status = 400, description = "The credential is not valid or could not be verified; `error` says why.", body = PageErrorResponse),
            (status = 401, description = "Not signed in.", body = PageErrorResponse),
            (status = 403, description = "CSRF, or the session may not register methods now.", body = PageErrorResponse),
            (status = 409, description = "This passkey is registered already.", body = PageErrorResponse),
            (status = 413, description = "The body is larger than 64 KiB.", body = PageErrorResponse),
        ))]
    fn passkey_registration_finish() {}

    /// Add an authenticator app (page)
    ///
    /// Starts an enrolment: the QR code and key, shown once.
    #[utoipa::path(get, path = "/mysecurityinfo/authenticator", tag = "web",
        security(()),
        responses(
            (status = 200, description = "The enrolment page, or My Security Info saying a recent sign-in is needed.", body = String, content_type = "text/html"),
            (status = 303, description = "Not signed in.", headers(("Location" = String, description = "The sign-in page."))),
        ))]
    fn add_authenticator_page() {}

    /// Confirm an authenticator app
    #[utoipa::path(post, path = "/mysecurityinfo/authenticator", tag = "web",
        request_body(content = ConfirmAuthenticatorForm, content_type = "application/x-www-form-urlencoded"),
        security(()),
        responses(
            (status = 200, description = "Added; or the same key again with the error for a wrong code.", body = String, content_type = "text/html"),
            (status = 303, description = "Not signed in.", headers(("Location" = String, description = "The sign-in page."))),
            (status = 403, description = "The CSRF token is missing or does not match.", body = String, content_type = "text/html"),
        ))]
    fn confirm_authenticator() {}

    /// The passkey script
    #[utoipa::path(get, path = "/assets/webauthn.js", tag = "web",
        security(()),
        responses((status = 200, description = "The only script the pages use.", body = String, content_type = "text/javascript")))]
    fn webauthn_js() {}

    /// Home page
    #[utoipa::path(get, path = "/", tag = "web",
        security(()),
        responses((status = 200, description = "A page pointing to sign-in and the API.", body = String, content_type = "text/html")))]
    fn home() {}

    /// This OpenAPI document
    #[utoipa::path(get, path = "/openapi.json", tag = "openapi",
        security(()),
        responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object)))]
    fn openapi_document() {}
}
