// What a view shows lives in the address's fragment (#view=territories&region=London), so a
// link can be shared and the back button works. The token never goes there.

export const VIEWS = ["territories", "hiring", "gaps", "trends", "runs"];

export function read() {
  const params = new URLSearchParams(location.hash.slice(1));
  const state = {};
  for (const [name, value] of params) {
    if (name !== "access_token") state[name] = value;
  }
  if (!VIEWS.includes(state.view)) state.view = VIEWS[0];
  return state;
}

export function link(state) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(state)) {
    if (value !== undefined && value !== null && value !== "" && value !== false) params.set(name, String(value));
  }
  return `#${params.toString()}`;
}

/** Show another state: a new history entry, and the hashchange listener renders it. */
export function go(state) {
  const target = link(state);
  if (target === location.hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = target;
}
