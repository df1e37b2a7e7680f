// The planner page: four views over the JSON API, their state in the URL.
import { laws } from "./api.js";
import { params, saveUrl } from "./form.js";
import { initPlan } from "./plan.js";
import { initCompare } from "./compare.js";
import { initFrontier } from "./frontier.js";
import { initMydata } from "./mydata.js";

const VIEWS = { plan: initPlan, compare: initCompare, frontier: initFrontier, mydata: initMydata };
const started = {};

async function show(view, focus = false) {
  if (!(view in VIEWS)) view = "plan";
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const on = tab.dataset.view === view;
    tab.setAttribute("aria-selected", on);
    tab.tabIndex = on ? 0 : -1;
    if (on && focus) tab.focus();
  }
  for (const name of Object.keys(VIEWS)) document.getElementById(`view-${name}`).hidden = name !== view;
  if (view === "plan") params.delete("view"); else params.set("view", view);
  saveUrl();
  document.body.dataset.view = view;
  started[view] ??= VIEWS[view]();
  await started[view];
  document.body.dataset[`${view}Ready`] = "1";
}

function tabs() {
  const list = [...document.querySelectorAll("[role=tab]")];
  for (const tab of list) {
    tab.addEventListener("click", () => show(tab.dataset.view));
    tab.addEventListener("keydown", (ev) => {
      const i = list.indexOf(tab);
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: list.length - 1 }[ev.key];
      if (to === undefined) return;
      ev.preventDefault();
      show(list[(to + list.length) % list.length].dataset.view, true);
    });
  }
}

tabs();
laws().catch(() => {});
show(params.get("view") || "plan");
