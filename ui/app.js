/*
 * ironboot's web UI (docs/UI.md): read-only pages over the daemon's REST
 * API.  Everything shown comes from the API with the bearer token the
 * operator typed, kept in sessionStorage and sent as a header.
 *
 * Hostnames, vendor classes, paths and agent reports come from the
 * network and may hold markup: the page is built with DOM calls and
 * textContent only, never innerHTML, so they are always shown as text.
 */
"use strict";

const API = "/api/v1/";
const TOKEN_KEY = "ironboot-api-token";
const STAGES = ["firmware", "loader", "ipxe", "script", "kernel", "install", "lifecycle", "other"];
const LIVE_ROWS = 200;		/* rows the live feed keeps */
const RETRY_MS = 3000;		/* the live feed reconnects after */

let liveAbort = null;		/* the live feed's AbortController */
let liveLastId = "";		/* the newest id it showed: resumed from */
let liveCount = 0;		/* events it showed */

/* ---- DOM helpers: text only ---- */

function el(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k === "class")
			e.className = v;
		else if (k === "text")
			e.textContent = v;
		else
			e.setAttribute(k, v);
	}
	for (const kid of kids)
		if (kid !== null && kid !== undefined)
			e.append(typeof kid === "string" || typeof kid === "number" ? String(kid) : kid);
	return e;
}

function svg(tag, attrs, text) {
	const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
	for (const [k, v] of Object.entries(attrs || {}))
		e.setAttribute(k, v);
	if (text !== undefined)
		e.textContent = text;
	return e;
}

function main() {
	return document.getElementById("main");
}

function show(...nodes) {
	main().replaceChildren(...nodes);
}

function status(text, cls) {
	const s = document.getElementById("status");
	s.textContent = text;
	s.className = "status " + (cls || "");
}

/* ---- time ---- */

function isoTime(us) {
	if (!us)
		return "-";
	return new Date(us / 1000).toISOString().replace("T", " ").replace(/\.(\d{3})Z$/, ".$1Z");
}

function ago(us) {
	if (!us)
		return "-";
	const s = Math.max(0, Math.round(Date.now() / 1000 - us / 1e6));
	if (s < 60)
		return s + " s ago";
	if (s < 3600)
		return Math.round(s / 60) + " min ago";
	if (s < 86400)
		return Math.round(s / 3600) + " h ago";
	return Math.round(s / 86400) + " d ago";
}

/* ---- the API ---- */

function token() {
	return sessionStorage.getItem(TOKEN_KEY);
}

class Unauthorized extends Error {}

async function api(path) {
	const r = await fetch(API + path, {
		headers: { "Authorization": "Bearer " + token() },
		cache: "no-store", credentials: "omit", redirect: "error",
	});
	if (r.status === 401)
		throw new Unauthorized("the API refused the token");
	const body = await r.json().catch(() => null);
	if (!r.ok) {
		const e = new Error((body && body.error) || ("HTTP " + r.status));
		e.status = r.status;
		throw e;
	}
	return body;
}

/* ---- events: stages and failures ---- */

function detailText(d) {
	if (!d || typeof d !== "object")
		return "";
	return Object.entries(d).map(([k, v]) =>
		k + "=" + (typeof v === "object" ? JSON.stringify(v) : String(v))).join(" ");
}

/* Whether an event is journalled under its MAC by a request that was not
 * proved to come from that machine ("refused":1 or "unverified":1, issue
 * #11; docs/SECURITY.md): any host may send one naming any MAC, so it is
 * never drawn as the machine's own (no timeline point, no failure red). */
function isUnverified(e) {
	const d = e.detail || {};
	return d.unverified === 1 || d.refused === 1;
}

/* Whether an event is a failure worth red: an HTTP error, a TFTP error,
 * a NAK or decline, an agent's or the lifecycle's failure. */
function isFailure(e) {
	const d = e.detail || {};
	if (isUnverified(e))
		return false;
	if (typeof d.status === "number" && d.status >= 400)
		return true;
	if (d.error || d.fail_reason)
		return true;
	if (/nak|decline|error|fail|timeout|refused|not-sent|loop/.test(e.kind || ""))
		return true;
	if (/^(nak|decline)$/.test(d.decision || ""))
		return true;
	return d.to === "failed" || d.state === "failed";
}

function verdictBadge(v) {
	if (!v)
		return el("span", { class: "badge unknown", text: "?" });
	if (v.status === 0)
		return el("span", { class: "badge ok", text: "ok" });
	return el("span", { class: "badge " + (v.status >= 2 ? "error" : "warning"),
			    text: v.most_likely || (v.status >= 2 ? "error" : "warning") });
}

/* ---- login ---- */

function showLogin(message) {
	stopLive();
	const tpl = document.getElementById("login-tpl").content.cloneNode(true);
	show(tpl);
	document.getElementById("forget").hidden = true;
	status("");
	const err = document.getElementById("login-error");
	err.textContent = message || "";
	document.getElementById("login-form").addEventListener("submit", async ev => {
		ev.preventDefault();
		const input = document.getElementById("token");
		sessionStorage.setItem(TOKEN_KEY, input.value.trim());
		input.value = "";
		try {
			await api("pools");
			route();
		} catch (e) {
			sessionStorage.removeItem(TOKEN_KEY);
			err.textContent = e instanceof Unauthorized ? "The API refused this token." :
				"The API did not answer: " + e.message;
		}
	});
	document.getElementById("token").focus();
}

/* ---- machines ---- */

function machineLink(mac) {
	return el("a", { href: "#/machine/" + encodeURIComponent(mac), class: "mono", text: mac });
}

/* GET /api/v1/fleet a page (FLEET_PAGE = 16 machines) at a time, each a
 * short turn of the daemon's loop; at most 128 machines, each once. */
async function fleet() {
	const list = [], seen = new Set();

	for (let off = 0; off < 128; off += 16) {
		const page = await api("fleet?offset=" + off);
		for (const m of page)
			if (!seen.has(m.mac)) {
				seen.add(m.mac);
				list.push(m);
			}
		if (page.length < 16)
			break;
	}
	return list;
}

async function pageMachines() {
	const list = await fleet();
	const filter = el("input", { type: "search", id: "filter", placeholder:
				     "filter: MAC, hostname, state, stage, rule" });
	const failing = el("input", { type: "checkbox", id: "failing" });
	const tbody = el("tbody");
	const count = el("span", { class: "muted", id: "count" });
	const table = el("table", { class: "grid", id: "machines" },
		el("thead", {}, el("tr", {}, ...["MAC", "Hostname", "Address", "State", "Last seen",
						  "Last stage", "Doctor"].map(h => el("th", { text: h })))),
		tbody);

	function render() {
		const q = filter.value.trim().toLowerCase();
		const rows = list.filter(m => {
			if (failing.checked && !(m.verdict && m.verdict.status > 0))
				return false;
			const hay = [m.mac, m.hostname, m.address, m.state, m.stage,
				     m.verdict && m.verdict.most_likely].join(" ").toLowerCase();
			return !q || hay.includes(q);
		});
		tbody.replaceChildren(...rows.map(m => el("tr", {
			class: m.verdict && m.verdict.status > 0 ? "failing" : "" },
			el("td", {}, machineLink(m.mac)),
			el("td", { text: m.hostname || "" }),
			el("td", { class: "mono", text: m.address || "" }),
			el("td", {}, el("span", { class: "state " + (m.state || "none"),
						  text: m.state || "-" })),
			el("td", { title: isoTime(m.last_seen_us), text: ago(m.last_seen_us) }),
			el("td", { text: m.stage }),
			el("td", { title: m.verdict ? m.verdict.stopped : "" }, verdictBadge(m.verdict)))));
		count.textContent = rows.length + " of " + list.length + " machines";
	}
	filter.addEventListener("input", render);
	failing.addEventListener("change", render);
	render();
	show(el("h1", { text: "Machines" }),
	     el("div", { class: "toolbar" }, filter,
		el("label", {}, failing, " failing only"), count),
	     list.length ? table : el("p", { class: "muted", text: "No machine has been seen yet." }));
}

/* ---- one machine ---- */

function orNull(p) {
	return p.catch(e => {
		if (e instanceof Unauthorized)
			throw e;
		return null;
	});
}

function doctorBox(doc) {
	if (!doc)
		return el("p", { class: "muted", text: "The doctor could not read this machine's journal." });
	const head = el("p", { class: "stopped" }, el("strong", { text: "Reached: " }), doc.stopped || "-");
	if (!doc.findings.length)
		return el("section", { class: "doctor ok", id: "doctor" }, el("h2", { text: "Doctor" }), head,
			  el("p", { text: "No known failure pattern in this machine's journal." }));
	return el("section", { class: "doctor failing", id: "doctor" }, el("h2", { text: "Doctor" }), head,
		...doc.findings.map(f => el("div", { class: "finding sev-" + f.severity },
			el("div", { class: "rule" }, el("span", { class: "badge " + f.severity, text: f.severity }),
			   " ", el("strong", { text: f.rule })),
			el("p", { class: "cause", text: f.cause }),
			el("p", {}, el("em", { text: "Fix: " }), f.fix),
			f.evidence ? el("p", { class: "evidence" }, el("em", { text: "Evidence: " }), f.evidence) : null)));
}

/*
 * The boot timeline: one lane per stage, time across; each boot (a
 * firmware event after a later stage) gets its own segment of equal
 * width, so a reboot days later does not squeeze the first one to a dot.
 */
function timeline(events) {
	const W = 1000, LEFT = 90, LANE = 26, TOP = 30;
	const stages = STAGES.filter(s => events.some(e => e.stage === s));
	const boots = [];
	let maxStage = -1;
	for (const e of events) {
		const si = STAGES.indexOf(e.stage);
		if (!boots.length || (e.stage === "firmware" && maxStage > 0)) {
			boots.push([]);
			maxStage = -1;
		}
		boots[boots.length - 1].push(e);
		if (e.stage !== "other")
			maxStage = Math.max(maxStage, si);
	}
	const H = TOP + stages.length * LANE + 20;
	const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "timeline", id: "timeline",
				  role: "img", "aria-label": "boot timeline" });
	stages.forEach((s, i) => {
		const y = TOP + i * LANE;
		root.append(svg("rect", { x: LEFT, y: y, width: W - LEFT - 10, height: LANE - 4,
					  class: "lane" + (i % 2 ? " odd" : "") }));
		root.append(svg("text", { x: LEFT - 8, y: y + LANE / 2 + 2, class: "lane-label" }, s));
	});
	const segW = (W - LEFT - 10) / Math.max(boots.length, 1);
	boots.forEach((b, bi) => {
		const x0 = LEFT + bi * segW;
		const t0 = b[0].ts_us, t1 = b[b.length - 1].ts_us;
		const span = Math.max(t1 - t0, 1);
		if (bi > 0)
			root.append(svg("line", { x1: x0, x2: x0, y1: TOP - 16, y2: H - 14, class: "reboot" }));
		root.append(svg("text", { x: x0 + 6, y: TOP - 10, class: "boot-label" },
				`boot ${bi + 1} · ${isoTime(t0).slice(11, 19)}` +
				(t1 > t0 ? ` · ${((t1 - t0) / 1e6).toFixed(1)} s` : "")));
		let prev = null;
		for (const e of b) {
			const lane = stages.indexOf(e.stage);
			const x = x0 + 10 + (segW - 24) * (e.ts_us - t0) / span;
			const y = TOP + lane * LANE + (LANE - 4) / 2;
			if (prev)
				root.append(svg("line", { x1: prev[0], y1: prev[1], x2: x, y2: y, class: "path" }));
			prev = [x, y];
			const fail = isFailure(e);
			const dot = svg("circle", { cx: x, cy: y, r: fail ? 7 : 4.5,
						    class: "ev " + e.proto + (fail ? " fail" : "") });
			dot.append(svg("title", {}, `${isoTime(e.ts_us)}  ${e.proto} ${e.kind}\n${detailText(e.detail)}`));
			root.append(dot);
		}
	});
	return root;
}

function eventRow(e, withMac) {
	const unverified = isUnverified(e);
	return el("tr", { class: unverified ? "unverified" : isFailure(e) ? "fail" : "" },
		el("td", { class: "mono nowrap", text: isoTime(e.ts_us) }),
		withMac ? el("td", {}, e.mac ? machineLink(e.mac) : "") : null,
		el("td", { text: e.stage || "" }),
		el("td", { text: e.proto }),
		el("td", {}, e.kind, unverified ? el("span", { class: "badge unverified",
			title: "sent in this machine's name by a request not proved to be it " +
			       "(any host may): not its activity", text: "unverified" }) : null),
		el("td", { class: "detail", text: detailText(e.detail) }));
}

function eventsTable(events, withMac, id) {
	return el("table", { class: "grid events", id: id },
		el("thead", {}, el("tr", {}, ...["Time (UTC)", withMac ? "MAC" : null, "Stage", "Proto",
						  "Event", "Detail"].filter(h => h).map(h => el("th", { text: h })))),
		el("tbody", {}, ...events.map(e => eventRow(e, withMac))));
}

function reportView(rep) {
	if (!rep)
		return el("p", { class: "muted", text: "No hardware report (the agent has not reported)." });
	const dl = el("dl", { class: "report", id: "report" });
	for (const [k, v] of Object.entries(rep)) {
		dl.append(el("dt", { text: k }));
		dl.append(el("dd", {}, typeof v === "object" && v !== null ?
			el("pre", { text: JSON.stringify(v, null, 2) }) : String(v)));
	}
	return dl;
}

function leasesTable(v4, v6) {
	const rows = [...v4.map(l => ["v4", l]), ...v6.map(l => ["v6", l])];
	if (!rows.length)
		return el("p", { class: "muted", text: "No lease." });
	return el("table", { class: "grid", id: "leases" },
		el("thead", {}, el("tr", {}, ...["", "Address", "Hostname", "State", "Expires"].map(h =>
			el("th", { text: h })))),
		el("tbody", {}, ...rows.map(([f, l]) => el("tr", {},
			el("td", { text: f }), el("td", { class: "mono", text: l.address }),
			el("td", { text: l.hostname || "" }), el("td", { text: l.state }),
			el("td", { text: l.expires ? isoTime(l.expires * 1e6) : "" })))));
}

async function pageMachine(mac) {
	const q = encodeURIComponent(mac);
	const [events, doc, lc, leases, leases6] = await Promise.all([
		api("events?limit=1000&mac=" + q), orNull(api("machines/" + q + "/doctor")),
		orNull(api("machines/" + q + "/lifecycle")), orNull(api("leases?mac=" + q)),
		orNull(api("leases6?mac=" + q))]);
	const v4 = leases || [], v6 = leases6 || [];
	const host = v4.concat(v6).map(l => l.hostname).find(h => h);
	/* the timeline is the machine's own: unverified events only in the table */
	const own = events.filter(e => !isUnverified(e));
	const others = events.length - own.length;
	show(el("h1", {}, "Machine ", el("span", { class: "mono", text: mac }),
		host ? el("span", { class: "hostname", text: " " + host }) : null),
	     el("p", { class: "meta" },
		"State: ", el("span", { class: "state " + (lc ? lc.state : "none"), text: lc ? lc.state : "not in the lifecycle" }),
		lc && lc.fail_reason ? el("span", { class: "error", text: " · " + lc.fail_step + ": " + lc.fail_reason }) : null,
		" · ", events.length + " events",
		others ? el("span", { class: "unverified-count", id: "unverified-count",
			text: ` (${others} unverified: sent in its name by hosts not proved ` +
			      "to be it, listed below, not on the timeline)" }) : null),
	     doctorBox(doc),
	     el("h2", { text: "Boot timeline" }),
	     own.length ? timeline(own) : el("p", { class: "muted", text: "No event." }),
	     el("p", { class: "legend" }, el("span", { class: "key fail" }), " failure  ",
		el("span", { class: "key reboot" }), " reboot (a firmware request after later stages)  ",
		el("span", { class: "badge unverified", text: "unverified" }),
		" in the events: not this machine's own (a refused request, or a claim of its MAC " +
		"the daemon could not verify)"),
	     el("div", { class: "columns" },
		el("section", {}, el("h2", { text: "Leases" }), leasesTable(v4, v6)),
		el("section", {}, el("h2", { text: "Hardware report" }), reportView(lc && lc.report))),
	     el("h2", { text: "Events" }), eventsTable(events.slice().reverse(), false, "machine-events"));
}

/* ---- pools ---- */

async function pagePools() {
	const pools = await api("pools");
	const bySubnet = new Map();
	for (const p of pools) {
		if (!bySubnet.has(p.subnet))
			bySubnet.set(p.subnet, []);
		bySubnet.get(p.subnet).push(p);
	}
	const blocks = [...bySubnet].map(([subnet, ps]) => el("section", { class: "subnet" },
		el("h2", { class: "mono", text: subnet }),
		...ps.map(p => {
			const used = p.in_use / p.size, dec = p.declined / p.size;
			const pct = (100 * used).toFixed(used < 0.1 ? 1 : 0);
			const fill = el("div", { class: "fill" + (used > 0.9 ? " high" : "") });
			fill.style.width = Math.min(100, 100 * used) + "%";
			const decl = el("div", { class: "declined" });
			decl.style.width = Math.min(100 - 100 * used, 100 * dec) + "%";
			return el("div", { class: "pool" },
				el("div", { class: "pool-head" }, el("span", { class: "mono", text: p.pool }),
				   el("span", { class: "muted", text: `${p.in_use} of ${p.size} in use (${pct} %)` +
						(p.declined ? ` · ${p.declined} declined` : "") })),
				el("div", { class: "bar", role: "meter", "aria-valuenow": p.in_use,
					    "aria-valuemax": p.size }, fill, decl));
		})));
	show(el("h1", { text: "Pools" }),
	     pools.length ? el("div", { id: "pools" }, ...blocks) :
		el("p", { class: "muted", text: "No DHCP pool is configured." }));
}

/* ---- the live feed: GET events?follow=1, read as server-sent events ---- */

function stopLive() {
	if (liveAbort)
		liveAbort.abort();
	liveAbort = null;
}

/* Splits the stream into events ("\n\n"), hands each data line's JSON on. */
function sseParser(onEvent) {
	let buf = "";
	return chunk => {
		buf += chunk.replace(/\r\n?/g, "\n");
		let i;
		while ((i = buf.indexOf("\n\n")) >= 0) {
			const block = buf.slice(0, i);
			buf = buf.slice(i + 2);
			let id = null;
			const data = [];
			for (const line of block.split("\n")) {
				if (line.startsWith("data:"))
					data.push(line.slice(5).replace(/^ /, ""));
				else if (line.startsWith("id:"))
					id = line.slice(3).trim();
			}
			if (data.length)
				onEvent(id, data.join("\n"));
		}
		if (buf.length > 65536)
			buf = "";	/* nothing we sent is that long */
	};
}

async function follow(tbody, filterMac, ctl) {
	const headers = { "Authorization": "Bearer " + token() };
	if (liveLastId)
		headers["Last-Event-ID"] = liveLastId;
	const q = filterMac ? "&mac=" + encodeURIComponent(filterMac) : "";
	const r = await fetch(API + "events?follow=1" + q, { headers, cache: "no-store",
		credentials: "omit", signal: ctl.signal });
	if (r.status === 401)
		throw new Unauthorized("the API refused the token");
	if (!r.ok)
		throw new Error("HTTP " + r.status);
	status("live", "ok");
	const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
	const feed = sseParser((id, data) => {
		let e;
		try {
			e = JSON.parse(data);
		} catch (_) {
			return;
		}
		liveLastId = id || liveLastId;
		const row = eventRow(e, true);
		row.classList.add("new");
		tbody.prepend(row);
		while (tbody.rows.length > LIVE_ROWS)
			tbody.deleteRow(-1);
		liveCount++;
		document.getElementById("live-count").textContent =
			liveCount + (liveCount === 1 ? " event" : " events") + " since the page opened";
	});
	for (;;) {
		const { value, done } = await reader.read();
		if (done)
			return;
		feed(value);
	}
}

function pageLive() {
	const tbody = el("tbody");
	const macInput = el("input", { type: "search", id: "live-mac", placeholder: "only MAC (optional)" });
	const table = el("table", { class: "grid events", id: "live" },
		el("thead", {}, el("tr", {}, ...["Time (UTC)", "MAC", "Stage", "Proto", "Event", "Detail"]
			.map(h => el("th", { text: h })))), tbody);
	const start = () => {
		stopLive();
		liveLastId = "";
		liveCount = 0;
		tbody.replaceChildren();
		const ctl = new AbortController();
		liveAbort = ctl;
		const loop = async () => {
			while (!ctl.signal.aborted) {
				try {
					await follow(tbody, macInput.value.trim(), ctl);
				} catch (e) {
					if (ctl.signal.aborted)
						return;
					if (e instanceof Unauthorized) {
						sessionStorage.removeItem(TOKEN_KEY);
						showLogin("The API refused the token.");
						return;
					}
				}
				if (ctl.signal.aborted)
					return;
				status("reconnecting", "warning");
				await new Promise(res => setTimeout(res, RETRY_MS));
			}
		};
		status("connecting", "warning");
		loop();
	};
	macInput.addEventListener("change", start);
	show(el("h1", { text: "Live feed" }),
	     el("div", { class: "toolbar" }, macInput,
		el("span", { class: "muted", id: "live-count", text: "no event yet" })),
	     el("p", { class: "muted", text: "New journal events as the daemon stores them, newest first." }),
	     table);
	start();
}

/* ---- routing ---- */

async function route() {
	if (!token())
		return showLogin();
	document.getElementById("forget").hidden = false;
	const h = location.hash || "#/machines";
	const m = h.match(/^#\/machine\/(.+)$/);
	for (const a of document.querySelectorAll("nav a"))
		a.classList.toggle("active", h.startsWith(a.getAttribute("href")));
	if (!h.startsWith("#/live")) {
		stopLive();
		status("");
	}
	try {
		if (m)
			await pageMachine(decodeURIComponent(m[1]));
		else if (h.startsWith("#/pools"))
			await pagePools();
		else if (h.startsWith("#/live"))
			pageLive();
		else
			await pageMachines();
	} catch (e) {
		if (e instanceof Unauthorized) {
			sessionStorage.removeItem(TOKEN_KEY);
			return showLogin("The API refused the token.");
		}
		show(el("h1", { text: "Error" }), el("p", { class: "error", text: e.message }));
	}
}

document.addEventListener("DOMContentLoaded", () => {
	document.getElementById("forget").addEventListener("click", () => {
		sessionStorage.removeItem(TOKEN_KEY);
		showLogin();
	});
	window.addEventListener("hashchange", route);
	route();
});
