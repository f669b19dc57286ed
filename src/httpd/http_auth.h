/*
 * Per-machine data of the HTTP boot service: who may read /boot.ipxe and
 * /configs/<name> (docs/SECURITY.md, "Per-machine data").  The decision
 * is boot/machine_auth.c's; this file is the shell side: the facts about
 * a request's source address (the store's leases, the config's
 * reservations, the kernel's neighbour table), the server's machine
 * secret in the store and the per-machine tokens made from it.
 */
#ifndef IB_HTTPD_HTTP_AUTH_H
#define IB_HTTPD_HTTP_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "boot/boot_plan.h"
#include "store/store.h"

struct ib_http_req;
struct sockaddr;

#define IB_HTTPD_SECRET_LEN 32		/* bytes of the machine secret */
#define IB_HTTPD_SECRET_META "http_machine_secret"	/* its store meta key (hex) */
#define IB_HTTPD_MACHINE_TOKEN_LEN 32	/* hex digits of a token: 128 bits */

/*
 * The machine secret of the store: 32 random bytes kept (hex) under meta
 * key IB_HTTPD_SECRET_META, made on first use in the same transaction
 * that reads it, so the daemons sharing a store share one secret.
 * Returns 0 and ret; -EBADMSG when the stored value is not 64 hex
 * digits (never replaced: that would void every token handed out), or
 * the store's -errno.  Does not log.
 */
int ib_httpd_secret_load(struct ib_store *store, unsigned char ret[IB_HTTPD_SECRET_LEN]);

/*
 * The token of the machine with MAC mac (normal form, "aa:bb:..."): the
 * first 128 bits of HMAC-SHA256(secret, "machine:" mac), as lowercase hex
 * in ret[IB_HTTPD_MACHINE_TOKEN_LEN + 1].
 */
void ib_httpd_machine_token(const unsigned char secret[IB_HTTPD_SECRET_LEN], const char *mac,
			    char ret[IB_HTTPD_MACHINE_TOKEN_LEN + 1]);

/* Whether given is mac's token; the digits are compared in constant time
 * (any case). */
bool ib_httpd_machine_token_ok(const unsigned char secret[IB_HTTPD_SECRET_LEN],
			       const char *mac, const char *given);

/* The neighbour table, read through rtnetlink. */
struct ib_httpd_neigh {
	int fd;				/* NETLINK_ROUTE socket, or -1 */
	uint32_t seq;			/* sequence number of the last request */
};

/* Opens n's socket.  0 or -errno (n->fd is then -1: no neighbour facts). */
int ib_httpd_neigh_open(struct ib_httpd_neigh *n);
/* Closes it; accepts a closed one. */
void ib_httpd_neigh_close(struct ib_httpd_neigh *n);

/*
 * The link-layer address the kernel's neighbour table holds for peer
 * (IPv4, IPv4-mapped or IPv6), on the link the route to peer leaves by:
 * only for a peer on a directly connected link (no gateway), and only an
 * entry in a usable state (reachable, stale, delay, probe, permanent)
 * with a 6-byte address.  Returns 0 and ret_mac; -ENOENT when there is
 * none, or -errno.  Never blocks the loop for long: rtnetlink answers
 * while the request is sent.
 */
int ib_httpd_neigh_lookup(struct ib_httpd_neigh *n, const struct sockaddr *peer,
			  uint8_t ret_mac[6]);

/*
 * Authorizes a request for a machine's script or config: gathers the
 * facts about rq's peer and token, decides (boot/machine_auth.h), and
 * records the outcome in rq (auth, authorized, and mac when the query
 * named none but the address resolves to a machine).  A refusal is sent
 * as 403, with the reason, and journalled under the MAC asked for;
 * then -EACCES.  0 when the request is to be served.
 */
int ib_httpd_authorize(struct ib_http_req *rq);

/*
 * For a route any host may read (assets) whose query names a MAC: checks
 * the claim by the facts and decision of ib_httpd_authorize, and records
 * the outcome in rq (auth; unverified when ib_httpd_authorize would
 * refuse that machine's script to this request, so its event is no
 * activity of that machine and is rate-limited per client address:
 * docs/SECURITY.md).  Sends nothing; the request is served either way.
 * Nothing when rq names no MAC.
 */
void ib_httpd_verify_claim(struct ib_http_req *rq);

/*
 * Checks the query's uuid= (iPXE's ${uuid}, the SMBIOS UUID) of a request
 * that ib_httpd_authorize or ib_httpd_verify_claim has judged: it is the
 * machine's word (rq->uuid, a selection fact and the journal's uuid) only
 * when the request is served as the machine its MAC names and the store
 * knows no other UUID for that machine (its inventory entry's, else its
 * lifecycle hardware report's, compared case-insensitively) and no other
 * inventory entry has it.  Otherwise
 * rq->uuid stays NULL and rq->uuid_refused says why ("unverified",
 * "not-the-machines", "too-long"), journalled with the claim.  Reads the
 * store at most once; sends nothing.
 */
void ib_httpd_verify_uuid(struct ib_http_req *rq);

#define IB_UUID_TEXT_MAX 40		/* a uuid= this long or longer is refused
					 * (the journal's column holds 39) */

/*
 * Adds the machine's token and secrets to v (ib_boot_values_add_private)
 * when rq was authorized as that machine; else nothing.  0 or -ENOMEM.
 */
int ib_httpd_add_private(struct ib_http_req *rq, json_t *v, const struct ib_boot_plan *plan);

#endif
