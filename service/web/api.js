// The JSON API, from the page. Every call goes to this server; an error comes back as
// an ApiError carrying the API's own messages by field (a 422's `detail`).

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : (detail || []).map((d) => d.msg).join("; "));
    this.status = status;
    this.detail = detail; // the API's own list, for callers that show every item
    this.fields = {}; // "flops" or "constraints.min_width" -> message
    if (Array.isArray(detail)) {
      for (const d of detail) {
        const loc = (d.loc || []).filter((p) => p !== "body" && p !== "query");
        this.fields[loc.join(".")] = d.msg;
      }
    }
  }
}

let apiKey = sessionStorage.getItem("flopwise-api-key") || "";
export function setApiKey(key) {
  apiKey = key;
  sessionStorage.setItem("flopwise-api-key", key);
}
export const getApiKey = () => apiKey;

// GET `path`, or POST `body` as JSON; with a `contentType`, `body` is sent as it is.
export async function api(path, body, contentType) {
  const init = { headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = contentType || "application/json";
    if (apiKey) init.headers.Authorization = `Bearer ${apiKey}`;
    init.body = contentType ? body : JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({ detail: response.statusText }));
  if (!response.ok) throw new ApiError(response.status, data.detail);
  return data;
}

let lawsCache = null;
export async function laws(refresh = false) {
  if (!lawsCache || refresh) lawsCache = api("/v1/laws").then((r) => r.data);
  return lawsCache;
}

const lawDetails = new Map();
export function law(id) {
  if (!lawDetails.has(id)) lawDetails.set(id, api(`/v1/laws/${encodeURIComponent(id)}`));
  return lawDetails.get(id);
}

// Run `fn` over `items`, at most `limit` at a time, keeping the order of the results.
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function lane() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i).then((v) => ({ ok: v }), (e) => ({ error: e }));
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
