//! A minimal browser for the sign-in pages: keeps cookies, follows nothing by itself,
//! reads hidden form fields. (Real Chromium runs in the browser tests; this one is for
//! fast, clock-driven checks of every step.)

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use std::collections::HashMap;

pub struct Browser {
    http: reqwest::Client,
    pub base: String,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// The value of a hidden input, e.g. `csrf`.
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')?;
        Some(html_unescape(&self.body[start..start + end]))
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&#x2b;", "+")
        .replace("&#43;", "+")
        .replace("&#x2f;", "/")
        .replace("&#x3d;", "=")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            http,
            base: base.to_owned(),
            cookies: HashMap::new(),
        }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with("http") {
            url.to_owned()
        } else {
            format!("{}{url}", self.base)
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn finish(&mut self, r: reqwest::Response) -> Page {
        for v in r.headers().get_all(SET_COOKIE) {
            let text = v.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if text.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        let status = r.status();
        let location = r.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_owned());
        Page {
            status,
            location,
            body: r.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let r = self
            .http
            .get(self.absolute(url))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// A JSON POST as the passkey script sends it: the CSRF cookie's value in
    /// `x-csrf-token` (double submit), unless `csrf` overrides it.
    pub async fn post_json(&mut self, url: &str, body: &serde_json::Value, csrf: Option<&str>) -> Page {
        let token = csrf.map_or_else(|| self.cookies.get("lk_csrf").cloned().unwrap_or_default(), str::to_owned);
        let r = self
            .http
            .post(self.absolute(url))
            .header(COOKIE, self.cookie_header())
            .header("x-csrf-token", token)
            .json(body)
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let r = self
            .http
            .post(self.absolute(url))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }
}
