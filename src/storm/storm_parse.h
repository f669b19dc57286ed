/*
 * The pure pieces of ironboot-storm that are its own (the DHCP, TFTP and
 * HTTP wire formats come from ironboot's codecs and the agent's HTTP
 * response parser): what a booting iPXE does with the text it is given.
 *
 *  - expanding iPXE settings (${net0/mac}, ${uuid}, ...) in a boot file
 *    URL, as iPXE does before it fetches it;
 *  - reading "tftp://[addr]/file" and "tftp://a.b.c.d/file" boot file URLs
 *    (DHCPv6 bootfile-url, RFC 5970 3.1);
 *  - finding the kernel and initrd URLs in an iPXE script;
 *  - the receiving side of a TFTP transfer (RFC 1350, RFC 7440 windows).
 *
 * No syscalls, no clock, no logging.  fuzz/fuzz_storm.c drives all of it.
 */
#ifndef IB_STORM_PARSE_H
#define IB_STORM_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IB_STORM_URL_MAX 2048		/* bytes of one URL, NUL included */
#define IB_STORM_MAX_FETCH 8		/* kernel + initrds taken from a script */
#define IB_STORM_SCRIPT_MAX 65536	/* bytes of a script that are read */

/* The settings a simulated iPXE expands (iPXE's names). */
struct ib_storm_settings {
	const char *mac;		/* ${net0/mac}, ${mac}: "52:54:00:..." */
	const char *uuid;		/* ${uuid} */
	const char *buildarch;		/* ${buildarch}: "x86_64" */
	const char *platform;		/* ${platform}: "efi" or "pcbios" */
	const char *hostname;		/* ${hostname}, may be "" */
	const char *serial;		/* ${serial}, may be "" */
};

/*
 * Expands ${name} and ${name:type} settings of in (NUL-terminated) into
 * out[cap].  Unknown settings expand to nothing, as in iPXE.  Returns 0,
 * -ENAMETOOLONG when the result does not fit, -EINVAL for a "${" without
 * its "}".
 */
int ib_storm_expand(const char *in, const struct ib_storm_settings *s,
		    char *out, size_t cap);

/* A TFTP boot file URL. */
struct ib_storm_tftp_url {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];		/* network order (4 bytes for AF_INET) */
	uint16_t port;			/* host order, 69 by default */
	char file[256];			/* path without the leading '/' */
};

/*
 * Parses "tftp://HOST[:PORT]/FILE" with HOST an IPv4 literal or a
 * bracketed IPv6 literal into *ret (written only on success).  Returns 0,
 * -EPROTONOSUPPORT for another scheme, -EINVAL when malformed (no file,
 * bad host or port, control bytes), -ENAMETOOLONG for a file over 255.
 */
int ib_storm_tftp_url_parse(const char *url, size_t len,
			    struct ib_storm_tftp_url *ret);

/* What a script asks iPXE to fetch. */
struct ib_storm_fetch {
	char url[IB_STORM_MAX_FETCH][IB_STORM_URL_MAX]; /* kernel first */
	size_t n;			/* entries used in url */
	bool has_kernel;		/* a kernel (or chain) line was seen */
};

/*
 * Reads an iPXE script: the first word that is not an option ("--name x",
 * "-n x", "--timeout=5") after "kernel", "imgfetch", "module", "initrd" or
 * "chain" is a URL to fetch; the kernel's comes first.  Lines are split on
 * LF (a CR before it is dropped); "#" starts a comment line.  Returns 0,
 * -ENOENT when no kernel or chain line is there, -EBADMSG when the text
 * does not start with "#!ipxe" or a URL holds a byte outside visible
 * ASCII, -E2BIG for more than IB_STORM_MAX_FETCH
 * URLs or one longer than IB_STORM_URL_MAX - 1.
 */
int ib_storm_script_scan(const uint8_t *p, size_t len, struct ib_storm_fetch *ret);

/* The receiving side of one TFTP transfer. */
struct ib_storm_tftp_rx {
	uint32_t blksize;		/* negotiated, 512 until an OACK says more */
	uint32_t windowsize;		/* negotiated, 1 until an OACK says more */
	uint64_t tsize;			/* the OACK's tsize, 0 if none */
	uint16_t last;			/* wire number of the last in-order block */
	uint32_t in_window;		/* blocks taken since the last ACK */
	uint64_t blocks;		/* blocks taken in order */
	uint64_t bytes;			/* data bytes taken */
	bool started;			/* an OACK or DATA 1 arrived */
	bool done;			/* the short last block arrived */
	bool gap_acked;			/* a gap was answered; wait for order */
	uint16_t err_code;		/* ERROR code received */
};

/* What to do after a packet. */
enum ib_storm_tftp_act {
	IB_STORM_TFTP_NONE,		/* wait for more */
	IB_STORM_TFTP_ACK,		/* send ACK for *ret_block */
	IB_STORM_TFTP_DONE,		/* send ACK for *ret_block; complete */
};

/* Starts a transfer (before the RRQ leaves). */
void ib_storm_tftp_rx_init(struct ib_storm_tftp_rx *rx);

/*
 * Takes one packet from the server.  Returns an enum ib_storm_tftp_act
 * (>= 0) with *ret_block the block to acknowledge, or -ECONNREFUSED for
 * an ERROR packet (rx->err_code says which), -EBADMSG for a malformed
 * packet or an OACK after the transfer began (ignored by the caller),
 * -EPROTO for an OACK granting what was not asked (blksize out of range).
 * RFC 7440 4: a block out of order is answered with an ACK of the last
 * block received in order, which restarts the window from there.
 */
int ib_storm_tftp_rx_input(struct ib_storm_tftp_rx *rx, const uint8_t *p,
			   size_t len, uint16_t *ret_block);

#endif
