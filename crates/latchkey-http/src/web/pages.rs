//! The page templates (askama, compiled in; no external assets).

use askama::Template;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub heading: &'a str,
    pub action: &'a str,
    pub restart: &'a str,
    pub csrf: &'a str,
    pub request: Option<&'a str>,
    pub next: Option<String>,
    pub step: &'a str,
    pub username: Option<String>,
    pub error: Option<String>,
    pub app_name: Option<String>,
    /// Other methods to offer ("tap", "passkey", "otp", "password").
    pub alternatives: Vec<&'static str>,
    pub second_factor: bool,
    /// Set on pages that run the passkey script (its CSP nonce).
    pub script_nonce: Option<String>,
    pub passkey_options: String,
    pub passkey_finish: String,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub heading: &'a str,
    pub message: &'a str,
    pub is_error: bool,
    pub link: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "form_post.html")]
pub struct FormPostPage<'a> {
    pub redirect_uri: &'a str,
    pub fields: Vec<(&'a str, String)>,
    pub nonce: &'a str,
}

#[derive(Template)]
#[template(path = "whoami.html")]
pub struct WhoAmIPage<'a> {
    pub display_name: &'a str,
    pub user_principal_name: &'a str,
    pub user_id: String,
    pub method: &'a str,
    pub expires: String,
    pub registration_until: Option<String>,
    pub sign_out: &'a str,
    pub csrf: &'a str,
}

/// `/devicelogin`: the code form, or (with `app_name`) the confirmation.
#[derive(Template)]
#[template(path = "devicelogin.html")]
pub struct DeviceLoginPage<'a> {
    pub heading: &'a str,
    pub action: &'a str,
    pub csrf: &'a str,
    /// As typed (the form) or `XXXX-XXXX` (the confirmation).
    pub user_code: &'a str,
    pub error: Option<String>,
    pub app_name: Option<String>,
    pub signed_in_as: Option<String>,
}
