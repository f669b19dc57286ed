/*
 * TFTP wire codec (RFC 1350, RFC 2347 options, RFC 2348 blksize, RFC 2349
 * timeout and tsize, RFC 7440 windowsize).
 *
 * Pure: bytes <-> structs, no syscalls, no clock, no logging.
 *
 * Parsing is split in two steps.  ib_tftp_request_parse() checks syntax
 * only: opcode, NUL-terminated filename and mode, and the option pairs it
 * knows (names case-insensitive, values decimal).  ib_tftp_negotiate() then
 * applies the RFC ranges and the server's limits and says which options go
 * into the OACK.  Unknown options are ignored (RFC 2347: "the server ...
 * should simply omit it from the OACK").
 *
 * The codec also holds the other pure pieces of the protocol: the filename
 * policy (what a client may ask for, before any file is opened) and the
 * netascii encoder (RFC 1350 / RFC 764: LF -> CR LF, CR -> CR NUL).
 */
#ifndef IB_TFTP_CODEC_H
#define IB_TFTP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cursor.h"

#define IB_TFTP_NAME_MAX 255		/* longest filename accepted */
#define IB_TFTP_BLKSIZE_DEFAULT 512	/* RFC 1350 */
#define IB_TFTP_BLKSIZE_MIN 8		/* RFC 2348 */
#define IB_TFTP_BLKSIZE_MAX 65464	/* RFC 2348 */
#define IB_TFTP_TIMEOUT_MIN 1		/* RFC 2349, seconds */
#define IB_TFTP_TIMEOUT_MAX 255		/* RFC 2349, seconds */
#define IB_TFTP_WINDOW_MIN 1		/* RFC 7440 */
#define IB_TFTP_WINDOW_MAX 65535	/* RFC 7440 */
#define IB_TFTP_HDR_LEN 4		/* opcode + block (DATA, ACK) */
#define IB_TFTP_OACK_MAX 512		/* RFC 2347: requests fit in 512 */
#define IB_TFTP_ERRMSG_MAX 127		/* longest error text we build */

enum ib_tftp_opcode {
	IB_TFTP_RRQ = 1,		/* read request */
	IB_TFTP_WRQ = 2,		/* write request */
	IB_TFTP_DATA = 3,		/* data block */
	IB_TFTP_ACK = 4,		/* acknowledgement */
	IB_TFTP_ERROR = 5,		/* error */
	IB_TFTP_OACK = 6,		/* option acknowledgement (RFC 2347) */
};

/* RFC 1350 section 5 error codes, and RFC 2347's code 8. */
enum ib_tftp_errcode {
	IB_TFTP_EUNDEF = 0,		/* not defined, see message */
	IB_TFTP_ENOTFOUND = 1,		/* file not found */
	IB_TFTP_EACCESS = 2,		/* access violation */
	IB_TFTP_ENOSPACE = 3,		/* disk full */
	IB_TFTP_EBADOP = 4,		/* illegal TFTP operation */
	IB_TFTP_EBADID = 5,		/* unknown transfer ID */
	IB_TFTP_EEXISTS = 6,		/* file already exists */
	IB_TFTP_ENOUSER = 7,		/* no such user */
	IB_TFTP_EOPTNEG = 8,		/* option negotiation refused */
};

enum ib_tftp_mode {
	IB_TFTP_MODE_OCTET,		/* bytes as they are */
	IB_TFTP_MODE_NETASCII,		/* LF -> CR LF, CR -> CR NUL */
};

/* Bits of ib_tftp_options.present. */
#define IB_TFTP_OPT_BLKSIZE (1u << 0)
#define IB_TFTP_OPT_TSIZE (1u << 1)
#define IB_TFTP_OPT_TIMEOUT (1u << 2)
#define IB_TFTP_OPT_WINDOWSIZE (1u << 3)

/*
 * The options of a request (as asked), or of an OACK (as granted).  Values
 * of absent options are the protocol defaults.
 */
struct ib_tftp_options {
	uint32_t present;		/* IB_TFTP_OPT_* bits */
	uint32_t blksize;		/* data bytes per block */
	uint64_t tsize;			/* transfer size in octets */
	uint32_t timeout_s;		/* retransmit timeout, seconds */
	uint32_t windowsize;		/* blocks per window */
};

/* A parsed RRQ or WRQ. */
struct ib_tftp_request {
	uint16_t opcode;		/* IB_TFTP_RRQ or IB_TFTP_WRQ */
	char filename[IB_TFTP_NAME_MAX + 1]; /* raw bytes, NUL-terminated */
	size_t filename_len;		/* bytes before the NUL */
	enum ib_tftp_mode mode;		/* transfer mode */
	struct ib_tftp_options opts;	/* options as the client asked */
};

/* The server's caps applied by ib_tftp_negotiate(). */
struct ib_tftp_limits {
	uint32_t max_blksize;		/* clamped into 8..65464 */
	uint32_t max_windowsize;	/* clamped into 1..65535 */
};

/*
 * Reads the opcode of any TFTP packet.  Returns 0, or -EBADMSG when shorter
 * than two bytes.
 */
int ib_tftp_opcode_peek(const void *buf, size_t len, uint16_t *ret);

/*
 * Parses an RRQ or WRQ.  Returns 0 and fills *ret, or:
 *   -EBADMSG          truncated, filename or mode without NUL, empty name
 *   -ENAMETOOLONG     filename longer than IB_TFTP_NAME_MAX
 *   -EPROTONOSUPPORT  mode other than octet/netascii (e.g. "mail")
 *   -EOPNOTSUPP       opcode is not RRQ or WRQ
 * Option pairs after the mode are read until the packet ends; a trailing
 * incomplete pair is ignored (some ROMs pad requests), as are unknown or
 * non-numeric options and repeats of an option already seen.
 */
int ib_tftp_request_parse(const void *buf, size_t len,
			  struct ib_tftp_request *ret);

/*
 * Decides the options granted for a request.  xfer_size is the number of
 * octets the transfer will carry, or UINT64_MAX when unknown (tsize is then
 * not granted).  ret->present says which options go into the OACK (none =
 * no OACK, plain RFC 1350 transfer); all values of *ret are usable:
 *   blksize     8..65464 honoured up to lim->max_blksize; larger values
 *               negotiated down to it (RFC 2348); < 8 ignored
 *   tsize       granted with xfer_size (RFC 2349)
 *   timeout     1..255 echoed (RFC 2349); out of range ignored
 *   windowsize  >= 1 honoured up to lim->max_windowsize (RFC 7440); 0
 *               ignored
 */
void ib_tftp_negotiate(const struct ib_tftp_options *req,
		       const struct ib_tftp_limits *lim, uint64_t xfer_size,
		       struct ib_tftp_options *ret);

/* Parses an ACK.  Returns 0, or -EBADMSG when not an ACK of >= 4 bytes. */
int ib_tftp_ack_parse(const void *buf, size_t len, uint16_t *ret_block);

/*
 * Parses an ERROR.  The message (up to its NUL or the end of the packet) is
 * copied raw into msg (msgcap bytes, always NUL-terminated); sanitise it
 * before logging.  Returns 0 or -EBADMSG.
 */
int ib_tftp_error_parse(const void *buf, size_t len, uint16_t *ret_code,
			char *msg, size_t msgcap);

/*
 * Parses a DATA packet; *ret_data points into buf.  Returns 0 or -EBADMSG.
 */
int ib_tftp_data_parse(const void *buf, size_t len, uint16_t *ret_block,
		       const uint8_t **ret_data, size_t *ret_len);

/* Parses an OACK into *ret (values not range-checked).  0 or -EBADMSG. */
int ib_tftp_oack_parse(const void *buf, size_t len,
		       struct ib_tftp_options *ret);

/* Writes the 4-byte DATA header for block (wire number). */
void ib_tftp_data_header(uint16_t block, uint8_t out[IB_TFTP_HDR_LEN]);

/*
 * UDP GSO (segmentation offload) of DATA packets: one send of up to this
 * many packets of 4 + blksize bytes, the last one possibly shorter.  The
 * kernel takes at most UDP_MAX_SEGMENTS segments per send (64 until Linux
 * 6.9, 128 since) and a super-datagram must still fit a UDP length: 65507
 * payload bytes under IPv4 (IPv6 allows 65527; one cap serves both).
 */
#define IB_TFTP_GSO_MAX_SEGS 64
#define IB_TFTP_GSO_MAX_BYTES 65507

/*
 * How many DATA packets of a transfer may leave in one GSO send: 0 when
 * GSO does not apply (window 1, or a packet of 4 + blksize bytes plus
 * ip_udp_hdr bytes of IP and UDP headers exceeds path_mtu, i.e. it would
 * be fragmented), else 2..IB_TFTP_GSO_MAX_SEGS.
 */
uint32_t ib_tftp_gso_segs(uint32_t blksize, uint32_t windowsize,
			  uint32_t path_mtu, uint32_t ip_udp_hdr);

/* Builds DATA / ACK / ERROR / OACK into w.  0 or -ENOBUFS. */
int ib_tftp_build_data(struct ib_wbuf *w, uint16_t block, const void *data,
		       size_t len);
int ib_tftp_build_ack(struct ib_wbuf *w, uint16_t block);
/* msg is truncated to IB_TFTP_ERRMSG_MAX bytes. */
int ib_tftp_build_error(struct ib_wbuf *w, uint16_t code, const char *msg);
/* Writes the options whose bits are set in opts->present. */
int ib_tftp_build_oack(struct ib_wbuf *w, const struct ib_tftp_options *opts);
/* The same options appended to an RRQ (client side; tests and tools). */
int ib_tftp_build_rrq(struct ib_wbuf *w, const char *filename,
		      enum ib_tftp_mode mode, const struct ib_tftp_options *opts);

/*
 * Filename policy, before anything is opened: refuses with -EACCES absolute
 * names, any ".." component, backslashes and control bytes, and with
 * -ENOENT the empty name.  0 when the name may be resolved under the root
 * (which must still refuse symlinks out of it).
 */
int ib_tftp_name_check(const char *name, size_t len);

/*
 * Netascii encoder state carried between blocks: a byte still owed from a
 * two-byte expansion that did not fit the previous block.
 */
struct ib_tftp_nascii {
	int pending;			/* byte to emit first, or -1 */
};

/*
 * Encodes in[0..inlen) as netascii into out[0..outcap), starting with any
 * pending byte of *st.  Stops when out is full or the input is used up.
 * Returns bytes written to out; *ret_used is the number of input bytes
 * consumed.
 */
size_t ib_tftp_netascii_encode(struct ib_tftp_nascii *st, const uint8_t *in,
			       size_t inlen, size_t *ret_used, uint8_t *out,
			       size_t outcap);

/* Size of in[0..len) once netascii-encoded. */
uint64_t ib_tftp_netascii_size(const uint8_t *in, size_t len);

/* Text for a TFTP error code (for logs and reports). */
const char *ib_tftp_errcode_str(uint16_t code);

#endif
