// Compare: one budget, many laws -> one table and one chart of N*, D*, tokens/param, loss.
import { api, laws, pool } from "./api.js";
import { checked, fillLawChecks } from "./catalogue.js";
import { dotPlot, PALETTE } from "./chart.js";
import { count, el, interval, sci, table, value } from "./fmt.js";
import { clearErrors, params, remember, restore, showErrors } from "./form.js";

const PREFIX = "c_";
const form = () => document.getElementById("compare-form");

function rows(ids, answers, catalogue) {
  return ids.map((id, i) => {
    const a = answers[i].ok, meta = catalogue.find((l) => l.id === id) || {};
    if (!a) return { attrs: { "data-law": id, class: "failed" }, cells: [id, answers[i].error.message, "", "", "", "", ""] };
    const loss = a.loss === null ? "—" : a.loss.toFixed(3);
    return { attrs: { "data-law": id }, cells: [
      el("span", { title: meta.citation || "" }, id), count(a.params), count(a.tokens), sci(a.tokens_per_param),
      a.loss_interval ? `${loss} (${interval(a.loss_interval, (v) => v.toFixed(3))})` : loss,
      a.shape ? `${a.shape.width} × ${a.shape.depth}` : "—",
      notes(a)] };
  });
}

// Warnings and caveats of one answer: a count, each one in the tooltip.
function notes(a) {
  const all = [...(a.warnings || []), ...(a.caveats || [])].filter((w) => typeof w === "string");
  return all.length ? el("span", { class: "warn-count", title: all.join("\n") }, `${all.length} ⚠`) : "";
}

// Laws fitted on different data (corpus, tokenizer) predict losses on different scales.
function comparability(ids, catalogue) {
  const data = new Set(ids.map((id) => (catalogue.find((l) => l.id === id) || {}).dataset || "unknown data"));
  if (data.size < 2) return null;
  return el("p", { class: "warnings", id: "compare-note" },
    `Losses are not comparable across these laws: they were fitted on different data (${[...data].join("; ")}), `
    + "so each predicts loss on its own evaluation set and tokenizer. Compare N*, D* and tokens per parameter; "
    + "compare losses only between laws fitted on the same data.");
}

// N* and D* of every law on one log axis: the gap between the two marks is tokens/param.
function spreadChart(ids, answers) {
  const rows = ids.map((id, i) => [id, answers[i].ok]).filter(([, a]) => a).map(([id, a]) => ({
    label: id, values: [{ kind: "n", value: a.params, text: count(a.params) }, { kind: "d", value: a.tokens, text: count(a.tokens) }] }));
  return dotPlot({ title: "Where each law puts the same budget", label: "parameters (N*) and tokens (D*)", rows, format: count,
    kinds: [{ kind: "n", name: "N* parameters", color: PALETTE[0] }, { kind: "d", name: "D* tokens", color: PALETTE[1], shape: "diamond" }] });
}

async function submit(ev) {
  ev?.preventDefault();
  const f = form(), banner = document.getElementById("compare-error");
  clearErrors(f, banner);
  remember(f, PREFIX);
  const ids = checked(f, "law");
  if (!ids.length) { banner.textContent = "Pick at least one law."; return; }
  const flops = value(f.flops) ?? 5.76e23;
  const answers = await pool(ids, 6, (law) => api("/v1/allocate", { law, flops }));
  const bad = answers.find((a) => a.error && a.error.fields && a.error.fields.flops);
  if (bad) { showErrors(f, bad.error, banner); return; }
  const catalogue = await laws();
  document.getElementById("compare-chart").replaceChildren(spreadChart(ids, answers));
  document.getElementById("compare-table").replaceChildren(
    el("p", { class: "muted" }, `${sci(Number(flops))} FLOPs, each law spending it under its own C definition.`),
    comparability(ids, catalogue),
    table(["Law", "N*", "D*", "Tokens / param", "Loss", "Shape", "Warnings and caveats"], rows(ids, answers, catalogue), { id: "compare-results" }));
}

export async function initCompare() {
  const f = form();
  await fillLawChecks(document.getElementById("compare-laws"), "law", (l) => l.builtin);
  restore(f, PREFIX);
  if (!f.flops.value) f.flops.value = params.get("flops") || "5.76e23";
  f.addEventListener("submit", submit);
  await submit();
}
