// The bearer token: from the address's fragment (#access_token=..., as an OIDC redirect or
// `opsmetrics token --open` gives it) or pasted once; kept in this tab's sessionStorage only,
// never in a cookie or a query string.

const KEY = "opsmetrics.access_token";
// Fragment parameters an OAuth/OIDC redirect may add beside the token; none of them belongs in a
// shared link.
const REDIRECT_PARAMS = ["access_token", "id_token", "token_type", "expires_in", "scope", "state", "session_state"];

/** Move a token found in the fragment into storage and out of the address bar. */
export function takeFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("access_token");
  if (token === null) return false;
  for (const name of REDIRECT_PARAMS) params.delete(name);
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  store(token);
  return true;
}

export function store(token) {
  sessionStorage.setItem(KEY, token.trim());
}

export function clear() {
  sessionStorage.removeItem(KEY);
}

export function token() {
  return sessionStorage.getItem(KEY);
}

/** The token's claims, read without verifying (the server verifies): only to shape the page. */
export function claims(raw = token()) {
  if (!raw) return null;
  const parts = raw.split(".");
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const value = JSON.parse(new TextDecoder().decode(bytes));
    return value && typeof value === "object" ? value : null;
  } catch {
    return null;
  }
}

/** Why the stored token cannot be used, or null when it looks usable. */
export function problem() {
  const raw = token();
  if (!raw) return "";
  const found = claims(raw);
  if (!found) return "That is not a token this dashboard can read (a JWT has three parts).";
  if (typeof found.exp === "number" && found.exp * 1000 <= Date.now()) {
    return "Your token has expired: sign in again.";
  }
  return null;
}

export function scopes() {
  const found = claims() || {};
  const out = new Set();
  for (const name of ["scope", "scp"]) {
    const value = found[name];
    if (typeof value === "string") value.split(/\s+/).filter(Boolean).forEach((s) => out.add(s));
    else if (Array.isArray(value)) value.filter((s) => typeof s === "string").forEach((s) => out.add(s));
  }
  return out;
}
