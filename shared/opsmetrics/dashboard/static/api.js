// The JSON routes, called with the bearer token. Paths are relative to the page, so the
// dashboard works at the root of a host and under an API Gateway stage alike.

import * as session from "./session.js";

/** The token is missing, expired or refused: the page shows the sign-in again. */
export class SignInNeeded extends Error {}

/** Dispatched on window (detail: the reason) when an action, not a view, needs a new sign-in. */
export const SIGN_IN_EVENT = "opsmetrics:sign-in";

/** Any other answer than 2xx, with the API's own one-line message. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function url(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

async function call(method, path, params) {
  const bearer = session.token();
  if (!bearer) throw new SignInNeeded("");
  const response = await fetch(url(path, params), {
    method,
    headers: { Authorization: `Bearer ${bearer}`, Accept: "application/json" },
    // Revalidate with the ETag every time (a 304 costs no body), so figures are never older
    // than the server's.
    cache: "no-cache",
    credentials: "omit",
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.status === 401) {
    session.clear();
    throw new SignInNeeded("The server refused the token (expired or not valid): sign in again.");
  }
  if (!response.ok) {
    const message = body && body.error && body.error.message ? body.error.message : `HTTP ${response.status}`;
    throw new ApiError(response.status, message, body);
  }
  return body;
}

export function get(path, params) {
  return call("GET", path, params);
}

export function post(path, params) {
  return call("POST", path, params);
}
