// The cedargate console: reads /console/api/* (same origin; the login
// cookie or a Bearer token authenticates) and renders it. No framework, no
// external resource; everything is written with textContent.
"use strict";

const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
};

// Every call says it comes from the console's page (X-Cedargate-Console):
// a cross-site page cannot send that header, so the gateway refuses
// changes without it (or a same-origin Origin).
async function api(path, body) {
  const headers = { "x-cedargate-console": "1" };
  const init = body === undefined ? { headers } : {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch("/console/api/" + path, { credentials: "same-origin", ...init });
  if (response.status === 401) {
    window.location.assign("/console/login");
    throw new Error("unauthorized");
  }
  const json = await response.json();
  if (!response.ok) throw new Error(json.message || response.statusText);
  return json;
}

const bytes = (n) => {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
};
const duration = (s) => `${Math.floor(s / 3600)}h ${Math.floor(s / 60) % 60}m ${s % 60}s`;
const time = (ms) => new Date(ms).toLocaleTimeString();
const firstProblem = (reload) => {
  const d = reload && reload.diagnostics && reload.diagnostics[0];
  return d ? `${d.location}: ${d.message}` : (reload && reload.error) || "";
};

// Status.
async function refreshStatus() {
  try {
    const s = await api("status");
    $("status-error").hidden = true;
    $("version").textContent = s.version;
    $("uptime").textContent = duration(s.uptime_seconds);
    const l = s.listeners;
    $("listeners").textContent = `S3 ${l.s3}` + (l.s3_tls ? `, S3 TLS ${l.s3_tls}` : "") + `, admin ${l.admin}`;
    $("error-profile").textContent = s.error_profile;
    $("generation").textContent = s.policy.generation;
    $("policy-files").textContent = s.policy.files.map((f) => `${f.name} (${f.policies})`).join(", ");
    const last = s.policy.last_reload;
    const reload = $("last-reload");
    reload.className = last.ok ? "ok" : "error";
    reload.textContent = last.ok
      ? `ok at ${time(last.at_ms)} (generation ${last.generation})`
      : `invalid at ${time(last.at_ms)}, generation ${last.generation} stays in force: ${firstProblem(last)}`;
    const failure = s.policy.last_failure;
    $("last-failure").textContent = failure ? `${time(failure.at_ms)}: ${firstProblem(failure)}` : "none";
    $("last-failure").className = failure ? "error" : "";
    $("credentials").textContent = s.credentials.count;
    const backends = Object.entries(s.backends).map(([name, state]) => `${name}: ${state}`);
    $("backends").textContent = backends.join(", ") || "none";
  } catch (error) {
    $("status-error").hidden = false;
    $("status-error").textContent = "cannot read the status: " + error.message;
  }
}

// Quotas.
async function refreshQuotas() {
  const { quotas } = await api("quotas");
  const list = $("quota-list");
  list.replaceChildren();
  if (!quotas.length) list.append(el("p", "No capped bucket.", "empty"));
  for (const q of quotas) {
    const scale = Math.max(q.hard || 0, q.soft || 0, (q.used || 0) + (q.reserved || 0), 1);
    const pct = (n) => `${Math.min(100, (100 * (n || 0)) / scale)}%`;
    const row = el("div", null, "quota");
    row.append(el("div", `${q.bucket}: ${bytes(q.used)} used, ${bytes(q.reserved)} reserved, soft ${bytes(q.soft)}, hard ${bytes(q.hard)} (${q.state})`));
    const bar = el("div", null, "bar");
    const used = el("div", null, "used");
    used.style.width = pct(q.used);
    const reserved = el("div", null, "reserved");
    reserved.style.left = pct(q.used);
    reserved.style.width = pct(q.reserved);
    bar.append(used, reserved);
    for (const [cap, cls] of [[q.soft, "mark soft"], [q.hard, "mark hard"]]) {
      if (cap === null || cap === undefined) continue;
      const mark = el("div", null, cls);
      mark.style.left = `calc(${pct(cap)} - 2px)`;
      bar.append(mark);
    }
    row.append(bar);
    list.append(row);
  }
}

// Traffic charts.
const COLOURS = ["#2f6fd6", "#1f8a4c", "#c0392b", "#e0a100", "#8e44ad", "#16a085", "#d35400", "#7f8c8d"];

function drawChart(canvas, samples, interval, seriesOf) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const pad = { left: 48, right: 150, top: 10, bottom: 22 };
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  const names = new Map();
  samples.forEach((s, i) => seriesOf(s).forEach(([name, n]) => {
    if (!names.has(name)) names.set(name, new Array(samples.length).fill(0));
    names.get(name)[i] += n / interval;
  }));
  const ranked = [...names.entries()].sort((a, b) => b[1].reduce((x, y) => x + y, 0) - a[1].reduce((x, y) => x + y, 0)).slice(0, COLOURS.length);
  const max = Math.max(0.1, ...ranked.flatMap(([, values]) => values));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  ctx.strokeStyle = "#d5dbe3";
  ctx.fillStyle = "#66717f";
  ctx.font = "11px sans-serif";
  for (let i = 0; i <= 4; i++) {
    const y = pad.top + plotH - (plotH * i) / 4;
    ctx.beginPath(); ctx.moveTo(pad.left, y); ctx.lineTo(pad.left + plotW, y); ctx.stroke();
    ctx.fillText(((max * i) / 4).toFixed(2), 4, y + 4);
  }
  ctx.fillText("-15 min", pad.left, height - 6);
  ctx.fillText("now", pad.left + plotW - 20, height - 6);
  const slots = 90;
  const x = (i) => pad.left + (plotW * (slots - samples.length + i)) / (slots - 1);
  ranked.forEach(([name, values], k) => {
    ctx.strokeStyle = COLOURS[k];
    ctx.lineWidth = 2;
    ctx.beginPath();
    values.forEach((v, i) => {
      const y = pad.top + plotH - (plotH * v) / max;
      if (i === 0) ctx.moveTo(x(i), y); else ctx.lineTo(x(i), y);
    });
    if (values.length === 1) ctx.arc(x(0), pad.top + plotH - (plotH * values[0]) / max, 2, 0, 7);
    ctx.stroke();
    ctx.fillStyle = COLOURS[k];
    ctx.fillRect(width - pad.right + 10, pad.top + k * 16, 10, 10);
    ctx.fillStyle = "#1d2733";
    ctx.fillText(name, width - pad.right + 24, pad.top + k * 16 + 9);
  });
  if (!ranked.length) {
    ctx.fillStyle = "#66717f";
    ctx.fillText("no requests yet", pad.left + 10, pad.top + 20);
  }
}

async function refreshTraffic() {
  const t = await api("traffic");
  const interval = t.interval_seconds || 1;
  drawChart($("chart-requests"), t.samples, interval, (s) => s.by.map((b) => [b.operation, b.count]));
  drawChart($("chart-errors"), t.samples, interval, (s) => s.by.filter((b) => b.status >= 400).map((b) => [`${b.operation} ${b.status}`, b.count]));
}

// Decisions.
let decisions = [];
function renderDecisions() {
  const words = $("decision-filter").value.toLowerCase().split(/\s+/).filter(Boolean);
  const denyOnly = $("decision-deny-only").checked;
  const rows = $("decision-rows");
  rows.replaceChildren();
  for (const d of decisions) {
    const principal = d.principal ? `${d.principal.name} (${d.principal.kind})` : "";
    const target = d.bucket ? d.bucket + (d.key ? "/" + d.key : "") : "";
    const cells = [time(d.at_ms), principal, d.operation, target, d.decision, d.policies.join(", "), d.error_code || ""];
    const haystack = cells.join(" ").toLowerCase();
    if (denyOnly && d.decision !== "deny") continue;
    if (!words.every((w) => haystack.includes(w))) continue;
    const row = el("tr");
    row.dataset.requestId = d.request_id;
    cells.forEach((c, i) => row.append(el("td", c, i === 4 ? d.decision : undefined)));
    rows.append(row);
  }
}
async function refreshDecisions() {
  decisions = (await api("decisions")).decisions;
  renderDecisions();
}

// Playground.
async function loadChoices() {
  const c = await api("choices");
  const principal = $("pg-principal");
  for (const p of c.principals) {
    const option = el("option", `${p.name}` + (p.groups.length ? ` [${p.groups.join(", ")}]` : ""));
    option.value = "credential:" + p.name;
    principal.append(option);
  }
  const anonymous = el("option", "anonymous");
  anonymous.value = "anonymous:";
  principal.append(anonymous);
  for (const a of c.actions) {
    const option = el("option", a);
    option.value = a;
    if (a === "s3:GetObject") option.selected = true;
    $("pg-action").append(option);
  }
  for (const b of c.buckets) $("pg-buckets").append(Object.assign(el("option"), { value: b }));
  if (c.buckets.length) $("pg-bucket").value = c.buckets[0];
}

function explain(d) {
  const lines = [`${d.decision.toUpperCase()}` + (d.error_code ? ` (${d.error_code})` : "") + (d.reason ? `, reason ${d.reason}` : "")];
  for (const p of d.explanation) lines.push(`  ${p.effect || "?"} ${p.id} at ${p.location || "?"}` + (p.error ? ` @error(${p.error})` : ""));
  if (!d.policies.length) lines.push("  no deciding policy");
  for (const e of d.errors) lines.push("  error: " + e);
  return lines.join("\n");
}

async function decide(event) {
  event.preventDefault();
  const [kind, name] = $("pg-principal").value.split(/:(.*)/s);
  const principal = kind === "credential" ? { kind, name } : { kind: "anonymous" };
  const groups = $("pg-groups").value.split(",").map((g) => g.trim()).filter(Boolean);
  if (kind === "credential" && groups.length) principal.groups = groups;
  const context = { secure_transport: $("pg-secure").checked };
  if ($("pg-auth-mode").value) context.auth_mode = $("pg-auth-mode").value;
  if ($("pg-source-ip").value) context.source_ip = $("pg-source-ip").value;
  const request = { principal, action: $("pg-action").value, bucket: $("pg-bucket").value, key: $("pg-key").value || null, context };
  try {
    $("pg-result").textContent = explain(await api("decide", request));
  } catch (error) {
    $("pg-result").textContent = "error: " + error.message;
  }
}

async function tryCandidate(event) {
  event.preventDefault();
  const out = $("cand-result");
  out.replaceChildren();
  let answer;
  try {
    answer = await api("candidate", { name: $("cand-name").value, text: $("cand-text").value });
  } catch (error) {
    out.append(el("p", "error: " + error.message, "error"));
    return;
  }
  if (!answer.valid) {
    out.append(el("p", "invalid: the candidate does not validate", "error"));
    for (const e of answer.errors) out.append(el("div", `${e.location || ""}: ${e.message}`, "error validation-error"));
    return;
  }
  out.append(el("p", `valid: ${answer.policies.length} policies; ${answer.changed} of ${answer.replayed} recorded requests would change`, "ok"));
  for (const w of answer.warnings) out.append(el("div", "warning: " + w));
  for (const c of answer.changes) {
    out.append(el("div", `${c.principal} ${c.action} ${c.bucket}/${c.key || ""}: ${c.before.decision} [${c.before.policies.join(", ")}] -> ${c.after.decision} [${c.after.policies.join(", ")}]`, "change"));
  }
}

function every(ms, task) {
  const run = () => task().catch((error) => console.warn(error));
  run();
  setInterval(run, ms);
}

document.addEventListener("DOMContentLoaded", () => {
  $("decision-filter").addEventListener("input", renderDecisions);
  $("decision-deny-only").addEventListener("change", renderDecisions);
  $("pg-form").addEventListener("submit", decide);
  $("cand-form").addEventListener("submit", tryCandidate);
  loadChoices().catch((error) => console.warn(error));
  every(2000, refreshStatus);
  every(2000, refreshDecisions);
  every(5000, refreshQuotas);
  every(3000, refreshTraffic);
});
