// Frontier: N*, D* and loss against budget for the chosen laws; log axes, interval bands
// (laws with bootstrap draws), each law's fitted range shaded, hover for values.
import { api, laws, pool } from "./api.js";
import { checked, fillLawChecks } from "./catalogue.js";
import { chart, PALETTE } from "./chart.js";
import { count, el } from "./fmt.js";
import { body, clearErrors, remember, restore, showErrors } from "./form.js";

const PREFIX = "f_";
const DEFAULT = ["epoch-2024", "chinchilla-2022", "kaplan-2020", "deepseek-2024", "gemstones-2025"];
const BAND_POINTS = 10;
const form = () => document.getElementById("frontier-form");

// Intervals at up to BAND_POINTS of the frontier's budgets, from /v1/allocate.
async function bands(law, points) {
  const step = Math.max(1, Math.floor(points.length / BAND_POINTS));
  const at = points.filter((_, i) => i % step === 0 || i === points.length - 1);
  const answers = await pool(at, 4, (p) => api("/v1/allocate", { law, flops: p.flops }));
  const pick = (key) => answers.map((a, i) => a.ok && a.ok[key] && { x: at[i].flops, lo: a.ok[key][0], hi: a.ok[key][1] }).filter(Boolean);
  return { params: pick("params_interval"), tokens: pick("tokens_interval"), loss: pick("loss_interval") };
}

async function one(law, request, meta) {
  const frontier = await api("/v1/frontier", { ...request, law });
  const out = meta && meta.has_draws ? await bands(law, frontier.points) : { params: [], tokens: [], loss: [] };
  // a frontier that carries its own loss intervals is used as it is
  const own = frontier.points.filter((p) => Array.isArray(p.loss_interval));
  if (own.length) out.loss = own.map((p) => ({ x: p.flops, lo: p.loss_interval[0], hi: p.loss_interval[1] }));
  return { law, meta, points: frontier.points, bands: out, level: frontier.level };
}

// What the bands are, law by law: loss bands where a law predicts loss, N*/D* bands only
// for laws that carry bootstrap draws.
function caption(results) {
  const pct = (v) => `${Math.round((v ?? 0.9) * 100)}%`;
  const level = pct(results[0] && results[0].level);
  const drawn = results.filter((r) => r.meta && r.meta.has_draws).map((r) => r.law);
  const undrawn = results.filter((r) => !(r.meta && r.meta.has_draws)).map((r) => r.law);
  const withLoss = results.filter((r) => r.bands.loss.length).map((r) => r.law);
  const parts = [
    "Solid: inside the range each law was fitted on (its budgets, N and D); dashed: extrapolation.",
    withLoss.length ? `Loss bands (${withLoss.join(", ")}): where a new run's loss will fall, ${level}.` : "",
    drawn.length ? `N* and D* bands (${drawn.join(", ")}): the ${level} bootstrap interval of the law's draws.` : "",
    undrawn.length ? `No N* or D* band for ${undrawn.join(", ")}: those laws carry no bootstrap draws.` : "",
    "Hover or focus a chart and use ← → for values.",
  ];
  return el("p", { class: "muted small", id: "frontier-caption" }, parts.filter(Boolean).join(" "));
}

// Whether a frontier point lies inside the range its law was fitted on.
function inside(domain, p) {
  const within = (pair, v) => !pair || (v >= pair[0] * 0.999 && v <= pair[1] * 1.001);
  return within(domain.flops, p.flops) && within(domain.params, p.params) && within(domain.tokens, p.tokens);
}

function charts(results) {
  const spec = (key, title, label, log, format) => chart({
    title, x: { label: "Budget C (FLOPs)", log: true }, y: { label, log, format },
    series: results.map((r, i) => ({ name: r.law, color: PALETTE[i % PALETTE.length],
      points: r.points.filter((p) => p[key] !== null).map((p) => ({ x: p.flops, y: p[key], inside: inside((r.meta && r.meta.domain) || {}, p) })),
      band: r.bands[key] })),
  });
  return [
    spec("params", "Compute-optimal parameters N*", "N* (parameters)", true, count),
    spec("tokens", "Compute-optimal tokens D*", "D* (tokens)", true, count),
    spec("loss", "Predicted loss at the optimum", "loss (nats/token)", false, (v) => v.toFixed(2)),
    ...metricCharts(results),
  ];
}

// Laws with downstream links (docs/laws.md §20): each metric at the optimum, with the
// band where a new run will land.
function metricCharts(results) {
  const names = [...new Set(results.flatMap((r) => r.points.flatMap((p) => Object.keys(p.downstream || {}))))];
  return names.map((name) => chart({
    title: `Predicted ${name} at the optimum`, x: { label: "Budget C (FLOPs)", log: true },
    y: { label: name, log: false, format: (v) => v.toFixed(3) },
    series: results.filter((r) => r.points.some((p) => p.downstream && p.downstream[name])).map((r, i) => {
      const pts = r.points.filter((p) => p.downstream && p.downstream[name]);
      return { name: r.law, color: PALETTE[i % PALETTE.length],
        points: pts.map((p) => ({ x: p.flops, y: p.downstream[name].value, inside: inside((r.meta && r.meta.domain) || {}, p) })),
        band: pts.filter((p) => p.downstream[name].interval).map((p) => ({ x: p.flops, lo: p.downstream[name].interval[0], hi: p.downstream[name].interval[1] })) };
    }),
  }));
}

async function submit(ev) {
  ev?.preventDefault();
  const f = form(), banner = document.getElementById("frontier-error");
  clearErrors(f, banner);
  remember(f, PREFIX);
  const ids = checked(f, "law");
  if (!ids.length) { banner.textContent = "Pick at least one law."; return; }
  const request = { flops_min: 1e18, flops_max: 1e26, points: 24, ...body(f) };
  const catalogue = await laws();
  const results = await pool(ids, 3, (law) => one(law, request, catalogue.find((l) => l.id === law)));
  const failed = results.filter((r) => r.error);
  const fieldError = failed.find((r) => Object.keys(r.error.fields || {}).some((k) => k !== "law"));
  if (fieldError) { showErrors(f, fieldError.error, banner); return; }
  banner.textContent = failed.map((r) => r.error.message).join(" · ");
  const box = document.getElementById("frontier-charts");
  const shown = results.filter((r) => r.ok).map((r) => r.ok);
  box.replaceChildren(...charts(shown), caption(shown));
}

export async function initFrontier() {
  const f = form();
  await fillLawChecks(document.getElementById("frontier-laws"), "law", (l) => DEFAULT.includes(l.id));
  restore(f, PREFIX);
  f.addEventListener("submit", submit);
  await submit();
}
