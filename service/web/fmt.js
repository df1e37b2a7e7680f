// Number formatting and tiny DOM helpers shared by the views.

const SI = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "k"]];

export function sci(x, digits = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-2 && a < 1e4) return Number(x.toPrecision(digits)).toString();
  const [m, e] = x.toExponential(digits - 1).split("e");
  return `${Number(m)}×10${sup(Number(e))}`;
}

function sup(n) {
  const map = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
  return String(n).split("").map((c) => map[c]).join("");
}

// 1.23B style, for parameter and token counts.
export function count(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  for (const [v, s] of SI) if (Math.abs(x) >= v) return `${Number((x / v).toPrecision(3))}${s}`;
  return Number(x.toPrecision(3)).toString();
}

export function int(x) {
  return x === null || x === undefined ? "—" : Math.round(x).toLocaleString("en-US");
}

export function hours(h) {
  if (h === null || h === undefined || !Number.isFinite(h)) return "—";
  if (h < 1) return `${Number((h * 60).toPrecision(3))} min`;
  if (h < 48) return `${Number(h.toPrecision(3))} h`;
  if (h < 24 * 90) return `${Number((h / 24).toPrecision(3))} days`;
  return `${Number((h / 24 / 365.25).toPrecision(3))} years`;
}

export function dollars(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  return x >= 1e6 ? `$${count(x)}` : `$${Math.round(x).toLocaleString("en-US")}`;
}

export function interval(pair, f = sci) {
  return Array.isArray(pair) ? `${f(pair[0])} – ${f(pair[1])}` : "";
}

// el("div", {class: "x"}, child, "text") — text is always set as text, never as HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "style") node.style.cssText = v; // CSSOM: allowed by the page's CSP
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function table(headers, rows, attrs = {}) {
  return el("table", attrs,
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", r.attrs || {}, r.cells.map((c) => el("td", {}, c))))));
}

// What the user typed, as the API should see it: a number when it reads as one, else
// the text itself (so the API names the problem), or undefined when empty.
export function value(input) {
  const text = input.value.trim();
  if (text === "") return undefined;
  const n = Number(text);
  return Number.isFinite(n) && text !== "" ? n : text;
}
