/*
 * DHCPv6 wire codec (RFC 8415, with RFC 4649, RFC 5908, RFC 5970, RFC 6355,
 * RFC 6939).
 *
 * Pure: bytes <-> structs, no syscalls, no clock, no logging.
 *
 * Parsing: a datagram is a client/server message (msg-type, 24-bit
 * transaction id, options; RFC 8415 8) or a relay message (msg-type,
 * hop-count, link-address, peer-address, options; RFC 8415 9) whose Relay
 * Message option (9) holds the next message in, up to IB_DHCP6_MAX_RELAYS
 * levels.  ib_dhcp6_parse() walks the chain iteratively, records every
 * relay level (outermost first) and decodes the options of the innermost
 * client message into fields.  Every option header and length is checked
 * against the end of the message or of its enclosing option; anything
 * malformed is rejected with -EBADMSG and a reason code
 * (struct ib_dhcp6_msg.reject) that the shell counts and logs.
 *
 * Lifetime: the parsed struct holds pointers into the caller's datagram
 * (struct ib_dhcp6_blob); they are valid while that buffer is, and no
 * longer.  Nothing is allocated.
 *
 * Building: ib_dhcp6_build() writes one client/server message described
 * by an ib_dhcp6_out (server replies ADVERTISE/REPLY, and client messages
 * for tests and seeds); ib_dhcp6_build_relay() wraps a built message in
 * relay levels, either RELAY-REPL back through a parsed chain (echoing
 * Interface-Id, RFC 8415 19.3) or RELAY-FORW.  Both write through an
 * ib_wbuf and fail with -ENOBUFS when the buffer is too small.
 */
#ifndef IB_DHCP6_CODEC_H
#define IB_DHCP6_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Largest datagram accepted or built: the UDP payload limit over IPv6
 * without jumbograms (65535 minus the 8-byte UDP header).
 */
#define IB_DHCP6_MAX_LEN 65527
#define IB_DHCP6_HDR_LEN 4		/* msg-type + transaction-id */
#define IB_DHCP6_RELAY_HDR_LEN 34	/* msg-type, hop-count, 2 addresses */
#define IB_DHCP6_OPT_HDR_LEN 4		/* option-code + option-len */
/* RFC 8415 7.6: HOP_COUNT_LIMIT; more relay levels are rejected. */
#define IB_DHCP6_HOP_COUNT_LIMIT 8
#define IB_DHCP6_MAX_RELAYS IB_DHCP6_HOP_COUNT_LIMIT
/* RFC 8415 11.1: at most 128 octets of DUID plus the 2-octet type. */
#define IB_DHCP6_DUID_MAX 130
#define IB_DHCP6_DUID_MIN 3		/* the type and at least one octet */
#define IB_DHCP6_MAX_IA 8		/* IA_NA options in one message */
#define IB_DHCP6_MAX_IAADDR 8		/* IA Address options in one IA_NA */
#define IB_DHCP6_MAX_ORO 64		/* codes in the Option Request option */
#define IB_DHCP6_MAX_DNS 16		/* addresses in option 23 */
#define IB_DHCP6_MAX_NTP 8		/* NTP server addresses (option 56) */
#define IB_DHCP6_MAX_ARCH 16		/* architecture types in option 61 */
#define IB_DHCP6_MAX_VENDOR 4		/* option 16 / option 17 instances */
#define IB_DHCP6_MAX_NAMES 32		/* names in a domain list ib_dhcp6_build() writes */

/* Message types (RFC 8415 7.3). */
enum ib_dhcp6_type {
	IB_DHCP6_SOLICIT = 1, IB_DHCP6_ADVERTISE = 2, IB_DHCP6_REQUEST = 3,
	IB_DHCP6_CONFIRM = 4, IB_DHCP6_RENEW = 5, IB_DHCP6_REBIND = 6,
	IB_DHCP6_REPLY = 7, IB_DHCP6_RELEASE = 8, IB_DHCP6_DECLINE = 9,
	IB_DHCP6_RECONFIGURE = 10, IB_DHCP6_INFORMATION_REQUEST = 11,
	IB_DHCP6_RELAY_FORW = 12, IB_DHCP6_RELAY_REPL = 13,
};

/* Option codes used by ironboot (RFC 8415 21 and the RFCs named). */
enum ib_dhcp6_opt {
	IB_OPT6_CLIENTID = 1, IB_OPT6_SERVERID = 2, IB_OPT6_IA_NA = 3,
	IB_OPT6_IA_TA = 4, IB_OPT6_IAADDR = 5, IB_OPT6_ORO = 6,
	IB_OPT6_PREFERENCE = 7, IB_OPT6_ELAPSED_TIME = 8,
	IB_OPT6_RELAY_MSG = 9, IB_OPT6_STATUS_CODE = 13,
	IB_OPT6_RAPID_COMMIT = 14, IB_OPT6_USER_CLASS = 15,
	IB_OPT6_VENDOR_CLASS = 16, IB_OPT6_VENDOR_OPTS = 17,
	IB_OPT6_INTERFACE_ID = 18, IB_OPT6_RECONF_ACCEPT = 20,
	IB_OPT6_DNS_SERVERS = 23, IB_OPT6_DOMAIN_LIST = 24,
	IB_OPT6_REMOTE_ID = 37,		/* RFC 4649 */
	IB_OPT6_NTP_SERVER = 56,	/* RFC 5908 */
	IB_OPT6_BOOTFILE_URL = 59,	/* RFC 5970 */
	IB_OPT6_BOOTFILE_PARAM = 60,	/* RFC 5970 */
	IB_OPT6_CLIENT_ARCH = 61,	/* RFC 5970 */
	IB_OPT6_NII = 62,		/* RFC 5970 */
	IB_OPT6_CLIENT_LINKLAYER = 79,	/* RFC 6939 */
};

/* NTP server sub-options (RFC 5908 4). */
#define IB_NTP_SUBOPT_SRV_ADDR 1
#define IB_NTP_SUBOPT_MC_ADDR 2
#define IB_NTP_SUBOPT_SRV_FQDN 3

/* Status codes (RFC 8415 21.13). */
enum ib_dhcp6_status_code {
	IB_DHCP6_SUCCESS = 0, IB_DHCP6_UNSPEC_FAIL = 1,
	IB_DHCP6_NO_ADDRS_AVAIL = 2, IB_DHCP6_NO_BINDING = 3,
	IB_DHCP6_NOT_ON_LINK = 4, IB_DHCP6_USE_MULTICAST = 5,
	IB_DHCP6_NO_PREFIX_AVAIL = 6,
};

/* DUID types (RFC 8415 11.1, RFC 6355). */
enum ib_dhcp6_duid_type {
	IB_DUID_LLT = 1, IB_DUID_EN = 2, IB_DUID_LL = 3, IB_DUID_UUID = 4,
};

/* Why a message was rejected; the shell counts these per reason. */
enum ib_dhcp6_reject {
	IB_DHCP6_OK = 0,
	IB_DHCP6_REJ_SHORT,		/* shorter than its (relay) header */
	IB_DHCP6_REJ_OVERSIZE,		/* longer than IB_DHCP6_MAX_LEN */
	IB_DHCP6_REJ_BAD_TYPE,		/* msg-type 0 or not in RFC 8415 7.3 */
	IB_DHCP6_REJ_OPT_TRUNC,		/* option runs past message or parent */
	IB_DHCP6_REJ_DUP_OPT,		/* a singleton option appears twice */
	IB_DHCP6_REJ_BAD_OPT,		/* an option with an impossible value */
	IB_DHCP6_REJ_DUID,		/* client/server id shorter than 3 or over 130 */
	IB_DHCP6_REJ_TOO_MANY,		/* more items than a cap (IA, address, ...) */
	IB_DHCP6_REJ_RELAY_DEPTH,	/* more than IB_DHCP6_MAX_RELAYS levels */
	IB_DHCP6_REJ_RELAY_NO_MSG,	/* relay message without option 9 */
	IB_DHCP6_REJ__MAX,
};

/* Short text for a reject reason ("option-truncated", ...). */
const char *ib_dhcp6_reject_str(enum ib_dhcp6_reject r);

/* Bytes inside the caller's buffer; p is NULL when absent. */
struct ib_dhcp6_blob {
	const uint8_t *p;		/* first byte, NULL if absent */
	size_t len;			/* number of bytes (may be 0 if present) */
};

/* A Status Code option (RFC 8415 21.13). */
struct ib_dhcp6_status {
	bool present;			/* the option was there / is to be sent */
	uint16_t code;			/* enum ib_dhcp6_status_code */
	struct ib_dhcp6_blob msg;	/* UTF-8 text, not NUL-terminated, unsanitised */
};

/* An IA Address option (RFC 8415 21.6). */
struct ib_dhcp6_iaaddr {
	uint8_t addr[16];		/* IPv6 address, network order */
	uint32_t preferred;		/* preferred lifetime, seconds */
	uint32_t valid;			/* valid lifetime, seconds */
	struct ib_dhcp6_status status;	/* nested status code, if any */
};

/* An IA_NA option (RFC 8415 21.4). */
struct ib_dhcp6_ia_na {
	uint32_t iaid;			/* identity association id */
	uint32_t t1;			/* renew time, seconds */
	uint32_t t2;			/* rebind time, seconds */
	struct ib_dhcp6_iaaddr addrs[IB_DHCP6_MAX_IAADDR]; /* nested IA Addresses */
	size_t n_addrs;			/* entries used in addrs */
	struct ib_dhcp6_status status;	/* nested status code, if any */
};

/* One Vendor Class option (RFC 8415 21.16). */
struct ib_dhcp6_vendor_class {
	uint32_t enterprise;		/* IANA enterprise number */
	struct ib_dhcp6_blob data;	/* length-prefixed items, as on the wire */
	size_t n_items;			/* number of items in data */
};

/* Client network interface identifier (RFC 5970 3.4). */
struct ib_dhcp6_nii {
	uint8_t type;			/* interface type, 1 = UNDI */
	uint8_t major;			/* UNDI major revision */
	uint8_t minor;			/* UNDI minor revision */
};

/* One relay level (RFC 8415 9), with the options a reply must echo. */
struct ib_dhcp6_relay {
	uint8_t msg_type;		/* RELAY-FORW or RELAY-REPL */
	uint8_t hop_count;		/* as the relay set it */
	uint8_t link_address[16];	/* link of the client, or :: */
	uint8_t peer_address[16];	/* where the relay got the message from */
	struct ib_dhcp6_blob interface_id; /* option 18, opaque */
	struct ib_dhcp6_blob remote_id;	/* option 37: enterprise (4) + remote-id */
	uint16_t lladdr_type;		/* option 79: hardware type (RFC 6939) */
	struct ib_dhcp6_blob lladdr;	/* option 79: link-layer address */
};

/* A parsed datagram: its relay chain and the innermost client message. */
struct ib_dhcp6_msg {
	enum ib_dhcp6_reject reject;	/* why parsing failed, IB_DHCP6_OK else */
	struct ib_dhcp6_relay relays[IB_DHCP6_MAX_RELAYS]; /* outermost first */
	size_t n_relays;		/* relay levels, 0 if not relayed */
	uint8_t msg_type;		/* innermost message type */
	uint32_t xid;			/* innermost transaction id, 24 bits */
	struct ib_dhcp6_blob inner;	/* innermost message bytes */
	struct ib_dhcp6_blob client_id;	/* option 1, raw DUID */
	struct ib_dhcp6_blob server_id;	/* option 2, raw DUID */
	struct ib_dhcp6_ia_na ia_na[IB_DHCP6_MAX_IA]; /* option 3, in wire order */
	size_t n_ia_na;			/* entries used in ia_na */
	size_t n_ia_ta;			/* option 4 count (checked, not decoded) */
	uint16_t oro[IB_DHCP6_MAX_ORO];	/* option 6 codes */
	size_t n_oro;			/* entries used in oro */
	bool has_oro;			/* option 6 was present (may be empty) */
	bool has_preference;		/* option 7 was present */
	uint8_t preference;		/* option 7 value */
	bool has_elapsed;		/* option 8 was present */
	uint16_t elapsed;		/* option 8, hundredths of a second */
	struct ib_dhcp6_status status;	/* option 13 at message level */
	bool rapid_commit;		/* option 14 was present */
	struct ib_dhcp6_blob user_class; /* option 15, length-prefixed items */
	size_t n_user_class;		/* items in user_class */
	bool user_class_ipxe;		/* an item of option 15 is "iPXE" */
	struct ib_dhcp6_vendor_class vendor_class[IB_DHCP6_MAX_VENDOR]; /* option 16 */
	size_t n_vendor_class;		/* entries used in vendor_class */
	struct ib_dhcp6_blob vendor_opts[IB_DHCP6_MAX_VENDOR]; /* option 17, raw */
	size_t n_vendor_opts;		/* entries used in vendor_opts */
	bool reconf_accept;		/* option 20 was present */
	uint8_t dns[IB_DHCP6_MAX_DNS][16]; /* option 23 addresses */
	size_t n_dns;			/* entries used in dns */
	struct ib_dhcp6_blob domain_list; /* option 24, checked RFC 1035 names */
	uint8_t ntp[IB_DHCP6_MAX_NTP][16]; /* option 56 sub-option 1 addresses */
	size_t n_ntp;			/* entries used in ntp */
	struct ib_dhcp6_blob bootfile_url; /* option 59, not NUL-terminated */
	struct ib_dhcp6_blob bootfile_param; /* option 60, length-prefixed items */
	size_t n_bootfile_param;	/* items in bootfile_param */
	uint16_t arch[IB_DHCP6_MAX_ARCH]; /* option 61 architecture types */
	size_t n_arch;			/* entries used in arch */
	bool has_nii;			/* option 62 was present */
	struct ib_dhcp6_nii nii;	/* option 62 value */
};

/*
 * Parses a datagram into *ret (caller-provided; about 6 KiB).  Returns 0,
 * or -EBADMSG with ret->reject set.  Checks the framing and the option
 * values the codec knows; which options a message type must or must not
 * carry (RFC 8415 16) is the policy's business.  Relay hop counts are not
 * judged (RFC 8415 19.1.1 is the relays' rule).  See the header comment
 * for the lifetime of the pointers in *ret.
 */
int ib_dhcp6_parse(const void *buf, size_t len, struct ib_dhcp6_msg *ret);

/*
 * Finds the first top-level option code of the innermost message, for
 * options the codec does not decode.  0, or -ENOENT.
 */
int ib_dhcp6_find_opt(const struct ib_dhcp6_msg *m, uint16_t code,
		      struct ib_dhcp6_blob *ret);

/*
 * Splits a list of items each prefixed by a 16-bit length (options 15,
 * 16 after the enterprise number, 60) into ret[0..*ret_n).  The blobs
 * point into wire.  -EBADMSG if malformed, -ENOBUFS if more than cap.
 */
int ib_dhcp6_items(struct ib_dhcp6_blob wire, struct ib_dhcp6_blob *ret,
		   size_t cap, size_t *ret_n);

/* ---- Building -------------------------------------------------------- */

/*
 * A client/server message to build.  Pointers refer to caller memory,
 * read only during ib_dhcp6_build(); absent items are NULL / zero / false.
 * The option order on the wire is the field order here.
 */
struct ib_dhcp6_out {
	uint8_t msg_type;		/* 1..11, not a relay type */
	uint32_t xid;			/* transaction id, 24 bits */
	struct ib_dhcp6_blob server_id;	/* option 2 DUID, if p */
	struct ib_dhcp6_blob client_id;	/* option 1 DUID, if p */
	struct ib_dhcp6_status status;	/* option 13 at message level */
	bool has_preference;		/* send option 7 */
	uint8_t preference;		/* option 7 value */
	bool rapid_commit;		/* send option 14 */
	bool reconf_accept;		/* send option 20 */
	bool has_elapsed;		/* send option 8 (clients) */
	uint16_t elapsed;		/* option 8 value */
	bool has_oro;			/* send option 6 (clients), may be empty */
	const uint16_t *oro;		/* option 6 codes */
	size_t n_oro;			/* entries in oro */
	const struct ib_dhcp6_ia_na *ia_na; /* option 3 each, with addresses */
	size_t n_ia_na;			/* entries in ia_na */
	const uint8_t (*dns)[16];	/* option 23 addresses */
	size_t n_dns;			/* entries in dns, 0: no option */
	const char *const *domains;	/* option 24, dotted names */
	size_t n_domains;		/* entries in domains, 0: no option */
	const uint8_t (*ntp)[16];	/* option 56, one sub-option 1 each */
	size_t n_ntp;			/* entries in ntp, 0: no option */
	struct ib_dhcp6_blob bootfile_url; /* option 59, if p */
	const struct ib_dhcp6_blob *bootfile_param; /* option 60 items */
	size_t n_bootfile_param;	/* entries in bootfile_param, 0: none */
	bool has_vendor_class;		/* send option 16 */
	uint32_t vendor_class_enterprise; /* option 16 enterprise number */
	const struct ib_dhcp6_blob *vendor_class; /* option 16 items */
	size_t n_vendor_class;		/* entries in vendor_class */
	const struct ib_dhcp6_blob *user_class; /* option 15 items */
	size_t n_user_class;		/* entries in user_class, 0: none */
	const uint16_t *arch;		/* option 61 types (clients) */
	size_t n_arch;			/* entries in arch, 0: none */
	bool has_nii;			/* send option 62 (clients) */
	struct ib_dhcp6_nii nii;	/* option 62 value */
};

/*
 * Writes o into buf[0..cap) (at most IB_DHCP6_MAX_LEN bytes).  Returns 0
 * and *ret_len; -ENOBUFS if it does not fit; -EINVAL for a relay or
 * unknown msg-type, an xid over 24 bits, a DUID over 130 octets, an IA
 * with more than IB_DHCP6_MAX_IAADDR addresses, a bad domain name or more
 * than IB_DHCP6_MAX_NAMES of them, or an option whose value exceeds 65535
 * octets.
 */
int ib_dhcp6_build(const struct ib_dhcp6_out *o, uint8_t *buf, size_t cap,
		   size_t *ret_len);

/* A built message and the relay levels to wrap it in. */
struct ib_dhcp6_wrap {
	uint8_t msg_type;		/* RELAY_REPL (replies) or RELAY_FORW */
	const struct ib_dhcp6_relay *chain; /* outermost first, as parsed */
	size_t n_relays;		/* levels, 1..IB_DHCP6_MAX_RELAYS */
	struct ib_dhcp6_blob inner;	/* the message to wrap */
};

/*
 * Wraps w->inner in one relay message per level of w->chain, outermost
 * first, each copying hop-count, link-address and peer-address.  RELAY-REPL
 * echoes the Interface-Id of each level (RFC 8415 19.3); RELAY-FORW also
 * writes Remote-Id and the client link-layer address where present.
 * 0 and *ret_len; -ENOBUFS if it does not fit in cap or IB_DHCP6_MAX_LEN;
 * -EINVAL for another msg-type or a level count out of range.
 */
int ib_dhcp6_build_relay(const struct ib_dhcp6_wrap *w, uint8_t *buf, size_t cap,
			 size_t *ret_len);

/* ---- Helpers ----------------------------------------------------------- */

/*
 * Classifies a DUID: *ret_type is its 16-bit type.  0 for a well-formed
 * DUID-LLT/EN/LL/UUID and for unknown types (opaque, RFC 8415 11);
 * -EBADMSG if shorter than IB_DHCP6_DUID_MIN, longer than
 * IB_DHCP6_DUID_MAX, or of a known type with an impossible length.
 */
int ib_dhcp6_duid_classify(const uint8_t *p, size_t len, uint16_t *ret_type);

/*
 * The MAC address in a DUID-LLT or DUID-LL with hardware type 1
 * (Ethernet, 6 octets).  0, -ENOENT for other types or hardware, or
 * -EBADMSG if malformed.
 */
int ib_dhcp6_duid_mac(const uint8_t *p, size_t len, uint8_t ret_mac[6]);

/*
 * Writes a DUID-LLT (RFC 8415 11.2) for an Ethernet MAC; time is seconds
 * since 2000-01-01 00:00 UTC modulo 2^32 (the caller reads the clock).
 * 14 octets.  0, or -ENOBUFS.
 */
int ib_dhcp6_duid_llt(const uint8_t mac[6], uint32_t time, uint8_t *buf,
		      size_t cap, size_t *ret_len);

/* Writes a DUID-UUID (RFC 6355 4), 18 octets.  0, or -ENOBUFS. */
int ib_dhcp6_duid_uuid(const uint8_t uuid[16], uint8_t *buf, size_t cap,
		       size_t *ret_len);

/*
 * The MAC behind a modified EUI-64 link-local address (fe80::/64, ff:fe in
 * the middle of the interface id, RFC 4291 2.5.1 and appendix A: the U/L
 * bit is flipped back).  0, or -ENOENT if addr is not of that form.
 */
int ib_dhcp6_eui64_mac(const uint8_t addr[16], uint8_t ret_mac[6]);

/*
 * Encodes dotted names as a domain list (option 24, RFC 8415 10: RFC 1035
 * 3.1 labels, no compression).  -EINVAL for a bad name, -ENOBUFS if the
 * result does not fit.
 */
int ib_dhcp6_domains_encode(const char *const *names, size_t n, uint8_t *buf,
			    size_t cap, size_t *ret_len);

/*
 * Checks a domain list on the wire: labels of 1..63 octets, each name
 * ending in the root label and at most 255 octets, no compression.
 * 0, or -EBADMSG.
 */
int ib_dhcp6_domains_check(const uint8_t *p, size_t len);

/*
 * Decodes a domain list into dotted names separated by one space.
 * -EBADMSG if malformed or a label holds a byte other than a letter,
 * digit, '-' or '_'; -ENOBUFS if out is too small.
 */
int ib_dhcp6_domains_decode(const uint8_t *p, size_t len, char *out, size_t outlen);

#endif
