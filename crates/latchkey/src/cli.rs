//! The command line: `init`, `serve`, `demo`, and operator commands that act on the
//! database directly, audited as the operator.

use crate::{master_key, startup};
use anyhow::{Context as _, anyhow, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use latchkey_core::authz::Caller;
use latchkey_core::directory::{DirectoryRole, Page, UserType};
use latchkey_core::pass::PassRequest;
use latchkey_core::policy::{PolicyChange, PolicyState, PolicyTarget, TapPolicy};
use latchkey_core::secrets::SecretString;
use latchkey_core::service::{InitRequest, IssuedPass, NewUser};
use latchkey_core::{CoreError, Latchkey};
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "A self-hosted identity server built around the Temporary Access Pass"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Database: `sqlite:PATH` (default) or `postgres://...`.
    #[arg(long, global = true, env = "LATCHKEY_DATABASE_URL", default_value = startup::DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,
    /// The file holding the master key that seals signing keys.
    #[arg(long, global = true, env = "LATCHKEY_MASTER_KEY_FILE", default_value = startup::DEFAULT_MASTER_KEY_FILE)]
    pub master_key_file: PathBuf,
    /// How results are printed.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LATCHKEY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The URL clients use to reach this server (issuer, links); default http://localhost:PORT.
    #[arg(long, env = "LATCHKEY_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Sign-in and token requests allowed per client address per minute (0: no limit,
    /// as load tests from one address need). Wrong-code lockouts per user always apply.
    #[arg(long, env = "LATCHKEY_RATE_LIMIT_PER_MINUTE", default_value_t = 300)]
    pub rate_limit_per_minute: u32,
    /// On PostgreSQL, cache hot Graph reads and learn of other servers' changes through
    /// LISTEN/NOTIFY: much faster reads, but another server's write shows here only once
    /// its notification arrives. Off by default (every read goes to the database). SQLite
    /// always caches, exactly.
    #[arg(long, env = "LATCHKEY_POSTGRES_READ_CACHE")]
    pub postgres_read_cache: bool,
}

impl ServeArgs {
    fn change_watch(&self) -> latchkey_store::ChangeWatch {
        if self.postgres_read_cache {
            latchkey_store::ChangeWatch::Notified
        } else {
            latchkey_store::ChangeWatch::Exact
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a tenant: signing keys, TAP policy, a Global Administrator with a pass, an automation client.
    Init {
        #[arg(long, default_value = "contoso.test")]
        domain: String,
        /// The first admin's user principal name (default admin@DOMAIN).
        #[arg(long)]
        admin: Option<String>,
    },
    /// Run the server.
    Serve(ServeArgs),
    /// Initialise on first run, issue a fresh pass for the admin, and serve.
    Demo(ServeArgs),
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// Groups.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Directory roles.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Temporary Access Passes.
    #[command(subcommand)]
    Tap(TapCommand),
    /// The Temporary Access Pass policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Application registrations: the OAuth clients (appId is the client_id).
    #[command(subcommand)]
    App(AppCommand),
    /// Token-signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new signing key; the old one stays in the JWKS until its tokens expire, and
    /// running servers pick the new one up within a minute.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user (a member, or an internal guest with --guest).
    Add {
        user_principal_name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        guest: bool,
        /// Read a password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List {
        #[arg(long, default_value_t = 100)]
        top: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Add a security group.
    Add {
        display_name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// Add a user to a group.
    AddMember { group_id: String, user: String },
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Give a user a directory role: global-admin, privileged-authentication-admin,
    /// authentication-admin, authentication-policy-admin, global-reader (or a template id).
    Assign { user: String, role: String },
}

#[derive(Debug, Subcommand)]
pub enum TapCommand {
    /// Issue a pass (replacing any the user has) and print its code once.
    Create {
        user: String,
        /// When the pass starts working (RFC 3339), default now.
        #[arg(long)]
        start: Option<DateTime<chrono::FixedOffset>>,
        /// Minutes it lasts (within the policy's minimum and maximum).
        #[arg(long)]
        lifetime: Option<i64>,
        /// One sign-in only.
        #[arg(long)]
        once: bool,
        /// Also print a QR code of a sign-in link that fills in the user name (never
        /// the code), for handing the pass over on a phone.
        #[arg(long)]
        qr: bool,
        /// The server's public URL, for the sign-in link.
        #[arg(long, env = "LATCHKEY_PUBLIC_URL", default_value = "http://localhost:8080")]
        public_url: String,
    },
    /// Show a user's pass (never its code).
    Show { user: String },
    /// Delete a user's pass.
    Delete { user: String },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Show the policy.
    Show,
    /// Change the policy; options left out keep their value.
    Set {
        #[arg(long, value_parser = ["enabled", "disabled"])]
        state: Option<String>,
        #[arg(long)]
        min_lifetime: Option<i64>,
        #[arg(long)]
        max_lifetime: Option<i64>,
        #[arg(long)]
        default_lifetime: Option<i64>,
        #[arg(long)]
        length: Option<i64>,
        #[arg(long)]
        once: Option<bool>,
        /// Replace include targets with these group ids (`all_users` for everyone).
        #[arg(long, num_args = 1..)]
        include_group: Option<Vec<String>>,
        /// Replace exclude targets with these group ids.
        #[arg(long, num_args = 0..)]
        exclude_group: Option<Vec<String>>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Register an application; with --secret also add a client secret and print it once.
    Add {
        display_name: String,
        /// A redirect URI of a confidential web client (repeatable).
        #[arg(long = "web-redirect", value_name = "URI")]
        web_redirect: Vec<String>,
        /// A redirect URI of a single-page app, a public client using PKCE (repeatable).
        #[arg(long = "spa-redirect", value_name = "URI")]
        spa_redirect: Vec<String>,
        /// A redirect URI of a mobile or desktop app, a public client (repeatable).
        #[arg(long = "public-redirect", value_name = "URI")]
        public_redirect: Vec<String>,
        /// Add a client secret (lasting 2 years) and print it once.
        #[arg(long)]
        secret: bool,
    },
    /// List applications.
    List {
        #[arg(long, default_value_t = 100)]
        top: u32,
    },
    /// Delete an application and its secrets, by object id or appId.
    Remove { app: String },
}

fn operator() -> Caller {
    let name = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "operator".into());
    Caller::Operator { name }
}

fn core_err(e: CoreError) -> anyhow::Error {
    anyhow!("{e}")
}

fn print(output: Output, value: &serde_json::Value, text: &str) {
    match output {
        Output::Json => println!("{value}"),
        Output::Text => println!("{text}"),
    }
}

fn pass_json(p: &latchkey_core::service::PassView, user: &str) -> serde_json::Value {
    json!({
        "id": p.pass.id.to_string(),
        "user": user,
        "startDateTime": p.pass.start_at.to_rfc3339(),
        "expiresDateTime": p.pass.expires_at().to_rfc3339(),
        "lifetimeInMinutes": p.pass.lifetime_in_minutes,
        "isUsableOnce": p.pass.is_usable_once,
        "isUsable": p.usability.is_usable,
        "methodUsabilityReason": p.usability.reason.as_str(),
    })
}

/// The sign-in page with the user name filled in, landing on My Security Info. The pass's
/// code is never part of it: a link can be forwarded, logged or photographed.
fn sign_in_link(public_url: &str, tenant: &str, upn: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("username", upn)
        .append_pair("next", "/mysecurityinfo")
        .finish();
    format!("{}/{tenant}/login?{query}", public_url.trim_end_matches('/'))
}

fn issued_text(user: &str, issued: &IssuedPass) -> String {
    let p = &issued.view.pass;
    format!(
        "Temporary Access Pass for {user}: {}\n  valid from {} until {} ({} minutes, {})\n  This code is shown once and cannot be read again.",
        issued.code.expose(),
        p.start_at.to_rfc3339(),
        p.expires_at().to_rfc3339(),
        p.lifetime_in_minutes,
        if p.is_usable_once {
            "one sign-in"
        } else {
            "any number of sign-ins"
        }
    )
}

fn public_url(args: &ServeArgs) -> String {
    args.public_url
        .clone()
        .unwrap_or_else(|| format!("http://localhost:{}", args.listen.port()))
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let g = &cli.global;
    match cli.command {
        Command::Init { domain, admin } => {
            let core = startup::core(startup::open_store(&g.database_url, true).await?, None);
            init(&core, g, &domain, admin).await
        }
        Command::Serve(args) => {
            let core = startup::core(
                startup::open_serving_store(&g.database_url, false, args.change_watch()).await?,
                None,
            );
            serve(core, g, &args).await
        }
        Command::Demo(args) => demo(g, &args).await,
        Command::User(c) => user(&open(g).await?, g.output, c).await,
        Command::Group(c) => group(&open(g).await?, g.output, c).await,
        Command::Role(RoleCommand::Assign { user, role }) => {
            let core = open(g).await?;
            let r = DirectoryRole::from_slug(&role).ok_or_else(|| {
                anyhow!(
                    "unknown role '{role}'; use one of: {}",
                    DirectoryRole::ALL.map(DirectoryRole::slug).join(", ")
                )
            })?;
            let a = core.assign_role(&operator(), &user, r.template_id(), "/").await.map_err(core_err)?;
            print(
                g.output,
                &json!({"id": a.id.to_string(), "principalId": a.principal_id.to_string(), "roleDefinitionId": r.template_id(), "role": r.display_name()}),
                &format!("{user} now holds {}", r.display_name()),
            );
            Ok(())
        }
        Command::Tap(c) => tap(&open(g).await?, g.output, c).await,
        Command::Policy(c) => policy(&open(g).await?, g.output, c).await,
        Command::Keys(KeysCommand::Rotate) => {
            let core = open(g).await?;
            let key = master_key::read(&g.master_key_file)?;
            core.check_master_key(&key).await.map_err(core_err)?;
            let new = latchkey_http::tokens::generate_signing_key(&key, core.now()).map_err(core_err)?;
            let kid = new.kid.clone();
            core.rotate_signing_key(&operator(), new).await.map_err(core_err)?;
            print(
                g.output,
                &json!({"kid": kid}),
                &format!(
                    "now signing with key {kid}; the previous key stays published for {} minutes",
                    latchkey_http::tokens::RETIRED_KEY_GRACE_MINUTES
                ),
            );
            Ok(())
        }
        Command::App(c) => app(&open(g).await?, g.output, c).await,
    }
}

async fn open(g: &Global) -> anyhow::Result<Latchkey> {
    let core = startup::core(startup::open_store(&g.database_url, false).await?, None);
    core.tenant().await.map_err(core_err)?;
    Ok(core)
}

async fn init(core: &Latchkey, g: &Global, domain: &str, admin: Option<String>) -> anyhow::Result<()> {
    if core.tenant().await.is_ok() {
        bail!("this database already holds a tenant; `latchkey init` changed nothing");
    }
    let (key, _created) = master_key::read_or_create(&g.master_key_file)?;
    let signing_key = latchkey_http::tokens::generate_signing_key(&key, core.now()).map_err(core_err)?;
    let out = core
        .initialise(
            InitRequest {
                domain: domain.into(),
                admin_upn: admin,
                signing_key,
            },
            &key,
        )
        .await
        .map_err(core_err)?;
    let upn = out.admin.user_principal_name.to_string();
    let value = json!({
        "tenantId": out.tenant.id.to_string(),
        "primaryDomain": out.tenant.primary_domain,
        "admin": {
            "id": out.admin.id.to_string(),
            "userPrincipalName": upn,
            "temporaryAccessPass": out.admin_pass.code.expose(),
            "lifetimeInMinutes": out.admin_pass.view.pass.lifetime_in_minutes,
        },
        "client": {"clientId": out.client_app_id.to_string(), "clientSecret": out.client_secret.expose()},
    });
    let text = format!(
        "Tenant {} ({}) created.\n\n{}\n\nAutomation client (client credentials, all admin API permissions):\n  client_id     {}\n  client_secret {}\n  (the secret is shown once)\n\nMaster key: {} (keep it with the database; every server needs it)",
        out.tenant.primary_domain,
        out.tenant.id,
        issued_text(&upn, &out.admin_pass),
        out.client_app_id,
        out.client_secret.expose(),
        g.master_key_file.display()
    );
    print(g.output, &value, &text);
    Ok(())
}

async fn serve(core: Latchkey, g: &Global, args: &ServeArgs) -> anyhow::Result<()> {
    let public = public_url(args);
    let state = startup::server_state(core, &g.master_key_file, &public)
        .await?
        .with_rate_limit(args.rate_limit_per_minute);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let tenant = state.tenant.clone();
    eprintln!(
        "latchkey serving tenant {} ({}) on http://{} (public URL {public})",
        tenant.primary_domain,
        tenant.id,
        listener.local_addr()?
    );
    eprintln!("  Graph API:  {public}/v1.0/  and  {public}/beta/");
    eprintln!("  Token:      {public}/{}/oauth2/v2.0/token", tenant.id);
    eprintln!("  OpenAPI:    {public}/openapi.json");
    let sweeper = tokio::spawn(record_expiries(state.clone()));
    latchkey_http::serve(listener, state, shutdown_signal()).await?;
    sweeper.abort();
    eprintln!("latchkey stopped");
    Ok(())
}

/// Writes each pass's expiry to the audit and sign-in logs within a minute of it.
/// Also re-reads the signing keys, so a rotation reaches every server.
async fn record_expiries(state: latchkey_http::AppState) {
    let core = state.core.clone();
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every.tick().await;
        if let Err(e) = state.reload_keys().await {
            tracing::warn!(error = %e, "reloading signing keys failed");
        }
        match core.record_expired_passes().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(count = n, "recorded expired passes"),
            Err(e) => tracing::warn!(error = %e, "recording expired passes failed"),
        }
        // Passkey challenges and TOTP enrolments nobody finished.
        if let Err(e) = core.purge_ceremonies().await {
            tracing::warn!(error = %e, "purging unfinished ceremonies failed");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

async fn demo(g: &Global, args: &ServeArgs) -> anyhow::Result<()> {
    let core = startup::core(startup::open_serving_store(&g.database_url, true, args.change_watch()).await?, None);
    let public = public_url(args);
    match core.tenant().await {
        Err(CoreError::NotInitialised) => init(&core, g, "contoso.test", None).await?,
        Err(e) => return Err(core_err(e)),
        Ok(tenant) => {
            // A fresh pass for the first admin on every run, so the demo always prints one.
            let admin = format!("admin@{}", tenant.primary_domain);
            let issued = core
                .create_pass(&operator(), &admin, PassRequest::default())
                .await
                .map_err(core_err)?;
            println!(
                "Tenant {} ({}) is already initialised.\n\n{}",
                tenant.primary_domain,
                tenant.id,
                issued_text(&admin, &issued)
            );
            println!("\nThe automation client's secret was shown by the first run only.");
        }
    }
    let tenant = core.tenant().await.map_err(core_err)?;
    println!(
        "\nSign in: open {public}/whoami in a browser, enter admin@{domain}, then the pass above.\n\nGet an app token and call the API:\n  curl -s {public}/{tid}/oauth2/v2.0/token -d grant_type=client_credentials -d client_id=CLIENT_ID --data-urlencode client_secret=CLIENT_SECRET -d scope=https://graph.microsoft.com/.default\n  curl -s -H \"Authorization: Bearer $TOKEN\" {public}/v1.0/users\n",
        tid = tenant.id,
        domain = tenant.primary_domain
    );
    serve(core, g, args).await
}

async fn user(core: &Latchkey, output: Output, c: UserCommand) -> anyhow::Result<()> {
    match c {
        UserCommand::Add {
            user_principal_name,
            display_name,
            guest,
            password_stdin,
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                Some(SecretString::new(line.trim_end_matches(['\r', '\n']).to_owned()))
            } else {
                None
            };
            let display = display_name.unwrap_or_else(|| user_principal_name.split('@').next().unwrap_or_default().to_owned());
            let u = core
                .create_user(
                    &operator(),
                    NewUser {
                        user_principal_name,
                        display_name: display,
                        mail: None,
                        user_type: if guest { UserType::Guest } else { UserType::Member },
                        account_enabled: true,
                        password,
                    },
                )
                .await
                .map_err(core_err)?;
            print(
                output,
                &json!({"id": u.id.to_string(), "userPrincipalName": u.user_principal_name.to_string(), "userType": u.user_type.as_str()}),
                &format!("added {} ({})", u.user_principal_name, u.id),
            );
        }
        UserCommand::List { top } => {
            let listing = core
                .list_users(
                    &operator(),
                    &[],
                    Page {
                        skip: 0,
                        top: top.clamp(1, Page::MAX_TOP),
                    },
                )
                .await
                .map_err(core_err)?;
            let rows: Vec<_> = listing.items.iter().map(|u| json!({"id": u.id.to_string(), "userPrincipalName": u.user_principal_name.to_string(), "displayName": u.display_name, "userType": u.user_type.as_str(), "external": u.is_external_guest()})).collect();
            let text = listing
                .items
                .iter()
                .map(|u| format!("{}  {}  {}  {}", u.id, u.user_principal_name, u.user_type.as_str(), u.display_name))
                .collect::<Vec<_>>()
                .join("\n");
            print(output, &json!(rows), &text);
        }
    }
    Ok(())
}

async fn group(core: &Latchkey, output: Output, c: GroupCommand) -> anyhow::Result<()> {
    match c {
        GroupCommand::Add { display_name, description } => {
            let gr = core
                .create_group(&operator(), &display_name, description.as_deref(), None)
                .await
                .map_err(core_err)?;
            print(
                output,
                &json!({"id": gr.id.to_string(), "displayName": gr.display_name}),
                &format!("added group {} ({})", gr.display_name, gr.id),
            );
        }
        GroupCommand::AddMember { group_id, user } => {
            let id = group_id.parse().map_err(|e| anyhow!("{e}"))?;
            core.add_member(&operator(), id, &user).await.map_err(core_err)?;
            print(
                output,
                &json!({"groupId": group_id, "member": user}),
                &format!("{user} is now a member of {group_id}"),
            );
        }
    }
    Ok(())
}

async fn tap(core: &Latchkey, output: Output, c: TapCommand) -> anyhow::Result<()> {
    match c {
        TapCommand::Create {
            user,
            start,
            lifetime,
            once,
            qr,
            public_url,
        } => {
            let req = PassRequest {
                start_date_time: start.map(|s| s.with_timezone(&Utc)),
                lifetime_in_minutes: lifetime,
                is_usable_once: once.then_some(true),
            };
            let issued = core.create_pass(&operator(), &user, req).await.map_err(core_err)?;
            let mut v = pass_json(&issued.view, &user);
            v["temporaryAccessPass"] = json!(issued.code.expose());
            let mut text = issued_text(&user, &issued);
            if qr {
                let tenant = core.tenant().await.map_err(core_err)?;
                let upn = core.resolve_user(&user).await.map_err(core_err)?.user_principal_name;
                let link = sign_in_link(&public_url, &tenant.id.to_string(), upn.as_str());
                v["signInLink"] = json!(link);
                let code = latchkey_http::qr::terminal(&link).unwrap_or_default();
                text = format!("{text}\n\nSign-in link (the user name is filled in; type the pass): {link}\n{code}");
            }
            print(output, &v, &text);
        }
        TapCommand::Show { user } => {
            let passes = core.list_passes(&operator(), &user).await.map_err(core_err)?;
            match passes.first() {
                Some(p) => print(
                    output,
                    &pass_json(p, &user),
                    &format!(
                        "{user}: pass {} from {} until {}, {}, {} ({})",
                        p.pass.id,
                        p.pass.start_at.to_rfc3339(),
                        p.pass.expires_at().to_rfc3339(),
                        if p.pass.is_usable_once { "one-time" } else { "multi-use" },
                        if p.usability.is_usable { "usable" } else { "not usable" },
                        p.usability.reason.as_str()
                    ),
                ),
                None => print(output, &json!(null), &format!("{user} holds no Temporary Access Pass")),
            }
        }
        TapCommand::Delete { user } => {
            let passes = core.list_passes(&operator(), &user).await.map_err(core_err)?;
            let p = passes.first().ok_or_else(|| anyhow!("{user} holds no Temporary Access Pass"))?;
            core.delete_pass(&operator(), &user, p.pass.id).await.map_err(core_err)?;
            print(
                output,
                &json!({"deleted": p.pass.id.to_string()}),
                &format!("deleted {user}'s pass {}", p.pass.id),
            );
        }
    }
    Ok(())
}

fn policy_json(p: &TapPolicy) -> serde_json::Value {
    json!({
        "state": if p.state == PolicyState::Enabled { "enabled" } else { "disabled" },
        "minimumLifetimeInMinutes": p.minimum_lifetime_in_minutes,
        "maximumLifetimeInMinutes": p.maximum_lifetime_in_minutes,
        "defaultLifetimeInMinutes": p.default_lifetime_in_minutes,
        "defaultLength": p.default_length,
        "isUsableOnce": p.is_usable_once,
        "includeTargets": p.include_targets.iter().map(|t| json!({"targetType": t.target_type(), "id": t.id_string()})).collect::<Vec<_>>(),
        "excludeTargets": p.exclude_targets.iter().map(|t| json!({"targetType": t.target_type(), "id": t.id_string()})).collect::<Vec<_>>(),
    })
}

async fn policy(core: &Latchkey, output: Output, c: PolicyCommand) -> anyhow::Result<()> {
    let p = match c {
        PolicyCommand::Show => core.get_policy(&operator()).await.map_err(core_err)?,
        PolicyCommand::Set {
            state,
            min_lifetime,
            max_lifetime,
            default_lifetime,
            length,
            once,
            include_group,
            exclude_group,
        } => {
            let groups = |ids: Option<Vec<String>>| -> anyhow::Result<Option<Vec<PolicyTarget>>> {
                ids.map(|ids| ids.iter().map(|id| PolicyTarget::parse("group", id).map_err(core_err)).collect())
                    .transpose()
            };
            let change = PolicyChange {
                state: state.map(|s| {
                    if s == "enabled" {
                        PolicyState::Enabled
                    } else {
                        PolicyState::Disabled
                    }
                }),
                include_targets: groups(include_group)?,
                exclude_targets: groups(exclude_group)?,
                minimum_lifetime_in_minutes: min_lifetime,
                maximum_lifetime_in_minutes: max_lifetime,
                default_lifetime_in_minutes: default_lifetime,
                default_length: length,
                is_usable_once: once,
            };
            core.update_policy(&operator(), change).await.map_err(core_err)?
        }
    };
    let v = policy_json(&p);
    let text = serde_json::to_string_pretty(&v).unwrap_or_default();
    print(output, &v, &text);
    Ok(())
}

fn app_json(a: &latchkey_core::tenant::Application) -> serde_json::Value {
    json!({
        "id": a.id.to_string(),
        "appId": a.app_id.to_string(),
        "displayName": a.display_name,
        "web": {"redirectUris": a.redirect_uris.web},
        "spa": {"redirectUris": a.redirect_uris.spa},
        "publicClient": {"redirectUris": a.redirect_uris.public_client},
        "passwordCredentials": a.secrets.iter().map(|s| json!({
            "keyId": s.key_id.to_string(),
            "displayName": s.display_name,
            "hint": s.hint,
            "endDateTime": s.expires_at.to_rfc3339(),
        })).collect::<Vec<_>>(),
    })
}

fn redirect_text(a: &latchkey_core::tenant::Application) -> String {
    let u = &a.redirect_uris;
    let all: Vec<String> = [("web", &u.web), ("spa", &u.spa), ("publicClient", &u.public_client)]
        .into_iter()
        .flat_map(|(platform, list)| list.iter().map(move |uri| format!("{platform} {uri}")))
        .collect();
    if all.is_empty() { "(none)".into() } else { all.join(", ") }
}

async fn app(core: &Latchkey, output: Output, c: AppCommand) -> anyhow::Result<()> {
    match c {
        AppCommand::Add {
            display_name,
            web_redirect,
            spa_redirect,
            public_redirect,
            secret,
        } => {
            let uris = latchkey_core::tenant::RedirectUris {
                web: web_redirect,
                spa: spa_redirect,
                public_client: public_redirect,
            };
            let a = core.create_application(&operator(), &display_name, uris).await.map_err(core_err)?;
            let mut v = app_json(&a);
            let mut text = format!(
                "registered application {}\n  appId (client_id)  {}\n  object id          {}\n  redirect URIs      {}",
                a.display_name,
                a.app_id,
                a.id,
                redirect_text(&a)
            );
            if secret {
                let issued = core
                    .add_password(&operator(), a.id, Some("created by latchkey app add"), None)
                    .await
                    .map_err(core_err)?;
                v["passwordCredentials"] = json!([{
                    "keyId": issued.secret.key_id.to_string(),
                    "displayName": issued.secret.display_name,
                    "hint": issued.secret.hint,
                    "endDateTime": issued.secret.expires_at.to_rfc3339(),
                }]);
                v["clientSecret"] = json!(issued.text.expose());
                text.push_str(&format!(
                    "\n  client_secret      {}\n  (the secret is shown once; it expires {})",
                    issued.text.expose(),
                    issued.secret.expires_at.to_rfc3339()
                ));
            }
            print(output, &v, &text);
        }
        AppCommand::List { top } => {
            let listing = core
                .list_applications(
                    &operator(),
                    Page {
                        skip: 0,
                        top: top.clamp(1, Page::MAX_TOP),
                    },
                )
                .await
                .map_err(core_err)?;
            let rows: Vec<_> = listing.items.iter().map(app_json).collect();
            let text = listing
                .items
                .iter()
                .map(|a| {
                    format!(
                        "{}  {}  {}  {} secret(s)  {}",
                        a.app_id,
                        a.id,
                        a.display_name,
                        a.secrets.len(),
                        redirect_text(a)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(output, &json!(rows), &text);
        }
        AppCommand::Remove { app } => {
            let a = core.resolve_application(&operator(), &app).await.map_err(core_err)?;
            core.delete_application(&operator(), a.id).await.map_err(core_err)?;
            print(
                output,
                &json!({"deleted": a.id.to_string(), "appId": a.app_id.to_string()}),
                &format!("deleted application {} (appId {}, object id {})", a.display_name, a.app_id, a.id),
            );
        }
    }
    Ok(())
}
