/*
 * The setup rules: the config snapshot against the host it runs on, the
 * files it names and what the journal saw.  Pure: the caller gathered the
 * host's addresses, listening sockets, pool use and recent events, and
 * supplies the file probe.  docs/DOCTOR.md lists the rules.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot_arch.h"
#include "boot/boot_plan.h"
#include "dhcp4/dhcp4_codec.h"
#include "dhcp4/dhcp4_policy.h"
#include "dhcp6/dhcp6_policy.h"
#include "doctor/doctor.h"
#include "doctor/doctor_timeline.h"

struct ctx {
	const struct ib_config *cfg;
	const struct ib_doctor_host *h;
	struct ib_doctor_report *rep;
	struct ib_doctor_file file;	/* the probe's answer (4 KB) */
};

struct rule {
	struct ib_doctor_rule_info info;
	void (*run)(struct ctx *c, const struct ib_doctor_rule_info *r);
};

__attribute__((format(printf, 3, 4)))
static struct ib_doctor_finding *add(struct ctx *c, const struct ib_doctor_rule_info *r,
				     const char *fmt, ...)
{
	struct ib_doctor_finding *f = ib_doctor_add(c->rep, r->id, r->severity);
	va_list ap;

	if (f) {
		va_start(ap, fmt);
		vsnprintf(f->cause, sizeof(f->cause), fmt, ap);
		va_end(ap);
	}
	return f;
}

const char *ib_doctor_host_if(const struct ib_doctor_host *h, int family, const void *a)
{
	for (size_t i = 0; i < h->n_addrs; i++)
		if (h->addrs[i].family == family &&
		    memcmp(h->addrs[i].addr, a, family == AF_INET ? 4 : 16) == 0)
			return h->addrs[i].ifname;
	return NULL;
}

/* The host part of an http(s)/tftp URL as an address: family, or 0 when
 * the URL names a host by name (not checked). */
static int url_addr(const char *url, uint8_t out[16], char *text, size_t cap)
{
	const char *p = strstr(url, "://"), *end;
	size_t n;

	if (!p)
		return 0;
	p += 3;
	if (*p == '[') {
		end = strchr(++p, ']');
	} else {
		end = p + strcspn(p, ":/?");
	}
	n = end ? (size_t)(end - p) : 0;
	if (!n || n >= cap)
		return 0;
	memcpy(text, p, n);
	text[n] = '\0';
	if (inet_pton(AF_INET, text, out) == 1)
		return AF_INET;
	return inet_pton(AF_INET6, text, out) == 1 ? AF_INET6 : 0;
}

static bool serves_if(const struct ib_config *cfg, const char *ifname)
{
	if (!cfg->dhcp4.n_interfaces)
		return true;	/* all interfaces */
	for (size_t i = 0; i < cfg->dhcp4.n_interfaces; i++)
		if (strcmp(cfg->dhcp4.interfaces[i], ifname) == 0)
			return true;
	return false;
}

/* An address handed to clients: which key names it, and the address. */
struct handed {
	const char *what;		/* the config key */
	int family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];		/* 4 or 16 bytes */
	char text[64];			/* as text */
};

/* One address handed to clients is this host's, on a serving interface. */
static void check_handed(struct ctx *c, const struct ib_doctor_rule_info *r,
			 const struct handed *h)
{
	const char *ifn = ib_doctor_host_if(c->h, h->family, h->addr);
	struct ib_doctor_finding *f;

	if (!ifn) {
		f = add(c, r, "%s points clients at %s, which is not an address of this host "
			"(a load balancer VIP, another server, or an interface that is down)",
			h->what, h->text);
		if (f) {
			snprintf(f->fix, sizeof(f->fix), "use an address of this host on the "
				 "interface that serves the clients, or make sure %s serves "
				 "what ironboot would", h->text);
			snprintf(f->evidence, sizeof(f->evidence), "%s = %s; the host has %zu "
				 "addresses, none of them this one", h->what, h->text, c->h->n_addrs);
		}
	} else if (h->family == AF_INET && !serves_if(c->cfg, ifn) && strcmp(ifn, "lo") != 0) {
		f = add(c, r, "%s is %s, an address of %s, which is not one of the interfaces "
			"dhcp4 serves: clients there may not reach it", h->what, h->text, ifn);
		if (f) {
			f->severity = IB_DOCTOR_WARNING;
			snprintf(f->fix, sizeof(f->fix), "hand out the address of the serving "
				 "interface (dhcp4.interfaces), or leave next_server unset");
			snprintf(f->evidence, sizeof(f->evidence), "%s on %s", h->text, ifn);
		}
	}
}

/* The addresses a service binds (not wildcards) are this host's: one
 * bound before its address is up serves nobody until it is. */
static void check_listen(struct ctx *c, const struct ib_doctor_rule_info *r, const char *what,
			 char *const *list, size_t n)
{
	static const uint8_t any[16];
	struct handed h;

	for (size_t i = 0; list && i < n; i++) {
		h = (struct handed){ .what = what };
		snprintf(h.text, sizeof(h.text), "%s", list[i]);
		h.family = inet_pton(AF_INET, list[i], h.addr) == 1 ? AF_INET :
			   inet_pton(AF_INET6, list[i], h.addr) == 1 ? AF_INET6 : 0;
		if (h.family && memcmp(h.addr, any, h.family == AF_INET ? 4 : 16) != 0)
			check_handed(c, r, &h);
	}
}

static void r_addresses(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	const struct ib_boot_config *b = &c->cfg->boot;
	const struct { const char *what, *url; } urls[] = {
		{ "boot.ipxe_script", b->ipxe_script_url }, { "boot.http_x64", b->http_url_x64 },
		{ "boot.http_arm64", b->http_url_arm64 }, { "boot.ipxe_script6", b->ipxe_script_url6 },
		{ "boot.http6_x64", b->http_url6_x64 }, { "boot.http6_arm64", b->http_url6_arm64 },
		{ "http.base_url", c->cfg->http.base_url },
	};
	struct handed h;

	if (b->next_server) {
		uint32_t n = htonl(b->next_server);

		h = (struct handed){ .what = "boot.next_server", .family = AF_INET };
		memcpy(h.addr, &n, 4);
		inet_ntop(AF_INET, &n, h.text, sizeof(h.text));
		check_handed(c, r, &h);
	}
	if (b->has_next_server6) {
		h = (struct handed){ .what = "boot.next_server6", .family = AF_INET6 };
		memcpy(h.addr, b->next_server6, 16);
		inet_ntop(AF_INET6, b->next_server6, h.text, sizeof(h.text));
		check_handed(c, r, &h);
	}
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		h = (struct handed){ .what = urls[i].what };
		if (urls[i].url &&
		    (h.family = url_addr(urls[i].url, h.addr, h.text, sizeof(h.text))))
			check_handed(c, r, &h);
	}
	check_listen(c, r, "tftp.listen", c->cfg->tftp.enabled ? c->cfg->tftp.listen : NULL,
		     c->cfg->tftp.n_listen);
	check_listen(c, r, "http.listen", c->cfg->http.enabled ? c->cfg->http.listen : NULL,
		     c->cfg->http.n_listen);
}

/* Probes name under root; true when the file exists (c->file filled). */
static bool probe(struct ctx *c, const char *root, const char *name)
{
	memset(&c->file, 0, sizeof(c->file));
	return c->h->probe && (root || strstr(name, "://")) &&
	       c->h->probe(c->h->probe_ctx, root, name, &c->file) == 0 && c->file.exists;
}

/* A boot file to check: where it is, and the firmware it is for. */
struct bootfile {
	const char *key;		/* the config key naming it */
	const char *rootkey;		/* "tftp.root" or "http.assets" */
	const char *root;		/* that directory */
	const char *name;		/* the file under it */
	enum ib_doctor_firmware fw;	/* who loads it */
};

/* One boot file exists and suits its firmware. */
static void check_bootfile(struct ctx *c, const struct ib_doctor_rule_info *r,
			   const struct bootfile *bf)
{
	struct ib_doctor_finding *f;
	enum ib_doctor_file_kind k;
	const char *why;

	if (!probe(c, bf->root, bf->name)) {
		if ((f = add(c, r, "%s names %s, which is not under %s %s", bf->key, bf->name,
			     bf->rootkey, bf->root))) {
			snprintf(f->fix, sizeof(f->fix), "copy the file there (Debian's ipxe "
				 "package installs them in /usr/lib/ipxe), or fix %s", bf->key);
			snprintf(f->evidence, sizeof(f->evidence), "%s/%s: %s", bf->root, bf->name,
				 c->file.error[0] ? c->file.error : "not found");
		}
		return;
	}
	k = ib_doctor_file_classify(c->file.head, c->file.head_len, c->file.size);
	if (ib_doctor_file_suits(k, bf->fw, &why))
		return;
	if ((f = add(c, r, "%s is %s, which its firmware cannot boot: %s", bf->key, bf->name,
		     why))) {
		snprintf(f->fix, sizeof(f->fix), "replace %s/%s with the right build (fetch it "
			 "again if it was downloaded)", bf->root, bf->name);
		snprintf(f->evidence, sizeof(f->evidence), "%s: %s, %llu bytes", bf->name,
			 ib_doctor_file_kind_str(k), (unsigned long long)c->file.size);
	}
}

/* The asset a UEFI HTTP boot URL of ours names (base_url/assets/NAME),
 * into out; false for another server's URL. */
static bool our_asset(const struct ib_config *cfg, const char *url, char *out, size_t cap)
{
	size_t n = cfg->http.base_url ? strlen(cfg->http.base_url) : 0;
	const char *p = url + n;

	if (!n || strncmp(url, cfg->http.base_url, n) != 0 || strncmp(p, "/assets/", 8) != 0)
		return false;
	p += 8;
	n = strcspn(p, "?#");
	if (!n || n >= cap)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* One key of the boot section: a TFTP file under tftp.root, or a UEFI
 * HTTP boot URL of ours under http.assets (others' URLs are not ours to read). */
static void check_key(struct ctx *c, const struct ib_doctor_rule_info *r, const char *key,
		      const char *file, enum ib_doctor_firmware fw)
{
	struct bootfile bf = { .key = key, .fw = fw };
	char name[256];

	if (!strstr(file, "://") && c->cfg->tftp.enabled) {
		bf.rootkey = "tftp.root";
		bf.root = c->cfg->tftp.root;
		bf.name = file;
		check_bootfile(c, r, &bf);
	} else if (c->cfg->http.enabled && c->cfg->http.assets &&
		   our_asset(c->cfg, file, name, sizeof(name))) {
		bf.rootkey = "http.assets";
		bf.root = c->cfg->http.assets;
		bf.name = name;
		check_bootfile(c, r, &bf);
	}
}

/* The boot files of the boot section, by firmware: TFTP files under
 * tftp.root, UEFI HTTP boot URLs of ours under http.assets. */
static void r_bootfiles(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	const struct ib_boot_arch *a;
	const char *done[16];
	size_t n_done = 0;
	char key[96];

	if (!c->h->probe)
		return;
	/* a reservation's boot_file goes to whatever firmware the machine has */
	for (size_t i = 0; c->cfg->tftp.enabled && i < c->cfg->dhcp4.n_subnets; i++) {
		const struct ib_subnet4 *sn = &c->cfg->dhcp4.subnets[i];

		for (size_t k = 0; k < sn->n_reservations; k++) {
			const char *file = sn->reservations[k].boot.boot_file;
			struct bootfile bf = { .key = key, .rootkey = "tftp.root",
					       .root = c->cfg->tftp.root, .name = file,
					       .fw = IB_DFW_ANY };

			if (!file || strstr(file, "://"))
				continue;
			snprintf(key, sizeof(key), "reservation %zu of subnet %zu's boot_file",
				 k + 1, i + 1);
			check_bootfile(c, r, &bf);
		}
	}
	/* each key of the firmware table once: arch 7 and 9 share boot.efi_x64 */
	for (size_t i = 0; (a = ib_boot_arch_at(i)); i++) {
		for (int v6 = 0; v6 < 2; v6++) {
			const char *k = v6 ? a->v6_key : a->v4_key;
			const char *file = ib_boot_arch_file(&c->cfg->boot, a, v6);
			bool dup = false;

			for (size_t d = 0; d < n_done; d++)
				dup |= strcmp(done[d], k ? k : "") == 0;
			if (!k || !file || dup || n_done == sizeof(done) / sizeof(done[0]))
				continue;
			done[n_done++] = k;
			check_key(c, r, k, file, (enum ib_doctor_firmware)ib_doctor_arch_firmware(a->arch));
		}
	}
}

static void check_asset(struct ctx *c, const struct ib_doctor_rule_info *r, const char *owner,
			const char *path)
{
	bool url = path && strstr(path, "://");
	struct ib_doctor_finding *f;

	/* a URL: the probe asks its server (HEAD) */
	if (!path || probe(c, url ? NULL : c->cfg->http.assets, path))
		return;
	if (url)
		f = add(c, r, "%s names %s, which does not answer a HEAD request", owner, path);
	else
		f = add(c, r, "%s names %s, which is not under http.assets %s", owner, path,
			c->cfg->http.assets ? c->cfg->http.assets : "(unset)");
	if (f) {
		snprintf(f->fix, sizeof(f->fix), url ? "fix the URL, or the server that should "
			 "serve it" : "put the file under http.assets (a symlink will do), or "
			 "fix the path");
		snprintf(f->evidence, sizeof(f->evidence), "%s: %s", path,
			 c->file.error[0] ? c->file.error : "not found");
	}
}

static void r_assets(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	char owner[128];

	if (!c->cfg->http.enabled || !c->h->probe)
		return;
	for (size_t i = 0; i < c->cfg->n_profiles; i++) {
		const struct ib_profile *p = &c->cfg->profiles[i];

		if (p->boot != IB_BOOT_KERNEL)
			continue;
		snprintf(owner, sizeof(owner), "profile %s's kernel", p->name);
		check_asset(c, r, owner, p->kernel);
		snprintf(owner, sizeof(owner), "profile %s's initrd", p->name);
		for (size_t k = 0; k < p->n_initrd; k++)
			check_asset(c, r, owner, p->initrd[k]);
	}
	if (c->cfg->lifecycle.enabled) {
		check_asset(c, r, "lifecycle.agent_kernel", c->cfg->lifecycle.agent_kernel);
		check_asset(c, r, "lifecycle.agent_initrd", c->cfg->lifecycle.agent_initrd);
	}
}

/* Every profile's script, rendered for a sample machine of its group. */
static void r_scripts(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	struct ib_facts facts = { .mac = "52:54:00:12:34:56", .hostname = "sample",
				  .arch = "x86_64", .platform = "efi" };

	for (size_t i = 0; i < c->cfg->n_profiles; i++) {
		const struct ib_profile *p = &c->cfg->profiles[i];
		struct ib_boot_plan plan = { .profile = p };
		char err[IB_BOOT_ERRLEN] = "";
		struct ib_doctor_finding *f;
		struct ib_tpl_out out;
		json_t *v;
		int rr;

		for (size_t g = 0; g < c->cfg->n_groups && !plan.group; g++)
			if (c->cfg->groups[g].profile_idx == i)
				plan.group = &c->cfg->groups[g];
		ib_tpl_out_init(&out, 0);
		v = ib_boot_values(c->cfg, &facts, &plan);
		rr = v ? ib_boot_render_script(c->cfg, &plan, v, &out, err) : -1;
		if (rr == 0 && strncmp(out.buf, "#!ipxe", 6) == 0 &&
		    (out.buf[6] == '\n' || out.buf[6] == '\r' || out.buf[6] == ' '))
			rr = 1;
		for (size_t k = 0; rr == 1 && v && k < p->n_configs; k++) {
			ib_tpl_out_done(&out);
			ib_tpl_out_init(&out, 0);
			if (ib_boot_render_config(c->cfg, &plan, v, p->configs[k].name, &out, err) < 0) {
				f = add(c, r, "profile %s's config %s does not render for a sample "
					"machine: %s", p->name, p->configs[k].name, err);
				if (f)
					snprintf(f->fix, sizeof(f->fix), "fix the template %s",
						 p->configs[k].template);
			}
		}
		json_decref(v);
		ib_tpl_out_done(&out);
		if (rr == 1)
			continue;
		f = add(c, r, "profile %s's boot script %s for a sample machine", p->name,
			rr < 0 ? "does not render" : "does not start with #!ipxe");
		if (f) {
			snprintf(f->fix, sizeof(f->fix), "fix the profile's script%s%s (`ironboot "
				 "explain --mac M` shows the render)", p->script ? " " : "",
				 p->script ? p->script : "");
			snprintf(f->evidence, sizeof(f->evidence), "%s", err[0] ? err : "-");
		}
	}
}

static void r_default_group(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	struct ib_doctor_finding *f;
	size_t n = 0, len = 0;
	char list[IB_DOCTOR_TEXT] = "";

	for (size_t g = 0; g < c->cfg->n_groups; g++)
		if (c->cfg->groups[g].specificity == 0)
			return;
	for (size_t i = 0; i < c->cfg->n_machines; i++) {
		const struct ib_machine *m = &c->cfg->machines[i];
		struct ib_facts facts = { .hostname = m->hostname, .uuid = m->uuid,
					  .serial = m->serial };
		struct ib_boot_plan plan;

		snprintf(facts.mac, sizeof(facts.mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 m->mac[0], m->mac[1], m->mac[2], m->mac[3], m->mac[4], m->mac[5]);
		if (ib_boot_plan(c->cfg, &facts, &plan) < 0 || plan.group)
			continue;
		n++;
		if (len + 20 < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
						len ? " " : "", facts.mac);
	}
	f = add(c, r, n ? "there is no default group and %zu machine(s) of the inventory "
		"match no group: their script tells iPXE to exit" :
		"there is no default group: a machine no group matches gets a script that "
		"tells iPXE to exit", n);
	if (f) {
		f->severity = n ? IB_DOCTOR_WARNING : IB_DOCTOR_INFO;
		snprintf(f->fix, sizeof(f->fix), "add a group with an empty selector, or "
			 "selectors for the machines listed");
		snprintf(f->evidence, sizeof(f->evidence), "%s", n ? list : "no group without "
			 "a selector");
	}
}

/*
 * The boot file or URL the daemon's own decision (ib_boot_decide, as
 * `ironboot explain` runs it) hands a client of arch (iPXE when ipxe),
 * or NULL; *why says which rule.
 */
static const char *v4_answer(const struct ib_config *cfg, int arch, bool ipxe, const char **why)
{
	struct ib_dhcp4_sample s = { .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 }, .arch = arch,
				     .ipxe = ipxe };
	struct ib_dhcp4_msg *m = malloc(sizeof(*m));
	struct ib_boot_answer a = { .why = "out of memory" };

	if (m && ib_dhcp4_sample_discover(&s, m) == 0)
		ib_boot_decide(cfg, m, NULL, &a);
	free(m);
	*why = a.why;
	return a.file;
}

/*
 * The bootfile-url the daemon's DHCPv6 decision (ib_boot6_decide) hands a
 * SOLICIT with option 61 arch (user class iPXE when ipxe), or NULL; *why
 * says which rule.  The URL is written into url (IB_DHCP6_URL_MAX).
 */
static const char *v6_answer(const struct ib_config *cfg, int arch, bool ipxe, char *url,
			     const char **why)
{
	struct ib_dhcp6_msg *m = calloc(1, sizeof(*m));
	struct ib_boot6_answer b = { .client = IB_BOOT6_NONE, .why = "out of memory" };
	uint8_t srv[16] = { 0xfd };	/* any address: only whether a URL comes back counts */

	if (m) {
		m->arch[0] = (uint16_t)arch;
		m->n_arch = 1;
		m->user_class_ipxe = ipxe;
		ib_boot6_decide(cfg, m, NULL, srv, &b);
	}
	free(m);
	*why = b.why;
	snprintf(url, IB_DHCP6_URL_MAX, "%s", b.url);
	return b.client == IB_BOOT6_NONE ? NULL : url;
}

/* iPXE's own DHCP (user class iPXE) is handed a script URL, over both
 * families: without one iPXE has nothing to boot. */
static void ipxe_coverage(struct ctx *c, const struct ib_doctor_rule_info *r, char *url)
{
	bool v4 = c->cfg->dhcp4.enabled, v6 = c->cfg->dhcp6.enabled;
	const char *why4 = "", *why6 = "";
	struct ib_doctor_finding *f;

	v4 = v4 && !v4_answer(c->cfg, 7, true, &why4);
	v6 = v6 && !v6_answer(c->cfg, 7, true, url, &why6);
	if ((!v4 && !v6) ||
	    !(f = add(c, r, "iPXE's own DHCP%s (user class iPXE) gets no script URL, so iPXE "
		      "has nothing to boot (with a server that hands it the first-stage file "
		      "instead, a chainload loop)", v4 && v6 ? " and DHCPv6" : v6 ? "v6" : "")))
		return;
	f->severity = IB_DOCTOR_ERROR;
	snprintf(f->fix, sizeof(f->fix), "set %s%s%s to the URL of /boot.ipxe (see "
		 "examples/lab.yaml)", v4 ? "boot.ipxe_script" : "", v4 && v6 ? " and " : "",
		 v6 ? "boot.ipxe_script6" : "");
	snprintf(f->evidence, sizeof(f->evidence), "%s%s%s%s%s", v4 ? "DHCPv4 decision for "
		 "iPXE: " : "", v4 ? why4 : "", v4 && v6 ? "; " : "",
		 v6 ? "DHCPv6 decision for iPXE: " : "", v6 ? why6 : "");
}

/*
 * Every client architecture the subnets can expect has its boot file,
 * asked of the daemon's own decisions (DHCPv4 and DHCPv6), which read the
 * firmware table (src/boot/boot_arch.c).  BIOS has no DHCPv6 PXE.
 */
static void r_arches(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	static const uint16_t expected[] = { 0, 7, 9, 11, 16, 19 };	/* issue 14 */
	char url[IB_DHCP6_URL_MAX];
	struct ib_doctor_finding *f;

	ipxe_coverage(c, r, url);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		const struct ib_boot_arch *a = ib_boot_arch_find(expected[i]);
		const char *why4 = "", *why6 = "";
		bool v4 = c->cfg->dhcp4.enabled && !v4_answer(c->cfg, a->arch, false, &why4);
		bool v6 = c->cfg->dhcp6.enabled && a->v6_key &&
			  !v6_answer(c->cfg, a->arch, false, url, &why6);
		bool both = v4 && v6 && strcmp(a->v4_key, a->v6_key) != 0;

		if ((!v4 && !v6) ||
		    !(f = add(c, r, "client arch %d (%s) gets no boot file over %s: such a "
			      "machine does not netboot", a->arch, a->name, v4 && v6 ?
			      "DHCPv4 and DHCPv6" : v4 ? "DHCPv4" : "DHCPv6 (option 59)")))
			continue;
		/* arm64 machines are rare on x86 networks: a note, not a warning */
		f->severity = a->cpu == IB_BOOT_CPU_ARM64 ? IB_DOCTOR_INFO : IB_DOCTOR_WARNING;
		snprintf(f->fix, sizeof(f->fix), "set %s%s%s if such machines boot here",
			 v4 ? a->v4_key : a->v6_key, both ? " and " : "", both ? a->v6_key : "");
		snprintf(f->evidence, sizeof(f->evidence), "%s%s%s%s%s", v4 ? "DHCPv4 decision: " :
			 "", v4 ? why4 : "", v4 && v6 ? "; " : "", v6 ? "DHCPv6 decision: " : "",
			 v6 ? why6 : "");
	}
}

static void r_relays(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	char seen[8][48];
	size_t n = 0;
	struct ib_dt t;

	if (ib_dt_parse(c->h->ev, c->h->n_ev, &t) < 0)
		return;
	for (size_t i = 0; i < t.n && n < 8; i++) {
		const struct ib_dt_ev *e = &t.v[i];
		struct ib_doctor_finding *f;
		bool dup = false;
		char when[32];

		if (!(e->v4 || e->v6) || !e->relay[0] || !strstr(e->reason, "no subnet"))
			continue;
		for (size_t k = 0; k < n; k++)
			dup |= strcmp(seen[k], e->relay) == 0;
		if (dup)
			continue;
		snprintf(seen[n++], sizeof(seen[0]), "%s", e->relay);
		ib_dt_time(e->ts_us, when, sizeof(when));
		if ((f = add(c, r, "a relay forwards requests from link %s, which no %s subnet "
			     "covers: those machines get no answer", e->relay,
			     e->v6 ? "dhcp6" : "dhcp4"))) {
			snprintf(f->fix, sizeof(f->fix), "add a subnet containing %s, or stop the "
				 "relay forwarding to this host", e->relay);
			snprintf(f->evidence, sizeof(f->evidence), "first seen at %s", when);
		}
	}
	ib_dt_done(&t);
}

static void r_pools(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	for (size_t i = 0; c->h->pools && i < c->cfg->dhcp4.n_subnets; i++) {
		const struct ib_doctor_pool_use *u = &c->h->pools[i];
		const struct ib_subnet4 *sn = &c->cfg->dhcp4.subnets[i];
		struct ib_doctor_finding *f;
		uint32_t net = htonl(sn->network);
		char text[INET_ADDRSTRLEN];

		if (!u->size || u->used * 10 < u->size * 9)
			continue;
		inet_ntop(AF_INET, &net, text, sizeof(text));
		if ((f = add(c, r, "the pools of subnet %s/%u are %s", text, sn->prefix_len,
			     u->used >= u->size ? "exhausted: new machines get no address" :
			     "nearly exhausted"))) {
			if (u->used >= u->size)
				f->severity = IB_DOCTOR_ERROR;
			snprintf(f->fix, sizeof(f->fix), "widen the pools, shorten lease_time, or "
				 "release stale leases (`ironboot leases release`)");
			snprintf(f->evidence, sizeof(f->evidence), "%llu of %llu addresses in use",
				 (unsigned long long)u->used, (unsigned long long)u->size);
		}
	}
}

static bool listening(const struct ib_doctor_host *h, bool udp, uint16_t port)
{
	for (size_t i = 0; i < h->n_listening; i++)
		if (h->listening[i].udp == udp && h->listening[i].port == port)
			return true;
	return false;
}

static void r_listening(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	const struct { bool on, udp; uint16_t port; const char *what; } s[] = {
		{ c->cfg->dhcp4.enabled, true, c->cfg->dhcp4.port, "DHCPv4" },
		{ c->cfg->dhcp6.enabled, true, c->cfg->dhcp6.port, "DHCPv6" },
		{ c->cfg->tftp.enabled, true, c->cfg->tftp.port, "TFTP" },
		{ c->cfg->http.enabled, false, c->cfg->http.port, "HTTP" },
	};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		struct ib_doctor_finding *f;

		if (!s[i].on || listening(c->h, s[i].udp, s[i].port))
			continue;
		f = add(c, r, "%s is configured but nothing listens on %s port %u%s", s[i].what,
			s[i].udp ? "UDP" : "TCP", s[i].port,
			c->h->daemon_running ? "" : ": ironbootd is not running");
		if (f) {
			snprintf(f->fix, sizeof(f->fix), c->h->daemon_running ?
				 "read ironbootd's log for why the service did not start" :
				 "start ironbootd (systemctl start ironbootd)");
			snprintf(f->evidence, sizeof(f->evidence), "%zu listening sockets on the "
				 "host, none on %s/%u", c->h->n_listening, s[i].udp ? "udp" : "tcp",
				 s[i].port);
		}
	}
}

static void r_store(struct ctx *c, const struct ib_doctor_rule_info *r)
{
	struct ib_doctor_finding *f;

	if (!c->h->store_error)
		return;
	f = add(c, r, "the store (server.store: by default SQLite under server.state_dir) "
		"cannot be opened: ironbootd has not run with this config, cannot write "
		"there, or its PostgreSQL cannot be reached; leases, pools and the journal "
		"were not checked");
	if (f) {
		snprintf(f->fix, sizeof(f->fix), "start ironbootd with this config (it creates "
			 "the state dir and the schema), or fix server.state_dir and its "
			 "permissions, or server.store and its password file");
		snprintf(f->evidence, sizeof(f->evidence), "%s", c->h->store_error);
	}
}

static const struct rule rules[] = {
	{ { "store", IB_DOCTOR_WARNING, "the store (leases, journal) cannot be opened" },
	  r_store },
	{ { "service-not-listening", IB_DOCTOR_ERROR,
	    "a service configured but not listening" }, r_listening },
	{ { "address-not-local", IB_DOCTOR_ERROR, "next-server, TFTP or HTTP addresses "
	    "handed out that are not this host's, or not on the serving interfaces" },
	  r_addresses },
	{ { "bootfile", IB_DOCTOR_ERROR, "a boot file missing under tftp.root or not for its "
	    "arch (PE32+ type, PE for BIOS, truncated, HTML)" }, r_bootfiles },
	{ { "asset-missing", IB_DOCTOR_ERROR, "a profile's kernel or initrd missing" },
	  r_assets },
	{ { "script-render", IB_DOCTOR_ERROR, "a script or config that does not render for a "
	    "sample machine, or does not start with #!ipxe" }, r_scripts },
	{ { "no-default-group", IB_DOCTOR_WARNING, "no default group; machines no group "
	    "matches" }, r_default_group },
	{ { "arch-coverage", IB_DOCTOR_WARNING, "a client arch (0, 7, 9, 11, 16, 19; v4 and "
	    "v6) without a boot file, or no iPXE script URL" }, r_arches },
	{ { "relay-no-subnet", IB_DOCTOR_ERROR, "a relay link seen in the journal without a "
	    "subnet" }, r_relays },
	{ { "pool-exhaustion", IB_DOCTOR_WARNING, "pools near exhaustion" }, r_pools },
};

const struct ib_doctor_rule_info *ib_doctor_setup_rule(size_t i)
{
	return i < sizeof(rules) / sizeof(rules[0]) ? &rules[i].info : NULL;
}

size_t ib_doctor_setup(const struct ib_config *cfg, const struct ib_doctor_host *host,
		       struct ib_doctor_report *ret)
{
	struct ctx c = { .cfg = cfg, .h = host, .rep = ret };

	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		rules[i].run(&c, &rules[i].info);
	ib_doctor_scrub(ret);
	return ret->n;
}
