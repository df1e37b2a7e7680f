// Plan: one budget, one law -> N*, D*, the shape, loss, hyper-parameters, cost, warnings.
import { api } from "./api.js";
import { fillLawSelect, lawInfo } from "./catalogue.js";
import { chart, PALETTE } from "./chart.js";
import { count, dollars, el, hours, int, interval, sci } from "./fmt.js";
import { body, clearErrors, params, remember, restore, saveUrl, showErrors } from "./form.js";

const form = () => document.getElementById("plan-form");
const PREFIX = "";

function budgetKind() {
  return form().querySelector("input[name=budget]:checked").value;
}

function showBudgetFields() {
  const kind = budgetKind();
  for (const node of form().querySelectorAll("[data-budget]")) {
    node.hidden = !node.dataset.budget.split(" ").includes(kind);
  }
}

function request() {
  const out = body(form(), (name) => name === "budget");
  if (out.constraints && !Object.keys(out.constraints).length) delete out.constraints;
  return out;
}

function stat(label, main, sub, attrs = {}) {
  return el("div", { class: "stat", ...attrs }, el("div", { class: "stat-label" }, label),
    el("div", { class: "stat-value" }, main), sub ? el("div", { class: "stat-sub" }, sub) : null);
}

function section(title, ...rows) {
  return el("section", { class: "card" }, el("h3", {}, title), el("dl", { class: "kv" },
    rows.filter((r) => r && r[1] !== undefined && r[1] !== null && r[1] !== "").map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])));
}

function shapeCard(s, nDefinition) {
  if (!s) return section("Shape", ["Shape", "this law gives no shape"]);
  // a law counting DeepSeek's M (non-embedding FLOPs per token) does not count parameters
  const lawN = nDefinition === "model_scale" ? ["Model scale M (FLOPs/token)", sci(s.params_law)] : ["Params as the law counts", count(s.params_law)];
  return section("Shape",
    ["Width (d_model)", int(s.width)], ["Depth (layers)", int(s.depth)],
    ["Heads", `${s.n_heads} × ${s.head_dim}`], ["KV heads", int(s.n_kv_heads)],
    ["FFN size", int(s.ffn_size)], ["Exact params", int(s.params)],
    lawN,
    ["FLOPs / token", `${sci(s.flops_per_token)} (6N: ${sci(s.flops_per_token_6n)})`]);
}

function lossCard(a) {
  const rows = [["Predicted loss", a.loss === null ? "—" : a.loss.toFixed(3)]];
  const level = a.level ? `${Math.round(a.level * 100)}%` : "bootstrap";
  const three = (v) => v.toFixed(3);
  if (a.loss_interval) rows.push([a.curve_interval ? `A run will land in (${level})` : `Interval (${level})`, interval(a.loss_interval, three)]);
  if (a.curve_interval) rows.push([`Law's curve band (${level})`, interval(a.curve_interval, three)]);
  if (a.params_interval) rows.push(["N* interval", interval(a.params_interval, count)]);
  if (a.tokens_interval) rows.push(["D* interval", interval(a.tokens_interval, count)]);
  if (!a.loss_interval) rows.push(["Interval", "none given (the law has no bootstrap draws, or this answer has none)"]);
  return section("Loss", ...rows);
}

function hyperCard(h) {
  if (!h) return section("Batch size and learning rate", ["", "not available for this law"]);
  const seqs = h.batch_size_sequences ? ` (${count(h.batch_size_sequences)} sequences of ${int(h.sequence_length)})` : "";
  const card = section("Batch size and learning rate",
    ["Law", h.law], ["Batch size", `${count(h.batch_size_tokens)} tokens${seqs}`],
    ["Peak learning rate", sci(h.learning_rate)], ["N as the law counts it", h.params ? `${count(h.params)} (${h.n_definition})` : null],
    ["Source", h.source]);
  if (Array.isArray(h.caveats) && h.caveats.length) card.append(el("ul", { class: "small muted" }, h.caveats.map((c) => el("li", {}, c))));
  card.id = "hyper-card";
  card.dataset.law = h.law;
  return card;
}

// GPUs against wall clock and GPU-hours for the plan's shape and loss (the critical batch
// makes the extra GPUs cost tokens); the largest useful count and the deadline marked.
function criticalChart(c) {
  const pts = c.points;
  const ys = pts.flatMap((p) => [p.wall_clock_hours, p.gpu_hours]);
  const [lo, hi] = [Math.min(...ys), Math.max(...ys)];
  const series = [
    { name: "wall clock (h)", color: PALETTE[0], markers: true, points: pts.map((p) => ({ x: p.n_gpus, y: p.wall_clock_hours })) },
    { name: "GPU-hours", color: PALETTE[1], markers: true, points: pts.map((p) => ({ x: p.n_gpus, y: p.gpu_hours })) },
    { name: `largest useful: ${int(c.largest_useful_gpus)} GPUs`, color: PALETTE[2], dashed: true,
      points: [{ x: c.largest_useful_gpus, y: lo }, { x: c.largest_useful_gpus, y: hi }] },
  ];
  const d = c.deadline;
  if (d) series.push({ name: `deadline ${hours(d.max_wall_clock_hours)}`, color: PALETTE[3], dashed: true,
    points: [{ x: pts[0].n_gpus, y: d.max_wall_clock_hours }, { x: pts.at(-1).n_gpus, y: d.max_wall_clock_hours }] });
  return chart({ title: "GPUs against wall clock and GPU-hours", x: { label: "GPUs", log: true, format: count },
    y: { label: "hours", log: true, format: sci }, series });
}

function criticalCard(c) {
  if (!c) return null;
  const plan = c.plan, top = c.at_largest_useful, d = c.deadline;
  const rows = [["Critical batch B_noise", `${count(c.b_noise_tokens)} tokens (${c.b_noise_source})`],
    ["The plan's batch", `${count(plan.batch_tokens)} tokens on ${int(plan.n_gpus)} GPUs: ${count(c.extra_tokens)} extra tokens, ${hours(plan.wall_clock_hours)}, ${sci(plan.gpu_hours)} GPU-hours`],
    ["Largest useful GPU count", `${int(c.largest_useful_gpus)}: ${hours(top.wall_clock_hours)}, ${sci(top.gpu_hours)} GPU-hours`],
    ["Wall clock saved there", hours(Math.abs(c.wall_clock_saving_hours)) + (c.wall_clock_saving_hours < 0 ? " lost (the plan is past B_noise)" : "")]];
  if (d) rows.push(["Deadline", d.reason]);
  const card = section("Critical batch: GPUs that help", ...rows);
  card.id = "critical-card";
  if (d && d.point) card.dataset.deadlineGpus = d.point.n_gpus;
  card.dataset.usefulGpus = c.largest_useful_gpus;
  card.append(criticalChart(c));
  return card;
}

// Benchmark scores (laws with downstream links, docs/laws.md §20), and the target asked for.
function downstreamCard(a) {
  const metrics = Object.entries(a.downstream || {});
  if (!metrics.length) return null;
  const level = `${Math.round((a.level || 0.9) * 100)}%`;
  const three = (v) => v.toFixed(3);
  const rows = metrics.map(([name, m]) => [name,
    `${three(m.value)}${m.interval ? `, a run will land in ${interval(m.interval, three)} (${level})` : ""}` +
    ` — via ${m.via.metric} ${three(m.via.value)} (${m.link} link)`]);
  const t = a.target;
  if (t) {
    const chance = (p) => (p === null ? "—" : `${Math.round(p * 100)}%`);
    rows.unshift(["Target", `${t.metric} ≥ ${t.value}: smallest budget ${sci(t.flops)} FLOPs; here ${three(t.predicted)}, ` +
      `reached by ${chance(t.probability)} of the law's draws and a run with probability ${chance(t.run_probability)}`]);
  }
  const card = section("Benchmarks", ...rows);
  card.id = "downstream-card";
  if (t) card.dataset.targetFlops = t.flops;
  document.getElementById("plan-metrics").replaceChildren(...metrics.map(([name]) => el("option", { value: name })));
  return card;
}

function costCard(a) {
  const c = a.cost;
  const rows = [["Training FLOPs", sci(a.training_flops)]];
  if (a.inference_flops) rows.push(["Inference FLOPs", sci(a.inference_flops)]);
  if (c) rows.push(["GPU-hours", sci(c.gpu_hours)], ["Wall clock", c.wall_clock_hours === null ? "give the GPU count" : hours(c.wall_clock_hours)],
    ["Dollars", c.dollars === null ? "give a price per GPU-hour" : dollars(c.dollars)]);
  else rows.push(["GPU-hours", "give a GPU-hour or dollar budget to see the cost"]);
  const card = section("Cost", ...rows);
  card.id = "cost-card";
  return card;
}

// Plans the API may add (time_optimal / flop_optimal on GPU-hour budgets): shown when there.
function extraPlans(a) {
  return ["flop_optimal", "time_optimal"].filter((k) => a[k] && typeof a[k] === "object").map((k) => {
    const p = a[k];
    const has = (f) => typeof p[f] === "number";
    return section(k === "time_optimal" ? "Time-optimal plan (measured throughput)" : "FLOP-optimal shape, same hours",
      ["N", has("params") ? count(p.params) : null], ["D", has("tokens") ? count(p.tokens) : null],
      ["Loss", has("loss") ? p.loss.toFixed(3) : null],
      ["Shape", p.shape ? `${p.shape.width} wide × ${p.shape.depth} deep` : null],
      ["FLOPs", has("flops") ? sci(p.flops) : null], ["GPU-hours", has("gpu_hours") ? sci(p.gpu_hours) : null],
      ["Wall clock", has("wall_clock_hours") ? hours(p.wall_clock_hours) : null],
      ["Dollars", has("dollars") ? dollars(p.dollars) : null]);
  });
}

// The MoE plan beside the dense one (POST /v1/allocate with experts), and the vocabulary.
function gpus(n) {
  return typeof n === "number" ? `at least ${int(n)} GPUs to hold it` : "give a GPU to count them";
}

function moeCards(a) {
  const cards = [];
  if (a.moe) {
    const m = a.moe, s = m.shape;
    cards.push(section("Dense plan", ["Law", `${a.law.id}@${a.law.version}`], ["Parameters", count(a.params)],
      ["Tokens", count(a.tokens)], ["Loss", a.loss === null ? "—" : a.loss.toFixed(3)],
      ["Memory", typeof a.memory_bytes === "number" ? `${sci(a.memory_bytes)} bytes` : null], ["GPUs", gpus(a.min_gpus)]));
    const card = section("Mixture-of-experts plan", ["Law", `${m.law.id}@${m.law.version}`],
      ["Total parameters", count(m.total_params)], ["Active parameters", count(m.active_params)],
      ["Tokens", count(m.tokens)], ["Loss", m.loss.toFixed(3)],
      ["Shape", `${s.width} wide × ${s.depth} deep, ${s.experts} experts (top-${s.top_k}, ${s.shared_experts} shared) of ${s.expert_ffn_size}`],
      ["Memory", `${sci(m.memory_bytes)} bytes (${m.precision})`], ["GPUs", gpus(m.min_gpus)]);
    card.id = "moe-card";
    card.dataset.total = m.total_params;
    card.dataset.active = m.active_params;
    cards.push(card);
  }
  if (a.vocabulary) {
    const v = a.vocabulary;
    cards.push(section("Vocabulary (Tao et al. 2024)", ["Approach 1 (isoFLOPs)", int(v.isoflops)],
      ["Approach 2 (derivative)", int(v.derivative)], ["Approach 3 (parametric, used)", int(v.parametric)]));
  }
  return cards;
}

function render(a) {
  const warnings = [...(a.warnings || []), ...(a.moe ? a.moe.warnings : []), ...(a.caveats || [])].filter((w) => typeof w === "string");
  return el("div", { class: "answer-card", "data-law": a.law.id },
    el("div", { class: "headline" },
      stat("N* (parameters)", count(a.params), sci(a.params, 5), { id: "answer-params", "data-value": a.params }),
      stat("D* (tokens)", count(a.tokens), sci(a.tokens, 5), { id: "answer-tokens", "data-value": a.tokens }),
      stat("Tokens per parameter", sci(a.tokens_per_param), a.epochs ? `${sci(a.epochs)} epochs of the unique data` : null),
      stat("Budget (FLOPs)", sci(a.flops), `${a.law.id}@${a.law.version}`),
      a.model_scale ? stat("M* (FLOPs/token)", sci(a.model_scale), "the law's N: DeepSeek's model scale", { id: "answer-model-scale" }) : null),
    el("p", { class: "muted small" }, a.model_scale
      ? `This law's N is DeepSeek's model scale M (non-embedding FLOPs per token), not a parameter count: N* above is the chosen shape's parameters. C counts ${a.c_definition}.`
      : `N counts ${a.n_definition}; C counts ${a.c_definition}.`),
    warnings.length ? el("div", { class: "warnings", id: "answer-warnings" }, el("strong", {}, "Read before trusting this plan"),
      el("ul", {}, warnings.map((w) => el("li", {}, w)))) : null,
    a.moe || a.vocabulary ? el("div", { class: "cards", id: "moe-compare" }, ...moeCards(a)) : null,
    el("div", { class: "cards" }, downstreamCard(a), shapeCard(a.shape, a.n_definition), lossCard(a), hyperCard(a.hyperparameters), costCard(a), ...extraPlans(a), criticalCard(a.critical_batch)));
}

async function submit(ev) {
  ev?.preventDefault();
  const f = form(), banner = document.getElementById("plan-error"), out = document.getElementById("plan-answer");
  clearErrors(f, banner);
  remember(f, PREFIX);
  out.setAttribute("aria-busy", "true");
  try {
    out.replaceChildren(render(await api("/v1/allocate", request())));
  } catch (error) {
    showErrors(f, error, banner);
    out.replaceChildren(el("p", { class: "hint" }, "Fix the marked field and press Plan again."));
  } finally {
    out.removeAttribute("aria-busy");
  }
}

async function showLaw() {
  const box = document.getElementById("plan-law-info");
  try { box.replaceChildren(await lawInfo(form().law.value)); } catch (e) { box.textContent = e.message; }
}

async function fillGpus() {
  const { gpus } = await api("/planner/config.json");
  const select = document.getElementById("plan-gpu");
  select.replaceChildren(...gpus.map((g) => el("option", { value: g.name, title: `${sci(g.peak_bf16_flops)} FLOP/s dense BF16, ${g.memory_gib} GiB` }, g.name.toUpperCase())));
  select.value = "h100";
}

// Throughput models, where the server has them (GET /v1/throughput): a GPU-hour budget
// then gets time-optimal and FLOP-optimal plans. Without the endpoint the field stays hidden.
async function fillThroughput() {
  let models;
  try { models = (await api("/v1/throughput")).data; } catch { return; }
  if (!Array.isArray(models) || !models.length) return;
  document.getElementById("plan-throughput").replaceChildren(el("option", { value: "" }, "none: constant MFU"),
    ...models.map((m) => el("option", { value: m.id }, `${m.id} (${String(m.gpu || "").toUpperCase()})`)));
  const field = document.getElementById("plan-throughput-field");
  field.hidden = false;
  field.dataset.budget = "gpu_hours dollars";
}

export async function initPlan() {
  const f = form();
  await Promise.all([fillGpus(), fillThroughput(), fillLawSelect(f.law, params.get("law"))]);
  restore(f, PREFIX);
  const options = document.getElementById("plan-options");
  options.open = [...options.querySelectorAll("input")].some((i) => i.value.trim() !== "");
  showBudgetFields();
  for (const r of f.querySelectorAll("input[name=budget]")) r.addEventListener("change", () => { showBudgetFields(); remember(f, PREFIX); });
  f.law.addEventListener("change", showLaw);
  f.addEventListener("submit", submit);
  document.getElementById("plan-share").addEventListener("click", async (ev) => {
    remember(f, PREFIX); saveUrl();
    try { await navigator.clipboard.writeText(location.href); ev.target.textContent = "Link copied"; } catch { ev.target.textContent = "Link is in the address bar"; }
  });
  const planned = ["flops", "gpu_hours", "dollars", "target.metric"].some((k) => params.has(k));
  await Promise.all([showLaw(), planned ? submit() : null]);
}
