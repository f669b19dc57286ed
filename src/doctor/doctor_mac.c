/*
 * The machine rules: one machine's journal, oldest first, read for the
 * known failure patterns of a network boot.  Each rule is a pure function
 * of (config snapshot, parsed events, now, file probe) that adds its
 * findings with their evidence; the table gives their order, which is the
 * order of likelihood when several fire.  docs/DOCTOR.md lists them.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "doctor/doctor.h"
#include "doctor/doctor_timeline.h"

#define QUIET_US IB_DOCTOR_QUIET_US
#define AGENT_WAIT_US IB_DOCTOR_AGENT_WAIT_US

struct ctx {
	const struct ib_doctor_mac_input *in;
	struct ib_dt t;			/* parsed events */
	struct ib_doctor_report *rep;
};

/* A rule: adds its findings to c->rep. */
struct rule {
	struct ib_doctor_rule_info info;
	void (*run)(struct ctx *c, const struct ib_doctor_rule_info *r);
};

static struct ib_doctor_finding *add(struct ctx *c, const struct ib_doctor_rule_info *r,
				     const char *cause, const char *fix)
{
	struct ib_doctor_finding *f = ib_doctor_add(c->rep, r->id, r->severity);

	if (f) {
		snprintf(f->cause, sizeof(f->cause), "%s", cause);
		snprintf(f->fix, sizeof(f->fix), "%s", fix);
	}
	return f;
}

__attribute__((format(printf, 2, 3)))
static void say(char *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, IB_DOCTOR_TEXT, fmt, ap);
	va_end(ap);
}

static bool is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* Index of the first event after i of protocol proto (NULL: any), or n. */
static size_t next_of(const struct ib_dt *t, size_t i, const char *proto)
{
	for (size_t k = i + 1; k < t->n; k++)
		if (!proto || is(t->v[k].proto, proto))
			return k;
	return t->n;
}

/* The events pred holds for: how many (a summary counts its repeats),
 * and the index of the newest in *ret_last (t->n: none). */
static long count_where(const struct ib_dt *t, bool (*pred)(const struct ib_dt_ev *e),
			size_t *ret_last)
{
	long n = 0;

	*ret_last = t->n;
	for (size_t i = 0; i < t->n; i++) {
		if (pred(&t->v[i])) {
			n += t->v[i].count;
			*ret_last = i;
		}
	}
	return n;
}

/* The index of the newest event pred holds for, or t->n. */
static size_t last_where(const struct ib_dt *t, bool (*pred)(const struct ib_dt_ev *e))
{
	size_t last;

	count_where(t, pred, &last);
	return last;
}

/* A later event of e's protocol and kind for the same file or path
 * succeeded (TFTP "transfer", HTTP 200): the failure was overcome. */
static bool later_success(const struct ib_dt *t, size_t i)
{
	const struct ib_dt_ev *e = &t->v[i];

	for (size_t k = i + 1; k < t->n; k++) {
		const struct ib_dt_ev *l = &t->v[k];

		if (strcmp(l->proto, e->proto) != 0)
			continue;
		if (is(l->proto, "tftp") && is(l->kind, "transfer") && is(l->file, e->file))
			return true;
		if (is(l->proto, "http") && l->status == 200 && is(l->path, e->path))
			return true;
	}
	return false;
}

/* The event stayed unanswered: nothing after it and it is QUIET_US old,
 * or the client started over (a later firmware DHCP). */
static bool stalled(const struct ctx *c, size_t i, const char *proto)
{
	size_t k = next_of(&c->t, i, proto);

	if (k < c->t.n)
		return false;
	for (k = i + 1; k < c->t.n; k++)
		if (ib_dt_firmware_dhcp(&c->t.v[k]))
			return true;
	return c->in->now_us - c->t.v[i].last_us >= QUIET_US;
}

static void r_never_seen(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	struct ib_doctor_finding *f;

	if (c->t.n)
		return;
	f = add(c, r, "ironboot has no event of this machine: its DHCP requests never "
		"reached the daemon (or were pruned from the journal)",
		"check that the machine netboots from this NIC, that its link or VLAN is one "
		"dhcp4.interfaces serves, and that a relay (ip helper-address) points at this host");
	if (f)
		say(f->evidence, "0 journal events for this MAC");
}

/* DHCP replies never followed by the next message of the exchange. */
static void offer_no_request(struct ctx *c, const struct ib_doctor_rule_info *r, bool v6)
{
	const char *ask = v6 ? "solicit" : "discover", *offer = v6 ? "advertise" : "offer";
	long n = 0;
	int64_t first = 0;
	size_t last = c->t.n;
	char t1[32], t2[32];
	struct ib_doctor_finding *f;

	for (size_t i = 0; i < c->t.n; i++) {
		const struct ib_dt_ev *e = &c->t.v[i];

		/* boot clients only (an arch, or iPXE): a phone that took
		 * another server's offer is none of the doctor's business */
		if (e->v6 == v6 && (e->v4 || e->v6) && is(e->kind, ask) && is(e->decision, offer) &&
		    (e->arch >= 0 || e->ipxe)) {
			if (!n)
				first = e->ts_us;
			n += e->count;
			last = i;
		} else if (e->v6 == v6 && (e->v4 || e->v6) && !is(e->kind, ask)) {
			n = 0;	/* the client answered: start counting again */
			last = c->t.n;
		} else if (!e->v4 && !e->v6 && last < c->t.n) {
			n = 0;
			last = c->t.n;
		}
	}
	if (last == c->t.n || (n < 2 && c->in->now_us - c->t.v[last].last_us < QUIET_US))
		return;
	ib_dt_time(first, t1, sizeof(t1));
	ib_dt_time(c->t.v[last].last_us, t2, sizeof(t2));
	f = add(c, r, v6 ? "the client never answered the ADVERTISEs with a REQUEST: the "
		"replies do not reach it (a relay that does not forward them back, a VLAN, "
		"or a firewall on UDP 546)" :
		"the client never answered the OFFERs with a REQUEST: the replies do not reach "
		"it (a relay that does not forward them back, a VLAN, or a reply source "
		"address the client or a firewall refuses)",
		v6 ? "capture on the client's link: do ADVERTISEs arrive?  Check the relay's "
		"return path and that the link-address maps to the right subnet" :
		"capture on the client's link: do OFFERs arrive?  Check the relay (giaddr) "
		"return path, VLAN tagging, and that replies leave from an address of the link");
	if (f)
		say(f->evidence, "%ld %s between %s and %s%s%s, then no REQUEST", n,
		    v6 ? "ADVERTISE(s)" : "OFFER(s)", t1, t2,
		    c->t.v[last].relay[0] ? " through relay " : "", c->t.v[last].relay);
}

static void r_offer_no_request(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	offer_no_request(c, r, false);
	offer_no_request(c, r, true);
}

/* A relayed request ignored for want of a subnet. */
static bool relay_refused(const struct ib_dt_ev *e)
{
	return (e->v4 || e->v6) && e->relay[0] && strstr(e->reason, "no subnet");
}

static void r_relay_no_subnet(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	size_t last;
	long n = count_where(&c->t, relay_refused, &last);
	char t[32];
	struct ib_doctor_finding *f;

	if (!n)
		return;
	ib_dt_time(c->t.v[last].last_us, t, sizeof(t));
	f = add(c, r, "the machine's requests come through a relay from a link no subnet of "
		"the config covers, so ironboot does not answer them",
		"add a subnet for the relay's link (the giaddr or link-address below) to dhcp4 "
		"or dhcp6, or point the relay at the server that serves that link");
	if (f)
		say(f->evidence, "%ld %s request(s) relayed from %s ignored, the last at %s", n,
		    c->t.v[last].v6 ? "DHCPv6" : "DHCPv4", c->t.v[last].relay, t);
}

/* A DHCPv6 answer to the firmware without a bootfile-url. */
static bool v6_no_url(const struct ib_dt_ev *e)
{
	return e->v6 && !e->ipxe && !e->file[0] &&
	       (is(e->decision, "advertise") || is(e->decision, "reply")) &&
	       (is(e->kind, "solicit") || is(e->kind, "request"));
}

/* A firmware answered without a boot file or URL for its architecture. */
static void r_no_bootfile(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	size_t i = last_where(&c->t, v6_no_url);
	const struct ib_dt_ev *e = &c->t.v[i];
	struct ib_doctor_finding *f;
	char t[32];

	if (i == c->t.n)
		return;
	ib_dt_time(e->ts_us, t, sizeof(t));
	f = add(c, r, "DHCPv6 answered the firmware without a bootfile-url (option 59) for its "
		"architecture, so it has nothing to boot over IPv6",
		"set the boot file of that arch: boot.efi_x64 / efi_arm64 (tftp://), "
		"boot.http6_x64 / http6_arm64 (UEFI HTTP), or dhcp6.default_arch for "
		"clients that send no option 61");
	if (f)
		say(f->evidence, "%s at %s, arch %d, answered with no bootfile-url (%s)",
		    e->kind, t, e->arch, e->reason);
}

/* What the TFTP server says when it refuses a request (tftp_server.c): the
 * name or mode asked for, not the load or the path. */
static bool tftp_refusal(const char *error)
{
	static const char *const refusals[] = { "file not found", "access violation",
						"file name too long", "unsupported mode",
						"malformed request" };

	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (is(error, refusals[i]))
			return true;
	return false;
}

/* A DHCPv4 ACK handing a firmware a TFTP boot file. */
static bool pxe_ack(const struct ib_dt_ev *e)
{
	return e->v4 && is(e->decision, "ack") && is(e->boot, "pxe") && e->file[0];
}

static void r_ack_no_tftp(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	size_t i = last_where(&c->t, pxe_ack);
	const struct ib_dt_ev *e = &c->t.v[i];
	struct ib_doctor_finding *f;
	uint8_t ns[4];
	bool elsewhere;
	char t[32];

	if (i == c->t.n || next_of(&c->t, i, "tftp") < c->t.n ||
	    next_of(&c->t, i, "http") < c->t.n)
		return;
	/* a TFTP request from its address came and was refused: not lost on
	 * the way (tftp-refused-unverified says what came of it) */
	if (c->t.n_unv_tftp && c->t.unv_tftp_at > i && tftp_refusal(c->t.unv_tftp.error))
		return;
	/* a next-server that is not us: no TFTP request will ever come */
	elsewhere = c->in->host && inet_pton(AF_INET, e->next_server, ns) == 1 &&
		    !ib_doctor_host_if(c->in->host, AF_INET, ns);
	if (!elsewhere && !stalled(c, i, "tftp"))
		return;
	ib_dt_time(e->ts_us, t, sizeof(t));
	if (elsewhere)
		f = add(c, r, "the machine was sent to fetch its boot file from a next-server "
			"that is not this host, so ironboot never sees its TFTP request",
			"leave boot.next_server unset (the serving interface's address), or set "
			"it to an address of this host; check the reservation's boot settings");
	else
		f = add(c, r, "the machine got its boot file name but never asked ironboot for "
			"it over TFTP: TFTP (UDP 69 and the transfer ports) is filtered on the "
			"way, or the next-server it was given is not this host",
			"check that the next-server below is this host and reachable from the "
			"client's link, and that no firewall drops UDP 69 or the replies");
	if (f)
		say(f->evidence, "ACK at %s: file %s, next-server %s; no TFTP read request after it",
		    t, e->file, e->next_server[0] ? e->next_server : "?");
}

static bool tftp_failed(const struct ib_dt_ev *e)
{
	return is(e->proto, "tftp") && is(e->kind, "transfer-failed");
}

static void r_tftp_failed(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	size_t i = last_where(&c->t, tftp_failed);
	const struct ib_dt_ev *e = &c->t.v[i];
	struct ib_doctor_finding *f;
	char t[32];

	if (i == c->t.n || next_of(&c->t, i, "http") < c->t.n || later_success(&c->t, i))
		return;		/* none, or it recovered */
	ib_dt_time(e->ts_us, t, sizeof(t));
	if (strstr(e->error, "not found"))
		f = add(c, r, "the boot file the machine asked for is not under tftp.root",
			"put the file under tftp.root, or fix the boot file name in the boot "
			"section (or the reservation's boot_file)");
	else
		f = add(c, r, "a TFTP transfer started and then timed out: the path drops the "
			"large blocks (MTU, or a blksize the path cannot carry) or the client "
			"stopped acknowledging",
			"lower tftp.max_blksize (e.g. 1408) or fix the link's MTU mismatch, and "
			"check for firewalls that drop fragments");
	if (f)
		say(f->evidence, "%s at %s: %s, %ld of %ld bytes, blksize %ld, %ld retransmits",
		    e->file, t, e->error, e->bytes, e->tsize, e->blksize, e->retransmits);
}

/*
 * A TFTP request from the address leased to the machine, refused (a file
 * that is not there, a wrong path).  Its client never answers a refusal,
 * so the event is unverified (the UDP source could be forged: issue #11)
 * and no error can rest on it; but the operator should still see it, as
 * a warning that says what it stands on.  Not once the machine went on
 * (a verified TFTP transfer or HTTP request after it).
 */
static void r_tftp_refused_unverified(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	const struct ib_dt_ev *e = &c->t.unv_tftp;
	struct ib_doctor_finding *f;
	char t[32], cause[IB_DOCTOR_TEXT];

	if (!c->t.n_unv_tftp || !tftp_refusal(e->error))
		return;
	for (size_t k = c->t.unv_tftp_at; k < c->t.n; k++)
		if ((is(c->t.v[k].proto, "tftp") && is(c->t.v[k].kind, "transfer")) ||
		    is(c->t.v[k].proto, "http"))
			return;		/* it went on */
	ib_dt_time(e->last_us, t, sizeof(t));
	say(cause, "a TFTP request for %s from the machine's leased address was refused: %s",
	    e->file[0] ? e->file : "?", e->error);
	f = add(c, r, cause, "if the machine asked for it: put the file under tftp.root, or "
		"fix the name it was given (boot section, reservation's boot_file, its iPXE "
		"script); a host that is not the machine may also have sent it");
	if (f)
		say(f->evidence, "unverified (source address only): %ld refused request(s) from "
		    "%s, the last at %s; a refused client never answers, so nothing proves "
		    "the machine sent them", c->t.n_unv_tftp, e->client[0] ? e->client : "?", t);
}

/* Each boot file handed to a firmware, checked against its architecture. */
static void r_bootfile_invalid(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	struct ib_doctor_file df;
	const char *seen[8] = { 0 };
	size_t n_seen = 0;

	if (!c->in->probe || !c->in->cfg->tftp.root)
		return;
	for (size_t i = 0; i < c->t.n && n_seen < 8; i++) {
		const struct ib_dt_ev *e = &c->t.v[i];
		struct ib_doctor_finding *f;
		const char *why;
		bool dup = false;
		int fw = ib_doctor_arch_firmware(e->arch);

		if (!e->v4 || !is(e->boot, "pxe") || !e->file[0] || fw < 0 || strstr(e->file, "://"))
			continue;
		for (size_t k = 0; k < n_seen; k++)
			dup |= is(seen[k], e->file);
		if (dup)
			continue;
		seen[n_seen++] = e->file;
		memset(&df, 0, sizeof(df));
		if (c->in->probe(c->in->probe_ctx, c->in->cfg->tftp.root, e->file, &df) < 0 ||
		    !df.exists || ib_doctor_file_suits(ib_doctor_file_classify(df.head, df.head_len,
						df.size), (enum ib_doctor_firmware)fw, &why))
			continue;
		f = add(c, r, "the boot file handed to this machine is not valid for its "
			"architecture, so the firmware refuses it",
			"put the right build under tftp.root (ipxe.efi for x86-64 UEFI, "
			"undionly.kpxe for BIOS, an arm64 build for arch 11) or fix the boot "
			"section's file for that arch");
		if (f)
			say(f->evidence, "%s handed out for arch %d: %s (%llu bytes)", e->file,
			    e->arch, why, (unsigned long long)df.size);
	}
}

/* Repeated DHCP and TFTP of the first stage, never reaching the script. */
static void r_chainload_loop(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	long loads = 0, ipxe_dhcp = 0;
	size_t first = c->t.n, last = 0;
	const char *file = NULL, *ipxe_file = NULL;
	char t1[32], t2[32];
	struct ib_doctor_finding *f;

	for (size_t i = 0; i < c->t.n; i++) {
		const struct ib_dt_ev *e = &c->t.v[i];

		if (is(e->proto, "http") && is(e->kind, "script")) {
			loads = ipxe_dhcp = 0;		/* the chain got past iPXE */
			first = c->t.n;
		} else if (is(e->proto, "tftp") && is(e->kind, "transfer")) {
			if (first == c->t.n)
				first = i;
			loads += e->count;
			last = i;
			file = e->file;
		} else if (e->v4 && e->ipxe && first < c->t.n) {
			ipxe_dhcp += e->count;
			if (e->file[0])
				ipxe_file = e->file;
		}
	}
	if (loads < 2 || !file)
		return;
	ib_dt_time(c->t.v[first].ts_us, t1, sizeof(t1));
	ib_dt_time(c->t.v[last].last_us, t2, sizeof(t2));
	if (ipxe_dhcp && ipxe_file && !strstr(ipxe_file, "://"))
		f = add(c, r, "chainload loop: iPXE asks again with user class iPXE but is "
			"handed the first-stage file again instead of its script URL",
			"set boot.ipxe_script (the URL of /boot.ipxe) so iPXE's own DHCP gets the "
			"script, and check reservations' boot_file/script_url");
	else
		f = add(c, r, "chainload loop: the machine loads the first-stage file again and "
			"again, and no DHCP request carries user class iPXE, so the loaded file "
			"never asks for its script (it is not iPXE, or it restarts the firmware)",
			"make the boot file an iPXE build (ipxe.efi, undionly.kpxe) and set "
			"boot.ipxe_script; a vendor loader needs its own config instead");
	if (f)
		say(f->evidence, "%ld TFTP transfers of %s between %s and %s; %ld DHCP requests "
		    "with user class iPXE%s%s", loads, file, t1, t2, ipxe_dhcp,
		    ipxe_file ? ", answered with file " : "", ipxe_file ? ipxe_file : "");
}

/* The profile that names asset path (under /assets/), and which part. */
static const struct ib_profile *asset_owner(const struct ib_config *cfg, const char *path,
					    const char **ret_part)
{
	const char *a = strncmp(path, "/assets/", 8) == 0 ? path + 8 : path;

	for (size_t i = 0; i < cfg->n_profiles; i++) {
		const struct ib_profile *p = &cfg->profiles[i];

		if (p->kernel && is(p->kernel, a)) {
			*ret_part = "kernel";
			return p;
		}
		for (size_t k = 0; k < p->n_initrd; k++) {
			if (is(p->initrd[k], a)) {
				*ret_part = "initrd";
				return p;
			}
		}
	}
	*ret_part = "asset";
	return NULL;
}

/* An HTTP 404 or 422 on what a boot fetches. */
static bool http_refused(const struct ib_dt_ev *e)
{
	return is(e->proto, "http") && (e->status == 404 || e->status == 422) &&
	       (is(e->kind, "script") || is(e->kind, "asset") || is(e->kind, "config"));
}

static void r_http_missing(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	size_t i = last_where(&c->t, http_refused);
	const struct ib_dt_ev *e = &c->t.v[i];
	const struct ib_profile *p;
	struct ib_doctor_finding *f;
	const char *part;
	char t[32], cause[IB_DOCTOR_TEXT];

	if (i == c->t.n || later_success(&c->t, i))
		return;
	ib_dt_time(e->ts_us, t, sizeof(t));
	if (is(e->kind, "asset")) {
		p = asset_owner(c->in->cfg, e->path, &part);
		say(cause, "the %s %s%s%s is missing under http.assets (HTTP %d), so iPXE "
		    "cannot boot it", part, e->path, p ? " of profile " : "", p ? p->name : "",
		    e->status);
	} else {
		say(cause, "the %s of profile %s could not be served (HTTP %d: %s)", e->kind,
		    e->profile[0] ? e->profile : "-", e->status, e->error[0] ? e->error : "-");
	}
	f = add(c, r, cause, is(e->kind, "asset") ?
		"put the file under http.assets, or fix the profile's kernel/initrd path" :
		"fix the profile's script or template (`ironboot explain --mac M` renders it)");
	if (f)
		say(f->evidence, "GET %s answered %d at %s", e->path, e->status, t);
}

static bool script_served(const struct ib_dt_ev *e)
{
	return is(e->proto, "http") && is(e->kind, "script") && e->status == 200;
}

static void r_no_group(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	size_t i = last_where(&c->t, script_served);
	struct ib_doctor_finding *f;
	char t[32];

	if (i == c->t.n || c->t.v[i].group[0] || next_of(&c->t, i, "http") < c->t.n)
		return;
	ib_dt_time(c->t.v[i].ts_us, t, sizeof(t));
	f = add(c, r, "no group matched this machine and there is no default group, so its "
		"script tells iPXE to exit to the next boot device",
		"add a group whose selector matches the machine (or a default group with an "
		"empty selector)");
	if (f)
		say(f->evidence, "script at %s without a group", t);
}

/* Told to boot from its disk (a local profile, or the lifecycle's
 * installed state), and back on the network afterwards. */
static bool local_boot_event(const struct ib_dt_ev *e)
{
	return is(e->proto, "machine") && is(e->kind, "local-boot-ignored");
}

/* A script served with a profile that boots from disk. */
static bool told_local(const struct ctx *c, const struct ib_dt_ev *e)
{
	if (!is(e->proto, "http") || !is(e->kind, "script") || e->status != 200)
		return false;
	for (size_t k = 0; k < c->in->cfg->n_profiles; k++)
		if (is(c->in->cfg->profiles[k].name, e->profile))
			return c->in->cfg->profiles[k].boot == IB_BOOT_LOCAL;
	return false;
}

/* The firmware netboots that followed a boot-from-disk script: how many,
 * the newest in *ret_last (c->t.n: none). */
static long netboots_after_local(const struct ctx *c, size_t *ret_last)
{
	long n = 0;

	*ret_last = c->t.n;
	for (size_t i = 0; i < c->t.n; i++) {
		if (!told_local(c, &c->t.v[i]))
			continue;
		for (size_t k = i + 1; k < c->t.n; k++) {
			const struct ib_dt_ev *e = &c->t.v[k];

			if (ib_dt_firmware_dhcp(e) && is(e->kind, e->v6 ? "solicit" : "discover")) {
				n++;
				*ret_last = k;
				break;
			}
		}
	}
	return n;
}

static void r_local_boot_ignored(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	size_t moved, booted, last;
	/* the lifecycle's own finding (an installed machine), and the
	 * profiles' boot: local */
	long n = count_where(&c->t, local_boot_event, &moved) + netboots_after_local(c, &booted);
	char t[32];
	struct ib_doctor_finding *f;

	if (!n)
		return;
	last = moved == c->t.n ? booted : booted == c->t.n ? moved :
	       moved > booted ? moved : booted;
	ib_dt_time(c->t.v[last].ts_us, t, sizeof(t));
	f = add(c, r, "the machine was told to boot from its disk and netbooted again: the "
		"disk does not boot (no boot loader, or the firmware's boot order skips it)",
		"check the installed system's boot loader and the firmware's boot order; "
		"`sanboot` (local_method) suits BIOS disks that `exit` does not reach");
	if (f)
		say(f->evidence, "%ld netboot(s) after a boot-from-disk answer, the last at %s",
		    n, t);
}

static bool agent_asset(const struct ib_config *cfg, const char *path)
{
	const char *a = strncmp(path, "/assets/", 8) == 0 ? path + 8 : path;

	return cfg->lifecycle.enabled &&
	       ((cfg->lifecycle.agent_kernel && is(a, cfg->lifecycle.agent_kernel)) ||
		(cfg->lifecycle.agent_initrd && is(a, cfg->lifecycle.agent_initrd)));
}

static void r_agent_silent(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	size_t boot = c->t.n, again = 0;
	char t[32];
	struct ib_doctor_finding *f;

	for (size_t i = 0; i < c->t.n; i++) {
		const struct ib_dt_ev *e = &c->t.v[i];

		if (is(e->proto, "http") && is(e->kind, "asset") && e->status == 200 &&
		    agent_asset(c->in->cfg, e->path)) {
			boot = i;
			again = 0;
		} else if ((is(e->proto, "http") && strstr(e->path, "/api/v1/agent/") &&
			    e->status >= 200 && e->status < 300) ||
			   (is(e->proto, "machine") && is(e->by, "agent")) ||
			   is(e->proto, "agent")) {
			boot = c->t.n;		/* it reported */
		} else if (boot < c->t.n && ib_dt_firmware_dhcp(e)) {
			again += (size_t)e->count;	/* the machine started over */
		}
	}
	if (boot == c->t.n || (!again && c->in->now_us - c->t.v[boot].ts_us < AGENT_WAIT_US))
		return;
	ib_dt_time(c->t.v[boot].ts_us, t, sizeof(t));
	f = add(c, r, "the machine fetched the agent image but the agent never reported: it "
		"did not start, found no network, or cannot reach the daemon's API",
		"watch the machine's console; check that the agent's ib.server reaches "
		"http.listen, and that the agent image suits the machine");
	if (f)
		say(f->evidence, "agent image fetched at %s; no agent request in the %lld s since%s",
		    t, (long long)((c->in->now_us - c->t.v[boot].ts_us) / 1000000),
		    again ? ", and the machine netbooted again" : "");
}

static bool machine_move(const struct ib_dt_ev *e)
{
	return is(e->proto, "machine");
}

static void r_lifecycle_failed(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	size_t i = last_where(&c->t, machine_move);
	const struct ib_dt_ev *e = &c->t.v[i];
	struct ib_doctor_finding *f;
	char t[32], cause[IB_DOCTOR_TEXT];

	if (i == c->t.n || !is(e->kind, "fail"))
		return;		/* the latest move is not a failure */
	ib_dt_time(e->ts_us, t, sizeof(t));
	say(cause, "the lifecycle step %s failed: %s", e->step[0] ? e->step : "?",
	    e->reason[0] ? e->reason : "no reason given");
	f = add(c, r, cause, "fix the cause, then `ironboot machines reset MAC` to start over "
		"(docs/LIFECYCLE.md)");
	if (f)
		say(f->evidence, "fail at %s by %s", t, e->by[0] ? e->by : "?");
}

static const struct rule rules[] = {
	{ { "never-seen", IB_DOCTOR_ERROR, "no event of the machine at all" }, r_never_seen },
	{ { "relay-no-subnet", IB_DOCTOR_ERROR,
	    "a relayed request from a link no subnet covers" }, r_relay_no_subnet },
	{ { "offer-no-request", IB_DOCTOR_ERROR,
	    "OFFERs or ADVERTISEs never followed by a REQUEST" }, r_offer_no_request },
	{ { "dhcp6-no-bootfile", IB_DOCTOR_ERROR,
	    "DHCPv6 without a bootfile-url for the client's architecture" }, r_no_bootfile },
	{ { "ack-no-tftp", IB_DOCTOR_ERROR, "an ACK with no TFTP read request after it" },
	  r_ack_no_tftp },
	{ { "bootfile-invalid", IB_DOCTOR_ERROR,
	    "a boot file that is not valid for the client's architecture" }, r_bootfile_invalid },
	{ { "tftp-failed", IB_DOCTOR_ERROR,
	    "a TFTP transfer that fails (file missing, or times out)" }, r_tftp_failed },
	{ { "tftp-refused-unverified", IB_DOCTOR_WARNING,
	    "a TFTP request from the machine's leased address refused (file missing, "
	    "bad name); unverified: the source address could be forged" },
	  r_tftp_refused_unverified },
	{ { "chainload-loop", IB_DOCTOR_ERROR,
	    "repeated DHCP and TFTP of the first stage, no DHCP with user class iPXE" },
	  r_chainload_loop },
	{ { "http-missing", IB_DOCTOR_ERROR,
	    "an HTTP 404 or 422 on the script, kernel, initrd or config" }, r_http_missing },
	{ { "no-group", IB_DOCTOR_WARNING, "no group matched the machine" }, r_no_group },
	{ { "local-boot-ignored", IB_DOCTOR_WARNING,
	    "told to boot from disk, and netbooted again" }, r_local_boot_ignored },
	{ { "agent-silent", IB_DOCTOR_ERROR, "an agent that never reported" }, r_agent_silent },
	{ { "lifecycle-failed", IB_DOCTOR_ERROR, "a lifecycle step that failed" },
	  r_lifecycle_failed },
};

const struct ib_doctor_rule_info *ib_doctor_mac_rule(size_t i)
{
	return i < sizeof(rules) / sizeof(rules[0]) ? &rules[i].info : NULL;
}

/* How far the chain got: the furthest stage of the last boot attempt. */
static void chain_stop(const struct ctx *c, char *out)
{
	static const char *const names[] = { "nothing", "DHCP offer", "DHCP ack",
		"TFTP of the boot file", "iPXE's DHCP", "the boot script", "the kernel/initrd",
		"the agent" };
	int best = 0;
	size_t at = 0, attempts = 0;
	char t[32];

	for (size_t i = 0; i < c->t.n; i++) {
		const struct ib_dt_ev *e = &c->t.v[i];
		int s = 0;

		if (ib_dt_firmware_dhcp(e) && (is(e->kind, "discover") || is(e->kind, "solicit"))) {
			attempts += (size_t)e->count;
			best = 0;
		}
		if ((e->v4 || e->v6) && !e->ipxe)
			s = is(e->decision, "ack") || is(e->decision, "reply") ? 2 :
			    is(e->decision, "offer") || is(e->decision, "advertise") ? 1 : 0;
		else if ((e->v4 || e->v6) && e->ipxe)
			s = 4;
		else if (is(e->proto, "tftp") && is(e->kind, "transfer"))
			s = 3;
		else if (is(e->proto, "http") && e->status == 200)
			s = is(e->kind, "script") ? 5 : is(e->kind, "asset") ? 6 : 7;
		if (s >= best) {
			best = s;
			at = i;
		}
	}
	if (!c->t.n) {
		say(out, "never seen");
		return;
	}
	ib_dt_time(c->t.v[at].last_us, t, sizeof(t));
	say(out, "reached %s at %s (%zu firmware DHCP request(s) in %zu events)", names[best],
	    t, attempts, c->t.n);
}

size_t ib_doctor_mac(const struct ib_doctor_mac_input *in, struct ib_doctor_report *ret)
{
	struct ctx c = { .in = in, .rep = ret };

	memset(ret, 0, sizeof(*ret));
	if (ib_dt_parse(in->ev, in->n_ev, &c.t) < 0) {
		say(ret->stopped, "out of memory");
		return 0;
	}
	chain_stop(&c, ret->stopped);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		rules[i].run(&c, &rules[i].info);
	ib_dt_done(&c.t);
	ib_doctor_scrub(ret);
	return ret->n;
}
