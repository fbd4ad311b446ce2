/*
 * Sign-in through the server's identity provider: the OAuth 2.0 authorization code flow with PKCE
 * (RFC 7636) for a public client, when the server names a client (GET /oidc.json, present only with
 * PARLEY_OIDC_CLIENT_ID). Keeps the token fresh with the refresh token, and signs out at the
 * provider too. Plain JavaScript, no build step; uses window.Parley from app.js.
 */
(function () {
  'use strict';

  const CONFIG_PATH = '/oidc.json';
  const PENDING_KEY = 'parley.oidc.pending';
  const TOKENS_KEY = 'parley.oidc.tokens';
  /** Refresh this long before the token expires (and never sooner than MIN_REFRESH_MS from now). */
  const REFRESH_MARGIN_MS = 60 * 1000;
  const MIN_REFRESH_MS = 5 * 1000;

  let config = null;
  let refreshTimer = null;

  const $ = (id) => document.getElementById(id);

  function base64Url(bytes) {
    let text = '';
    for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function randomString() {
    return base64Url(crypto.getRandomValues(new Uint8Array(32)));
  }

  async function challengeOf(verifier) {
    return base64Url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  }

  /** The claims of a JWT, or null when it is not one. */
  function claimsOf(token) {
    try {
      const parts = token.split('.');
      if (parts.length !== 3) return null;
      return JSON.parse(atob(parts[1].replace(/-/g, '+').replace(/_/g, '/')));
    } catch (e) { return null; }
  }

  function redirectUri() {
    return location.origin + location.pathname;
  }

  // ---------------------------------------------------------------- configuration and the button

  async function loadConfig() {
    const response = await fetch(CONFIG_PATH, { headers: { Accept: 'application/json' } });
    if (response.status === 404) return null;
    if (!response.ok) {
      let detail = 'The identity provider is not reachable yet; retry in a moment.';
      try { detail = (await response.json()).detail || detail; } catch (e) { /* keep the default */ }
      throw new Error(detail);
    }
    return response.json();
  }

  function showProviderLogin() {
    const form = $('login-form');
    if (!form || $('oidc-login')) return;
    // the API accepts only the provider's tokens: the dev login's user name field has no use
    for (const node of [form.querySelector('p.muted'), form.querySelector('label[for="login-user"]'), $('login-user'), $('login-submit')]) {
      if (node) node.hidden = true;
    }
    $('login-user').required = false;
    const intro = document.createElement('p');
    intro.className = 'muted';
    intro.textContent = 'Sign in with your organisation\'s account. Each user sees only their own threads.';
    const button = document.createElement('button');
    button.type = 'button';
    button.id = 'oidc-login';
    button.className = 'primary';
    button.setAttribute('data-testid', 'oidc-login');
    button.textContent = 'Sign in with your identity provider';
    button.addEventListener('click', () => begin().catch((err) => window.Parley.showLogin(err.message)));
    form.querySelector('h1').after(intro, button);
  }

  // ---------------------------------------------------------------- the flow

  async function begin() {
    if (!config) config = await loadConfig();
    if (!config) throw new Error('This server signs in no identity provider users.');
    const verifier = randomString();
    const state = randomString();
    const nonce = randomString();
    sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, nonce }));
    const url = new URL(config.authorization_endpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', config.client_id);
    url.searchParams.set('redirect_uri', redirectUri());
    url.searchParams.set('scope', config.scope);
    url.searchParams.set('state', state);
    url.searchParams.set('nonce', nonce);
    url.searchParams.set('code_challenge', await challengeOf(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    location.assign(url.toString());
  }

  /** Back from the provider with ?code=...&state=... (or ?error=...): exchanges the code for tokens. */
  async function complete(params) {
    const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || 'null');
    sessionStorage.removeItem(PENDING_KEY);
    history.replaceState(null, '', location.pathname);
    if (params.get('error')) {
      throw new Error('The identity provider refused the sign-in: ' + (params.get('error_description') || params.get('error')));
    }
    if (!pending || pending.state !== params.get('state')) {
      throw new Error('The sign-in answer does not match a sign-in of this page; please sign in again.');
    }
    const tokens = await tokenRequest({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: redirectUri(),
      client_id: config.client_id,
      code_verifier: pending.verifier,
    });
    const idClaims = tokens.id_token ? claimsOf(tokens.id_token) : null;
    if (idClaims && idClaims.nonce !== undefined && idClaims.nonce !== pending.nonce) {
      throw new Error('The identity provider\'s answer does not belong to this sign-in; please sign in again.');
    }
    const token = keep(tokens);
    const claims = idClaims || claimsOf(token) || {};
    await window.Parley.startSession(token, claims.preferred_username || claims.email || claims.name || claims.sub || 'unknown');
  }

  async function tokenRequest(fields) {
    const response = await fetch(config.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(fields).toString(),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !(body.access_token || body.id_token)) {
      throw new Error('The identity provider did not issue a token' + (body.error ? ' (' + body.error + ')' : '') + '.');
    }
    return body;
  }

  /**
   * Remembers the provider's answer for refreshing and signing out, and answers the token to send
   * to the API: the access token when it is a JWT, else the ID token (Google's access tokens are opaque).
   */
  function keep(tokens) {
    const saved = JSON.parse(sessionStorage.getItem(TOKENS_KEY) || '{}');
    const bearer = claimsOf(tokens.access_token || '') ? tokens.access_token : (tokens.id_token || saved.id_token);
    const claims = claimsOf(bearer) || {};
    const expiresAt = claims.exp ? claims.exp * 1000 : Date.now() + (Number(tokens.expires_in) || 300) * 1000;
    sessionStorage.setItem(TOKENS_KEY, JSON.stringify({
      refresh_token: tokens.refresh_token || saved.refresh_token || null,
      id_token: tokens.id_token || saved.id_token || null,
      expires_at: expiresAt,
    }));
    scheduleRefresh(expiresAt);
    return bearer;
  }

  function scheduleRefresh(expiresAt) {
    clearTimeout(refreshTimer);
    const saved = JSON.parse(sessionStorage.getItem(TOKENS_KEY) || 'null');
    if (!saved || !saved.refresh_token) return;
    const wait = Math.max(MIN_REFRESH_MS, expiresAt - Date.now() - REFRESH_MARGIN_MS);
    refreshTimer = setTimeout(() => refresh().catch(() => {
      // the provider session is gone: the API's 401 takes the user back to the sign-in
    }), wait);
  }

  /** Swaps the refresh token for a fresh token; the page keeps going with it. */
  async function refresh() {
    const saved = JSON.parse(sessionStorage.getItem(TOKENS_KEY) || 'null');
    if (!saved || !saved.refresh_token) return false;
    if (!config) config = await loadConfig();
    const tokens = await tokenRequest({ grant_type: 'refresh_token', refresh_token: saved.refresh_token, client_id: config.client_id });
    window.Parley.setToken(keep(tokens));
    return true;
  }

  /** After the page's own sign-out: ends the provider's session too, when it says how. */
  function signOutAtProvider() {
    clearTimeout(refreshTimer);
    const saved = JSON.parse(sessionStorage.getItem(TOKENS_KEY) || 'null');
    sessionStorage.removeItem(TOKENS_KEY);
    if (!saved || !config || !config.end_session_endpoint) return;
    const url = new URL(config.end_session_endpoint);
    if (saved.id_token) url.searchParams.set('id_token_hint', saved.id_token);
    url.searchParams.set('client_id', config.client_id);
    url.searchParams.set('post_logout_redirect_uri', redirectUri());
    location.assign(url.toString());
  }

  /** Test hooks. */
  window.parleyOidc = { refresh };

  document.addEventListener('DOMContentLoaded', async () => {
    $('sign-out').addEventListener('click', signOutAtProvider);
    const params = new URLSearchParams(location.search);
    try {
      config = await loadConfig();
    } catch (err) {
      showProviderLogin();
      if (!$('login-view').hidden) window.Parley.showLogin(err.message);
      return;
    }
    if (!config) return;
    showProviderLogin();
    if (params.has('state') && (params.has('code') || params.has('error'))) {
      try {
        await complete(params);
      } catch (err) {
        window.Parley.showLogin(err.message);
      }
      return;
    }
    const saved = JSON.parse(sessionStorage.getItem(TOKENS_KEY) || 'null');
    if (saved) scheduleRefresh(saved.expires_at);
  });
})();
