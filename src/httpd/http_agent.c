/*
 * The lifecycle agent's endpoints in the HTTP shell (issue #12,
 * docs/AGENT.md); routed here by http_lifecycle.c, whose moves they apply
 * through inventory/lifecycle.c's table.
 *
 *   POST /api/v1/agent/report, GET /api/v1/agent/instruction?mac=M
 *        (none until a report; accepted, releasing: wipe; ready: wait;
 *        allocated, installed: reboot; installing: install when the
 *        profile has an image),
 *   POST /api/v1/agent/progress    the machine's own token (Bearer or
 *        ?token=) or its address (http_auth.c's facts); another
 *        machine's MAC: 403
 *   POST /api/v1/agent/installed?mac=M&token=T   the installer's callback
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "boot/boot_lifecycle.h"
#include "common/log.h"
#include "common/util.h"
#include "httpd/http_server_int.h"
#include "inventory/lifecycle.h"
#include "store/store.h"

#define AGENT_POLL_MS 5000		/* "none": ask again after this */

/*
 * Authorizes an agent request about MAC mac: the machine's token in
 * "Authorization: Bearer", else http_auth.c's facts (its address, or
 * ?token=).  0, or -EACCES with the 403 sent.  Another machine's token
 * or address is refused: an agent speaks only for its own machine.
 */
static int agent_auth(struct ib_http_req *rq, const char *mac)
{
	const char *h = ib_httpd_req_header(rq, "Authorization");

	snprintf(rq->mac, sizeof(rq->mac), "%s", mac);
	if (h && strncasecmp(h, "Bearer ", 7) == 0 &&
	    ib_httpd_machine_token_ok(rq->srv->machine_secret, mac, h + 7)) {
		rq->auth = "token";
		rq->authorized = true;
		return 0;
	}
	if (ib_httpd_authorize(rq) < 0)
		return -EACCES;		/* 403 sent, with the reason */
	if (!rq->authorized) {		/* machine_auth: off serves anyone; not here */
		ib_httpd_text(rq, 403, "forbidden: not this machine's token or address");
		return -EACCES;
	}
	return 0;
}

/* The MAC member of an agent body in normal form; else 400 is sent. */
static int body_mac(struct ib_http_req *rq, json_t *body, char mac[IB_HTTP_MAC_STRLEN])
{
	const char *s = json_string_value(json_object_get(body, "mac"));

	if (!s || ib_http_mac_normalize(s, mac) < 0) {
		ib_httpd_error(rq, 400, "mac is missing or not a MAC address");
		return -EINVAL;
	}
	return 0;
}

/* ---- the agent ---- */

/* Why NIC mac (not the reporting one) may not join a machine: it is an
 * inventory machine's.  NULL when it may (the store refuses another
 * lifecycle machine's). */
static const char *nic_inventory_owner(const struct ib_config *cfg, const char *mac)
{
	uint8_t hw[6];

	if (ib_mac_parse(mac, hw) < 0)
		return "not a MAC address";
	for (size_t i = 0; i < cfg->n_machines; i++)
		if (memcmp(cfg->machines[i].mac, hw, 6) == 0)
			return "an inventory machine's MAC";
	return NULL;
}

/* Journals (under the reporting machine) and logs a NIC its report
 * claimed and did not get. */
static void nic_refused(struct ib_http_req *rq, const char *mac, const char *nic,
			const char *why)
{
	uint8_t hw[6];
	struct ib_journal_who who = { .hw = hw, .hw_len = 6 };

	ib_warn("lifecycle: %s: its agent's report claims NIC %s, refused: %s", mac, nic, why);
	if (ib_mac_parse(mac, hw) == 0)
		ib_journal_add(rq->srv->journal, &who, "machine", "nic-refused",
			       json_pack("{s:s, s:s}", "nic", nic, "reason", why));
}

static bool machine_has_nic(const struct ib_machine_state *m, const char *mac)
{
	for (size_t i = 0; i < m->n_nics; i++)
		if (strcmp(m->nics[i], mac) == 0)
			return true;
	return false;
}

static int any_event(const struct ib_event *e, void *arg)
{
	(void)e;
	*(bool *)arg = true;
	return 1;
}

/*
 * Whether this daemon has seen NIC mac on the wire: a DHCPv4 lease of its
 * hardware address, or a DHCPv4 event of it in the journal (proxy mode
 * keeps no leases).  A report alone does not put a MAC on the network.
 */
static bool nic_seen_on_dhcp(struct ib_http_req *rq, const char *mac)
{
	struct ib_event_filter f = { .mac = mac, .proto = "dhcp4", .limit = 1 };
	struct ib_lease4 lease;
	uint8_t hw[6];
	bool seen = false;

	if (ib_mac_parse(mac, hw) < 0)
		return false;
	if (ib_store_lease4_find_client(rq->srv->store, hw, 6, NULL, 0, &lease) == 0)
		return true;
	return ib_store_event_foreach(rq->srv->store, &f, any_event, &seen) >= 0 && seen;
}

/* Journals (under the reporting machine) a NIC its report named that no
 * DHCP exchange has shown yet: left out until one does. */
static void nic_unverified(struct ib_http_req *rq, const char *mac, const char *nic)
{
	uint8_t hw[6];
	struct ib_journal_who who = { .hw = hw, .hw_len = 6 };

	ib_info("lifecycle: %s: its agent's report names NIC %s, never seen over DHCP: "
		"not added until it is", mac, nic);
	if (ib_mac_parse(mac, hw) == 0)
		ib_journal_add(rq->srv->journal, &who, "machine", "nic-unverified",
			       json_pack("{s:s, s:s}", "nic", nic,
					 "reason", "never seen over DHCP"));
}

/*
 * Adds the NICs of a report to machine m.  A report is the agent's word,
 * and an agent may be hostile: a NIC that is another machine's (another
 * lifecycle machine's, or an inventory machine's) stays that machine's,
 * and the refusal is journalled and logged, so a report cannot take over
 * another machine's identity, boots or instructions.  A NIC no DHCP
 * exchange has shown is not added on the report's word either (it could
 * be a machine that has not booted yet): journalled nic-unverified, and
 * added by a later report once it has been seen.
 */
static void add_report_nics(struct ib_http_req *rq, const struct ib_machine_state *m,
			    json_t *report, int64_t now)
{
	struct ib_machine_state other;
	char mac[IB_HTTP_MAC_STRLEN];
	const char *why;
	size_t i;
	json_t *nic;
	int r;

	json_array_foreach(json_object_get(report, "nics"), i, nic) {
		const char *t = json_string_value(json_object_get(nic, "mac"));

		if (i >= IB_MACHINE_NICS_MAX)
			break;
		if (!t || ib_http_mac_normalize(t, mac) < 0 || strcmp(mac, m->mac) == 0)
			continue;
		if ((why = nic_inventory_owner(rq->srv->cfg, mac))) {
			nic_refused(rq, m->mac, mac, why);
			continue;
		}
		if (ib_store_machine_get(rq->srv->store, mac, &other) == 0 && other.id != m->id) {
			nic_refused(rq, m->mac, mac, "another machine's NIC");
			continue;
		}
		if (!machine_has_nic(m, mac) && !nic_seen_on_dhcp(rq, mac)) {
			nic_unverified(rq, m->mac, mac);
			continue;
		}
		/* the lookup above refuses before the DHCP check (a foreign NIC
		 * is refused, not "unverified"); this -EEXIST is the insert's
		 * own atomic answer, for a NIC taken since that lookup */
		r = ib_store_machine_add_nic(rq->srv->store, m->id, mac, now);
		if (r == -EEXIST)
			nic_refused(rq, m->mac, mac, "another machine's NIC");
		else if (r < 0 && r != -ENOSPC)
			ib_warn("lifecycle: %s: cannot add NIC %s: %s", m->mac, mac, strerror(-r));
	}
}

/* The host of a BMC address as the power module gets it ("host",
 * "host:port", "scheme://host[:port][/...]") into out. */
static void bmc_host(const char *address, char *out, size_t cap)
{
	const char *h = strstr(address, "://") ? strstr(address, "://") + 3 : address;
	size_t n = strcspn(h, ":/");

	snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), h);
}

/* Whether another entry's BMC is at ip: a report may not borrow it. */
static bool bmc_address_taken(const struct ib_config *cfg, const char *ip)
{
	char host[IB_POWER_ADDRLEN];

	for (size_t i = 0; i < cfg->n_bmcs; i++) {
		bmc_host(cfg->bmcs[i].bmc.address, host, sizeof(host));
		if (strcmp(host, ip) == 0)
			return true;
	}
	return false;
}

/*
 * docs/POWER.md "From the agent's report": with power.default_credential
 * set, a machine without a BMC entry whose agent reported its BMC's IPv4
 * address gets one (an API object, so the operator edits or deletes it
 * like any other) when the operator accepts it.  Not at the report: a
 * report is the word of whoever holds the machine's address, and an entry
 * made from it alone would send the shared credential to any address a
 * host on the boot network names, or point the operator's power
 * operations at another machine's BMC (docs/SECURITY.md).  An address
 * that another entry's BMC has is refused.  Called after the reply: the
 * write swaps the snapshot.
 */
void ib_httpd_agent_bmc_from_report(struct ib_http_req *rq, const struct ib_machine_state *m)
{
	const struct ib_config *cfg = rq->srv->cfg;
	struct ib_inventory_change c = { .kind = IB_CONFIG_BMCS, .name = m->mac };
	char err[IB_CONFIG_ERRLEN], *obj = NULL, *text;
	const char *ip;
	struct in_addr a;
	json_t *report = NULL, *o;
	uint8_t hw[6];
	bool created;

	if (!cfg->power.default_credential || !m->has_report || !rq->srv->inventory ||
	    ib_mac_parse(m->mac, hw) < 0 || ib_config_bmc_for(cfg, hw) ||
	    !(text = ib_httpd_lc_report_text(rq, m)))
		return;
	report = json_loads(text, 0, NULL);
	free(text);
	ip = json_string_value(json_object_get(json_object_get(report, "bmc"), "ipv4"));
	if (!ip || inet_pton(AF_INET, ip, &a) != 1 || a.s_addr == 0)
		goto out;
	if (bmc_address_taken(cfg, ip)) {
		ib_warn("power: %s reported its BMC at %s, another entry's BMC: no entry made",
			m->mac, ip);
		goto out;
	}
	o = json_pack("{s:s, s:s, s:s, s:s}", "mac", m->mac, "driver",
		      cfg->power.default_driver == IB_BMC_REDFISH ? "redfish" : "ipmi",
		      "address", ip, "credential", cfg->power.default_credential);
	obj = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!obj)
		goto out;
	c.json = obj;
	rq->srv->keep_token = true;
	if (rq->srv->inventory(rq->srv->inventory_ctx, &c, &created, err) < 0)
		ib_warn("power: %s reported its BMC at %s, but the entry was refused: %s",
			m->mac, ip, err);
	rq->srv->keep_token = false;
out:
	free(obj);
	json_decref(report);
}

/*
 * An agent reports once per boot, before it asks for anything: a report
 * while the machine is wiping comes from an agent that started again
 * after it was handed the wipe (the machine was power-cycled, or the
 * agent crashed), so the wipe was cut short.  The machine fails (step
 * wipe) rather than wait in wiping for a wipe no agent is doing.
 */
static void wipe_cut_short(struct ib_http_req *rq, const struct ib_machine_state *m,
			   int64_t now)
{
	struct ib_lifecycle_req lr = { .mac = m->mac, .ev = IB_LC_EV_FAIL, .by = "agent",
				       .now_us = now, .fail_step = "wipe",
				       .fail_reason = "the agent started again while the machine "
						      "was wiping: the wipe was cut short (power "
						      "cycled, or the agent crashed)" };

	if (ib_lifecycle_apply(rq->srv->store, &lr, NULL) == 0)
		ib_warn("lifecycle: %s: its agent started again during the wipe: failed",
			m->mac);
}

static void agent_report(struct ib_http_req *rq)
{
	const struct ib_config *cfg = rq->srv->cfg;
	struct ib_store *s = rq->srv->store;
	char mac[IB_HTTP_MAC_STRLEN], *text = NULL;
	struct ib_machine_state m;
	int64_t now = ib_now_us();
	json_t *body = ib_httpd_body_object(rq, IB_MACHINE_REPORT_MAX);
	int r;

	if (!body || body_mac(rq, body, mac) < 0 || agent_auth(rq, mac) < 0)
		goto out;
	r = ib_store_machine_get(s, mac, &m);
	if (r == -ENOENT && cfg->lifecycle.enabled && cfg->lifecycle.auto_discover)
		r = ib_lifecycle_discover(s, mac, "agent", now, &m);
	if (r == -ENOENT) {
		ib_httpd_error(rq, 404, "this machine is not in the lifecycle");
		goto out;
	}
	/* stored as we re-serialise it: compact, duplicate keys refused */
	text = r == 0 ? json_dumps(body, JSON_COMPACT) : NULL;
	if (r == 0)
		r = text ? ib_store_machine_report_put(s, m.id, text) : -ENOMEM;
	if (r < 0) {
		ib_httpd_error(rq, r == -E2BIG ? 413 : 500, "cannot store the report");
		goto out;
	}
	add_report_nics(rq, &m, body, now);
	if (m.state == IB_LC_WIPING)
		wipe_cut_short(rq, &m, now);
	ib_httpd_send(rq, 204, 0);
out:
	free(text);
	json_decref(body);
}

/*
 * The image's digest: sha256, or the first word of its sha256_file under
 * http.assets (read now: a rebuilt image's new sum needs no reload).  An
 * unreadable or malformed file fails the machine (step "install"), so
 * the timeline says why nothing is installed.  0, or -errno.
 */
static int image_sha256(struct ib_http_req *rq, const struct ib_machine_state *m,
			const struct ib_profile_image *im, char sha[65])
{
	char text[512], why[IB_MACHINE_REASON_MAX];
	struct ib_lifecycle_req lr = { .mac = m->mac, .ev = IB_LC_EV_FAIL, .by = "agent",
				       .now_us = ib_now_us(), .fail_step = "install",
				       .fail_reason = why };
	ssize_t n;

	if (im->sha256) {
		snprintf(sha, 65, "%s", im->sha256);
		return 0;
	}
	n = ib_httpd_asset_read(rq->srv, im->sha256_file, text, sizeof(text));
	if (n >= 0 && ib_boot_lifecycle_sha256sum(text, (size_t)n, sha) == 0)
		return 0;
	snprintf(why, sizeof(why), "sha256_file %s: %s", im->sha256_file,
		 n < 0 ? strerror((int)-n) : "not a sha256sum line");
	ib_warn("lifecycle: %s: install not handed out: %s", m->mac, why);
	ib_lifecycle_apply(rq->srv->store, &lr, NULL);
	return n < 0 ? (int)n : -EBADMSG;
}

/* The instruction for machine m (see docs/AGENT.md "What the daemon
 * should do"); a destructive one moves the state first, so it is handed
 * out once. */
static json_t *instruction(struct ib_http_req *rq, const struct ib_machine_state *m)
{
	struct ib_lifecycle_req lr = { .mac = m->mac, .ev = IB_LC_EV_WIPE, .by = "agent",
				       .now_us = ib_now_us() };
	const struct ib_profile *p;
	struct ib_machine_state n;
	char id[32], sha[65];

	if (!m->has_report)
		return json_pack("{s:s, s:i}", "action", "none", "poll_ms", AGENT_POLL_MS);
	switch (m->state) {
	case IB_LC_ACCEPTED:
	case IB_LC_RELEASING:
		/* the BMC is about to restart it into a fresh agent: the wipe
		 * is that agent's, not this one's, which the cycle would cut */
		if (rq->srv->power.netbooting &&
		    rq->srv->power.netbooting(rq->srv->power.ctx, m->mac))
			break;
		if (ib_lifecycle_apply(rq->srv->store, &lr, &n) < 0)
			break;
		snprintf(id, sizeof(id), "wipe-%lld", (long long)n.version);
		return json_pack("{s:s, s:s}", "action", "wipe", "id", id);
	case IB_LC_READY:
	case IB_LC_RETIRED:
		/* the agent powers the machine off; with a BMC, see that it did */
		if (rq->srv->power.lifecycle)
			rq->srv->power.lifecycle(rq->srv->power.ctx, m->mac, "wait");
		return json_pack("{s:s}", "action", "wait");
	case IB_LC_ALLOCATED:
		/* the next netboot is the installer's (ib_httpd_lifecycle_plan) */
	case IB_LC_INSTALLED:
		/* its boot plan is already its disk (boot_lifecycle.c) */
		return json_pack("{s:s}", "action", "reboot");
	case IB_LC_INSTALLING:
		if (!(p = ib_httpd_lc_find_profile(rq->srv->cfg, m->profile)) || !p->image.url)
			break;	/* an installer of its own: nothing for the agent */
		if (image_sha256(rq, m, &p->image, sha) < 0)
			break;
		snprintf(id, sizeof(id), "install-%lld", (long long)m->version);
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "action", "install", "id", id,
				 "url", p->image.url, "sha256", sha,
				 "disk", p->image.disk,
				 "format", p->image.format ? p->image.format : "raw");
	default:
		break;
	}
	return json_pack("{s:s, s:i}", "action", "none", "poll_ms", AGENT_POLL_MS);
}

/* The ?mac= of an agent request in normal form, the request authorized
 * as that machine: 0, else the reply is sent. */
static int query_mac_auth(struct ib_http_req *rq, char mac[IB_HTTP_MAC_STRLEN])
{
	const char *q = ib_http_url_param(rq->url, "mac");

	if (!q || ib_http_mac_normalize(q, mac) < 0) {
		ib_httpd_error(rq, 400, "mac is missing or not a MAC address");
		return -EINVAL;
	}
	return agent_auth(rq, mac);
}

static void agent_instruction(struct ib_http_req *rq)
{
	char mac[IB_HTTP_MAC_STRLEN];
	struct ib_machine_state m;
	int r;

	if (query_mac_auth(rq, mac) < 0)
		return;
	r = ib_store_machine_get(rq->srv->store, mac, &m);
	if (r == -ENOENT)
		ib_httpd_json(rq, 200, json_pack("{s:s, s:i}", "action", "none",
						 "poll_ms", AGENT_POLL_MS));
	else if (r < 0)
		ib_httpd_error(rq, 500, "the store failed");
	else
		ib_httpd_json(rq, 200, instruction(rq, &m));
}

/*
 * POST /api/v1/agent/installed?mac=M: the installer's "done" (a profile
 * without an image installs through its own installer; its config calls
 * {{install_done_url}}, which carries the machine's token).  installing ->
 * installed, by "installer", journalled as proto agent, kind install.  A
 * repeated call of an installed machine is answered 204 (a retry); any
 * other state 409 with it.
 */
static void agent_installed(struct ib_http_req *rq)
{
	char mac[IB_HTTP_MAC_STRLEN];
	struct ib_machine_state m;
	uint8_t hw[6];
	struct ib_journal_who who = { .hw = hw, .hw_len = 6 };
	int r;

	if (query_mac_auth(rq, mac) < 0)
		return;
	r = ib_lifecycle_apply(rq->srv->store, &(struct ib_lifecycle_req){
		.mac = mac, .ev = IB_LC_EV_INSTALLED, .by = "installer",
		.now_us = ib_now_us() }, &m);
	if (r == 0 && ib_mac_parse(mac, hw) == 0)
		ib_journal_add(rq->srv->journal, &who, "agent", "install",
			       json_pack("{s:s, s:s}", "status", "ok", "detail",
					 "the installer's done callback"));
	if (r == 0 || (r == -EPERM && m.state == IB_LC_INSTALLED))
		ib_httpd_send(rq, 204, 0);
	else if (r == -ENOENT)
		ib_httpd_error(rq, 404, "no such machine in the lifecycle");
	else if (r == -EPERM || r == -EEXIST)
		ib_httpd_json(rq, 409, json_pack("{s:s, s:s}", "error",
			"the machine is not installing",
			"state", ib_lc_state_name((enum ib_lc_state)m.state)));
	else
		ib_httpd_error(rq, 500, "the store failed");
}

/* The event a progress report means in state, or -1 for none. */
static int progress_event(int state, const char *step, const char *status)
{
	bool wipe = strcmp(step, "wipe") == 0 || strncmp(step, "wipe:", 5) == 0;
	bool install = strncmp(step, "install:", 8) == 0;

	if (strcmp(status, "failed") == 0 &&
	    ((wipe && state == IB_LC_WIPING) || (install && state == IB_LC_INSTALLING) ||
	     (strcmp(step, "instruction") == 0 && state == IB_LC_INSTALLING)))
		return IB_LC_EV_FAIL;
	if (strcmp(status, "ok") != 0)
		return -1;
	if (strcmp(step, "wipe") == 0 && state == IB_LC_WIPING)
		return IB_LC_EV_WIPED;
	if (install && state == IB_LC_INSTALLING)
		return IB_LC_EV_INSTALLED;
	return -1;
}

/* A number member of a progress body, or -1. */
static int64_t progress_int(json_t *body, const char *key)
{
	json_t *v = json_object_get(body, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

/*
 * Journals an action's outcome (status ok or failed; the "running" ones
 * every 2 s are not kept) under the machine, proto "agent", kind its step
 * ("wipe:vda", "install:vda", "poweroff"): with its duration, bytes and
 * rate, the agent's detail or error, so `ironboot events --mac M` shows
 * each step of the flow across reboots.  Strings are sanitised.
 */
static void journal_progress(struct ib_http_req *rq, const char *mac, const char *step,
			     const char *status, json_t *body)
{
	static const char *const ints[] = { "duration_ms", "bytes", "total", "rate_bps" };
	static const char *const strs[] = { "detail", "error", "instruction" };
	struct ib_journal_who who;
	uint8_t hw[6];
	char safe[IB_MACHINE_REASON_MAX];
	json_t *d;

	if (strcmp(status, "running") == 0 || ib_mac_parse(mac, hw) < 0 ||
	    !(d = json_pack("{s:s}", "status", strcmp(status, "ok") ? "failed" : "ok")))
		return;
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (progress_int(body, ints[i]) >= 0)
			json_object_set_new(d, ints[i], json_integer(progress_int(body, ints[i])));
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		const char *v = json_string_value(json_object_get(body, strs[i]));

		if (!v)
			continue;
		ib_str_sanitize((const uint8_t *)v, strlen(v), safe, sizeof(safe));
		json_object_set_new(d, strs[i], json_string(safe));
	}
	who = (struct ib_journal_who){ .hw = hw, .hw_len = 6 };
	ib_journal_add(rq->srv->journal, &who, "agent", step, d);
}

static void agent_progress(struct ib_http_req *rq)
{
	char mac[IB_HTTP_MAC_STRLEN], step[IB_MACHINE_STEP_MAX], why[IB_MACHINE_REASON_MAX];
	struct ib_lifecycle_req lr = { .mac = mac, .by = "agent", .now_us = ib_now_us(),
				       .fail_step = step, .fail_reason = why };
	struct ib_machine_state m;
	json_t *body = ib_httpd_body_object(rq, 16384);
	const char *st, *status, *err;
	int ev;

	if (!body || body_mac(rq, body, mac) < 0 || agent_auth(rq, mac) < 0)
		goto out;
	st = json_string_value(json_object_get(body, "step"));
	status = json_string_value(json_object_get(body, "status"));
	err = json_string_value(json_object_get(body, "error"));
	if (!st || !status) {
		ib_httpd_error(rq, 400, "step and status are required");
		goto out;
	}
	ib_str_sanitize((const uint8_t *)st, strlen(st), step, sizeof(step));
	ib_str_sanitize((const uint8_t *)(err ? err : ""), err ? strlen(err) : 0, why,
			sizeof(why));
	journal_progress(rq, mac, step, status, body);
	if (ib_store_machine_get(rq->srv->store, mac, &m) == 0 &&
	    (ev = progress_event(m.state, step, status)) >= 0) {
		lr.ev = (enum ib_lc_event)ev;
		/* a refusal or a lost race: the state already moved on */
		ib_lifecycle_apply(rq->srv->store, &lr, NULL);
	}
	ib_httpd_send(rq, 204, 0);
out:
	json_decref(body);
}

/* ---- routing ---- */

void ib_httpd_agent_api(struct ib_http_req *rq, const char *what)
{
	bool post = rq->method == EVHTTP_REQ_POST;
	bool get = rq->method == EVHTTP_REQ_GET || rq->method == EVHTTP_REQ_HEAD;

	if (strcmp(what, "report") == 0 && post)
		agent_report(rq);
	else if (strcmp(what, "progress") == 0 && post)
		agent_progress(rq);
	else if (strcmp(what, "instruction") == 0 && get)
		agent_instruction(rq);
	else if (strcmp(what, "installed") == 0 && post)
		agent_installed(rq);
	else if (!strcmp(what, "report") || !strcmp(what, "progress") ||
		 !strcmp(what, "instruction") || !strcmp(what, "installed"))
		ib_httpd_error(rq, 405, "method not allowed");
	else
		ib_httpd_error(rq, 404, "no such API endpoint");
}
