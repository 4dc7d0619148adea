// The operator page's script (served as /admin.js: the page's CSP allows no inline script).
// State changes send the CSRF token of GET /api/session in the X-CSRF-Token header.
let csrf = null;
const say = (text) => { document.getElementById("message").textContent = text ?? ""; };
const api = async (path, options = {}) => {
  const method = (options.method ?? "GET").toUpperCase();
  const headers = {...(options.headers ?? {})};
  if (method !== "GET" && method !== "HEAD") {
    if (csrf === null) await session();
    headers["X-CSRF-Token"] = csrf;
  }
  const reply = await fetch(path, {credentials: "same-origin", ...options, headers});
  if (reply.status === 401) { document.getElementById("who").textContent = "not signed in";
                               throw new Error("401"); }
  const body = await reply.json();
  if (!reply.ok) { say(`${reply.status}: ${body.error ?? reply.statusText}`);
                   const error = new Error(String(reply.status)); error.body = body; throw error; }
  return body;
};
async function session() {
  const me = await api("/api/session");
  csrf = me.csrf_token;
  document.getElementById("who").textContent = `signed in as ${me.operator}`;
  return me;
}
const cell = (row, text, cls) => { const td = row.insertCell(); td.textContent = text ?? "";
                                   if (cls) td.className = cls; return td; };
const fill = (id, rows, draw) => { const body = document.querySelector(`#${id} tbody`);
                                   body.replaceChildren(); rows.forEach(r => draw(body.insertRow(), r)); };
const byId = (id) => document.getElementById(id);
// What the last action did, kept apart from the error line (#message).
const done = (text) => { byId("outcome").textContent = text; };
const post = (path, body) => api(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                        body: JSON.stringify(body ?? {})});
async function replayLetter(id) {
  say(""); done("");
  try { await post(`/api/dead-letters/${id}/replay`); done(`Dead letter #${id} replayed.`); }
  catch (error) {
    // A cause that is not retryable: the same message would fail the same way. Only on purpose.
    if (!error.body?.forceable || !confirm(`${error.body.error}\n\nReplay #${id} anyway?`)) return;
    say(""); await post(`/api/dead-letters/${id}/replay`, {force: true});
    done(`Dead letter #${id} replayed (forced).`);
  } finally { await overview(); }
}
async function discardLetter(id) {
  if (!confirm(`Discard dead letter #${id}? It is kept as discarded and never replayed.`)) return;
  say(""); done("");
  try { await post(`/api/dead-letters/${id}/discard`); done(`Dead letter #${id} discarded.`); }
  finally { await overview(); }
}
async function replayAll() {
  if (!confirm("Replay every new dead letter? Those whose cause is not retryable are skipped.")) return;
  say(""); done("");
  try { const r = await post("/api/dead-letters/replay");
        const skipped = r.skipped.map(s => `#${s.id}: ${s.why}`).join("; ");
        done(`${r.replayed.length} replayed, ${r.skipped.length} skipped${skipped ? ` (${skipped})` : ""}.`); }
  finally { await overview(); }
}
function button(text, cls, id, onclick) {
  const b = document.createElement("button"); b.textContent = text; b.className = cls;
  b.dataset.id = id; b.onclick = () => onclick(id).catch(() => {}); return b;
}
let deadNext = null;
function drawLetter(tr, d) {
  tr.insertCell().append(button(`#${d.id}`, "detail", d.id, showLetter));
  cell(tr, d.received_at); cell(tr, d.reason); cell(tr, d.job_type); cell(tr, d.error); cell(tr, d.state);
  const td = tr.insertCell();
  if (d.state === "new") td.append(button("Replay", "replay", d.id, replayLetter), " ",
                                   button("Discard", "discard", d.id, discardLetter));
}
async function letters(more) {
  const q = new URLSearchParams([...new FormData(byId("dead-filter"))].filter(([, v]) => v));
  if (more && deadNext) q.set("before", deadNext);
  const page = await api(`/api/dead-letters?${q}`);
  const body = document.querySelector("#dead tbody"); if (!more) body.replaceChildren();
  page.letters.forEach(d => drawLetter(body.insertRow(), d));
  deadNext = page.next; byId("dead-more").hidden = !deadNext;
  byId("dead-total").textContent = `${page.total} dead letters`;
}
async function showLetter(id) {
  const d = await api(`/api/dead-letters/${id}`);
  byId("dead-detail").hidden = false;
  byId("detail-title").textContent = `Dead letter #${d.id}: ${d.reason} (${d.state}${d.handled_by ? `, ${d.handled_by}` : ""})`;
  byId("detail-cause").textContent = d.cause.code ? `${d.cause.code}, ${d.cause.retryable ? "retryable" : "not retryable"}${d.needs_force ? ": replayed only on purpose" : ""}` : "no cause recorded";
  byId("detail-error").textContent = d.error ?? "";
  byId("detail-headers").textContent = d.headers ? JSON.stringify(d.headers, null, 2) : (d.headers_raw ?? "");
  byId("detail-body").textContent = d.body_base64 ? `(not UTF-8, base64) ${d.body_base64}` : d.body;
  fill("detail-history", d.history, (tr, h) => { cell(tr, `#${h.id}`); cell(tr, h.received_at);
    cell(tr, h.reason); cell(tr, h.state); cell(tr, h.handled_by); });
}
// Jobs answered in the last hour, by outcome, from the requests register (every worker's).
async function lastHour() {
  const since = new Date(Date.now() - 3600 * 1000).toISOString();
  const rows = [];
  for (const outcome of ["delivered", "rejected", "failed", "in-treatment", "awaiting-approval"]) {
    const page = await api(`/api/requests?from=${encodeURIComponent(since)}&outcome=${outcome}&limit=1`);
    rows.push({outcome, total: page.total});
  }
  const letters = await api("/api/dead-letters?state=new&limit=1");
  fill("rates", rows, (tr, r) => { cell(tr, r.outcome); cell(tr, r.total);
    cell(tr, (r.total / 60).toFixed(2)); });
  byId("rates-dead").textContent = `${letters.total} new dead letters`;
}
async function overview() {
  fill("adapters", await api("/api/adapters"), (tr, a) => {
    cell(tr, a.name); cell(tr, a.job_types.join(", ")); cell(tr, a.breaker, a.breaker === "closed" ? "closed" : "open");
    cell(tr, a.consecutive_failures); });
  fill("queues", await api("/api/queues"), (tr, q) => {
    cell(tr, q.queue); cell(tr, q.kind); cell(tr, q.missing ? "missing" : q.messages);
    cell(tr, q.consumers); });
  await letters(false);
  fill("refused", await api("/api/status-pushes?result=refused"), (tr, p) => {
    cell(tr, p.pushed_at); cell(tr, p.dossier_id); cell(tr, p.status); cell(tr, p.upload_id);
    cell(tr, p.reason, "open"); });
  await lastHour();
}
async function refresh() { await overview(); await loadAuditSearches(); await loadRequestSearches(); }
// Auto-refresh of the overview (not of the searches being read) while the box is ticked.
setInterval(() => { if (byId("auto").checked && csrf !== null) overview().catch(() => {}); }, 10000);
// The audit and the requests register: a search form, pages by cursor ("More"), exports, and
// saved searches (the operator's own and those shared).
const query = (id) => new URLSearchParams([...new FormData(document.getElementById(id))]
  .filter(([, v]) => v));
function panel(kind, key, draw) {
  const form = byId(kind), saved = byId(`${kind}-saved`);
  let next = null, filters = [];
  const show = async (more) => {
    say(""); const q = query(kind); if (more && next) q.set("cursor", next);
    const page = await api(`/api/${kind}?${q}`);
    const body = document.querySelector(`#${kind}-rows tbody`); if (!more) body.replaceChildren();
    page[key].forEach(r => draw(body.insertRow(), r)); next = page.next;
    byId(`${kind}-more`).hidden = !next; byId(`${kind}-total`).textContent = `${page.total} found`; };
  form.onsubmit = (e) => { e.preventDefault(); show(false).catch(() => {}); };
  byId(`${kind}-more`).onclick = () => show(true).catch(() => {});
  for (const fmt of ["csv", "xlsx"]) {
    byId(`${kind}-${fmt}`).onclick = (e) => { e.target.href = `/api/${kind}?${query(kind)}&format=${fmt}`; }; }
  const load = async () => {
    filters = await api(`/api/saved-filters?kind=${kind}`);
    saved.replaceChildren(new Option("Saved searches…", ""));
    filters.forEach(f => saved.add(new Option(f.shared ? `${f.name} (shared, ${f.owner})` : f.name, f.id))); };
  saved.onchange = () => {
    const found = filters.find(f => String(f.id) === saved.value); if (!found) return;
    form.reset(); byId(`${kind}-name`).value = found.name; byId(`${kind}-shared`).checked = found.shared;
    for (const [name, value] of Object.entries(found.filters)) if (form.elements[name]) form.elements[name].value = value;
    show(false).catch(() => {}); };
  byId(`${kind}-save`).onclick = () => { say(""); api("/api/saved-filters", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({kind,
      name: byId(`${kind}-name`).value, shared: byId(`${kind}-shared`).checked,
      filters: Object.fromEntries(query(kind))})}).then(load).catch(() => {}); };
  byId(`${kind}-delete`).onclick = () => { if (!saved.value) return; say("");
    api(`/api/saved-filters/${saved.value}`, {method: "DELETE"}).then(load).catch(() => {}); };
  return load;
}
const loadAuditSearches = panel("audit", "records", (tr, r) => {
  cell(tr, r.started_at); cell(tr, r.job_type); cell(tr, r.tenant); cell(tr, r.service);
  cell(tr, r.purpose); cell(tr, r.outcome); cell(tr, r.decided_by); });
const loadRequestSearches = panel("requests", "requests", (tr, r) => {
  cell(tr, r.received_at); cell(tr, r.job_type); cell(tr, r.product_id); cell(tr, r.tenant);
  cell(tr, r.dossier_id); cell(tr, r.applicant); cell(tr, r.state); cell(tr, r.outcome);
  cell(tr, r.status); });
byId("replay-all").onclick = () => replayAll().catch(() => {});
byId("dead-more").onclick = () => letters(true).catch(() => {});
byId("dead-filter").onsubmit = (e) => { e.preventDefault(); letters(false).catch(() => {}); };
document.getElementById("login").onsubmit = (e) => { e.preventDefault(); say("");
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `loket_admin_token=${encodeURIComponent(document.getElementById("token").value)}; path=/; SameSite=Strict${secure}`;
  csrf = null; session().then(refresh).catch(() => {}); };
session().then(refresh).catch(() => {});
