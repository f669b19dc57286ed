/*
 * The doctor (issue 14): named causes of failed boots, as pure rules.
 *
 * Two rule tables share one finding type:
 *
 *  - machine rules (doctor_mac.c) read one machine's journal events,
 *    oldest first, across the daemon's stages and restarts, and say where
 *    its boot chain stopped and why;
 *  - setup rules (doctor_setup.c) read the config snapshot against facts
 *    about the host (its addresses, listening sockets, files, leases) that
 *    the caller gathered.
 *
 * Neither does I/O: a rule sees (config snapshot, events, host facts, now)
 * and a file probe the caller supplies.  `ironboot doctor` (src/cli) and
 * the daemon's watch (src/daemon/doctor_watch.c) are the shells.
 */
#ifndef IB_DOCTOR_DOCTOR_H
#define IB_DOCTOR_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "store/store.h"

enum ib_doctor_sev {
	IB_DOCTOR_INFO,			/* worth knowing; exit status 0 */
	IB_DOCTOR_WARNING,		/* some machines will not boot; 1 */
	IB_DOCTOR_ERROR,		/* machines cannot boot; 2 */
};

#define IB_DOCTOR_TEXT 320		/* bytes of a cause, fix or evidence */
#define IB_DOCTOR_MAX 64		/* findings kept per report */

/* One named failure. */
struct ib_doctor_finding {
	const char *rule;		/* rule id (static), e.g. "chainload-loop" */
	enum ib_doctor_sev severity;	/* how bad */
	char cause[IB_DOCTOR_TEXT];	/* the cause, one sentence */
	char fix[IB_DOCTOR_TEXT];	/* what to change */
	char evidence[IB_DOCTOR_TEXT];	/* times, counts, values seen */
};

/* Findings of one run, in the order the rules found them. */
struct ib_doctor_report {
	struct ib_doctor_finding v[IB_DOCTOR_MAX];	/* findings */
	size_t n;			/* used in v */
	size_t more;			/* found but not kept (v full) */
	char stopped[IB_DOCTOR_TEXT];	/* machine rules: the last stage reached */
};

/* A rule as the docs and `--json` name it. */
struct ib_doctor_rule_info {
	const char *id;			/* rule id */
	enum ib_doctor_sev severity;	/* its usual severity */
	const char *what;		/* the failure it names */
};

/* "info", "warning", "error". */
const char *ib_doctor_sev_str(enum ib_doctor_sev s);
/* The exit status of a report: 0 clean (or infos only), 1 warnings, 2 errors. */
int ib_doctor_status(const struct ib_doctor_report *r);
/* Appends a finding (text by printf formats cause and fix given);
 * returns it, or NULL when the report is full (counted in more). */
struct ib_doctor_finding *ib_doctor_add(struct ib_doctor_report *r, const char *rule,
					enum ib_doctor_sev sev);

/*
 * Makes a report's texts printable, as both entry points return them:
 * control bytes (a journal's detail may hold any, e.g. an agent's failure
 * reason) and bytes that are not UTF-8 (a name a client sent, or one cut
 * at IB_DOCTOR_TEXT) become '?', so a terminal, a log line and JSON
 * (jansson refuses strings that are not UTF-8) take them as they are.
 */
void ib_doctor_scrub(struct ib_doctor_report *r);

/*
 * The report as JSON (doctor_json.c): {"status", "findings": [{"rule",
 * "severity", "cause", "fix", "evidence"}]}, with "mac", "stopped" and
 * "most_likely" (when a finding) for one machine's (mac not NULL).  A new
 * reference, or NULL when out of memory.
 */
json_t *ib_doctor_report_json(const struct ib_doctor_report *r, const char *mac);

/* Machine rule i and setup rule i (in the order they run), or NULL past
 * the last: for the daemon's rate limits, docs and tests. */
const struct ib_doctor_rule_info *ib_doctor_mac_rule(size_t i);
const struct ib_doctor_rule_info *ib_doctor_setup_rule(size_t i);

/* ---- boot files (doctor_file.c) ---- */

/* What a boot file's first bytes say it is. */
enum ib_doctor_file_kind {
	IB_DF_EMPTY,			/* no bytes */
	IB_DF_HTML,			/* an HTML page (a failed download saved) */
	IB_DF_PE_X64,			/* PE32+ for x86-64 (machine 0x8664) */
	IB_DF_PE_ARM64,			/* PE32+ for arm64 (0xaa64) */
	IB_DF_PE_IA32,			/* PE32 for i386 (0x14c) */
	IB_DF_PE_OTHER,			/* a PE of another machine type */
	IB_DF_PE_TRUNCATED,		/* a PE whose sections run past the file */
	IB_DF_OTHER,			/* none of these: e.g. a PXE NBP */
};

#define IB_DOCTOR_HEAD 4096		/* bytes of a file the classifier reads */

/*
 * Classifies a boot file from its first bytes (head, up to
 * IB_DOCTOR_HEAD of them) and its size.  Pure.
 */
enum ib_doctor_file_kind ib_doctor_file_classify(const uint8_t *head, size_t len,
						 uint64_t size);
/* "PE32+ x86-64", "an HTML page"...: for sentences. */
const char *ib_doctor_file_kind_str(enum ib_doctor_file_kind k);

/* Which firmware a boot file is handed to. */
enum ib_doctor_firmware {
	IB_DFW_BIOS,			/* arch 0: a PXE NBP, not a PE */
	IB_DFW_EFI_X64,			/* arch 7, 9, 16 */
	IB_DFW_EFI_IA32,		/* arch 6 */
	IB_DFW_EFI_ARM64,		/* arch 11, 19 */
	IB_DFW_ANY,			/* any firmware (a reservation's boot_file):
					 * only empty, HTML and truncated files fail */
};

/* The firmware of a client architecture (RFC 4578 / IANA); -1: unknown. */
int ib_doctor_arch_firmware(int arch);
/*
 * Whether a file of kind k suits firmware fw.  false fills why (a
 * sentence fragment, static).
 */
bool ib_doctor_file_suits(enum ib_doctor_file_kind k, enum ib_doctor_firmware fw,
			  const char **why);

/*
 * What the caller found about a file: exists, its size and first bytes.
 * The probe reads name under root (a TFTP or assets root) confined to it;
 * with root NULL, name is an http(s) URL whose server the probe asks
 * (HEAD: exists when it answers 2xx, size from Content-Length).
 */
struct ib_doctor_file {
	bool exists;			/* a regular file was found */
	uint64_t size;			/* its size */
	uint8_t head[IB_DOCTOR_HEAD];	/* its first bytes */
	size_t head_len;		/* used in head */
	char error[128];		/* why it could not be read, if not */
};
typedef int (*ib_doctor_probe_fn)(void *ctx, const char *root, const char *name,
				  struct ib_doctor_file *ret);

/* ---- one machine (doctor_mac.c) ---- */

/* The machine rules' clocks: a step not followed for IB_DOCTOR_QUIET_US
 * has stopped; an agent reports within IB_DOCTOR_AGENT_WAIT_US.  A verdict
 * can change without a new event only when one of them passes (the
 * daemon's watch runs the rules again then). */
#define IB_DOCTOR_QUIET_US (10 * 1000000LL)
#define IB_DOCTOR_AGENT_WAIT_US (300 * 1000000LL)

struct ib_doctor_host;

/* Inputs of the machine rules. */
struct ib_doctor_mac_input {
	const struct ib_config *cfg;	/* snapshot */
	const struct ib_event *ev;	/* the machine's events, oldest first */
	size_t n_ev;			/* in ev */
	int64_t now_us;			/* unix microseconds */
	ib_doctor_probe_fn probe;	/* files handed out, or NULL: not checked */
	void *probe_ctx;		/* for probe */
	const struct ib_doctor_host *host; /* its addresses, or NULL: unknown */
};

/*
 * Runs every machine rule over in into *ret (zeroed first); ret->stopped
 * says how far the chain got.  Returns the number of findings, their
 * texts scrubbed (ib_doctor_scrub).  The events may say anything (counts
 * and times are bounded as they are read); now_us is the clock's.
 */
size_t ib_doctor_mac(const struct ib_doctor_mac_input *in, struct ib_doctor_report *ret);

/* ---- the setup (doctor_setup.c) ---- */

/* An address of this host. */
struct ib_doctor_addr {
	char ifname[32];		/* interface */
	int family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];		/* 4 or 16 bytes */
	uint8_t prefix_len;		/* its prefix */
};

/* A socket listening on this host. */
struct ib_doctor_listen {
	bool udp;			/* udp, else tcp */
	uint16_t port;			/* local port */
};

/* What pools hold now, per DHCPv4 subnet (same order as cfg). */
struct ib_doctor_pool_use {
	uint64_t size;			/* addresses in its pools */
	uint64_t used;			/* bound or offered now */
};

/* Facts about the host the caller gathered. */
struct ib_doctor_host {
	const struct ib_doctor_addr *addrs;	/* its addresses */
	size_t n_addrs;
	const struct ib_doctor_listen *listening; /* its listening sockets */
	size_t n_listening;
	bool daemon_running;		/* an ironbootd holds the state dir */
	const char *store_error;	/* why the store cannot be opened, or NULL */
	const struct ib_doctor_pool_use *pools;	/* per dhcp4 subnet, or NULL */
	const struct ib_event *ev;	/* recent journal events (all machines) */
	size_t n_ev;
	ib_doctor_probe_fn probe;	/* reads boot files and assets */
	void *probe_ctx;
};

/* The interface of this host that holds address a (4 or 16 bytes by
 * family), or NULL when none does. */
const char *ib_doctor_host_if(const struct ib_doctor_host *h, int family, const void *a);

/* Runs every setup rule into *ret (zeroed first); returns the findings,
 * their texts scrubbed (ib_doctor_scrub). */
size_t ib_doctor_setup(const struct ib_config *cfg, const struct ib_doctor_host *host,
		       struct ib_doctor_report *ret);

#endif
