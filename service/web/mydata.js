// My data: a dataset's runs against its fitted law versions, their diagnostics and
// warnings, its refit and calibration jobs with their progress; start a refit or a sweep.
import { api, getApiKey, laws, pool, setApiKey } from "./api.js";
import { chart, PALETTE } from "./chart.js";
import { count, el, sci, table } from "./fmt.js";
import { body, clearErrors, params, saveUrl, showErrors } from "./form.js";

const $ = (id) => document.getElementById(id);
const CURVE_POINTS = 14;
let current = null;
let pollTimer = null;

async function allRuns(dataset) {
  const out = [];
  while (out.length < 5000) {
    const page = await api(`/v1/runs?dataset=${encodeURIComponent(dataset)}&offset=${out.length}&limit=1000`);
    out.push(...page.data);
    if (!page.data.length || out.length >= page.count) break;
  }
  return out;
}

async function datasetJobs(dataset) {
  const jobs = (await api("/v1/jobs?limit=200")).data;
  return jobs.filter((j) => j.payload && j.payload.dataset === dataset);
}

async function fillDatasets() {
  const [all, jobs] = await Promise.all([laws(true), api("/v1/jobs?limit=200").then((r) => r.data)]);
  const names = new Set([...all.filter((l) => !l.builtin).map((l) => l.dataset), ...jobs.map((j) => j.payload && j.payload.dataset)]);
  $("mydata-datasets").replaceChildren(...[...names].filter(Boolean).sort().map((n) => el("option", { value: n })));
  return [...names].filter(Boolean);
}

function groupRuns(runs) {
  const groups = new Map();
  for (const r of runs) {
    if (!groups.has(r.run)) groups.set(r.run, []);
    groups.get(r.run).push(r);
  }
  return [...groups.entries()].sort((a, b) => a[1][0].params - b[1][0].params);
}

// The law's loss-vs-tokens curve for each model the runs trained (by params, or width
// and depth when the law needs the shape).
async function lossVsTokens(law, groups) {
  const series = await pool(groups, 4, async ([name, rs], i) => {
    const t = rs.map((r) => r.tokens), lo = Math.min(...t) / 1.5, hi = Math.max(...t) * 1.5;
    const ts = Array.from({ length: CURVE_POINTS }, (_, k) => lo * (hi / lo) ** (k / (CURVE_POINTS - 1)));
    const model = law.form.startsWith("width-depth") && rs[0].width && rs[0].depth
      ? { width: rs[0].width, depth: rs[0].depth } : { params: rs[0].params };
    const preds = await pool(ts, 6, (tokens) => api("/v1/predict", { law: `${law.id}@${law.version}`, tokens, ...model }));
    const color = PALETTE[i % PALETTE.length];
    return [
      { name: `${name} runs`, color, markers: true, line: false, points: rs.map((r) => ({ x: r.tokens, y: r.loss })) },
      { name: `${name} law`, color, dashed: true, points: preds.map((p, k) => p.ok && { x: ts[k], y: p.ok.loss }).filter(Boolean),
        band: preds.map((p, k) => p.ok && p.ok.loss_interval && { x: ts[k], lo: p.ok.loss_interval[0], hi: p.ok.loss_interval[1] }).filter(Boolean) },
    ];
  });
  return chart({ title: `Loss against tokens, each model (${law.id}@${law.version})`,
    x: { label: "tokens", log: true, format: count }, y: { label: "loss", log: false, format: (v) => v.toFixed(2) },
    series: series.flatMap((s) => s.ok || []) });
}

// Every evaluation at its compute (6ND unless the run says), under the law's frontier.
async function lossVsCompute(law, runs) {
  const c = runs.map((r) => r.flops || 6 * r.params * r.tokens);
  const frontier = await api("/v1/frontier", { law: `${law.id}@${law.version}`, flops_min: Math.min(...c) / 2, flops_max: Math.max(...c) * 4, points: 24 });
  const byRun = groupRuns(runs);
  return chart({ title: "Loss against compute, under the law's frontier",
    x: { label: "compute C (FLOPs)", log: true }, y: { label: "loss", log: false, format: (v) => v.toFixed(2) },
    series: [...byRun.map(([name, rs], i) => ({ name, color: PALETTE[i % PALETTE.length], markers: true,
      points: rs.map((r) => ({ x: r.flops || 6 * r.params * r.tokens, y: r.loss })) })),
    { name: `${law.id}@${law.version} frontier`, color: "#111827", points: frontier.points.map((p) => ({ x: p.flops, y: p.loss })) }] });
}

// A run's loss at compute c (C = 6ND), interpolated in log-log between its evaluations.
function lossAt(rs, c) {
  const pts = rs.map((r) => [Math.log(6 * r.params * r.tokens), Math.log(r.loss)]).sort((a, b) => a[0] - b[0]);
  const lc = Math.log(c);
  for (let i = 1; i < pts.length; i++) {
    if (pts[i - 1][0] <= lc && lc <= pts[i][0]) {
      const t = (lc - pts[i - 1][0]) / (pts[i][0] - pts[i - 1][0] || 1);
      return Math.exp(pts[i - 1][1] + t * (pts[i][1] - pts[i - 1][1]));
    }
  }
  return null;
}

// IsoFLOP slices (Hoffmann et al. 2022 Approach 2): at up to three budgets that at least
// three runs pass through, each run's interpolated loss against its size, with the law's
// L(N, C/6N) curve.
async function isoFlops(law, groups) {
  const ranges = groups.map(([, rs]) => rs.map((r) => 6 * r.params * r.tokens));
  const lo = Math.min(...ranges.flat()), hi = Math.max(...ranges.flat());
  const candidates = Array.from({ length: 7 }, (_, k) => lo * (hi / lo) ** ((k + 0.5) / 7));
  const budgets = candidates.filter((c) => ranges.filter((r) => Math.min(...r) <= c && c <= Math.max(...r)).length >= 3);
  const chosen = budgets.length > 3 ? [budgets[0], budgets[Math.floor(budgets.length / 2)], budgets.at(-1)] : budgets;
  if (!chosen.length) return null;
  const ns = groups.map(([, rs]) => rs[0].params), nLo = Math.min(...ns) / 2, nHi = Math.max(...ns) * 2;
  const grid = Array.from({ length: CURVE_POINTS }, (_, k) => nLo * (nHi / nLo) ** (k / (CURVE_POINTS - 1)));
  const series = await pool(chosen, 3, async (c, i) => {
    const preds = await pool(grid, 6, (n) => api("/v1/predict", { law: `${law.id}@${law.version}`, params: n, tokens: c / (6 * n) }));
    const color = PALETTE[i % PALETTE.length];
    const runs = groups.map(([, rs]) => ({ x: rs[0].params, y: lossAt(rs, c) })).filter((p) => p.y !== null);
    return [{ name: `C = ${sci(c)} runs`, color, markers: true, line: false, points: runs },
      { name: `C = ${sci(c)} law`, color, dashed: true, points: preds.map((p, k) => p.ok && { x: grid[k], y: p.ok.loss }).filter(Boolean) }];
  });
  return chart({ title: "IsoFLOP slices (C = 6ND): loss against size",
    x: { label: "parameters N", log: true, format: count }, y: { label: "loss", log: false, format: (v) => v.toFixed(2) },
    series: series.flatMap((s) => s.ok || []) });
}

// A loss-curve law (docs/laws.md §21): each run's checkpoints with the law's forecast of
// the whole run under its schedule and the band where it will land, and a table of where
// each run ends and whether its checkpoints track the law.
const CURVE_RUNS = 12;
async function curveFigures(law, groups) {
  const dataset = current, ref = `${law.id}@${law.version}`;
  const shown = groups.slice(0, CURVE_RUNS);
  const answers = await pool(shown, 4, ([name]) => api(
    `/v1/runs/${encodeURIComponent(dataset)}/${encodeURIComponent(name)}/forecast`, { law: ref, curve: true }));
  const series = shown.flatMap(([name, rs], i) => {
    const color = PALETTE[i % PALETTE.length], f = answers[i].ok;
    const logged = { name: `${name} logged`, color, markers: true, line: false, points: rs.map((r) => ({ x: r.tokens, y: r.loss })) };
    if (!f) return [logged];
    return [logged, { name: `${name} forecast`, color, dashed: true, points: f.curve.map((p) => ({ x: p.tokens, y: p.loss })),
      band: f.curve.filter((p) => p.loss_interval).map((p) => ({ x: p.tokens, lo: p.loss_interval[0], hi: p.loss_interval[1] })) }];
  });
  const figure = chart({ title: `Runs and their forecasts (${ref})`,
    x: { label: "tokens", log: true, format: count }, y: { label: "loss", log: false, format: (v) => v.toFixed(2) }, series });
  figure.id = "mydata-curves";
  const rows = shown.map(([name, rs], i) => {
    const f = answers[i].ok;
    if (!f) return { attrs: { "data-run": name, "data-tracking": "unknown" }, cells: [name, count(rs[0].params), String(rs.length), answers[i].error.message, "", ""] };
    const band = f.loss_interval ? `${f.loss_interval[0].toFixed(3)} to ${f.loss_interval[1].toFixed(3)}` : "—";
    return { attrs: { "data-run": name, "data-tracking": f.tracking ? "yes" : "no" }, cells: [name, count(rs[0].params), String(f.observed),
      el("span", { "data-loss": f.loss }, f.loss.toFixed(3)), band, f.tracking ? "tracking" : el("span", { class: "status failed", title: f.caveats.at(-1) }, "not tracking")] };
  });
  const level = Math.round(100 * (answers.find((a) => a.ok)?.ok.level || 0.9));
  return [[figure], table(["Run", "Params", "Checkpoints", "Forecast end loss", `${level}% interval`, "Law"], rows, { id: "mydata-forecasts" })];
}

// A version's fit warnings: the fit report and the law's diagnostics carry the same
// list, so each warning is listed once.
function warningsOf(detail) {
  const report = (detail.fit && detail.fit.report) || {};
  const all = [...(report.warnings || []), ...((detail.diagnostics || {}).warnings || [])];
  return [...new Set(all.filter((w) => typeof w === "string"))];
}

// Why a dataset has no fitted law yet: no runs, a refit running, or one that failed.
function noLaw(runs, jobs) {
  const refits = jobs.filter((j) => j.kind === "refit");
  const active = refits.find((j) => j.status === "queued" || j.status === "running");
  const failed = refits.find((j) => j.status === "failed");
  const text = !runs.length
    ? "This dataset has no runs yet: post runs (POST /v1/runs, or `flopwise runs upload`) or start a calibration sweep."
    : active ? `No fitted law for this dataset yet: its refit is ${active.status} (jobs below).`
    : failed ? `No fitted law for this dataset: its last refit failed (${failed.error || "see jobs below"}).`
    : "No fitted law for this dataset yet: start a refit.";
  return el("p", { class: "hint", id: "mydata-nolaw" }, text);
}

function diagnostics(detail) {
  const d = { ...(detail.diagnostics || {}), ...((detail.fit && detail.fit.report && detail.fit.report.diagnostics) || {}) };
  const scalar = Object.entries(d).filter(([, v]) => ["number", "string", "boolean"].includes(typeof v));
  return el("dl", { class: "kv" }, scalar.slice(0, 24).map(([k, v]) => [el("dt", {}, k), el("dd", {}, typeof v === "number" ? sci(v, 4) : String(v))]));
}

async function lawSection(summary, runs) {
  const versions = await pool(summary.versions, 4, (v) => api(`/v1/laws/${encodeURIComponent(`${summary.id}@${v}`)}`));
  const latest = versions.at(-1).ok || (await api(`/v1/laws/${encodeURIComponent(summary.id)}`));
  const rows = versions.map((v, i) => v.ok ? { cells: [`${v.ok.id}@${v.ok.version}`, v.ok.fit ? `${v.ok.fit.form} · ${v.ok.fit.method}` : v.ok.form,
    v.ok.has_draws ? "yes" : "no", v.ok.fit ? new Date(v.ok.fit.published_at * 1000).toLocaleString() : "—", String(warningsOf(v.ok).length)] }
    : { cells: [`${summary.id}@${summary.versions[i]}`, v.error.message, "", "", ""] });
  const warnings = warningsOf(latest);
  const groups = groupRuns(runs);
  const [figures, below] = !runs.length ? [[], null] : latest.reads_schedule ? await curveFigures(latest, groups)
    : [await Promise.all([lossVsTokens(latest, groups), isoFlops(latest, groups), lossVsCompute(latest, runs)]), null];
  return el("section", { class: "card wide", "data-law": summary.id },
    el("h3", {}, `${summary.id} `, el("span", { class: "muted" }, summary.title)),
    table(["Version", "How", "Draws", "Published", "Warnings"], rows),
    warnings.length ? el("ul", { class: "warnings" }, warnings.map((w) => el("li", {}, w))) : el("p", { class: "muted" }, "No warnings on the latest version."),
    el("details", {}, el("summary", {}, "Diagnostics of the latest version"), diagnostics(latest)),
    el("div", { class: "charts" }, figures), below);
}

function progressOf(job) {
  const p = job.progress || {};
  if (job.status === "succeeded" || job.status === "failed") {
    return p.total_runs ? `${p.runs_done || 0}/${p.total_runs} runs` : "finished";
  }
  const bar = p.total_runs ? el("progress", { max: p.total_runs, value: p.runs_done || 0 }, `${p.runs_done || 0}/${p.total_runs}`) : null;
  const text = [p.stage, p.total_runs ? `${p.runs_done || 0}/${p.total_runs} runs` : null, p.evals ? `${p.evals} evals` : null].filter(Boolean).join(" · ");
  return el("span", {}, bar, " ", text || "—");
}

function jobsTable(jobs) {
  if (!jobs.length) return el("p", { class: "muted" }, "No jobs for this dataset yet.");
  return table(["Job", "Kind", "Status", "Progress", "Created", "Outcome"], jobs.map((j) => ({ attrs: { "data-status": j.status }, cells: [
    j.id.slice(0, 8), j.kind, el("span", { class: `status ${j.status}` }, j.status), progressOf(j),
    new Date(j.created_at * 1000).toLocaleTimeString(),
    j.error || (j.result && j.result.law_id ? `${j.result.law_id}@${j.result.version}` : "")] })), { id: "mydata-jobs" });
}

async function refreshJobs(dataset, seen) {
  clearTimeout(pollTimer);
  if (current !== dataset) return;
  const jobs = await datasetJobs(dataset);
  $("mydata-jobs-box")?.replaceChildren(jobsTable(jobs));
  const finished = jobs.filter((j) => j.status === "succeeded").length;
  if (seen !== undefined && finished > seen) { await open(dataset); return; }
  if (jobs.some((j) => j.status === "queued" || j.status === "running")) {
    pollTimer = setTimeout(() => refreshJobs(dataset, finished), 1500);
  }
}

// Each run with its size and evaluations; exclude one from the fits (with a reason) or
// take it back: either queues a refit, whose law then says what it was fitted without.
function runsSection(dataset, runs, excluded) {
  const rows = groupRuns(runs).map(([run, rs]) => {
    const reason = excluded.get(run);
    const why = el("input", { type: "text", placeholder: "reason", "aria-label": `Why exclude ${run}`, class: "reason" });
    const button = el("button", { type: "button", class: "small", "data-run": run }, reason ? "Restore" : "Exclude");
    const banner = el("span", { class: "form-error", role: "alert" });
    button.addEventListener("click", async () => {
      banner.textContent = "";
      const path = `/v1/runs/${encodeURIComponent(dataset)}/${encodeURIComponent(run)}/${reason ? "restore" : "exclude"}`;
      try {
        await api(path, reason ? {} : { reason: why.value.trim() || "excluded from the page" });
        await open(dataset);
      } catch (error) {
        banner.textContent = error.status === 401 ? `${error.message} — enter the API key above.` : error.message;
      }
    });
    return { attrs: { "data-run": run, "data-excluded": reason ? "yes" : "no" }, cells: [
      run, count(rs[0].params), String(rs.length), reason ? `excluded: ${reason}` : "fitted",
      el("span", {}, reason ? null : why, button, banner)] };
  });
  return el("section", { class: "card wide" }, el("h3", {}, "Runs"),
    table(["Run", "Params", "Evaluations", "In the fits", ""], rows, { id: "mydata-runs" }));
}

async function open(dataset) {
  current = dataset;
  params.set("dataset", dataset); saveUrl();
  const out = $("mydata-body");
  out.setAttribute("aria-busy", "true");
  const [runs, all, jobs, history] = await Promise.all([allRuns(dataset), laws(true), datasetJobs(dataset),
    api(`/v1/exclusions/${encodeURIComponent(dataset)}`).catch(() => ({ data: [] }))]);
  const excluded = new Map(history.data.filter((x) => x.restored_at === null).map((x) => [x.run, x.reason]));
  const fitted = all.filter((l) => !l.builtin && l.dataset === dataset);
  const sections = await Promise.all(fitted.map((l) => lawSection(l, runs)));
  out.replaceChildren(
    el("h2", {}, dataset, el("span", { class: "muted" }, ` · ${runs.length} evaluations in ${groupRuns(runs).length} runs`)),
    ...(fitted.length ? sections : [noLaw(runs, jobs)]),
    runs.length ? runsSection(dataset, runs, excluded) : null,
    el("section", { class: "card wide" }, el("h3", {}, "Jobs"), el("div", { id: "mydata-jobs-box" })));
  out.removeAttribute("aria-busy");
  out.dataset.dataset = dataset;
  await refreshJobs(dataset, jobs.filter((j) => j.status === "succeeded").length);
}

async function start(formEl, banner, status, path, extra) {
  clearErrors(formEl, banner);
  status.textContent = "";
  const dataset = $("mydata-dataset").value.trim();
  try {
    const job = await api(path, { dataset, ...body(formEl), ...extra });
    if (dataset) await open(dataset);
    status.textContent = `Queued job ${job.job_id.slice(0, 8)}.`;
  } catch (error) {
    if (error.status === 401) error.fields = { "": `${error.message} — enter the API key above.` };
    if (error.fields.dataset) error.fields = { "": `dataset: ${error.fields.dataset}` };
    showErrors(formEl, error, banner);
  }
}

// A file of runs through POST /v1/runs as a table: stored whole, or refused with every
// bad cell by line and column (nothing stored).
async function upload(formEl) {
  const banner = $("upload-error"), out = $("upload-result");
  clearErrors(formEl, banner);
  out.replaceChildren();
  const file = $("upload-file").files[0];
  if (!file) { banner.textContent = "Choose a CSV or JSON-lines file."; return; }
  const dataset = $("mydata-dataset").value.trim();
  const type = /\.(jsonl|ndjson)$/i.test(file.name) ? "application/x-ndjson" : "text/csv";
  const query = dataset ? `?dataset=${encodeURIComponent(dataset)}` : "";
  try {
    const r = await api(`/v1/runs${query}`, await file.text(), type);
    out.replaceChildren(el("p", { id: "upload-summary", "data-accepted": r.received, "data-rejected": 0 },
      `Accepted ${r.received} rows (${r.inserted} new, ${r.duplicates} already stored); rejected 0.`));
    const names = Object.keys(r.refit_jobs);
    if (dataset || names.length === 1) await open(dataset || names[0]);
  } catch (error) {
    const rows = Array.isArray(error.detail) ? error.detail.filter((d) => Number.isInteger(d.line)) : [];
    if (!rows.length) {
      if (error.status === 401) error.fields = { "": `${error.message} — enter the API key above.` };
      showErrors(formEl, error, banner);
      return;
    }
    const lines = new Set(rows.map((d) => d.line)).size;
    out.replaceChildren(
      el("p", { id: "upload-summary", "data-accepted": 0, "data-rejected": lines },
        `Accepted 0 rows; rejected ${lines}: nothing was stored (a file is stored whole or not at all). Fix these and upload again:`),
      table(["Line", "Column", "Reason"], rows.map((d) => ({ cells: [String(d.line), d.column || "(row)", d.msg] })), { id: "upload-rejected" }));
  }
}

export async function initMydata() {
  const key = $("mydata-key");
  key.value = getApiKey();
  key.addEventListener("change", () => setApiKey(key.value));
  $("key-form").addEventListener("submit", (ev) => { ev.preventDefault(); setApiKey(key.value); });
  $("mydata-open").addEventListener("click", () => open($("mydata-dataset").value.trim()));
  $("mydata-reload").addEventListener("click", () => current && open(current));
  $("mydata-dataset").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); $("mydata-open").click(); } });
  $("refit-form").addEventListener("submit", (ev) => { ev.preventDefault(); start(ev.target, $("refit-error"), $("refit-status"), "/v1/fits", {}); });
  $("calib-form").addEventListener("submit", (ev) => { ev.preventDefault(); start(ev.target, $("calib-error"), $("calib-status"), "/v1/calibrations", {}); });
  $("upload-form").addEventListener("submit", (ev) => { ev.preventDefault(); upload(ev.target); });
  const names = await fillDatasets();
  const chosen = params.get("dataset") || names[0];
  if (chosen) { $("mydata-dataset").value = chosen; await open(chosen); }
}
