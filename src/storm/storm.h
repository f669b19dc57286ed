/*
 * ironboot-storm: one process that plays N network-booting machines
 * against a DHCP/TFTP/HTTP boot service (docs/STORM.md).
 *
 * Shape: one epoll loop (storm_loop.c) over
 *  - one UDP socket per family acting as the DHCP relay of every simulated
 *    machine (DHCPv4 giaddr, RFC 1542; DHCPv6 RELAY-FORW, RFC 8415 19):
 *    replies come back unicast to it, so no raw socket, no broadcast and
 *    no per-machine DHCP socket are needed; read with recvmmsg(), written
 *    with sendmmsg() once per loop turn;
 *  - per machine, while it fetches, one UDP socket (TFTP) or one TCP
 *    connection (HTTP, keep-alive) bound to the address it leased, which
 *    the namespace makes local with an "AnyIP" route (ip route add local
 *    PREFIX dev lo), so the server sees each machine at its own address;
 *  - one timer heap (retransmits, power-on times, deadlines).
 * Each machine walks stages (enum ib_storm_stage); each stage ends with
 * success or one failure reason, counted in struct ib_storm_stats.
 */
#ifndef IB_STORM_H
#define IB_STORM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "agent/agent_http_parse.h"
#include "agent/agent_url.h"
#include "storm/storm_parse.h"

/* The stages of the chain, in order. */
enum ib_storm_stage {
	IB_STORM_DHCP,			/* DORA (SARR) as the PXE firmware */
	IB_STORM_TFTP,			/* the first-stage file (iPXE) */
	IB_STORM_DHCP_IPXE,		/* DORA again, as iPXE */
	IB_STORM_SCRIPT,		/* HTTP GET of the script */
	IB_STORM_KERNEL,		/* HTTP GET of kernel and initrds */
	IB_STORM__STAGES,
	IB_STORM_IDLE = IB_STORM__STAGES, /* not powered on yet */
	IB_STORM_DONE,			/* reached --until */
	IB_STORM_FAILED,		/* a stage failed */
};

/* Stage names for output ("dhcp", "tftp", "dhcp-ipxe", ...). */
extern const char *const ib_storm_stage_names[IB_STORM__STAGES];

#define IB_STORM_MAX_REASONS 16		/* failure reasons kept per stage */
#define IB_STORM_MAX_MACHINES (1u << 20) /* xids carry the machine index */

/* Latency samples of one stage, microseconds. */
struct ib_storm_samples {
	uint32_t *v;			/* samples, malloc'ed */
	size_t n;			/* used */
	size_t cap;			/* allocated */
};

/* Counters of one stage. */
struct ib_storm_stage_stats {
	uint64_t ok;			/* machines through the stage */
	uint64_t failed;		/* machines that failed in it */
	uint64_t retransmits;		/* requests sent again after a timeout */
	uint64_t exchanges;		/* request/reply pairs completed */
	const char *reason[IB_STORM_MAX_REASONS]; /* failure reasons (static strings) */
	uint64_t reason_n[IB_STORM_MAX_REASONS]; /* count per reason */
	struct ib_storm_samples lat;	/* stage latency per machine */
};

/* Everything counted in a run. */
struct ib_storm_stats {
	struct ib_storm_stage_stats st[IB_STORM__STAGES]; /* per stage */
	struct ib_storm_samples ttk;	/* power-on to done, per machine */
	uint64_t first_done_us;		/* since t0, of the first machine done */
	uint64_t last_done_us;		/* since t0, of the last machine done */
	uint64_t done;			/* machines that reached --until */
	uint64_t bad_replies;		/* datagrams no machine could take */
};

/* The options of a run (storm_main.c fills them). */
struct ib_storm_opts {
	int family;			/* AF_INET or AF_INET6 */
	uint32_t machines;		/* fleet size */
	double within_s;		/* power-on spread (storm mode), or 0 */
	double rate;			/* machines started per second (open loop), or 0 */
	enum ib_storm_stage until;	/* last stage run */
	struct sockaddr_in server4;	/* DHCPv4 server, port 67 */
	struct sockaddr_in relay4;	/* our relay address (giaddr), port 67 */
	struct sockaddr_in6 server6;	/* DHCPv6 server, port 547 */
	struct sockaddr_in6 relay6;	/* our relay address, port 547 */
	struct sockaddr_in helper4;	/* --helper: a second DHCPv4 server */
	struct sockaddr_in6 helper6;	/* --helper: a second DHCPv6 server */
	bool has_helper;		/* every DHCP datagram also goes to it */
	bool sid_override;		/* DHCPv4: our relay address in 82.11
					 * (RFC 5107, --server-id-override) */
	uint8_t link6[16];		/* link-address of RELAY-FORW */
	uint8_t mac_base[6];		/* first machine's MAC */
	uint16_t arch;			/* client arch (RFC 4578 / 5970): 7 EFI x64, 0 BIOS */
	uint32_t blksize;		/* TFTP blksize asked */
	uint32_t windowsize;		/* TFTP windowsize asked, 0: not asked */
	double deadline_s;		/* a machine not done by then fails */
	uint64_t seed;			/* power-on order */
	bool verbose;			/* one line per failure on stderr */
	const char *acks_path;		/* --acks FILE, or NULL */
};

/* One simulated machine. */
struct ib_storm_machine {
	uint32_t idx;			/* index in the fleet */
	uint8_t mac[6];			/* its MAC */
	enum ib_storm_stage stage;	/* where it is */
	uint8_t phase;			/* DHCP: 0 discover/solicit, 1 request */
	uint8_t tries;			/* sends of the current request */
	uint8_t restarts;		/* DHCP exchanges begun again after a refusal */
	uint32_t xid;			/* current DHCP transaction */
	uint32_t timer_gen;		/* the live timer's generation */
	uint64_t t_power;		/* power-on time, loop microseconds */
	uint64_t t_stage;		/* when the stage began */
	uint64_t t_sent;		/* when the current request first left */
	/* what DHCP gave */
	uint8_t addr[16];		/* leased address (4 bytes for IPv4) */
	uint32_t server_id4;		/* DHCPv4 option 54 */
	uint8_t server_duid[130];	/* DHCPv6 server identifier */
	uint8_t server_duid_len;	/* its length */
	char *bootfile;			/* file / bootfile-url, malloc'ed */
	/* TFTP */
	int fd;				/* TFTP or HTTP socket, -1 */
	struct sockaddr_in6 peer;	/* TFTP server (its TID once known) */
	socklen_t peer_len;		/* length of peer */
	bool peer_known;		/* the server's TID was seen */
	uint16_t tftp_port;		/* the server's request port (69) */
	uint16_t last_ack;		/* block of the last ACK sent */
	struct ib_storm_tftp_rx rx;	/* receive state */
	/* HTTP */
	struct ib_storm_fetch *fetch;	/* what the script names, malloc'ed */
	size_t fetch_i;			/* next URL of fetch */
	struct ib_agent_url *url;	/* the current URL, malloc'ed */
	struct ib_agent_http_resp *resp; /* the response being read, malloc'ed */
	uint8_t *script;		/* the script's bytes, malloc'ed */
	size_t script_len;		/* bytes in script */
	char *req;			/* request bytes still to write, malloc'ed */
	size_t req_len, req_off;	/* its length and what was written */
	bool connected;			/* the TCP connection is up */
	uint16_t conn_port;		/* server port of the open connection */
	uint8_t conn_addr[16];		/* server address of the open connection */
};

struct ib_storm;

/* The loop's context: options, machines, sockets, timers, counters. */
struct ib_storm {
	struct ib_storm_opts o;		/* options */
	struct ib_storm_machine *m;	/* o.machines of them */
	int ep;				/* epoll */
	int dhcp_fd;			/* the relay socket of o.family */
	uint64_t t0;			/* loop time of the start, microseconds */
	uint64_t now;			/* loop time, microseconds (CLOCK_MONOTONIC) */
	uint32_t running;		/* machines not done or failed */
	uint32_t open_fds;		/* TFTP and HTTP sockets open */
	struct ib_storm_timer *heap;	/* timer min-heap */
	size_t heap_n, heap_cap;	/* used and allocated */
	struct ib_storm_out *out;	/* DHCP datagrams to send this turn */
	size_t out_n;			/* used */
	struct ib_storm_stats s;	/* what happened */
	uint8_t *rbuf;			/* receive buffers (recvmmsg) */
	void *scratch;			/* a parsed DHCP message (too large for the stack) */
	uint64_t rng;			/* xorshift state */
	FILE *acks;			/* --acks: one line per ACK/REPLY taken, or NULL */
};

/* ---- storm_loop.c: timers, sockets, stage transitions ---------------- */

/* Arms m's one timer at now + us (replacing the previous one). */
int ib_storm_timer(struct ib_storm *st, struct ib_storm_machine *m, uint64_t us);
/* Disarms m's timer. */
void ib_storm_timer_cancel(struct ib_storm_machine *m);
/* Registers fd for m (events: EPOLLIN / EPOLLOUT). 0 or -errno. */
int ib_storm_watch(struct ib_storm *st, struct ib_storm_machine *m, int fd, uint32_t events);
/* Closes m's TFTP/HTTP socket if open. */
void ib_storm_close(struct ib_storm *st, struct ib_storm_machine *m);
/*
 * m's DHCP exchange ended with its address acknowledged (an ACK, a
 * DHCPv6 REPLY): "MAC ADDRESS" goes to --acks, for a test that checks
 * every acknowledged lease against the server's store.
 */
void ib_storm_note_ack(struct ib_storm *st, const struct ib_storm_machine *m);
/* m finished its stage: counts it and starts the next one (or ends m). */
void ib_storm_stage_ok(struct ib_storm *st, struct ib_storm_machine *m);
/* m failed its stage for reason (a static string). */
void ib_storm_stage_fail(struct ib_storm *st, struct ib_storm_machine *m, const char *reason);
/* Counts a retransmit of m's stage. */
void ib_storm_retransmit(struct ib_storm *st, struct ib_storm_machine *m);
/* One recvmmsg() batch's arrays: datagram i lands in slot i of st->rbuf. */
struct ib_storm_rx {
	struct mmsghdr *mh;		/* n headers; mh[i].msg_len: bytes of datagram i */
	struct iovec *iov;		/* n buffers; iov[i].iov_base: datagram i */
	struct sockaddr_in6 *from;	/* n senders, or NULL: not asked */
	size_t n;			/* datagrams per batch */
	size_t slot;			/* bytes of one slot; n * slot fit st->rbuf */
};
/* Receives up to rx->n datagrams from fd without waiting.  How many came,
 * or -1 (errno; EINVAL when rx->n slots do not fit st->rbuf). */
int ib_storm_recv(struct ib_storm *st, int fd, const struct ib_storm_rx *rx);
/* Queues one DHCP datagram to the server; sent by the loop's sendmmsg. */
int ib_storm_queue(struct ib_storm *st, const void *p, size_t len);
/* A pseudo-random 32-bit number. */
uint32_t ib_storm_rand(struct ib_storm *st);
/* Runs the fleet until every machine is done or failed. 0 or -errno. */
int ib_storm_run(struct ib_storm *st);
/* Sets up the context for o (sockets, machines). 0 or -errno. */
int ib_storm_init(struct ib_storm *st, const struct ib_storm_opts *o);
/* Frees everything of st. */
void ib_storm_done(struct ib_storm *st);

/* ---- storm_dhcp4.c / storm_dhcp6.c ------------------------------------ */

/*
 * Sends m's current DHCP request (DISCOVER/REQUEST, SOLICIT/REQUEST as
 * its phase and stage say), counts the try and arms its timeout.  The
 * loop (storm_loop.c) starts the exchange and decides on retransmits.
 */
void ib_storm_dhcp4_send(struct ib_storm *st, struct ib_storm_machine *m);
void ib_storm_dhcp6_send(struct ib_storm *st, struct ib_storm_machine *m);
/*
 * The server refused m's request: m starts its exchange again (a new
 * transaction, counted as a retransmit), at most 4 times; then the stage
 * fails with reason.
 */
void ib_storm_dhcp_restart(struct ib_storm *st, struct ib_storm_machine *m, const char *reason);
/* One datagram from the DHCPv4 / DHCPv6 server (through our relay socket). */
void ib_storm_dhcp4_input(struct ib_storm *st, const uint8_t *p, size_t len);
void ib_storm_dhcp6_input(struct ib_storm *st, const uint8_t *p, size_t len);

/* ---- storm_tftp.c ------------------------------------------------------ */

/* Starts the TFTP stage of m (its bootfile from DHCP). */
void ib_storm_tftp_start(struct ib_storm *st, struct ib_storm_machine *m);
/* m's TFTP socket is readable. */
void ib_storm_tftp_readable(struct ib_storm *st, struct ib_storm_machine *m);
/* m's TFTP timer fired. */
void ib_storm_tftp_timeout(struct ib_storm *st, struct ib_storm_machine *m);

/* ---- storm_http.c ------------------------------------------------------ */

/* Starts the script stage (the iPXE bootfile URL) or the kernel stage. */
void ib_storm_http_start(struct ib_storm *st, struct ib_storm_machine *m);
/* m's HTTP socket has events (EPOLLIN/OUT/ERR/HUP). */
void ib_storm_http_event(struct ib_storm *st, struct ib_storm_machine *m, uint32_t events);
/* m's HTTP timer fired. */
void ib_storm_http_timeout(struct ib_storm *st, struct ib_storm_machine *m);
/* Binds fd to m's leased address (port 0). 0 or -errno. */
int ib_storm_bind_lease(const struct ib_storm *st, const struct ib_storm_machine *m, int fd);

/* ---- storm_report.c ---------------------------------------------------- */

/* Adds a sample (microseconds). 0 or -ENOMEM. */
int ib_storm_sample(struct ib_storm_samples *s, uint64_t us);
/* The q-quantile (0..1) of s, sorting it; 0 when empty. */
uint32_t ib_storm_quantile(struct ib_storm_samples *s, double q);
/* Counts a failure reason of stage ss. */
void ib_storm_reason(struct ib_storm_stage_stats *ss, const char *reason);
/* Writes the table to f. cpu_us: the simulator's user+sys CPU. */
void ib_storm_report_table(struct ib_storm *st, FILE *f, uint64_t cpu_us, uint64_t wall_us);
/* Writes the JSON report to f. 0 or -errno. */
int ib_storm_report_json(struct ib_storm *st, FILE *f, uint64_t cpu_us, uint64_t wall_us);
/* Writes the latency histograms (TSV: stage, lo_ms, hi_ms, count). */
int ib_storm_report_hist(struct ib_storm *st, FILE *f);

#endif
