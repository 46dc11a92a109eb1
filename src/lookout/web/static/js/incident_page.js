// One incident's page: its record, the controls the signed-in role may use, assistance (the
// request, the answers, the nearest member assets with distance and ETA), the timeline, the
// attachments and the linked events. From GET /api/v1/incidents/{id} and .../assets; while
// the page is open it is re-read every few seconds, so an answer from another member shows up
// without a reload. A member shown the incident for assistance only (`redacted`) sees no
// comments, attachments or events, and may answer the request.

import { Unauthorized, download, getJson, sendJson, uploadFile } from "./api.js";
import { el, fmtPos, fmtTime, table } from "./categories.js";
import { categoryLabel } from "./kinds.js";

const POLL_MS = 3000;
const METRES_PER_NM = 1852;
const ANSWERS = [["can_assist", "Can assist"], ["en_route", "En route"], ["cannot", "Cannot assist"]];
const ANSWER_TEXT = { can_assist: "can assist", en_route: "en route", cannot: "cannot assist" };

function nm(metres) {
  return `${(metres / METRES_PER_NM).toFixed(metres < 100 * METRES_PER_NM ? 1 : 0)} nm`;
}

function duration(seconds) {
  if (!Number.isFinite(seconds)) return "–";
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

function size(bytes) {
  return bytes < 1024 ? `${bytes} B` : bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} kB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

// What one timeline entry says.
function entryText(e, assetName) {
  const d = e.data || {};
  switch (e.kind) {
    case "opened": return ["opened the incident", e.text ? `: ${e.text}` : ""];
    case "comment": return [el("span", { class: "said" }, e.text)];
    case "status": return [`set the status to `, el("strong", {}, d.status), e.text ? `: ${e.text}` : ""];
    case "assistance_request": return [el("strong", {}, "requested assistance"), e.text ? `: ${e.text}` : ""];
    case "assistance_response": return [
      "answered ", el("strong", { class: `answer-${d.response}` }, ANSWER_TEXT[d.response] || d.response),
      d.asset_mmsi ? ` with ${assetName(d.asset_mmsi)}` : "", d.eta_at ? `, there at ${fmtTime(d.eta_at)}` : "",
      e.text ? `: ${e.text}` : ""];
    case "attachment": return ["attached ", el("strong", {}, d.name || e.text), d.size_bytes ? ` (${size(d.size_bytes)})` : ""];
    default: return [e.kind, e.text ? `: ${e.text}` : ""];
  }
}

export class IncidentPage {
  constructor(id, incidents, note = "") {
    this.id = id;
    this.owner = incidents; // the Incidents: me, canAct, ctx
    this.base = `/api/v1/incidents/${encodeURIComponent(id)}`;
    this.seen = null; // the JSON of the detail shown, to redraw only on change
    this.assets = [];
    this.box = {};
    for (const part of ["record", "actions", "assist", "timeline", "files", "events"]) {
      this.box[part] = el("div", { class: `inc-${part}` });
    }
    this.message = el("p", { class: "note", id: "incident-msg", role: "status", "aria-live": "polite" }, note);
    this.error = el("p", { class: "error", id: "incident-error", role: "alert" });
    this.forms = this._forms();
  }

  get ctx() { return this.owner.ctx; }

  async load() {
    const detail = await getJson(this.base);
    this.assets = (await getJson(`${this.base}/assets`).catch(() => ({ assets: null }))).assets;
    const body = this._body();
    this._draw(detail);
    const i = detail.incident;
    this.ctx.show(`Incident ${i.id}`, body, { kind: "incident", id: this.id });
    this.ctx.mark(i.lon, i.lat);
    this.ctx.flyTo(i.lon, i.lat);
    this._poll();
  }

  _poll() {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      if (this.stopped || this.ctx.current() !== this.id) return; // the panel shows something else now
      try {
        await this.reload();
      } catch (err) {
        if (this._signedOut(err)) return;
        this.error.textContent = `Not refreshed: ${err.message}`;
      }
      this._poll();
    }, POLL_MS);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  // A refused token ends the session (the app returns to the sign-in form).
  _signedOut(err) {
    if (!(err instanceof Unauthorized)) return false;
    this.stop();
    this.ctx.onError(err);
    return true;
  }

  // Re-read the incident; redraw (and re-read the assets) when anything changed.
  async reload(force = false) {
    const detail = await getJson(this.base);
    if (!force && JSON.stringify(detail) === this.seen) return;
    const assets = await getJson(`${this.base}/assets`).catch(() => null);
    if (assets) this.assets = assets.assets;
    this._draw(detail);
  }

  _body() {
    const { record, actions, assist, timeline, files, events } = this.box;
    const f = this.forms;
    return [record, actions, this.message, this.error,
      el("h3", {}, "Assistance"), assist, f.request, f.respond,
      el("h3", {}, "Timeline"), timeline, f.comment,
      el("div", { class: "full-only" }, el("h3", {}, "Attachments"), files, f.attach,
        el("h3", {}, "Linked events"), events)];
  }

  _draw(detail) {
    this.seen = JSON.stringify(detail);
    this.detail = detail;
    const i = detail.incident;
    const mine = i.member === this.owner.me.member;
    const act = this.owner.canAct;
    const open = i.status === "open";
    this.box.record.replaceChildren(...this._record(i));
    this.box.actions.replaceChildren(...this._actions(i, act, mine, open));
    this.box.assist.replaceChildren(...this._assist(detail));
    this.box.timeline.replaceChildren(this._timeline(detail.timeline));
    this.box.files.replaceChildren(this._files(detail.attachments));
    this.box.events.replaceChildren(this._events(i.events));
    const f = this.forms;
    f.request.hidden = !(act && !i.redacted && open && !i.assistance_requested);
    f.respond.hidden = !(act && !mine && open && i.assistance_requested);
    f.comment.hidden = !(act && !i.redacted);
    f.attach.hidden = !(act && !i.redacted);
    this.box.files.parentElement?.toggleAttribute("hidden", Boolean(i.redacted));
    this._assetChoices();
  }

  _record(i) {
    const release = { owner: `${i.member} only (owner)`, network: "every member (network)" }[i.release] || i.release;
    return [
      el("p", { class: "inc-head" }, el("span", { class: `sev sev-${i.severity}` }, i.severity), " ",
        el("strong", {}, categoryLabel(i.category)), " ",
        el("span", { class: `pill pill-${i.status}`, id: "incident-status" }, i.status),
        i.assistance_requested ? [" ", el("span", { class: "tag esc" }, "assistance requested")] : null),
      i.description ? el("p", { class: "said" }, i.description) : null,
      i.redacted ? el("p", { class: "note", id: "incident-redacted" },
        `Shared with your member for assistance only: ${i.member} has asked every member for help. Its comments, attachments and linked events are not shown.`) : null,
      table([
        ["Member", `${i.member} (opened by ${i.opened_by})`],
        ["Occurred", fmtTime(i.occurred_at)],
        ["Opened", fmtTime(i.opened_at)],
        ["Where", el("span", {}, fmtPos(i.lat, i.lon), " ",
          el("button", { type: "button", class: "linkish", onclick: () => this.ctx.flyTo(i.lon, i.lat) }, "show on map"))],
        ["Vessels", i.vessels.length ? el("span", {}, i.vessels.map((m, n) => [n ? ", " : "",
          el("button", { type: "button", class: "linkish", onclick: () => this.ctx.openVessel(m) },
            this.ctx.vesselName(m) ? `${this.ctx.vesselName(m)} (${m})` : String(m))])) : "–"],
        ["Who sees it", release],
      ]),
    ].filter(Boolean);
  }

  _actions(i, act, mine, open) {
    if (!act) {
      return [el("p", { class: "note", id: "incident-role" },
        `Your role (${this.owner.me.role || "none"}) may read this incident but not work it; a watch officer's may.`)];
    }
    return [el("div", { class: "actions" },
      mine && el("button", { type: "button", id: "incident-close", class: open ? "warn" : "",
        onclick: () => this._do(`${this.base}/status`, { status: open ? "closed" : "open" }, open ? "Closed." : "Reopened.") },
      open ? "Close incident" : "Reopen"),
      el("button", { type: "button", id: "incident-export", class: "ghost", onclick: () => this._export() }, "Export evidence"))];
  }

  _assist(detail) {
    const i = detail.incident;
    const answers = detail.timeline.filter((e) => e.kind === "assistance_response");
    const out = [];
    if (!i.assistance_requested) out.push(el("p", { class: "muted" }, "Not requested."));
    else {
      out.push(el("p", { id: "assist-answers" }, answers.length
        ? answers.map((e, n) => [n ? el("br") : null, el("strong", {}, e.member), " ", entryText(e, (m) => this._assetName(m)).slice(1)])
        : "Requested; no member has answered yet."));
    }
    if (this.assets === null) {
      out.push(el("p", { class: "muted" }, "Nearest member assets: not available."));
    } else if (!this.assets.length) {
      out.push(el("p", { class: "muted", id: "assets-none" }, "No member asset your member may see has a position."));
    } else {
      out.push(el("table", { class: "grid", id: "incident-assets" },
        el("caption", {}, "Nearest member assets, soonest there first"),
        el("thead", {}, el("tr", {}, ["Asset", "Member", "Distance", "ETA"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, this.assets.map((a) => el("tr", { "data-mmsi": a.mmsi },
          el("td", {}, el("button", { type: "button", class: "linkish", onclick: () => this.ctx.openVessel(a.mmsi) }, a.name || String(a.mmsi)),
            el("div", { class: "small muted" }, String(a.mmsi))),
          el("td", {}, a.member),
          el("td", { title: `great circle ${nm(a.distance_m)}; ${a.route === "searoute" ? "along sea lanes" : "no sea lane: great circle"} ${nm(a.sea_distance_m)}` },
            nm(a.distance_m), el("div", { class: "small muted" }, a.route === "searoute" ? `${nm(a.sea_distance_m)} by sea lanes` : "direct")),
          el("td", {}, duration(a.eta_s), el("div", { class: "small muted" }, `${fmtTime(a.eta_at)} at ${a.speed_kn.toFixed(0)} kn`)))))));
    }
    return out;
  }

  _assetName(mmsi) {
    const a = (this.assets || []).find((x) => x.mmsi === mmsi);
    return a ? `${a.name || "asset"} (${mmsi})` : `MMSI ${mmsi}`;
  }

  _timeline(entries) {
    return el("ol", { class: "timeline", id: "incident-timeline" }, entries.map((e) => el("li", { class: `entry-${e.kind}` },
      el("div", { class: "small muted" }, `${fmtTime(e.at)} · ${e.user} · ${e.member}`),
      el("div", {}, entryText(e, (m) => this._assetName(m))))));
  }

  _files(files) {
    if (!files.length) return el("p", { class: "muted" }, "none");
    return el("ul", { class: "versions", id: "incident-files" }, files.map((a) => el("li", {},
      el("button", { type: "button", class: "linkish", onclick: () => this._fetch(`${this.base}/attachments/${a.sha256}`, a.name) }, a.name),
      ` ${size(a.size_bytes)} · ${a.media_type} · ${a.member}, ${fmtTime(a.added_at)}`)));
  }

  _events(ids) {
    if (!ids.length) return el("p", { class: "muted" }, "none");
    return el("ul", { class: "versions" }, ids.map((id) => el("li", {},
      el("button", { type: "button", class: "linkish", onclick: () => this.ctx.openEvent(id) }, id))));
  }

  // The forms, made once: what an officer is typing survives the page's refreshes.
  _forms() {
    const text = (id, placeholder) => el("textarea", { id, rows: "2", placeholder });
    const requestText = text("assist-text", "What help is needed (optional)");
    const request = el("form", { class: "form", id: "assist-form", onsubmit: (e) => { e.preventDefault();
      this._do(`${this.base}/assistance`, { text: requestText.value }, "Assistance requested: every member has been alerted.", requestText); } },
    requestText, el("div", { class: "actions" }, el("button", { type: "submit", id: "assist-request" }, "Request assistance")));

    this.assetSelect = el("select", { id: "respond-asset", "aria-label": "Your asset" });
    const respondText = el("input", { id: "respond-text", placeholder: "Note (optional)", autocomplete: "off" });
    const answer = (value) => {
      const mmsi = Number(this.assetSelect.value) || null;
      const asset = (this.assets || []).find((a) => a.mmsi === mmsi);
      const body = { response: value, asset_mmsi: mmsi, eta_at: value !== "cannot" && asset ? asset.eta_at : null, text: respondText.value };
      this._do(`${this.base}/assistance/responses`, body, `Answered: ${ANSWER_TEXT[value]}.`, respondText);
    };
    const respond = el("div", { class: "form", id: "respond-form", role: "group", "aria-labelledby": "respond-label" },
      el("span", { class: "label", id: "respond-label" }, "Your member's answer"),
      el("div", { class: "row" }, el("label", { for: "respond-asset", class: "small" }, "with"), this.assetSelect), respondText,
      el("div", { class: "actions" }, ANSWERS.map(([value, label]) =>
        el("button", { type: "button", id: `respond-${value}`, class: value === "cannot" ? "ghost" : "", onclick: () => answer(value) }, label))));

    const commentText = text("comment-text", "Add to the timeline");
    const comment = el("form", { class: "form", id: "comment-form", onsubmit: (e) => { e.preventDefault();
      if (!commentText.value.trim()) { this.error.textContent = "Write the comment first."; return; }
      this._do(`${this.base}/comments`, { text: commentText.value }, "Comment added.", commentText); } },
    commentText, el("div", { class: "actions" }, el("button", { type: "submit", id: "comment-add" }, "Add comment")));

    const file = el("input", { type: "file", id: "attach-file", "aria-label": "File to attach" });
    const attach = el("form", { class: "form", id: "attach-form", onsubmit: (e) => { e.preventDefault(); this._attach(file); } },
      el("div", { class: "row" }, file, el("button", { type: "submit", id: "attach-add", class: "ghost" }, "Attach")));
    return { request, respond, comment, attach };
  }

  // The respond form offers the member's own assets the API lists (with their ETA).
  _assetChoices() {
    const mine = (this.assets || []).filter((a) => a.member === this.owner.me.member);
    const was = this.assetSelect.value;
    this.assetSelect.replaceChildren(el("option", { value: "" }, "no particular asset"),
      ...mine.map((a) => el("option", { value: String(a.mmsi) }, `${a.name || a.mmsi} · ${nm(a.distance_m)}, ETA ${duration(a.eta_s)}`)));
    this.assetSelect.value = mine.some((a) => String(a.mmsi) === was) ? was : mine[0] ? String(mine[0].mmsi) : "";
  }

  async _do(path, body, done, input = null) {
    this.error.textContent = "";
    this.message.textContent = "";
    try {
      await sendJson(path, body);
    } catch (err) {
      if (!this._signedOut(err)) this.error.textContent = `Not done: ${err.message}`;
      return;
    }
    if (input) input.value = "";
    this.message.textContent = done;
    await this.reload(true).catch((err) => { this.error.textContent = `Not refreshed: ${err.message}`; });
    this.owner.refresh().catch(() => {});
  }

  async _attach(input) {
    this.error.textContent = "";
    if (!input.files.length) { this.error.textContent = "Choose a file first."; return; }
    try {
      for (const f of input.files) await uploadFile(`${this.base}/attachments`, f);
    } catch (err) {
      if (!this._signedOut(err)) this.error.textContent = `Not attached: ${err.message}`;
      return;
    }
    input.value = "";
    this.message.textContent = "Attached.";
    await this.reload(true).catch(() => {});
  }

  async _fetch(path, name) {
    this.error.textContent = "";
    try {
      return await download(path, name);
    } catch (err) {
      if (!this._signedOut(err)) this.error.textContent = `Not downloaded: ${err.message}`;
      return null;
    }
  }

  async _export() {
    this.message.textContent = "Preparing the signed evidence bundle…";
    const saved = await this._fetch(`${this.base}/evidence`, `${this.id}-evidence.zip`);
    this.message.textContent = saved
      ? `Saved ${saved.name} (${size(saved.size)}), signed with your member's key; anyone can check it with lookout evidence verify.`
      : "";
  }
}
