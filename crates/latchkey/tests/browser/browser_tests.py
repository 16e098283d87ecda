"""latchkey's sign-in pages and My Security Info in a real Chromium (Debian's, driven by
Playwright for Python), with a CDP virtual authenticator for passkeys and pyotp as the
authenticator app. tests/browser/run.sh starts the server and runs this:

    python browser_tests.py CONFIG.json [TEST_NAME ...]

CONFIG.json holds publicUrl, tenantId, primaryDomain, client {clientId, clientSecret} (the
automation client), app {clientId, displayName, redirectUri} (a single-page app whose
redirect URI is on the server), chromium (the executable) and screenshots (a folder). Every page a test visits is
screenshotted there as NN-test-step.png; a failing test also leaves NN-test-FAILED.png and
.html. Each line says PASS or FAIL; the last is `browser: N passed, M failed`.
"""

import base64
import hashlib
import json
import os
import re
import sys
import time
import traceback
import urllib.parse
import urllib.request
import uuid

import pyotp
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

CONFIG = json.load(open(sys.argv[1]))
BASE = CONFIG["publicUrl"].rstrip("/")
TENANT = CONFIG["tenantId"]
DOMAIN = CONFIG["primaryDomain"]
SHOTS = CONFIG["screenshots"]
LOGIN = f"{BASE}/{TENANT}/login"
MSI = f"{BASE}/mysecurityinfo"
# The flags the machine notes ask for: without the background-networking ones Chromium
# tries to reach Google's hosts at start, which this (offline) setup must never need.
# Playwright gives each launch a fresh, empty --user-data-dir.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 667}
expect.set_options(timeout=10_000)


# ----------------------------------------------------------------------------- Graph API


def _http(method, url, body=None, headers=None, form=False):
    data = None
    headers = dict(headers or {})
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        raise AssertionError(f"{method} {url} -> {e.code}: {e.read()[:500]!r}") from None


_token = None


def app_token():
    global _token
    if _token is None:
        answer = _http(
            "POST",
            f"{BASE}/{TENANT}/oauth2/v2.0/token",
            {
                "grant_type": "client_credentials",
                "client_id": CONFIG["client"]["clientId"],
                "client_secret": CONFIG["client"]["clientSecret"],
                "scope": "https://graph.microsoft.com/.default",
            },
            form=True,
        )
        _token = answer["access_token"]
    return _token


class User:
    def __init__(self, upn, display_name, object_id, code):
        self.upn, self.display_name, self.id, self.code = upn, display_name, object_id, code


def new_user(nickname, display_name):
    """A new member with a multi-use pass (60 minutes), made through the Graph API."""
    auth = {"authorization": f"Bearer {app_token()}"}
    upn = f"{nickname}-{uuid.uuid4().hex[:8]}@{DOMAIN}"
    user = _http("POST", f"{BASE}/v1.0/users", {"userPrincipalName": upn, "displayName": display_name}, auth)
    tap = _http(
        "POST",
        f"{BASE}/v1.0/users/{user['id']}/authentication/temporaryAccessPassMethods",
        {"isUsableOnce": False, "lifetimeInMinutes": 60},
        auth,
    )
    return User(upn, display_name, user["id"], tap["temporaryAccessPass"])


# ----------------------------------------------------------------------------- harness

_shot_number = 0


class Run:
    """One test's browser contexts, screenshots and the checks every page gets."""

    def __init__(self, browser, name):
        self.browser, self.name = browser, name
        self.contexts, self.pages = [], []
        self.requests, self.page_errors = [], []

    def page(self, viewport=None, phone=False):
        options = {"viewport": viewport or {"width": 1280, "height": 900}}
        if phone:
            options.update(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
        context = self.browser.new_context(**options)
        self.contexts.append(context)
        page = context.new_page()
        self.pages.append(page)
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("pageerror", lambda e: self.page_errors.append(f"uncaught: {e}"))
        page.on(
            "console",
            lambda m: self.page_errors.append(f"console: {m.text}")
            if m.type == "error" and "Content Security Policy" in m.text
            else None,
        )
        return page

    def authenticator(self, page):
        """A CDP virtual authenticator in this page: a platform passkey provider that
        answers at once with user verification."""
        cdp = page.context.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        added = cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        return cdp, added["authenticatorId"]

    def shot(self, page, step):
        """Screenshot, then the checks every page must pass: each visible form field has a
        <label for>, and nothing scrolls sideways."""
        global _shot_number
        _shot_number += 1
        page.screenshot(path=os.path.join(SHOTS, f"{_shot_number:02d}-{self.name}-{step}.png"), full_page=True)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea')]
                .filter(el => el.type !== 'hidden' && el.getClientRects().length > 0)
                .filter(el => !el.id || !document.querySelector(`label[for="${CSS.escape(el.id)}"]`))
                .map(el => el.name || el.outerHTML)"""
        )
        check(not unlabelled, f"{page.url}: fields without a <label for>: {unlabelled}")
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        check(widths[0] <= widths[1], f"{page.url}: scrolls sideways at width {widths[1]} (content {widths[0]} px)")

    def finish(self, failed):
        global _shot_number
        if failed:
            for i, page in enumerate(self.pages):
                if page.is_closed():
                    continue
                _shot_number += 1
                stem = os.path.join(SHOTS, f"{_shot_number:02d}-{self.name}-FAILED{'-' + str(i) if i else ''}")
                try:
                    page.screenshot(path=stem + ".png", full_page=True)
                    with open(stem + ".html", "w") as f:
                        f.write(f"<!-- {page.url} -->\n{page.content()}")
                except PlaywrightError as e:
                    print(f"  (could not save the failed page: {e})")
        for context in self.contexts:
            context.close()

    def assert_offline(self):
        """Every request the pages made went to this server: the pages work offline."""
        foreign = sorted({u for u in self.requests if not (u == BASE or u.startswith(BASE + "/"))})
        check(not foreign, f"requests left {BASE}: {foreign}")
        check(not self.page_errors, f"script errors: {self.page_errors}")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


# ----------------------------------------------------------------------------- page steps


def heading(page):
    return page.locator("h1").inner_text().strip()


def expect_heading(page, text):
    expect(page.locator("h1")).to_have_text(text)


def methods(page):
    """The kinds in the methods list of My Security Info, in order."""
    return [t.strip() for t in page.locator("ul.methods li strong").all_inner_texts()]


def enter_username(run, page, user, url=LOGIN):
    page.goto(url)
    expect_heading(page, "Sign in")
    run.shot(page, "login")
    page.get_by_label("Email or user name").fill(user.upn)
    page.get_by_role("button", name="Next").click()


def sign_in_with_pass(run, page, user, expect_url=MSI):
    enter_username(run, page, user)
    expect_heading(page, "Enter your Temporary Access Pass")
    run.shot(page, "pass-step")
    page.get_by_label("Temporary Access Pass").fill(user.code)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(expect_url)


def sign_out(run, page):
    page.get_by_role("button", name="Sign out").click()
    expect_heading(page, "You have signed out")
    run.shot(page, "signed-out")
    # The session is really gone: My Security Info asks for a sign-in again.
    page.goto(MSI)
    page.wait_for_url(re.compile(re.escape(LOGIN)))


def register_passkey(run, page, name):
    page.locator("#add-passkey").click()
    page.wait_for_url(f"{MSI}/passkey")
    expect_heading(page, "Add a passkey")
    run.shot(page, "add-passkey")
    page.locator("#passkey-name").fill(name)
    page.locator("#passkey-register").click()
    page.wait_for_url(MSI)
    expect(page.locator("ul.methods")).to_contain_text(f"Passkey: {name}")


def enrol_authenticator(run, page, at=None):
    """Adds an authenticator app with the code of time `at` (default now); returns the
    pyotp TOTP and the time step the enrolment used."""
    page.locator("#add-authenticator").click()
    page.wait_for_url(f"{MSI}/authenticator")
    expect_heading(page, "Add an authenticator app")
    expect(page.locator(".qr svg")).to_be_visible()
    run.shot(page, "add-authenticator")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)  # SHA-1, 6 digits, 30 s: what the page promises
    at = time.time() if at is None else at
    page.get_by_label("Code from your authenticator app").fill(totp.at(at))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").filter(has_text="Your authenticator app is added.")).to_be_visible()
    check("Authenticator app" in methods(page), f"methods after enrolment: {methods(page)}")
    run.shot(page, "authenticator-added")
    return totp, int(at // 30)


def signed_in_as(page, user, method):
    page.goto(f"{BASE}/whoami")
    expect_heading(page, "You are signed in")
    field = lambda name: page.locator(f"dt:text-is('{name}') + dd").inner_text().strip()
    check(field("User name") == user.upn, f"/whoami shows {field('User name')!r}, not {user.upn!r}")
    check(field("Name") == user.display_name, f"/whoami shows {field('Name')!r}")
    check(field("Signed in with") == method, f"/whoami: signed in with {field('Signed in with')!r}, not {method!r}")


# ----------------------------------------------------------------------------- tests


@test
def passkey_registration_and_sign_in(run):
    user = new_user("pat", "Pat Passkey")
    page = run.page()
    cdp, authenticator = run.authenticator(page)

    # A pass with nothing else registered lands on My Security Info with the banner.
    sign_in_with_pass(run, page, user)
    expect(page.locator("#add-method-banner")).to_be_visible()
    expect(page.locator("#add-method-banner")).to_contain_text("Add a new sign-in method")
    check(methods(page) == ["Temporary Access Pass"], f"methods: {methods(page)}")
    expect(page.locator(".who")).to_contain_text(user.upn)
    run.shot(page, "mysecurityinfo-banner")

    register_passkey(run, page, "Test laptop")
    expect(page.locator("#add-method-banner")).to_have_count(0)
    check(methods(page) == ["Passkey", "Temporary Access Pass"], f"methods: {methods(page)}")
    run.shot(page, "passkey-added")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    check(len(credentials) == 1, f"the authenticator holds {len(credentials)} credentials")
    check(credentials[0]["isResidentCredential"], "the passkey is not discoverable (resident)")
    check(credentials[0]["rpId"] == "localhost", f"relying party id {credentials[0]['rpId']!r}")
    sign_out(run, page)

    # Without a user name: the browser offers the passkey for this site.
    page.goto(LOGIN)
    run.shot(page, "login-usernameless")
    page.locator("#passkey-signin").click()
    page.wait_for_url(MSI)
    expect(page.locator(".who")).to_contain_text(user.display_name)
    expect(page.locator(".who")).to_contain_text(user.upn)
    run.shot(page, "signed-in-by-passkey")
    signed_in_as(page, user, "Passkey")
    page.goto(MSI)
    sign_out(run, page)

    # With the user name (pre-filled from ?username=, going on to ?next=): the pass is
    # still the first prompt; switch to the passkey.
    query = urllib.parse.urlencode({"username": user.upn, "next": "/whoami"})
    page.goto(f"{LOGIN}?{query}")
    expect(page.get_by_label("Email or user name")).to_have_value(user.upn)
    page.get_by_role("button", name="Next").click()
    expect_heading(page, "Enter your Temporary Access Pass")
    page.get_by_role("button", name="Use a passkey instead").click()
    expect_heading(page, "Sign in with a passkey")
    expect(page.locator(".who")).to_have_text(user.upn)
    run.shot(page, "passkey-step")
    page.locator("#passkey-signin").click()
    page.wait_for_url(f"{BASE}/whoami")
    signed_in_as(page, user, "Passkey")
    run.shot(page, "whoami")
    run.assert_offline()


@test
def passkey_answers_that_do_not_fit_are_refused(run):
    user = new_user("nina", "Nina Negative")
    page = run.page()
    cdp, authenticator = run.authenticator(page)
    sign_in_with_pass(run, page, user)
    register_passkey(run, page, "Spare key")
    sign_out(run, page)
    finish_url = f"{BASE}/{TENANT}/passkey"

    # (a) An answer sent with another ceremony's id (here an unknown one).
    statuses = []
    page.on("response", lambda r: statuses.append(r.status) if r.url == finish_url else None)

    def other_ceremony(route):
        body = json.loads(route.request.post_data)
        body["ceremony"] = str(uuid.uuid4())
        route.continue_(post_data=json.dumps(body))

    page.route(finish_url, other_ceremony)
    page.goto(LOGIN)
    page.locator("#passkey-signin").click()
    expect(page.locator("#passkey-error")).to_be_visible()
    expect(page.locator("#passkey-error")).to_contain_text("expired or was already used")
    run.shot(page, "wrong-ceremony")
    check(statuses and all(400 <= s < 500 for s in statuses), f"finish answered {statuses}, not a 4xx")
    check(page.url.startswith(LOGIN), f"left the login page: {page.url}")
    page.unroute(finish_url)

    # (b) A good answer replayed after its ceremony was used.
    posted = []
    page.on("request", lambda r: posted.append(r.post_data) if r.url == finish_url and r.method == "POST" else None)
    page.goto(LOGIN)
    page.locator("#passkey-signin").click()
    page.wait_for_url(MSI)
    check(posted, "the passkey answer was not seen")
    sign_out(run, page)
    page.goto(LOGIN)
    replay = page.evaluate(
        """async ([url, body]) => {
            const r = await fetch(url, {method: 'POST', credentials: 'same-origin',
                headers: {'content-type': 'application/json',
                          'x-csrf-token': document.querySelector('meta[name="csrf-token"]').content},
                body});
            return {status: r.status, body: await r.text()};
        }""",
        [finish_url, posted[-1]],
    )
    check(replay["status"] == 401, f"a replayed passkey answer got {replay}")
    check("expired or was already used" in replay["body"], f"replay error: {replay['body']}")
    page.goto(MSI)
    page.wait_for_url(re.compile(re.escape(LOGIN)))

    # (c) A ceremony the authenticator cannot answer (no passkey for this site left on it,
    # as when the person cancels): a clear message, and the button works again.
    cdp.send("WebAuthn.clearCredentials", {"authenticatorId": authenticator})
    page.goto(LOGIN)
    page.locator("#passkey-signin").click()
    expect(page.locator("#passkey-error")).to_be_visible(timeout=30_000)
    expect(page.locator("#passkey-error")).to_contain_text("cancelled or timed out")
    expect(page.locator("#passkey-signin")).to_be_enabled()
    run.shot(page, "cancelled")
    run.assert_offline()


@test
def authenticator_app_enrolment_sign_in_and_replay(run):
    user = new_user("otto", "Otto Authenticator")
    page = run.page()
    sign_in_with_pass(run, page, user)
    expect(page.locator("#add-method-banner")).to_be_visible()

    # A wrong first code is refused and the same key is shown again.
    page.locator("#add-authenticator").click()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    now = time.time()
    near = {totp.at(now + d) for d in (-60, -30, 0, 30, 60)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in near)
    page.get_by_label("Code from your authenticator app").fill(wrong)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#error")).to_contain_text("The code is not correct")
    check(page.locator("#totp-secret").inner_text().replace(" ", "") == secret, "a different key after a wrong code")
    run.shot(page, "wrong-enrolment-code")
    page.get_by_label("Code from your authenticator app").fill(totp.at(time.time()))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").filter(has_text="Your authenticator app is added.")).to_be_visible()
    enrolled_step = int(time.time() // 30)
    check(methods(page) == ["Authenticator app", "Temporary Access Pass"], f"methods: {methods(page)}")
    expect(page.locator("#add-method-banner")).to_have_count(0)
    run.shot(page, "authenticator-added")
    sign_out(run, page)

    # Sign in with the user name and a code. The enrolment used this step's code, which
    # works once: take the next step's (the server allows one step of skew).
    code = totp.at((max(enrolled_step, int(time.time() // 30)) + 1) * 30)
    enter_username(run, page, user)
    expect_heading(page, "Enter your Temporary Access Pass")
    page.get_by_role("button", name="Use a code from your authenticator app instead").click()
    expect_heading(page, "Enter a code from your authenticator app")
    run.shot(page, "otp-step")
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{BASE}/whoami")
    run.shot(page, "signed-in-by-code")
    signed_in_as(page, user, "OATH verification code")
    # A code alone is not a recent strong sign-in: My Security Info lists the methods but
    # asks for a stronger sign-in before adding any.
    page.goto(MSI)
    check(methods(page) == ["Authenticator app", "Temporary Access Pass"], f"methods: {methods(page)}")
    expect(page.locator("#add-authenticator")).to_have_count(0)
    expect(page.get_by_role("link", name="Sign in again")).to_have_attribute(
        "href", f"/{TENANT}/login?next=%2Fmysecurityinfo"
    )
    run.shot(page, "mysecurityinfo-after-code")
    sign_out(run, page)

    # The same code again: refused, saying why.
    enter_username(run, page, user)
    page.get_by_role("button", name="Use a code from your authenticator app instead").click()
    page.get_by_label("Code from your authenticator app").fill(code)
    with page.expect_response(LOGIN) as answer:
        page.get_by_role("button", name="Sign in").click()
    check(answer.value.status == 401, f"a replayed code got HTTP {answer.value.status}")
    expect(page.locator("#error")).to_have_text("This code was already used. Wait for the next code in your authenticator app.")
    expect(page.get_by_label("Code from your authenticator app")).to_have_attribute("aria-describedby", "error")
    run.shot(page, "code-replayed")
    page.goto(MSI)
    page.wait_for_url(re.compile(re.escape(LOGIN)))
    run.assert_offline()


@test
def banner_follows_the_methods(run):
    """The banner shows while the pass is the only method, goes when another is added,
    and comes back when that one is deleted."""
    user = new_user("bea", "Bea Banner")
    page = run.page()
    sign_in_with_pass(run, page, user)
    expect(page.locator("#add-method-banner")).to_be_visible()
    enrol_authenticator(run, page)
    expect(page.locator("#add-method-banner")).to_have_count(0)
    page.get_by_role("button", name="Delete Authenticator app").click()
    expect(page.get_by_role("status").filter(has_text="The method was deleted.")).to_be_visible()
    check(methods(page) == ["Temporary Access Pass"], f"methods: {methods(page)}")
    expect(page.locator("#add-method-banner")).to_be_visible()
    run.shot(page, "banner-back")
    page.goto(MSI)  # and on a fresh load too
    expect(page.locator("#add-method-banner")).to_be_visible()
    run.assert_offline()


@test
def deleting_the_only_pass_ends_the_session(run):
    user = new_user("dora", "Dora Delete")
    page = run.page()
    other = run.page()  # a second browser, signed in with the same (multi-use) pass
    sign_in_with_pass(run, other, user)
    sign_in_with_pass(run, page, user)
    page.get_by_role("button", name="Delete Temporary Access Pass").click()
    expect_heading(page, "Delete your last sign-in method?")
    expect(page.get_by_role("alert")).to_contain_text("This is the last way you can sign in")
    run.shot(page, "confirm-delete")
    page.get_by_role("button", name="Delete it anyway").click()
    expect_heading(page, "Your Temporary Access Pass is deleted")
    expect(page.locator("main")).to_contain_text("Your session with it has ended")
    run.shot(page, "pass-deleted")
    page.goto(MSI)
    page.wait_for_url(re.compile(re.escape(LOGIN)))
    other.reload()  # every session the pass made has ended, not only this browser's
    other.wait_for_url(re.compile(re.escape(LOGIN)))
    run.shot(other, "other-browser-signed-out")

    # The pass is no longer offered: the user name leads to the password prompt (as for
    # anyone with no method, so nothing is revealed), with no way to a pass.
    enter_username(run, page, user)
    expect_heading(page, "Enter your password")
    expect(page.locator("#tap")).to_have_count(0)
    expect(page.get_by_role("button", name="Use a Temporary Access Pass instead")).to_have_count(0)
    run.shot(page, "no-pass-prompt")
    assert_pass_refused(run, page, user)
    run.assert_offline()


@test
def deleting_the_pass_beside_an_authenticator_app(run):
    user = new_user("tess", "Tess Twomethods")
    page = run.page()
    sign_in_with_pass(run, page, user)
    enrol_authenticator(run, page)
    # Not the last method: no confirmation page.
    page.get_by_role("button", name="Delete Temporary Access Pass").click()
    expect_heading(page, "Your Temporary Access Pass is deleted")
    run.shot(page, "pass-deleted")
    page.goto(MSI)
    page.wait_for_url(re.compile(re.escape(LOGIN)))
    # The authenticator app is now the prompt, and the pass is not among the alternatives.
    enter_username(run, page, user)
    expect_heading(page, "Enter a code from your authenticator app")
    expect(page.get_by_role("button", name="Use a Temporary Access Pass instead")).to_have_count(0)
    run.shot(page, "otp-prompt")
    assert_pass_refused(run, page, user)
    run.assert_offline()


def assert_pass_refused(run, page, user):
    """Posts the deleted pass through the login form anyway (as a form saved before the
    deletion would): refused with a message, and no session."""
    with page.expect_response(LOGIN) as answer:
        page.evaluate(
            """([username, code]) => {
                const form = document.querySelector('form[action$="/login"]');
                const set = (name, value) => {
                    let f = form.querySelector(`[name="${name}"]`);
                    if (!f) { f = document.createElement('input'); f.type = 'hidden'; f.name = name; form.append(f); }
                    f.value = value;
                };
                form.querySelectorAll('[name=password], [name=otp]').forEach(f => f.remove());
                set('step', 'tap'); set('username', username); set('tap', code);
                form.submit();
            }""",
            [user.upn, user.code],
        )
    check(answer.value.status == 401, f"the deleted pass got HTTP {answer.value.status}")
    expect_heading(page, "Enter your Temporary Access Pass")
    error = page.locator("#error")
    expect(error).to_be_visible()
    run.shot(page, "deleted-pass-refused")
    print(f"  the deleted pass is refused with: {error.inner_text()!r}")
    page.goto(f"{BASE}/whoami")
    page.wait_for_url(re.compile(re.escape(LOGIN)))


class Authorization:
    """An authorization request of the test app (code flow with PKCE S256)."""

    def __init__(self, **extra):
        self.verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()
        self.state = uuid.uuid4().hex
        query = {
            "client_id": CONFIG["app"]["clientId"],
            "response_type": "code",
            "redirect_uri": CONFIG["app"]["redirectUri"],
            "scope": "openid profile offline_access",
            "state": self.state,
            "nonce": uuid.uuid4().hex,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
        self.url = f"{BASE}/{TENANT}/oauth2/v2.0/authorize?{urllib.parse.urlencode(query)}"

    def redeem(self, page, user):
        """The browser is back at the app with a code: it redeems for tokens of `user`."""
        page.wait_for_url(re.compile(re.escape(CONFIG["app"]["redirectUri"]) + r"\?"))
        answer = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))
        check(answer.get("state") == self.state and "code" in answer, f"the app got {answer}")
        tokens = _http(
            "POST",
            f"{BASE}/{TENANT}/oauth2/v2.0/token",
            {
                "grant_type": "authorization_code",
                "client_id": CONFIG["app"]["clientId"],
                "code": answer["code"],
                "redirect_uri": CONFIG["app"]["redirectUri"],
                "code_verifier": self.verifier,
            },
            {"origin": BASE},
            form=True,
        )
        payload = tokens["id_token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        check(claims.get("preferred_username") == user.upn, f"ID token for {claims.get('preferred_username')}")
        return claims


@test
def application_sign_in_offers_a_passkey(run):
    """A pass sign-in to an application offers a passkey first (create one, or skip), then
    goes on to the application; later a passkey sign-in goes straight there."""
    app_name = CONFIG["app"]["displayName"]
    user = new_user("abe", "Abe Application")
    page = run.page()
    run.authenticator(page)

    flow = Authorization()
    page.goto(flow.url)
    page.wait_for_url(re.compile(re.escape(LOGIN) + r"\?request="))
    expect(page.locator(".note").first).to_have_text(f"to continue to {app_name}")
    run.shot(page, "login-for-app")
    page.get_by_label("Email or user name").fill(user.upn)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Temporary Access Pass").fill(user.code)
    page.get_by_role("button", name="Sign in").click()
    expect_heading(page, "Set up a passkey?")
    expect(page.locator("main")).to_contain_text(f"before you continue to {app_name}")
    expect(page.locator("#skip")).to_have_text("Skip for now and continue")
    run.shot(page, "passkey-offer")
    page.locator("#passkey-name").fill("App laptop")
    page.locator("#passkey-register").click()
    claims = flow.redeem(page, user)
    check("mfa" in claims.get("amr", []), f"a pass sign-in's amr: {claims.get('amr')}")

    # A fresh sign-in (prompt=login) with the passkey goes straight to the application.
    flow = Authorization(prompt="login")
    page.goto(flow.url)
    page.locator("#passkey-signin").click()
    claims = flow.redeem(page, user)
    check(claims.get("amr") and "mfa" in claims["amr"], f"a passkey sign-in's amr: {claims.get('amr')}")

    # Someone else skips the offer and still reaches the application.
    other = new_user("sam", "Sam Skip")
    page = run.page()
    flow = Authorization(login_hint=other.upn)
    page.goto(flow.url)
    expect(page.get_by_label("Email or user name")).to_have_value(other.upn)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Temporary Access Pass").fill(other.code)
    page.get_by_role("button", name="Sign in").click()
    expect_heading(page, "Set up a passkey?")
    page.locator("#skip").click()
    flow.redeem(page, other)
    run.assert_offline()


@test
def phone_layout_labels_and_keyboard(run):
    user = new_user("kim", "Kim Keyboard")
    page = run.page(phone=True)
    run.authenticator(page)

    # Keyboard only: Tab from the top reaches the user name field and the Next button,
    # and Enter submits.
    page.goto(LOGIN)
    # A phone lays a page without <meta name=viewport> out 980 px wide; this one fits.
    check(page.evaluate("window.innerWidth") == PHONE["width"], f"layout width {page.evaluate('window.innerWidth')}")
    run.shot(page, "login")
    # Start from the top of the page (as after loading it without autofocus): a click on
    # an empty spot moves the point Tab starts from there.
    page.mouse.click(2, 2)
    reached = []
    for _ in range(3):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate("(e => e.id || e.textContent.trim() || e.tagName)(document.activeElement)")
        )
    check(reached == ["username", "Next", "passkey-signin"], f"tab order from the top: {reached}")
    page.mouse.click(2, 2)
    page.keyboard.press("Tab")
    check(page.evaluate("document.activeElement.id") == "username", "Tab does not start at the user name")
    page.keyboard.type(user.upn)
    page.keyboard.press("Enter")
    expect_heading(page, "Enter your Temporary Access Pass")
    check(page.evaluate("document.activeElement.id") == "tap", "the pass field does not have the focus")
    run.shot(page, "pass-step")
    page.keyboard.type(user.code)
    page.keyboard.press("Enter")
    page.wait_for_url(MSI)
    expect(page.locator("#add-method-banner")).to_be_visible()
    run.shot(page, "mysecurityinfo")

    # My Security Info by keyboard: Tab reaches "Add an authenticator app", Enter follows it.
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "add-authenticator":
            break
    else:
        raise AssertionError("Tab never reached the Add an authenticator app link")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{MSI}/authenticator")
    expect(page.locator(".qr svg")).to_be_visible()
    box = page.locator(".qr svg").bounding_box()
    check(box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"the QR code does not fit: {box}")
    run.shot(page, "add-authenticator")
    page.goto(f"{MSI}/passkey")
    run.shot(page, "add-passkey")
    page.goto(MSI)
    page.get_by_role("button", name="Delete Temporary Access Pass").click()
    expect_heading(page, "Delete your last sign-in method?")
    run.shot(page, "confirm-delete")
    page.get_by_role("link", name="Keep it").click()
    page.wait_for_url(MSI)
    page.goto(f"{BASE}/whoami")
    run.shot(page, "whoami")
    sign_out(run, page)
    run.assert_offline()


# ----------------------------------------------------------------------------- main


def main():
    wanted = set(sys.argv[2:])
    unknown = wanted - {t.__name__ for t in TESTS}
    if unknown:
        print(f"unknown tests: {sorted(unknown)}; known: {[t.__name__ for t in TESTS]}")
        return 2
    os.makedirs(SHOTS, exist_ok=True)
    passed = failed = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CONFIG["chromium"], headless=True, args=CHROMIUM_ARGS)
        print(f"Chromium {browser.version} at {CONFIG['chromium']}, server {BASE}")
        for fn in TESTS:
            if wanted and fn.__name__ not in wanted:
                continue
            run = Run(browser, fn.__name__)
            started = time.monotonic()
            try:
                fn(run)
            except Exception as e:  # noqa: BLE001 - any failure is this test's
                failed += 1
                print(f"FAIL {fn.__name__} ({time.monotonic() - started:.1f}s): {type(e).__name__}: {e}")
                traceback.print_exc(file=sys.stdout)
                run.finish(failed=True)
            else:
                passed += 1
                print(f"PASS {fn.__name__} ({time.monotonic() - started:.1f}s)")
                run.finish(failed=False)
            sys.stdout.flush()
        browser.close()
    print(f"screenshots: {SHOTS}")
    print(f"browser: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
