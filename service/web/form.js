// Forms: their state in the URL, and the API's messages shown beside the fields.
import { el, value } from "./fmt.js";

export const params = new URLSearchParams(location.search);

export function saveUrl() {
  const query = params.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
}

// Inputs named in `form` <-> URL parameters `${prefix}${name}`.
export function restore(form, prefix) {
  for (const input of form.querySelectorAll("[name]")) {
    const key = prefix + input.name;
    if (!params.has(key)) continue;
    if (input.type === "radio") input.checked = input.value === params.get(key);
    else if (input.type === "checkbox") input.checked = params.getAll(key).includes(input.value);
    else input.value = params.get(key);
  }
}

export function remember(form, prefix) {
  for (const input of form.querySelectorAll("[name]")) params.delete(prefix + input.name);
  for (const input of form.querySelectorAll("[name]")) {
    const key = prefix + input.name;
    if (input.type === "radio" || input.type === "checkbox") {
      if (input.checked) params.append(key, input.value);
    } else if (input.value.trim() !== "" && !input.closest("[hidden]")) {
      params.set(key, input.value.trim());
    }
  }
  saveUrl();
}

// {name: value} of the visible, filled inputs; "a.b" names nest.
export function body(form, skip = () => false) {
  const out = {};
  for (const input of form.querySelectorAll("input[name], select[name]")) {
    if (input.type === "radio" || input.type === "checkbox" || input.closest("[hidden]")) continue;
    if (skip(input.name)) continue;
    const v = input.tagName === "SELECT" ? input.value || undefined : value(input);
    if (v === undefined) continue;
    const path = input.name.split(".");
    let node = out;
    for (const p of path.slice(0, -1)) node = node[p] ??= {};
    node[path.at(-1)] = v;
  }
  return out;
}

export function clearErrors(form, banner) {
  for (const msg of form.querySelectorAll(".field-error")) msg.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  }
  if (banner) banner.textContent = "";
}

// Put each of the API's messages beside its field; what names no field goes in `banner`.
export function showErrors(form, error, banner) {
  const loose = [];
  for (const [name, msg] of Object.entries(error.fields || {})) {
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!input || input.closest("[hidden]")) { loose.push(name ? `${name}: ${msg}` : msg); continue; }
    const id = `${input.id}-error`;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
    input.closest(".field").append(el("p", { class: "field-error", id }, msg));
    const details = input.closest("details");
    if (details) details.open = true;
  }
  if (!Object.keys(error.fields || {}).length) loose.push(error.message || "request failed");
  if (banner) banner.textContent = loose.join(" · ");
  form.querySelector("[aria-invalid]")?.focus();
}
