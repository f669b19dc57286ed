/*
 * One machine's journal events, parsed once for the machine rules
 * (doctor_timeline.c): the fields the rules read, by name.  Internal to
 * src/doctor.
 */
#ifndef IB_DOCTOR_TIMELINE_H
#define IB_DOCTOR_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* Bounds of what a detail or a row may say (another writer's, a hand
 * edit): a summary counts 1..IB_DT_COUNT_MAX events, times lie in
 * 0..IB_DT_TIME_MAX (year 9999), so sums and differences cannot overflow. */
#define IB_DT_COUNT_MAX 1000000000L
#define IB_DT_TIME_MAX 253402300799999999LL

/* What an event says, the fields absent being empty or -1. */
struct ib_dt_ev {
	int64_t ts_us;			/* when */
	int64_t last_us;		/* a summary's last repeat, else ts_us */
	const char *proto;		/* "dhcp4", "dhcp6", "tftp", "http", "machine" */
	const char *kind;		/* the event's kind */
	long count;			/* 1 + repeats it summarises */
	bool v4, v6;			/* a DHCPv4 / DHCPv6 event */
	bool ipxe;			/* DHCP with user class iPXE */
	int arch;			/* option 93 / 61, or -1 */
	int status;			/* HTTP status, or -1 */
	char decision[16];		/* DHCP: "offer", "ack", "ignore", "advertise"... */
	char file[256];			/* DHCP file/bootfile-url, TFTP file */
	char boot[16];			/* DHCP boot client: pxe, ipxe, uefi-http */
	char reason[96];		/* DHCP decision reason */
	char next_server[48];		/* DHCPv4 siaddr handed out */
	char from[48];			/* DHCPv4 reply source */
	char relay[48];			/* giaddr, or DHCPv6 link-address */
	char path[256];			/* HTTP path */
	char group[64];			/* HTTP script: group chosen */
	char profile[64];		/* HTTP script: profile chosen */
	char error[128];		/* TFTP/HTTP error */
	char client[48];		/* TFTP: the request's source address */
	char step[64];			/* machine: failed step */
	char by[16];			/* machine: who moved it */
	long blksize, bytes, tsize, retransmits; /* TFTP */
};

/* The events parsed, oldest first. */
struct ib_dt {
	struct ib_dt_ev *v;		/* owned; refused and unverified events left out */
	size_t n;
	struct ib_dt_ev unv_tftp;	/* the latest failed TFTP request journalled
					 * unverified (its UDP source's word only:
					 * docs/SECURITY.md), if n_unv_tftp */
	long n_unv_tftp;		/* how many such (a summary counts its repeats) */
	size_t unv_tftp_at;		/* events of v before it */
};

/* Parses n events (oldest first) into *ret.  0 or -ENOMEM. */
int ib_dt_parse(const struct ib_event *ev, size_t n, struct ib_dt *ret);
void ib_dt_done(struct ib_dt *t);

/* "2026-12-05 10:58:44Z" of a time in unix microseconds. */
void ib_dt_time(int64_t us, char *out, size_t len);

/* The firmware's DHCP (a DHCPv4/v6 request without user class iPXE). */
static inline bool ib_dt_firmware_dhcp(const struct ib_dt_ev *e)
{
	return (e->v4 || e->v6) && !e->ipxe;
}

#endif
