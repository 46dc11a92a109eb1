// The HTTP API as the app uses it: the bearer token, JSON calls and the event stream.
// EventSource cannot send an Authorization header, and /api/v1/stream authenticates by that
// header only, so the stream is read with fetch() and parsed here (text/event-stream).

const KEY = "lookout.session";

export class Unauthorized extends Error {}

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

export function saveSession(value) {
  sessionStorage.setItem(KEY, JSON.stringify(value));
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}

function headers(extra = {}) {
  const s = session();
  return s ? { Authorization: `Bearer ${s.token}`, ...extra } : extra;
}

export async function getJson(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const res = await fetch(url, { headers: headers() });
  if (res.status === 401) throw new Unauthorized("the token is not valid (any more)");
  if (!res.ok) {
    let detail = res.statusText;
    try { detail = (await res.json()).detail; } catch { /* not JSON */ }
    throw new Error(`${res.status} ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  }
  return res.json();
}

// A POST without a body, answering JSON; errors as getJson. `403` names the role's limit.
export async function postJson(path) {
  const res = await fetch(new URL(path, location.origin), { method: "POST", headers: headers() });
  if (res.status === 401) throw new Unauthorized("the token is not valid (any more)");
  if (!res.ok) {
    let detail = res.statusText;
    try { detail = (await res.json()).detail; } catch { /* not JSON */ }
    throw new Error(`${res.status} ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  }
  return res.json();
}

async function failure(res) {
  if (res.status === 401) return new Unauthorized("the token is not valid (any more)");
  let detail = res.statusText;
  try { detail = (await res.json()).detail; } catch { /* not JSON */ }
  if (Array.isArray(detail)) {  // FastAPI's validation errors: "field: why" each
    detail = detail.map((d) => {
      const where = (d.loc || []).filter((p) => p !== "body").join(".");
      return where ? `${where}: ${d.msg}` : d.msg;
    }).join("; ");
  }
  return new Error(`${res.status} ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
}

// A POST (or another method) with a JSON body, answering JSON; errors as getJson, with
// FastAPI's validation errors spelled out.
export async function sendJson(path, body, method = "POST") {
  const res = await fetch(new URL(path, location.origin), {
    method, headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  return res.json();
}

// A file as multipart/form-data (field `file`), answering JSON.
export async function uploadFile(path, file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const res = await fetch(new URL(path, location.origin), { method: "POST", headers: headers(), body: form });
  if (!res.ok) throw await failure(res);
  return res.json();
}

// A file the API sends as an attachment (the bearer token rules out a plain link): fetched,
// then saved under the name of its Content-Disposition (else `fallback`).
export async function download(path, fallback) {
  const res = await fetch(new URL(path, location.origin), { headers: headers() });
  if (!res.ok) throw await failure(res);
  const blob = await res.blob();
  const named = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
  const name = named ? named[1] : fallback;
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { name, size: blob.size };
}

// POST /api/v1/auth/refresh: a new access token for the still-valid one; the session keeps
// who it is and gets the new token and expiry. Returns the new expiry, or null when the
// session is an API token (nothing to refresh).
export async function refreshSession() {
  const s = session();
  if (!s || !s.until) return null;
  const answer = await postJson("/api/v1/auth/refresh");
  const until = new Date(Date.now() + answer.expires_in * 1000).toISOString();
  saveSession({ ...s, token: answer.access_token, until });
  return until;
}

// POST /api/v1/auth/login {username, password} -> {access_token, token_type, expires_in,
// member, role}. null when the server has no such route (older servers: use a token).
export async function login(username, password) {
  const res = await fetch("/api/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (res.status === 404 || res.status === 405) return null;
  if (!res.ok) {
    let detail = `${res.status}`;
    try { detail = (await res.json()).detail; } catch { /* not JSON */ }
    throw new Error(typeof detail === "string" ? detail : "sign-in refused");
  }
  return res.json();
}

function parseBlock(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { event, data: data.join("\n") } : null;
}

// Reads /api/v1/stream until stop() and calls onMessage(kind, payload) for each message;
// reconnects 3 s after a drop. onState("live" | "down" | "connecting").
export function openStream(kinds, onMessage, onState) {
  let controller = null;
  let stopped = false;

  async function once() {
    controller = new AbortController();
    onState("connecting");
    const url = `/api/v1/stream?kinds=${encodeURIComponent(kinds)}`;
    const res = await fetch(url, { headers: headers(), signal: controller.signal });
    if (res.status === 401) throw new Unauthorized("the token is not valid (any more)");
    if (!res.ok || !res.body) throw new Error(`stream: ${res.status}`);
    onState("live");
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const message = parseBlock(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (!message) continue;
        try {
          onMessage(message.event, JSON.parse(message.data));
        } catch (err) {
          console.error("stream message not handled", err);
        }
      }
    }
  }

  async function loop() {
    while (!stopped) {
      try {
        await once();
      } catch (err) {
        if (err instanceof Unauthorized) { onState("unauthorized"); return; }
        if (stopped) return;
        console.warn("stream dropped", err);
      }
      if (stopped) return;
      onState("down");
      await new Promise((r) => setTimeout(r, 3000));
    }
  }

  loop();
  return { stop() { stopped = true; if (controller) controller.abort(); } };
}
