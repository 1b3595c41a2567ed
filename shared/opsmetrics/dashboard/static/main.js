// The dashboard's entry: sign-in, the view named by the fragment, and switching between them.

import * as api from "./api.js";
import { el, note } from "./dom.js";
import * as session from "./session.js";
import * as state from "./state.js";
import * as gaps from "./view-gaps.js";
import * as hiring from "./view-hiring.js";
import * as runs from "./view-runs.js";
import * as territories from "./view-territories.js";
import * as trends from "./view-trends.js";

const VIEWS = { territories, hiring, gaps, trends, runs };
const TITLES = { territories: "Territories", hiring: "Hiring triggers", gaps: "Coverage gaps", trends: "Trends", runs: "Runs" };
const $ = (id) => document.getElementById(id);
let rendering = 0; // a newer render makes an older, slower one drop its answer

function showSignIn(reason) {
  document.body.classList.remove("signed-in");
  $("nav").hidden = true;
  $("sign-out").hidden = true;
  $("view").hidden = true;
  $("view").replaceChildren();
  $("sign-in").hidden = false;
  $("sign-in-reason").textContent = reason || "";
  document.title = "Sign in · opsmetrics";
}

function showDashboard(view) {
  document.body.classList.add("signed-in");
  $("sign-in").hidden = true;
  $("nav").hidden = false;
  $("sign-out").hidden = false;
  $("view").hidden = false;
  for (const link of $("nav").querySelectorAll("a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${TITLES[view]} · opsmetrics`;
}

async function render() {
  const current = ++rendering;
  const problem = session.problem();
  if (problem !== null) {
    if (problem) session.clear();
    showSignIn(problem);
    return;
  }
  const wanted = state.read();
  showDashboard(wanted.view);
  const root = $("view");
  root.setAttribute("aria-busy", "true");
  root.dataset.view = wanted.view;
  delete root.dataset.ready;
  try {
    const parts = await VIEWS[wanted.view].render(wanted);
    if (current !== rendering) return;
    root.replaceChildren(...[parts].flat(3).filter(Boolean));
  } catch (error) {
    if (current !== rendering) return;
    if (error instanceof api.SignInNeeded) {
      showSignIn(error.message);
      return;
    }
    root.replaceChildren(
      el("h1", { tabindex: "-1" }, TITLES[wanted.view]),
      note(error.message || String(error), "error"),
      el("p", null, el("a", { href: state.link({ view: wanted.view }) }, "Back to the latest figures")),
    );
  }
  root.removeAttribute("aria-busy");
  root.dataset.ready = "true"; // the view is drawn (tests and people both wait for this)
}

function start() {
  session.takeFromFragment();
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("token-input");
    session.store(input.value);
    input.value = "";
    render();
  });
  $("sign-out").addEventListener("click", () => {
    session.clear();
    showSignIn("Signed out.");
  });
  window.addEventListener(api.SIGN_IN_EVENT, (event) => {
    rendering += 1; // drop any view still loading
    showSignIn(event.detail);
  });
  window.addEventListener("hashchange", () => {
    session.takeFromFragment(); // a sign-in redirect may land on a tab already open
    render().then(() => {
      const heading = document.querySelector("#view h1");
      if (heading) heading.focus({ preventScroll: true });
    });
  });
  render();
}

start();
