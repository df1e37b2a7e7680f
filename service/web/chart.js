// SVG charts drawn in the page: log or linear axes, lines (solid inside a law's fitted
// range, dashed outside), markers, interval bands, a legend, a hover / arrow-key read-out
// of the nearest values; and a dot plot for one value pair per law.
import { el, sci } from "./fmt.js";

const NS = "http://www.w3.org/2000/svg";
export const PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2",
  "#db2777", "#65a30d", "#475569", "#ea580c", "#4f46e5", "#0d9488", "#a16207", "#be123c",
  "#1d4ed8", "#15803d", "#9333ea", "#b45309"];
const W = 540, H = 330, M = { l: 60, r: 14, t: 28, b: 44 };

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function scale(lo, hi, a, b, log) {
  const f = log ? Math.log10 : (v) => v;
  let [l, h] = [f(lo), f(hi)];
  if (h - l < 1e-12) { l -= log ? 0.5 : Math.abs(l) * 0.05 + 0.5; h += log ? 0.5 : Math.abs(h) * 0.05 + 0.5; }
  const pad = (h - l) * 0.04;
  l -= pad; h += pad;
  const map = (v) => a + ((f(v) - l) / (h - l)) * (b - a);
  map.lo = log ? 10 ** l : l; map.hi = log ? 10 ** h : h;
  return map;
}

function ticks(lo, hi, log) {
  if (log) {
    const [a, b] = [Math.ceil(Math.log10(lo)), Math.floor(Math.log10(hi))];
    const step = Math.max(1, Math.ceil((b - a + 1) / 8));
    const out = [];
    for (let e = a; e <= b; e += step) out.push(10 ** e);
    if (out.length >= 2) return out;
    return [2, 5].flatMap((m) => [m * 10 ** (a - 1), m * 10 ** a]).filter((v) => v >= lo && v <= hi)
      .concat(out).sort((x, y) => x - y);
  }
  const raw = (hi - lo) / 5, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function extent(values) {
  const ok = values.filter((v) => Number.isFinite(v) && v > -Infinity);
  return ok.length ? [Math.min(...ok), Math.max(...ok)] : [1, 10];
}

function pathOf(points, x, y) {
  return points.map((p, i) => `${i ? "L" : "M"}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join("");
}

// spec: {title, x: {label, log, format}, y: {label, log, format}, series: [{name, color,
// points: [{x, y, inside}], band: [{x, lo, hi}], line: true, markers: false, dashed}]}.
// Returns a <figure>.
export function chart(spec) {
  const series = spec.series.filter((s) => s.points.length || (s.band && s.band.length));
  const xs = series.flatMap((s) => [...s.points.map((p) => p.x), ...(s.band || []).map((b) => b.x)]);
  const ys = series.flatMap((s) => [...s.points.map((p) => p.y),
    ...(s.band || []).flatMap((b) => [b.lo, b.hi])]);
  const pos = (v) => (spec.x.log ? v > 0 : true);
  const [x0, x1] = extent(xs.filter(pos));
  const [y0, y1] = extent(ys.filter((v) => (spec.y.log ? v > 0 : true)));
  const x = scale(x0, x1, M.l, W - M.r, spec.x.log);
  const y = scale(y0, y1, H - M.b, M.t, spec.y.log);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
    "aria-label": spec.title, tabindex: 0, "data-points": xs.length });
  root.append(svg("text", { x: M.l, y: 16, class: "chart-title" }, spec.title));
  const clip = `clip${Math.random().toString(36).slice(2)}`;
  const defs = svg("defs");
  const cp = svg("clipPath", { id: clip });
  cp.append(svg("rect", { x: M.l, y: M.t, width: W - M.l - M.r, height: H - M.t - M.b }));
  defs.append(cp);
  root.append(defs);
  const plot = svg("g", { "clip-path": `url(#${clip})` });
  axes(root, x, y, spec);
  for (const s of series) drawSeries(plot, s, x, y, spec);
  root.append(plot);
  hover(root, x, y, spec, series);
  const legend = el("ul", { class: "legend" }, series.map((s) =>
    el("li", {}, el("span", { class: "swatch", style: `background:${s.color}` }), s.name)));
  return el("figure", { class: "figure" }, root, legend);
}

function drawSeries(plot, s, x, y, spec) {
  if (s.band && s.band.length) {
    const up = s.band.map((b) => ({ x: b.x, y: b.hi }));
    const down = s.band.map((b) => ({ x: b.x, y: b.lo })).reverse();
    plot.append(svg("path", { d: `${pathOf(up, x, y)}${pathOf(down, x, y).replace("M", "L")}Z`,
      fill: s.color, "fill-opacity": 0.15, stroke: "none", class: "band" }));
  }
  if (s.line !== false && s.points.length > 1) {
    // points marked `inside: false` lie outside the law's fitted range: drawn dashed
    const inside = s.points.filter((p) => p.inside !== false);
    const partial = inside.length < s.points.length;
    plot.append(svg("path", { d: pathOf(s.points, x, y), fill: "none", stroke: s.color,
      "stroke-width": partial ? 1.5 : 2, "stroke-dasharray": s.dashed || partial ? "5 4" : null, class: "line" }));
    if (partial && inside.length > 1) {
      plot.append(svg("path", { d: pathOf(inside, x, y), fill: "none", stroke: s.color, "stroke-width": 2.5, class: "line fitted" }));
    }
  }
  if (s.markers) {
    for (const p of s.points) {
      const c = svg("circle", { cx: x(p.x), cy: y(p.y), r: 3.5, fill: s.color, class: "marker" });
      c.append(svg("title", {}, `${s.name}: ${(spec.x.format || sci)(p.x)}, ${(spec.y.format || sci)(p.y)}`));
      plot.append(c);
    }
  }
}

function axes(root, x, y, spec) {
  const g = svg("g", { class: "axes" });
  const fx = spec.x.format || sci, fy = spec.y.format || sci;
  for (const t of ticks(x.lo, x.hi, spec.x.log)) {
    g.append(svg("line", { x1: x(t), x2: x(t), y1: M.t, y2: H - M.b, class: "grid" }));
    g.append(svg("text", { x: x(t), y: H - M.b + 16, "text-anchor": "middle" }, fx(t)));
  }
  for (const t of ticks(y.lo, y.hi, spec.y.log)) {
    g.append(svg("line", { x1: M.l, x2: W - M.r, y1: y(t), y2: y(t), class: "grid" }));
    g.append(svg("text", { x: M.l - 6, y: y(t) + 4, "text-anchor": "end" }, fy(t)));
  }
  g.append(svg("rect", { x: M.l, y: M.t, width: W - M.l - M.r, height: H - M.t - M.b, class: "frame" }));
  g.append(svg("text", { x: (M.l + W - M.r) / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, spec.x.label));
  g.append(svg("text", { x: 14, y: (M.t + H - M.b) / 2, "text-anchor": "middle", class: "axis-label",
    transform: `rotate(-90 14 ${(M.t + H - M.b) / 2})` }, spec.y.label));
  root.append(g);
}

// The read-out: every series' nearest point to the pointer's x (or the arrow keys' x).
function hover(root, x, y, spec, series) {
  const xsAll = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  if (!xsAll.length) return;
  const guide = svg("line", { y1: M.t, y2: H - M.b, class: "guide", visibility: "hidden" });
  root.append(guide);
  const tip = document.getElementById("tooltip");
  let index = -1;
  const show = (i, clientX, clientY) => {
    index = Math.max(0, Math.min(xsAll.length - 1, i));
    const at = xsAll[index];
    guide.setAttribute("x1", x(at)); guide.setAttribute("x2", x(at));
    guide.setAttribute("visibility", "visible");
    const lines = series.map((s) => {
      const p = s.points.reduce((best, q) => (Math.abs(x(q.x) - x(at)) < Math.abs(x(best.x) - x(at)) ? q : best), s.points[0]);
      if (!p || Math.abs(x(p.x) - x(at)) > 12) return null;
      const b = (s.band || []).find((q) => q.x === p.x);
      const band = b ? ` [${(spec.y.format || sci)(b.lo)} – ${(spec.y.format || sci)(b.hi)}]` : "";
      return el("div", {}, el("span", { class: "swatch", style: `background:${s.color}` }),
        `${s.name}: ${(spec.y.format || sci)(p.y)}${band}`);
    }).filter(Boolean);
    tip.replaceChildren(el("strong", {}, `${spec.x.label}: ${(spec.x.format || sci)(at)}`), ...lines);
    tip.hidden = false;
    const box = root.getBoundingClientRect();
    const left = clientX ?? box.left + (x(at) / W) * box.width;
    const top = clientY ?? box.top + box.height * 0.3;
    tip.style.left = `${Math.min(left + 14 + window.scrollX, window.scrollX + document.documentElement.clientWidth - 280)}px`;
    tip.style.top = `${top + 14 + window.scrollY}px`;
  };
  const hide = () => { tip.hidden = true; guide.setAttribute("visibility", "hidden"); };
  root.addEventListener("mousemove", (ev) => {
    const box = root.getBoundingClientRect();
    const px = ((ev.clientX - box.left) / box.width) * W;
    let best = 0;
    xsAll.forEach((v, i) => { if (Math.abs(x(v) - px) < Math.abs(x(xsAll[best]) - px)) best = i; });
    show(best, ev.clientX, ev.clientY);
  });
  root.addEventListener("mouseleave", hide);
  root.addEventListener("blur", hide);
  root.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
      ev.preventDefault();
      show(index < 0 ? 0 : index + (ev.key === "ArrowRight" ? 1 : -1));
    } else if (ev.key === "Escape") hide();
  });
}

// One row per item, values on one shared log axis: rows [{label, values: [{value, kind,
// text}]}], kinds [{kind, name, color, shape}]. For N* against D* across laws.
export function dotPlot({ title, label, rows, kinds, format = sci }) {
  const rowH = 22, top = 30, left = 190, right = 16, height = top + rows.length * rowH + 40;
  const all = rows.flatMap((r) => r.values.map((v) => v.value)).filter((v) => v > 0);
  const x = scale(Math.min(...all), Math.max(...all), left, W * 1.4 - right, true);
  const width = W * 1.4;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart dotplot", role: "img", "aria-label": title, "data-points": all.length });
  root.append(svg("text", { x: left, y: 16, class: "chart-title" }, title));
  for (const t of ticks(x.lo, x.hi, true)) {
    root.append(svg("line", { x1: x(t), x2: x(t), y1: top - 6, y2: height - 34, class: "grid" }));
    root.append(svg("text", { x: x(t), y: height - 20, "text-anchor": "middle" }, format(t)));
  }
  root.append(svg("text", { x: (left + width) / 2, y: height - 4, "text-anchor": "middle", class: "axis-label" }, label));
  rows.forEach((r, i) => {
    const cy = top + i * rowH + rowH / 2;
    root.append(svg("text", { x: left - 8, y: cy + 4, "text-anchor": "end", class: "row-label" }, r.label));
    const vs = r.values.filter((v) => v.value > 0);
    if (vs.length > 1) {
      root.append(svg("line", { x1: x(Math.min(...vs.map((v) => v.value))), x2: x(Math.max(...vs.map((v) => v.value))), y1: cy, y2: cy, class: "stem" }));
    }
    for (const v of vs) {
      const k = kinds.find((q) => q.kind === v.kind);
      const mark = k.shape === "diamond"
        ? svg("path", { d: `M${x(v.value)},${cy - 6}l6,6l-6,6l-6,-6z`, fill: k.color })
        : svg("circle", { cx: x(v.value), cy, r: 5.5, fill: k.color });
      mark.append(svg("title", {}, `${r.label} ${k.name}: ${v.text || format(v.value)}`));
      root.append(mark);
    }
  });
  const legend = el("ul", { class: "legend" }, kinds.map((k) => el("li", {}, el("span", { class: `swatch ${k.shape || ""}`, style: `background:${k.color}` }), k.name)));
  return el("figure", { class: "figure" }, root, legend);
}
