/*
 * Router Advertisement and Router Solicitation wire format (RFC 4861 4.1,
 * 4.2, 4.6.1, 4.6.2), and the RA server's decisions (below).  Pure: bytes
 * <-> structs, config + events + time -> what to send when.
 *
 * ironboot advertises only to make hosts ask DHCPv6: the Managed and
 * Other flags, and each served prefix as on-link but not for SLAAC (A = 0),
 * so addresses come from the DHCPv6 pools and nowhere else.
 */
#ifndef IB_DHCP6_RA_CODEC_H
#define IB_DHCP6_RA_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define IB_ICMP6_RS 133			/* Router Solicitation */
#define IB_ICMP6_RA 134			/* Router Advertisement */
#define IB_RA_MAX_PREFIXES 8		/* prefix options in one RA */
#define IB_RA_MAX_LEN (16 + 8 + IB_RA_MAX_PREFIXES * 32)

/* One Prefix Information option. */
struct ib_ra_prefix {
	uint8_t prefix[16];		/* host bits zero */
	uint8_t len;			/* prefix length */
	bool on_link;			/* L flag */
	bool autonomous;		/* A flag (SLAAC) */
	uint32_t valid;			/* seconds */
	uint32_t preferred;		/* seconds */
};

/* A Router Advertisement to build (or as parsed, for tests). */
struct ib_ra {
	uint8_t hop_limit;		/* Cur Hop Limit for hosts, 0 = unspecified */
	bool managed;			/* M: addresses by DHCPv6 */
	bool other;			/* O: other configuration by DHCPv6 */
	uint16_t router_lifetime;	/* seconds; 0 = not a default router */
	bool has_lladdr;		/* send the Source Link-Layer Address option */
	uint8_t lladdr[6];		/* our MAC */
	struct ib_ra_prefix prefixes[IB_RA_MAX_PREFIXES];
	size_t n_prefixes;		/* entries used */
};

/*
 * Writes ra as an ICMPv6 message (checksum 0: the kernel fills it for raw
 * ICMPv6 sockets, RFC 3542 3.1).  0 and *ret_len, or -ENOBUFS.
 */
int ib_ra_build(const struct ib_ra *ra, uint8_t *buf, size_t cap, size_t *ret_len);

/* Parses an RA (for tests and for seeing other routers).  0 or -EBADMSG. */
int ib_ra_parse(const uint8_t *buf, size_t len, struct ib_ra *ret);

/* Whether buf is a well-formed Router Solicitation (RFC 4861 6.1.1). */
bool ib_rs_valid(const uint8_t *buf, size_t len);

/*
 * Writes a Router Solicitation (RFC 4861 4.1) with our link-layer address
 * when mac is not NULL (checksum 0, as above).  0 and *ret_len, or -ENOBUFS.
 */
int ib_rs_build(const uint8_t *mac, uint8_t *buf, size_t cap, size_t *ret_len);

/*
 * ---- What the RA server decides (pure: no I/O, times passed in) ----
 *
 * Which links RAs concern, what an RA says on one, and when each link
 * advertises.  In auto mode (dhcp6.router_advertisements.enabled: auto) a
 * link first sends a Router Solicitation and listens IB_RA_LISTEN_MS for
 * another router (RFC 4861 6.2.6: routers answer within MAX_RA_DELAY_TIME,
 * or MIN_DELAY_BETWEEN_RAS after their last multicast RA); if none is
 * heard it advertises, with router lifetime 0.  A router heard later makes
 * it quiet; a quiet link solicits again IB_RA_PROBE_MS after the last RA
 * it heard and advertises again if nobody answers.
 */
#define IB_RA_LISTEN_MS 4000		/* auto: 3 s + 0.5 s (see above), and a margin */
#define IB_RA_PROBE_MS 300000		/* auto: quiet links solicit again after 5 min */
#define IB_RA_MIN_DELAY_MS 3000		/* RFC 4861 10: MIN_DELAY_BETWEEN_RAS */
#define IB_RA_MAX_DELAY_MS 500		/* RFC 4861 10: MAX_RA_DELAY_TIME */
#define IB_RA_INITIAL 3			/* RFC 4861 10: MAX_INITIAL_RTR_ADVERTISEMENTS */
#define IB_RA_INITIAL_INTERVAL_MS 16000	/* RFC 4861 10: MAX_INITIAL_RTR_ADVERT_INTERVAL */
#define IB_RA_MAX_LINKS 16		/* links one server advertises on */

/*
 * The boot links: the interfaces DHCPv4 serves (when enabled) and those
 * DHCPv6 serves directly (subnets with an interface, within
 * dhcp6.interfaces), each name once, at most cap.  *ret_all4 is set when
 * DHCPv4 serves every interface (dhcp4.interfaces empty): the shell adds
 * each interface with an IPv4 address.  Names point into cfg.
 */
size_t ib_ra_boot_links(const struct ib_config *cfg, const char **ret, size_t cap,
			bool *ret_all4);

/*
 * Where ironboot may advertise: nowhere when off; the listed interfaces
 * when given (always when true); else, in auto mode, the boot links.
 */
size_t ib_ra_links(const struct ib_config *cfg, const char **ret, size_t cap, bool *ret_all4);

/* Whether DHCPv6 serves the link ifname directly (a subnet names it). */
bool ib_ra_dhcp6_serves(const struct ib_config *cfg, const char *ifname);

/*
 * The RA for link ifname, without the link-layer address (the shell's).
 * true: the configured flags, lifetime and the link's subnets.  auto:
 * router lifetime 0 and Cur Hop Limit unspecified; M, O and the prefixes
 * (on-link, no SLAAC) only where DHCPv6 serves the link, else M = O = 0
 * and no prefix.
 */
void ib_ra_layout(const struct ib_config *cfg, const char *ifname, struct ib_ra *ret);

/* Where a link is. */
enum ib_ra_phase {
	IB_RA_LISTEN,			/* auto: solicited; listening until listen_until */
	IB_RA_ADVERTISE,		/* sending RAs */
	IB_RA_QUIET,			/* auto: another router advertises here */
};

/* One link's advertising state; times are monotonic milliseconds. */
struct ib_ra_link {
	enum ib_ra_phase phase;		/* see above */
	bool auto_mode;			/* auto (else true: always advertise) */
	bool probing;			/* LISTEN entered from QUIET (a probe) */
	uint32_t interval_ms;		/* between unsolicited RAs */
	int64_t listen_until;		/* LISTEN: when to start advertising */
	int64_t next_ra;		/* ADVERTISE: when the next RA is due */
	int64_t last_ra;		/* when the last RA left; < 0: none yet */
	unsigned n_sent;		/* RAs since advertising began */
	int64_t heard_at;		/* QUIET: when another router was last heard */
	uint8_t heard_from[16];		/* its address */
	uint16_t heard_lifetime;	/* its router lifetime, seconds */
};

/* What the shell does next on a link. */
enum ib_ra_action {
	IB_RA_NONE,			/* nothing now */
	IB_RA_SEND_RA,			/* send an RA now, then ib_ra_link_sent() */
	IB_RA_SEND_RS,			/* send a Router Solicitation now */
};

/* An RA from another node, as received on a link (RFC 4861 6.1.2 checked). */
struct ib_ra_heard {
	uint8_t from[16];		/* its link-local source */
	uint8_t ours[16];		/* our link-local address on that link, or zeros */
	uint16_t router_lifetime;	/* seconds, 0 = not a default router */
	bool slaac;			/* a prefix carries the A flag */
};

/* How a heard RA changes a link. */
enum ib_ra_verdict {
	IB_RA_KEEP,			/* true mode: we advertise anyway */
	IB_RA_OUTRANKED,		/* another non-router advertiser with a higher
					 * address: ours stays (see ra_codec.c) */
	IB_RA_NOW_QUIET,		/* auto: we stop (or never start) here */
	IB_RA_STILL_QUIET,		/* auto: already quiet, or a probe answered */
};

/* Starts a link at now (interval_s from the config); the first action. */
enum ib_ra_action ib_ra_link_start(struct ib_ra_link *l, bool auto_mode,
				   uint32_t interval_s, int64_t now);
/* Advances the link to now (ends of listening and quiet); what to do. */
enum ib_ra_action ib_ra_link_tick(struct ib_ra_link *l, int64_t now);
/* Records that an RA left at now; schedules the next (RFC 4861 6.2.4). */
void ib_ra_link_sent(struct ib_ra_link *l, int64_t now);
/*
 * A Router Solicitation arrived at now: an advertising link answers
 * after delay_ms (the caller's random 0..IB_RA_MAX_DELAY_MS), and not
 * sooner than IB_RA_MIN_DELAY_MS after its last RA (RFC 4861 6.2.6).
 */
void ib_ra_link_solicited(struct ib_ra_link *l, int64_t now, uint32_t delay_ms);
/* An RA from another node arrived at now. */
enum ib_ra_verdict ib_ra_link_heard(struct ib_ra_link *l, const struct ib_ra_heard *h,
				    int64_t now);
/* When the link next needs ib_ra_link_tick(). */
int64_t ib_ra_link_next(const struct ib_ra_link *l);

#endif
