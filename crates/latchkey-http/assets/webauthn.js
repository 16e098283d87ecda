// latchkey's only script: passkey ceremonies (WebAuthn) on the sign-in and My Security
// Info pages. Everything else works without JavaScript.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function showError(text) {
  const box = document.getElementById("passkey-error");
  if (box) {
    box.textContent = text;
    box.hidden = false;
    box.focus();
  }
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": csrfToken() },
    body: JSON.stringify(body),
  });
  let answer = {};
  try {
    answer = await response.json();
  } catch (_) {
    // Not JSON: report the status below.
  }
  if (!response.ok) {
    throw new Error(answer.error || `The server refused the request (${response.status}).`);
  }
  return answer;
}

function supported() {
  if (window.PublicKeyCredential && PublicKeyCredential.parseRequestOptionsFromJSON) {
    return true;
  }
  showError("This browser cannot use passkeys. Sign in another way.");
  return false;
}

// Sign in with a passkey: the browser offers the person's passkeys for this site.
async function signInWithPasskey(button) {
  if (!supported()) return;
  button.disabled = true;
  try {
    const start = await postJson(button.dataset.options, {});
    const options = PublicKeyCredential.parseRequestOptionsFromJSON(start.options.publicKey);
    const credential = await navigator.credentials.get({ publicKey: options });
    const done = await postJson(button.dataset.finish, {
      ceremony: start.ceremony,
      credential: credential.toJSON(),
      username: button.dataset.username || null,
      request: button.dataset.request || null,
      next: button.dataset.next || null,
    });
    window.location.assign(done.redirect);
  } catch (e) {
    showError(e.name === "NotAllowedError" ? "The passkey sign-in was cancelled or timed out. Try again." : e.message);
  } finally {
    button.disabled = false;
  }
}

// Register a new passkey for the signed-in person.
async function registerPasskey(button) {
  if (!supported()) return;
  button.disabled = true;
  try {
    const start = await postJson(button.dataset.options, {});
    const options = PublicKeyCredential.parseCreationOptionsFromJSON(start.options.publicKey);
    const credential = await navigator.credentials.create({ publicKey: options });
    const nameField = document.getElementById("passkey-name");
    await postJson(button.dataset.finish, {
      ceremony: start.ceremony,
      credential: credential.toJSON(),
      name: nameField ? nameField.value : null,
    });
    window.location.assign(button.dataset.then || "/mysecurityinfo");
  } catch (e) {
    showError(e.name === "NotAllowedError" ? "Creating the passkey was cancelled or timed out. Try again." : e.message);
  } finally {
    button.disabled = false;
  }
}

document.querySelectorAll("[data-passkey-signin]").forEach((b) => b.addEventListener("click", () => signInWithPasskey(b)));
document.querySelectorAll("[data-passkey-register]").forEach((b) => b.addEventListener("click", () => registerPasskey(b)));
