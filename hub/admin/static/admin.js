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
                   throw new Error(String(reply.status)); }
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
const act = async (path, options) => {
  say(""); try { await api(path, {method: "POST", ...options}); } finally { await refresh(); } };
async function refresh() {
  fill("adapters", await api("/api/adapters"), (tr, a) => {
    cell(tr, a.name); cell(tr, a.job_types.join(", ")); cell(tr, a.breaker, a.breaker === "closed" ? "closed" : "open");
    cell(tr, a.consecutive_failures); });
  fill("queues", await api("/api/queues"), (tr, q) => {
    cell(tr, q.queue); cell(tr, q.messages); cell(tr, q.consumers); });
  fill("dead", await api("/api/dead-letters"), (tr, d) => {
    cell(tr, d.id); cell(tr, d.received_at); cell(tr, d.reason); cell(tr, d.job_type);
    cell(tr, d.error); cell(tr, d.state);
    const td = tr.insertCell();
    if (d.state === "new") {
      const replay = document.createElement("button"); replay.textContent = "Replay";
      replay.dataset.id = d.id; replay.className = "replay";
      replay.onclick = () => act(`/api/dead-letters/${d.id}/replay`).catch(() => {});
      const discard = document.createElement("button"); discard.textContent = "Discard";
      discard.dataset.id = d.id; discard.className = "discard";
      discard.onclick = () => act(`/api/dead-letters/${d.id}/discard`).catch(() => {});
      td.append(replay, " ", discard);
    } });
  fill("refused", await api("/api/status-pushes?result=refused"), (tr, p) => {
    cell(tr, p.pushed_at); cell(tr, p.dossier_id); cell(tr, p.status); cell(tr, p.upload_id);
    cell(tr, p.reason, "open"); });
  await loadAuditSearches(); await loadRequestSearches();
}
// The audit and the requests register: a search form, pages by cursor ("More"), exports, and
// saved searches (the operator's own and those shared).
const query = (id) => new URLSearchParams([...new FormData(document.getElementById(id))]
  .filter(([, v]) => v));
const byId = (id) => document.getElementById(id);
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
document.getElementById("replay-all").onclick = () => act("/api/dead-letters/replay", {
  headers: {"Content-Type": "application/json"}, body: "{}"}).catch(() => {});
document.getElementById("login").onsubmit = (e) => { e.preventDefault(); say("");
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `loket_admin_token=${encodeURIComponent(document.getElementById("token").value)}; path=/; SameSite=Strict${secure}`;
  csrf = null; session().then(refresh).catch(() => {}); };
session().then(refresh).catch(() => {});
