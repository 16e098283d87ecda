//! Load driver for `bench/methods/run.sh` (issue 4, "Measure"): sign-ins/s end to end
//! through the sign-in pages with a passkey and with an authenticator-app code, against
//! Temporary Access Pass sign-ins in the same run, on the same server and users.
//!
//! `prepare` makes USERS users through Graph, each with a multi-use pass; signs each in
//! with the pass; registers a passkey (the testkit's software authenticator, P-256) and
//! enrols an authenticator app (its first code). Then ROUNDS rounds measure, in turn:
//! - `tap`: GET /login → POST user name → POST pass → 303 (one Argon2id verification);
//! - `passkey`: GET /login → POST /passkey/options → sign → POST /passkey → 200
//!   (one ES256 assertion verified by webauthn-rs, counter saved);
//! - `totp`: GET /login → POST user name → POST code → 303 (HMAC-SHA1, the time step
//!   used once: each user can sign in with a code once per 30 s step, so each TOTP slice
//!   takes users nobody has used in the current step, and stops early when they run out).
//!
//! Every sign-in starts with an empty cookie jar and makes a new session. Output:
//! `key=value` lines (rates per round, medians, ratios to TAP).

use anyhow::{Context as _, anyhow, bail};
use clap::Parser;
use latchkey_testkit::authenticator::SoftPasskey;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
struct Cli {
    /// The server, as browsers reach it (its public URL: http://localhost:PORT).
    #[arg(long)]
    base: String,
    #[arg(long)]
    tenant: String,
    #[arg(long)]
    client_id: String,
    #[arg(long)]
    client_secret: String,
    #[arg(long, default_value_t = 600)]
    users: usize,
    #[arg(long, default_value_t = 16)]
    conns: usize,
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds per measurement slice.
    #[arg(long, default_value_t = 4.0)]
    slice: f64,
}

struct Person {
    upn: String,
    pass: String,
    passkey: RefCell<SoftPasskey>,
    totp_secret: String,
    /// The last TOTP step this driver used for the person.
    last_step: RefCell<u64>,
}

/// A tiny cookie jar for one simulated browser.
#[derive(Default)]
struct Jar(HashMap<String, String>);

impl Jar {
    fn header(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
    fn take(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all(SET_COOKIE) {
            if let Some((k, val)) = v.to_str().ok().and_then(|t| t.split(';').next()).and_then(|p| p.split_once('=')) {
                self.0.insert(k.to_owned(), val.to_owned());
            }
        }
    }
    fn csrf(&self) -> String {
        self.0.get("lk_csrf").cloned().unwrap_or_default()
    }
}

fn field(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let rest = html.split(&marker).nth(1)?;
    Some(rest.split('"').next()?.replace("&amp;", "&"))
}

/// Wall-clock seconds: the authenticator side of TOTP (the server has its own clock).
fn unix_now() -> u64 {
    u64::try_from(latchkey_core::Clock::now(&latchkey_core::SystemClock).timestamp()).unwrap_or(0)
}

fn totp_at(secret: &str, time: u64) -> anyhow::Result<String> {
    let secret = totp_rs::Secret::try_from_base32(secret).map_err(|e| anyhow!("{e:?}"))?;
    let t = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(secret)
        .build_noncompliant();
    Ok(t.generate(time).to_string())
}

struct Driver {
    http: Client,
    base: String,
    tenant: String,
}

impl Driver {
    async fn get(&self, jar: &mut Jar, path: &str) -> anyhow::Result<(StatusCode, Option<String>, String)> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, jar.header())
            .send()
            .await?;
        jar.take(&r);
        let loc = r.headers().get(LOCATION).and_then(|l| l.to_str().ok()).map(str::to_owned);
        Ok((r.status(), loc, r.text().await?))
    }

    async fn form(&self, jar: &mut Jar, path: &str, form: &[(&str, &str)]) -> anyhow::Result<(StatusCode, Option<String>, String)> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, jar.header())
            .form(form)
            .send()
            .await?;
        jar.take(&r);
        let loc = r.headers().get(LOCATION).and_then(|l| l.to_str().ok()).map(str::to_owned);
        Ok((r.status(), loc, r.text().await?))
    }

    async fn json(&self, jar: &mut Jar, path: &str, body: &Value) -> anyhow::Result<(StatusCode, Value)> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, jar.header())
            .header("x-csrf-token", jar.csrf())
            .json(body)
            .send()
            .await?;
        jar.take(&r);
        let status = r.status();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    fn login(&self) -> String {
        format!("/{}/login", self.tenant)
    }

    /// GET /login, POST the user name; returns the CSRF token and the prompt page.
    async fn username(&self, jar: &mut Jar, upn: &str) -> anyhow::Result<(String, String)> {
        let (_, _, page) = self.get(jar, &self.login()).await?;
        let csrf = field(&page, "csrf").context("no csrf field")?;
        let (_, _, prompt) = self
            .form(jar, &self.login(), &[("csrf", &csrf), ("step", "username"), ("username", upn)])
            .await?;
        Ok((csrf, prompt))
    }

    async fn tap(&self, p: &Person) -> anyhow::Result<()> {
        let mut jar = Jar::default();
        let (csrf, _) = self.username(&mut jar, &p.upn).await?;
        let (s, _, body) = self
            .form(
                &mut jar,
                &self.login(),
                &[("csrf", &csrf), ("step", "tap"), ("username", &p.upn), ("tap", &p.pass)],
            )
            .await?;
        if s != StatusCode::SEE_OTHER {
            bail!("pass sign-in: {s} {}", &body[..body.len().min(200)]);
        }
        Ok(())
    }

    async fn passkey(&self, p: &Person) -> anyhow::Result<()> {
        let mut jar = Jar::default();
        self.get(&mut jar, &self.login()).await?;
        let (s, options) = self
            .json(&mut jar, &format!("/{}/passkey/options", self.tenant), &json!({}))
            .await?;
        if s != StatusCode::OK {
            bail!("passkey options: {s} {options}");
        }
        let assertion = p.passkey.borrow_mut().assert(&options["options"], &self.base);
        let (s, done) = self
            .json(
                &mut jar,
                &format!("/{}/passkey", self.tenant),
                &json!({ "ceremony": options["ceremony"], "credential": assertion }),
            )
            .await?;
        if s != StatusCode::OK {
            bail!("passkey sign-in: {s} {done}");
        }
        Ok(())
    }

    /// Signs in with the code of a step not yet used for this person; `Ok(false)` when
    /// the person has no fresh step left right now.
    async fn totp(&self, p: &Person) -> anyhow::Result<bool> {
        // The server accepts the current step and one step either side; use the newest
        // step it accepts that is after the last one used.
        let now = unix_now();
        let step = now / 30 + 1;
        if *p.last_step.borrow() >= step {
            return Ok(false);
        }
        *p.last_step.borrow_mut() = step;
        let code = totp_at(&p.totp_secret, step * 30)?;
        let mut jar = Jar::default();
        let (csrf, prompt) = self.username(&mut jar, &p.upn).await?;
        if !prompt.contains(r#"name="tap""#) && !prompt.contains(r#"name="otp""#) {
            bail!("unexpected prompt");
        }
        let (s, _, body) = self
            .form(
                &mut jar,
                &self.login(),
                &[("csrf", &csrf), ("step", "otp"), ("username", &p.upn), ("otp", &code)],
            )
            .await?;
        if s != StatusCode::SEE_OTHER {
            bail!("code sign-in: {s} {}", &body[..body.len().min(300)]);
        }
        Ok(true)
    }
}

async fn app_token(d: &Driver, id: &str, secret: &str) -> anyhow::Result<String> {
    let r: Value = d
        .http
        .post(format!("{}/{}/oauth2/v2.0/token", d.base, d.tenant))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await?
        .json()
        .await?;
    r["access_token"].as_str().map(str::to_owned).context("no access token")
}

/// One user: created, given a pass, signed in, a passkey and an authenticator app added.
async fn prepare_one(d: &Driver, token: &str, i: usize) -> anyhow::Result<Person> {
    let upn = format!("bench{i}@contoso.test");
    let r = d
        .http
        .post(format!("{}/v1.0/users", d.base))
        .bearer_auth(token)
        .json(&json!({"userPrincipalName": upn, "displayName": format!("Bench {i}")}))
        .send()
        .await?;
    if r.status() != StatusCode::CREATED {
        bail!("create user: {}", r.text().await?);
    }
    let pass: Value = d
        .http
        .post(format!("{}/v1.0/users/{upn}/authentication/temporaryAccessPassMethods", d.base))
        .bearer_auth(token)
        .json(&json!({"isUsableOnce": false, "lifetimeInMinutes": 480}))
        .send()
        .await?
        .json()
        .await?;
    let pass = pass["temporaryAccessPass"].as_str().context("no pass")?.to_owned();
    let mut jar = Jar::default();
    let (csrf, _) = d.username(&mut jar, &upn).await?;
    let (s, _, _) = d
        .form(
            &mut jar,
            &d.login(),
            &[("csrf", &csrf), ("step", "tap"), ("username", &upn), ("tap", &pass)],
        )
        .await?;
    if s != StatusCode::SEE_OTHER {
        bail!("setup sign-in: {s}");
    }
    let (_, options) = d.json(&mut jar, "/mysecurityinfo/passkey/options", &json!({})).await?;
    let (passkey, credential) = SoftPasskey::register("localhost", &d.base, &options["options"]);
    let (s, body) = d
        .json(
            &mut jar,
            "/mysecurityinfo/passkey/register",
            &json!({ "ceremony": options["ceremony"], "credential": credential }),
        )
        .await?;
    if s != StatusCode::CREATED {
        bail!("register passkey: {s} {body}");
    }
    let (_, _, page) = d.get(&mut jar, "/mysecurityinfo/authenticator").await?;
    let secret = page
        .split(r#"id="totp-secret">"#)
        .nth(1)
        .and_then(|r| r.split('<').next())
        .context("no key on the enrolment page")?
        .to_owned();
    let step = unix_now() / 30;
    let code = totp_at(&secret, step * 30)?;
    let ceremony = field(&page, "ceremony").context("no ceremony")?;
    let csrf = jar.csrf();
    let (_, _, done) = d
        .form(
            &mut jar,
            "/mysecurityinfo/authenticator",
            &[("csrf", &csrf), ("ceremony", &ceremony), ("otp", &code)],
        )
        .await?;
    if !done.contains("authenticator app is added") {
        bail!("TOTP enrolment failed");
    }
    Ok(Person {
        upn,
        pass,
        passkey: RefCell::new(passkey),
        totp_secret: secret,
        last_step: RefCell::new(step),
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Tap,
    Passkey,
    Totp,
}

impl Kind {
    const fn name(self) -> &'static str {
        match self {
            Self::Tap => "tap",
            Self::Passkey => "passkey",
            Self::Totp => "totp",
        }
    }
}

/// Runs `conns` simulated browsers for `slice` seconds; returns successful sign-ins/s and
/// errors. TOTP slices stop early when every person has used the current step.
async fn measure(d: Rc<Driver>, people: Rc<Vec<Person>>, kind: Kind, conns: usize, slice: f64) -> (f64, u64, bool) {
    let next = Rc::new(RefCell::new(0usize));
    let done = Rc::new(RefCell::new((0u64, 0u64, false)));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(slice);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (d, people, next, done) = (d.clone(), people.clone(), next.clone(), done.clone());
        tasks.push(tokio::task::spawn_local(async move {
            let mut tried_all = 0usize;
            while Instant::now() < until {
                let i = {
                    let mut n = next.borrow_mut();
                    *n += 1;
                    *n % people.len()
                };
                let p = &people[i];
                let outcome = match kind {
                    Kind::Tap => d.tap(p).await.map(|()| true),
                    Kind::Passkey => d.passkey(p).await.map(|()| true),
                    Kind::Totp => d.totp(p).await,
                };
                match outcome {
                    Ok(true) => {
                        done.borrow_mut().0 += 1;
                        tried_all = 0;
                    }
                    Ok(false) => {
                        tried_all += 1;
                        if tried_all > people.len() {
                            done.borrow_mut().2 = true;
                            break;
                        }
                    }
                    Err(e) => {
                        let mut g = done.borrow_mut();
                        g.1 += 1;
                        if g.1 <= 3 {
                            eprintln!("{}: {e:#}", kind.name());
                        }
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (ok, errors, ran_out) = *done.borrow();
    #[allow(clippy::cast_precision_loss)]
    let rate = ok as f64 / elapsed;
    (rate, errors, ran_out)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let d = Rc::new(Driver {
        http: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(cli.conns * 2)
            .build()?,
        base: cli.base.trim_end_matches('/').to_owned(),
        tenant: cli.tenant.clone(),
    });
    let token = app_token(&d, &cli.client_id, &cli.client_secret).await?;
    let t0 = Instant::now();
    let mut people = Vec::with_capacity(cli.users);
    // A few at a time: each setup sign-in costs one Argon2id verification.
    for chunk in (0..cli.users).collect::<Vec<_>>().chunks(8) {
        let made = futures_lite_join(
            chunk
                .iter()
                .map(|i| Box::pin(prepare_one(&d, &token, *i)) as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>)
                .collect(),
        )
        .await;
        for m in made {
            people.push(m?);
        }
    }
    eprintln!("prepared {} users in {:.1}s", people.len(), t0.elapsed().as_secs_f64());
    let people = Rc::new(people);
    let mut rates: HashMap<&str, Vec<f64>> = HashMap::new();
    for round in 1..=cli.rounds {
        for kind in [Kind::Tap, Kind::Passkey, Kind::Totp] {
            let (rate, errors, ran_out) = measure(d.clone(), people.clone(), kind, cli.conns, cli.slice).await;
            println!(
                "round{round}_{}_per_s={rate:.1} errors={errors}{}",
                kind.name(),
                if ran_out {
                    " (every user used this step: more users would go faster)"
                } else {
                    ""
                }
            );
            rates.entry(kind.name()).or_default().push(rate);
        }
        // Let the TOTP step move on before the next round's TOTP slice.
        if round < cli.rounds && cli.users < 4000 {
            let wait = 31 - unix_now() % 30;
            tokio::time::sleep(Duration::from_secs(wait)).await;
        }
    }
    let tap = median(rates.remove("tap").unwrap_or_default());
    let passkey = median(rates.remove("passkey").unwrap_or_default());
    let totp = median(rates.remove("totp").unwrap_or_default());
    println!("median_tap_per_s={tap:.1}");
    println!("median_passkey_per_s={passkey:.1}");
    println!("median_totp_per_s={totp:.1}");
    if tap > 0.0 {
        println!("ratio_passkey_to_tap={:.2}", passkey / tap);
        println!("ratio_totp_to_tap={:.2}", totp / tap);
    }
    Ok(())
}

/// Awaits futures concurrently on this thread (they borrow the driver).
async fn futures_lite_join<'a, T>(futures: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>>) -> Vec<T> {
    let mut futures: Vec<Option<std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>>> = futures.into_iter().map(Some).collect();
    let mut out: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, slot) in futures.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        out[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, run(cli))
}
