// The law catalogue on the page: pickers and what a law says about itself.
import { laws, law } from "./api.js";
import { el, sci } from "./fmt.js";

export async function fillLawSelect(select, chosen) {
  const all = await laws();
  const groups = [["Published laws", all.filter((l) => l.builtin)], ["Fitted to your runs", all.filter((l) => !l.builtin)]];
  select.replaceChildren(...groups.filter(([, ls]) => ls.length).map(([label, ls]) =>
    el("optgroup", { label }, ls.map((l) => el("option", { value: l.id }, `${l.id} — ${l.title}`)))));
  if (chosen && ![...select.options].some((o) => o.value === chosen)) {
    select.append(el("option", { value: chosen }, chosen));
  }
  select.value = chosen || "epoch-2024";
}

export async function fillLawChecks(box, name, chosen) {
  const all = await laws();
  box.replaceChildren(...all.map((l) => el("label", { title: l.citation },
    el("input", { type: "checkbox", name, value: l.id, checked: chosen(l) }), ` ${l.id}`)));
}

export function checked(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

function range(pair, unit) {
  return Array.isArray(pair) ? `${sci(pair[0])} – ${sci(pair[1])} ${unit}` : null;
}

// Citation, N and C definitions, fitted range and caveats (when the API gives them).
export async function lawInfo(id) {
  const l = await law(id);
  const d = l.domain || {};
  const fitted = [range(d.flops, "FLOPs"), range(d.params, "params"), range(d.tokens, "tokens")].filter(Boolean);
  const caveats = [].concat(l.caveats || []).filter(Boolean);
  const rows = [
    ["Source", l.source], ["Citation", l.citation], ["N counts", l.n_definition],
    ["C counts", l.c_definition], ["Fitted on", [l.dataset, l.tokenizer].filter(Boolean).join(" · ")],
    ["Fitted range", fitted.join("; ") || "not stated"],
  ];
  return el("div", { class: "law-card" },
    el("div", { class: "law-title" }, `${l.title} `, el("span", { class: "muted" }, `${l.id}@${l.version} · ${l.form}`)),
    el("dl", {}, rows.filter(([, v]) => v).map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
    caveats.length ? el("ul", { class: "caveats" }, caveats.map((c) => el("li", {}, typeof c === "string" ? c : JSON.stringify(c)))) : null,
    l.notes ? el("p", { class: "muted small" }, l.notes) : null);
}
