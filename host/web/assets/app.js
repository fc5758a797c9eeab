// wasp's web UI: polls the API (relative paths, so any proxy prefix works),
// draws the tables, refreshes the server-drawn charts, and sends the controls.
// Text from the run (names, messages) is set as text, never as markup.
"use strict";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1500;
const CHART_MS = 2000;
let state = null;
let stats = null;
let tab = "stats";
let formOpen = false;
let chartsLoading = 0;

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") e.className = v; else if (k === "title") e.title = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function num(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString("en-US");
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}
const int = (x) => (x || 0).toLocaleString("en-US");

function clock(s) {
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}h ${two(m)}m ${two(sec)}s` : m ? `${m}m ${two(sec)}s` : `${sec}s`;
}

let noticeTimer = null;
function notice(text, kind) {
  const n = $("notice");
  if (n.textContent === (text || "") && n.hidden === !text) return;
  n.textContent = text || "";
  n.className = "notice" + (kind ? " " + kind : "");
  n.hidden = !text;
  clearTimeout(noticeTimer);
  // What went well fades after a few seconds; errors stay until replaced.
  if (text && kind === "info") noticeTimer = setTimeout(() => { n.hidden = true; n.textContent = ""; }, 4000);
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (method !== "GET") {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body || {});
  }
  const r = await fetch(path, opts);
  const text = await r.text();
  let doc = null;
  try { doc = text ? JSON.parse(text) : null; } catch (_) { doc = null; }
  if (!r.ok) {
    const msg = doc && doc.error ? `${doc.error}: ${doc.detail}` : `${r.status} ${r.statusText}`;
    throw new Error(msg);
  }
  return doc;
}

async function act(method, path, body, done) {
  try {
    const r = await api(method, path, body);
    notice(done || (r && r.detail) || "", "info");
    await poll();
    return true;
  } catch (e) {
    notice(e.message);
    return false;
  }
}

function live() {
  return state && (state.phase === "running" || state.phase === "starting");
}

// Stats and charts exist once a run does: before the first start has made
// its users there are none to ask for.
function measured() {
  return state && state.has_run;
}

function showButtons() {
  const ro = state.read_only;
  const running = live();
  $("edit").hidden = ro || !running;
  $("pause").hidden = ro || !running || state.paused;
  $("resume").hidden = ro || !running || !state.paused;
  $("reset").hidden = ro || !running;
  $("stop").hidden = ro || !running;
  $("new").hidden = ro || state.phase !== "stopped" || formOpen;
}

function fillStartForm() {
  const d = state.defaults;
  const f = $("start-form");
  f.users.value = d.users;
  f.spawn_rate.value = d.spawn_rate;
  $("rate-field").hidden = d.rate === null || d.rate === undefined;
  $("spawn-field").hidden = !$("rate-field").hidden;
  if (d.rate !== null && d.rate !== undefined) f.rate.value = d.rate;
  f.run_time.value = d.run_time || "";
  const hosts = d.allowed.length ? d.allowed.slice() : [];
  if (d.host && !hosts.includes(d.host)) hosts.unshift(d.host);
  $("host-list").replaceChildren(...hosts.map((h) => el("option", { value: h })));
  f.host.value = d.host || hosts[0] || "";
  f.host.placeholder = hosts.length ? hosts[0] : "(the plugin's own URLs)";
  $("from-file").hidden = !d.from_file;
  for (const name of ["users", "spawn_rate", "rate"]) f[name].disabled = d.from_file;
}

function showForms() {
  const ro = state.read_only;
  const startWanted = !ro && (state.phase === "ready" || (state.phase === "stopped" && formOpen));
  const start = $("start");
  if (startWanted && start.hidden) fillStartForm();
  start.hidden = !startWanted;
  $("start-cancel").hidden = state.phase !== "stopped";
  if (!live()) $("resize").hidden = true;
  const s = $("summary");
  s.hidden = state.phase !== "stopped" || state.exit_code === null;
  if (!s.hidden) {
    const t = stats ? stats.total : null;
    const verdict = state.exit_code === 0 ? "passed" : "did not pass";
    $("summary-text").textContent =
      `Exit code ${state.exit_code} (${verdict}), stopped by ${state.stop_reason}. ` +
      (t ? `${int(t.num_requests)} requests, ${int(t.num_failures)} failed; median ${num(t.p50_ms)} ms, 95%ile ${num(t.p95_ms)} ms. ` : "") +
      "The reports are under Download data.";
  }
  if (ro) notice("Read-only: this wasp shows its runs but takes no commands.", "info sticky");
  else if (state.error) notice(`The run could not start: ${state.error}`);
}

function showHeader() {
  $("title").textContent = state.title || "";
  document.title = `wasp · ${state.title || ""}`;
  const phase = state.paused && live() ? "paused" : state.phase;
  const p = $("phase");
  p.textContent = phase;
  p.className = "pill " + phase;
  $("host").textContent = state.host || "–";
  $("host").title = state.host || "";
  const closed = state.scenarios.filter((s) => !s.open).length > 0;
  $("users").textContent = closed && live() ? `${int(state.users)} / ${int(state.target_users)}` : int(state.users);
  $("elapsed").textContent = state.phase === "ready" ? "–" : clock(state.elapsed_s) + (state.run_time_s ? ` / ${clock(state.run_time_s)}` : "");
  if (stats) {
    $("rps").textContent = num(stats.current_rps);
    $("fails").textContent = `${Math.round(stats.fail_ratio * 1000) / 10}%`;
  } else {
    $("rps").textContent = "0";
    $("fails").textContent = "0%";
  }
}

function statRow(r, label) {
  const name = label || (r.scenario && r.scenario !== "default" ? `${r.scenario} · ${r.name}` : r.name);
  return el("tr", { class: r.num_failures ? "failing" : "" },
    el("td", {}, label ? "" : r.method), el("td", { class: "name", title: name }, name),
    el("td", {}, int(r.num_requests)), el("td", {}, int(r.num_failures)),
    el("td", {}, num(r.p50_ms)), el("td", {}, num(r.p95_ms)), el("td", {}, num(r.p99_ms)),
    el("td", {}, num(r.avg_ms)), el("td", {}, num(r.min_ms)), el("td", {}, num(r.max_ms)),
    el("td", {}, int(Math.round(r.avg_bytes))), el("td", {}, num(r.rps)));
}

function fill(id, rows) {
  document.querySelector(`#${id} tbody`).replaceChildren(...rows);
}

function showStats() {
  if (!stats) {
    fill("stats", []);
    document.querySelector("#stats tfoot").replaceChildren();
    return;
  }
  fill("stats", stats.rows.map((r) => statRow(r)));
  document.querySelector("#stats tfoot").replaceChildren(statRow(stats.total, "Aggregated"));
  const it = stats.iterations;
  $("iterations").textContent = it
    ? `Iterations: ${int(it.num_requests)}, median ${num(it.p50_ms)} ms, 95%ile ${num(it.p95_ms)} ms from their intended start; dropped: ${int(stats.dropped_iterations)}`
    : "";
  fill("failures", stats.failures.map((f) => el("tr", {}, el("td", {}, int(f.occurrences)), el("td", {}, f.method), el("td", { class: "name" }, f.name), el("td", {}, f.error))));
  fill("errors", stats.errors.map((e) => el("tr", {}, el("td", {}, int(e.occurrences)), el("td", {}, e.place), el("td", {}, e.message))));
  fill("tasks", stats.tasks.map((t) => el("tr", {}, el("td", {}, t.scenario), el("td", {}, t.name), el("td", {}, int(t.runs)), el("td", {}, int(t.errors)), el("td", {}, int(t.interrupted)))));
  $("n-failures").textContent = stats.failures.length ? String(stats.failures.length) : "";
  $("n-errors").textContent = stats.errors.length ? String(stats.errors.length) : "";
}

function showEvents() {
  fill("events", state.events.map((e) => el("tr", {},
    el("td", {}, new Date(e.at_unix_ms).toLocaleTimeString()), el("td", {}, e.by), el("td", {}, e.what))));
}

async function poll() {
  try {
    state = await api("GET", "api/state");
    stats = measured() ? await api("GET", "api/stats").catch(() => null) : null;
  } catch (e) {
    notice(`cannot reach wasp: ${e.message}`);
    return;
  }
  showHeader();
  showButtons();
  showForms();
  showStats();
  showEvents();
}

function refreshCharts() {
  if (tab !== "charts" || !measured() || chartsLoading > 0) return;
  for (const name of ["requests", "latency", "users"]) {
    const img = $(`chart-${name}`);
    chartsLoading++;
    const done = () => { chartsLoading--; img.onload = img.onerror = null; };
    img.onload = done;
    img.onerror = done;
    img.src = `api/chart/${name}.svg?t=${Date.now()}`;
  }
}

function selectTab(name) {
  tab = name;
  for (const b of document.querySelectorAll(".tabs button")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const s of document.querySelectorAll("section.tab")) s.hidden = s.id !== `tab-${name}`;
  refreshCharts();
}

function numberOrNull(v) {
  return v === "" || v === undefined ? null : Number(v);
}

function setup() {
  for (const b of document.querySelectorAll(".tabs button")) b.addEventListener("click", () => selectTab(b.dataset.tab));
  $("start-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const body = { run_time: f.run_time.value.trim(), host: f.host.value || null };
    if (!state.defaults.from_file) {
      body.users = numberOrNull(f.users.value);
      if (!$("rate-field").hidden) body.rate = numberOrNull(f.rate.value);
      else body.spawn_rate = numberOrNull(f.spawn_rate.value);
    }
    if (await act("POST", "api/start", body, "Starting…")) {
      formOpen = false;
      $("start").hidden = true;
    }
  });
  $("start-cancel").addEventListener("click", () => { formOpen = false; showForms(); showButtons(); });
  $("new").addEventListener("click", () => { formOpen = true; showForms(); showButtons(); });
  $("edit").addEventListener("click", () => {
    const f = $("resize-form");
    const closed = state.scenarios.some((s) => !s.open), open = state.scenarios.some((s) => s.open);
    $("resize-users").hidden = !closed;
    $("resize-spawn").hidden = !closed;
    $("resize-rate").hidden = !open;
    f.users.value = state.target_users;
    f.spawn_rate.value = state.defaults.spawn_rate;
    f.rate.value = state.rate;
    $("resize").hidden = false;
  });
  $("resize-cancel").addEventListener("click", () => { $("resize").hidden = true; });
  $("resize-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const body = {};
    if (!$("resize-users").hidden) { body.users = numberOrNull(f.users.value); body.spawn_rate = numberOrNull(f.spawn_rate.value); }
    if (!$("resize-rate").hidden) body.rate = numberOrNull(f.rate.value);
    if (await act("POST", "api/resize", body)) $("resize").hidden = true;
  });
  $("pause").addEventListener("click", () => act("POST", "api/pause"));
  $("resume").addEventListener("click", () => act("POST", "api/resume"));
  $("reset").addEventListener("click", () => act("POST", "api/reset"));
  $("stop").addEventListener("click", () => act("POST", "api/stop", {}, "Stopping: running tasks finish, then the reports are written."));
  poll();
  setInterval(poll, POLL_MS);
  setInterval(refreshCharts, CHART_MS);
}

document.addEventListener("DOMContentLoaded", setup);
