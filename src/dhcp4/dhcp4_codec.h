/*
 * DHCPv4 wire codec (RFC 2131, RFC 2132, RFC 3396, RFC 3397, RFC 3442).
 *
 * Pure: bytes <-> structs, no syscalls, no clock, no logging.
 *
 * Parsing: the fixed BOOTP header is decoded field by field through a
 * cursor.  Options are read from the options area and, when option 52
 * (overload) says so, from the file and then the sname fields (RFC 2131
 * 4.1 order).  Repeated instances of one option are concatenated (RFC 3396),
 * so a consumer sees one value per code.  Anything malformed is rejected
 * with a negative errno and a reason code (struct ib_dhcp4_msg.reject) that
 * the shell counts and logs.
 *
 * Building: the caller fills an ib_dhcp4_out (header fields plus options in
 * the order they should appear); ib_dhcp4_build() writes the packet,
 * splitting any value over 255 bytes into several instances (RFC 3396),
 * respecting the client's maximum message size, ending with option 255 and
 * padding to the BOOTP minimum of 300 bytes.
 */
#ifndef IB_DHCP4_CODEC_H
#define IB_DHCP4_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IB_DHCP4_FIXED_LEN 236		/* BOOTP header before the cookie */
#define IB_DHCP4_MIN_LEN 240		/* header + magic cookie */
#define IB_DHCP4_MAX_LEN 4096		/* larger datagrams are rejected */
#define IB_DHCP4_BOOTP_MIN 300		/* replies are padded to this */
#define IB_DHCP4_DEFAULT_MAX_MSG 576	/* RFC 2132 9.10 minimum */
#define IB_DHCP4_MAGIC 0x63825363u
#define IB_DHCP4_BOOTREQUEST 1
#define IB_DHCP4_BOOTREPLY 2
#define IB_DHCP4_FLAG_BROADCAST 0x8000
#define IB_DHCP4_MAX_OPTS 64		/* options in one ib_dhcp4_out */

/* Message types (option 53). */
enum ib_dhcp4_type {
	IB_DHCP4_DISCOVER = 1, IB_DHCP4_OFFER = 2, IB_DHCP4_REQUEST = 3,
	IB_DHCP4_DECLINE = 4, IB_DHCP4_ACK = 5, IB_DHCP4_NAK = 6,
	IB_DHCP4_RELEASE = 7, IB_DHCP4_INFORM = 8,
};

/* Option codes used by ironboot. */
enum ib_dhcp4_opt {
	IB_OPT_PAD = 0, IB_OPT_SUBNET_MASK = 1, IB_OPT_ROUTER = 3,
	IB_OPT_DNS = 6, IB_OPT_HOSTNAME = 12, IB_OPT_DOMAIN_NAME = 15,
	IB_OPT_MTU = 26, IB_OPT_BROADCAST = 28, IB_OPT_NTP = 42,
	IB_OPT_VENDOR = 43, IB_OPT_REQUESTED_IP = 50, IB_OPT_LEASE_TIME = 51,
	IB_OPT_OVERLOAD = 52, IB_OPT_MSG_TYPE = 53, IB_OPT_SERVER_ID = 54,
	IB_OPT_PRL = 55, IB_OPT_MESSAGE = 56, IB_OPT_MAX_MSG_SIZE = 57,
	IB_OPT_T1 = 58, IB_OPT_T2 = 59, IB_OPT_VENDOR_CLASS = 60,
	IB_OPT_CLIENT_ID = 61, IB_OPT_TFTP_SERVER = 66, IB_OPT_BOOTFILE = 67,
	IB_OPT_USER_CLASS = 77, IB_OPT_RELAY_AGENT = 82,
	IB_OPT_CLIENT_ARCH = 93, IB_OPT_CLIENT_NDI = 94, IB_OPT_CLIENT_UUID = 97,
	IB_OPT_SUBNET_SELECTION = 118, IB_OPT_DOMAIN_SEARCH = 119,
	IB_OPT_CLASSLESS_ROUTES = 121, IB_OPT_IPXE = 175, IB_OPT_END = 255,
};

/* Option 82 sub-options (RFC 3046, RFC 3527). */
#define IB_RAI_CIRCUIT_ID 1
#define IB_RAI_REMOTE_ID 2
#define IB_RAI_LINK_SELECTION 5
#define IB_RAI_SERVER_ID_OVERRIDE 11	/* RFC 5107 */

/* Why a packet was rejected; the shell counts these per reason. */
enum ib_dhcp4_reject {
	IB_DHCP4_OK = 0,
	IB_DHCP4_REJ_SHORT,		/* shorter than header + cookie */
	IB_DHCP4_REJ_OVERSIZE,		/* longer than IB_DHCP4_MAX_LEN */
	IB_DHCP4_REJ_COOKIE,		/* bad magic cookie */
	IB_DHCP4_REJ_OP,		/* op is not BOOTREQUEST/BOOTREPLY */
	IB_DHCP4_REJ_HW,		/* hlen > 16, or htype 1 with hlen != 6 */
	IB_DHCP4_REJ_OPT_TRUNC,		/* option length runs past its area */
	IB_DHCP4_REJ_OVERLOAD,		/* bad option 52, or 52 inside file/sname */
	IB_DHCP4_REJ_NO_END,		/* options area without END */
	IB_DHCP4_REJ_BAD_OPT,		/* an option with an impossible length */
	IB_DHCP4_REJ_NO_TYPE,		/* no or invalid option 53 */
	IB_DHCP4_REJ__MAX,
};

/* Short text for a reject reason ("option-truncated", ...). */
const char *ib_dhcp4_reject_str(enum ib_dhcp4_reject r);

/* A parsed message.  Option values point into opt_data. */
struct ib_dhcp4_msg {
	uint8_t op;			/* 1 request, 2 reply */
	uint8_t htype;			/* hardware type */
	uint8_t hlen;			/* hardware address length, <= 16 */
	uint8_t hops;			/* relay hops */
	uint32_t xid;			/* transaction id */
	uint16_t secs;			/* seconds since the client began */
	uint16_t flags;			/* broadcast flag */
	uint32_t ciaddr;		/* client address (host order) */
	uint32_t yiaddr;		/* your address */
	uint32_t siaddr;		/* next server */
	uint32_t giaddr;		/* relay agent address */
	uint8_t chaddr[16];		/* client hardware address */
	uint8_t sname[64];		/* raw, unless overloaded */
	uint8_t file[128];		/* raw, unless overloaded */
	uint8_t overload;		/* option 52 value, 0 if absent */
	uint8_t type;			/* option 53, enum ib_dhcp4_type */
	enum ib_dhcp4_reject reject;	/* why parsing failed */
	uint16_t opt_off[256];		/* value offset in opt_data per code */
	uint16_t opt_len[256];		/* value length per code (joined) */
	uint8_t opt_seen[32];		/* bitmap of codes present */
	uint8_t opt_data[IB_DHCP4_MAX_LEN]; /* joined option values */
	size_t opt_data_len;		/* bytes used in opt_data */
};

/*
 * Parses a datagram into *ret (which the caller provides; it is large).
 * Returns 0, or -EBADMSG with ret->reject set.  Requires option 53 for
 * BOOTREQUESTs (plain BOOTP is not served).
 */
int ib_dhcp4_parse(const void *buf, size_t len, struct ib_dhcp4_msg *ret);

/* Whether the option is present, and its joined value. */
bool ib_dhcp4_opt(const struct ib_dhcp4_msg *m, uint8_t code,
		  const uint8_t **ret_p, size_t *ret_len);
/* Typed getters: 0, -ENOENT if absent, -EBADMSG if the length is wrong. */
int ib_dhcp4_opt_u8(const struct ib_dhcp4_msg *m, uint8_t code, uint8_t *ret);
int ib_dhcp4_opt_u16(const struct ib_dhcp4_msg *m, uint8_t code, uint16_t *ret);
int ib_dhcp4_opt_u32(const struct ib_dhcp4_msg *m, uint8_t code, uint32_t *ret);
/* Option value that is one IPv4 address, host order. */
int ib_dhcp4_opt_ip(const struct ib_dhcp4_msg *m, uint8_t code, uint32_t *ret);
/*
 * Finds sub-option sub inside an option that holds code/len/value
 * sub-options (82, 43, 175).  0, -ENOENT, or -EBADMSG if malformed.
 */
int ib_dhcp4_subopt(const struct ib_dhcp4_msg *m, uint8_t code, uint8_t sub,
		    const uint8_t **ret_p, size_t *ret_len);
/*
 * Whether the user class option 77 contains the string s, both as RFC 3004
 * length-prefixed instances and as the plain string iPXE sends.
 */
bool ib_dhcp4_user_class_has(const struct ib_dhcp4_msg *m, const char *s);

/* One option to send. data is copied into the out's buffer by the adders. */
struct ib_dhcp4_out_opt {
	uint8_t code;			/* option code */
	uint16_t len;			/* value length, may exceed 255 */
	uint16_t off;			/* value offset in ib_dhcp4_out.data */
};

/* A reply (or any message) to build. */
struct ib_dhcp4_out {
	uint8_t op, htype, hlen, hops;	/* as in ib_dhcp4_msg */
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr; /* host order */
	uint8_t chaddr[16];
	char sname[64];			/* NUL-terminated, may be empty */
	char file[128];			/* NUL-terminated, may be empty */
	struct ib_dhcp4_out_opt opts[IB_DHCP4_MAX_OPTS];
	size_t n_opts;
	uint8_t data[2048];		/* storage for option values */
	size_t data_len;
};

/* Resets o to an empty message. */
void ib_dhcp4_out_init(struct ib_dhcp4_out *o);
/*
 * Appends an option; -ENOBUFS when the out is full, -EINVAL for 0, 52
 * and 255 (the builder never overloads sname/file).
 */
int ib_dhcp4_out_add(struct ib_dhcp4_out *o, uint8_t code, const void *p, size_t len);
int ib_dhcp4_out_add_u8(struct ib_dhcp4_out *o, uint8_t code, uint8_t v);
int ib_dhcp4_out_add_u16(struct ib_dhcp4_out *o, uint8_t code, uint16_t v);
int ib_dhcp4_out_add_u32(struct ib_dhcp4_out *o, uint8_t code, uint32_t v);
/* A list of IPv4 addresses (host order) as one option. */
int ib_dhcp4_out_add_ips(struct ib_dhcp4_out *o, uint8_t code, const uint32_t *a, size_t n);
int ib_dhcp4_out_add_str(struct ib_dhcp4_out *o, uint8_t code, const char *s);
bool ib_dhcp4_out_has(const struct ib_dhcp4_out *o, uint8_t code);

/*
 * Encodes a domain search list (option 119, RFC 3397: RFC 1035 labels with
 * compression pointers).  -EINVAL for a bad name, -ENOBUFS if it does not fit.
 */
int ib_dhcp4_encode_search(const char *const *names, size_t n, uint8_t *buf,
			   size_t cap, size_t *ret_len);
/*
 * Decodes option 119 back into dotted names separated by one space (for
 * tests and `explain`).  -EBADMSG if malformed, -ENOBUFS if out is small.
 */
int ib_dhcp4_decode_search(const uint8_t *p, size_t len, char *out, size_t outlen);
/*
 * Encodes classless static routes (option 121, RFC 3442): per route the
 * prefix length, the significant octets of the destination, the gateway.
 */
int ib_dhcp4_encode_routes(const uint32_t *dest, const uint8_t *plen,
			   const uint32_t *gw, size_t n, uint8_t *buf,
			   size_t cap, size_t *ret_len);

/*
 * Writes o as a datagram into buf.  max_len is the largest datagram the
 * client accepts (option 57, at least 576, IP and UDP headers included:
 * the DHCP payload gets max_len - 28).  Options that do not fit are left
 * out from the end (the caller orders options by importance), never cut.
 * Returns 0 and *ret_len, or -ENOBUFS if even the mandatory part does not fit.
 */
int ib_dhcp4_build(const struct ib_dhcp4_out *o, size_t max_len, uint8_t *buf,
		   size_t cap, size_t *ret_len);

/* A sample client (dhcp4_sample.c). */
struct ib_dhcp4_sample {
	uint8_t mac[6];			/* chaddr */
	int arch;			/* option 93, or -1: none sent */
	const char *vendor_class;	/* option 60, NULL: PXEClient/HTTPClient by arch */
	bool ipxe;			/* user class "iPXE" (option 77) */
	uint32_t giaddr;		/* relay, 0: the local link */
};

/*
 * Builds the DISCOVER the firmware (or iPXE) of s would send and parses it
 * into *ret, for `explain` and `doctor` to run through the daemon's
 * decisions.  Returns 0, or a negative errno from the codec.
 */
int ib_dhcp4_sample_discover(const struct ib_dhcp4_sample *s, struct ib_dhcp4_msg *ret);

#endif
