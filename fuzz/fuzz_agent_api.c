/*
 * libFuzzer target for the daemon's side of the agent protocol
 * (src/httpd/http_lifecycle.c, docs/AGENT.md): the hardware report, the
 * progress and the instruction poll, through the real evhttp shell
 * (http_harness.h) with lifecycle: on.  An agent is the least trusted
 * party of the provisioning network: its body is whatever a booted
 * machine sends.
 *
 * Input: up to four requests separated by NUL bytes, each one byte then
 * the body.  The byte: bits 0-1 the endpoint (report, progress,
 * instruction, report); bit 2 the machine (A or B); bits 3-4 the bearer
 * token (its own, the other machine's, none, its own); the seeds set bit
 * 6 so the byte is never a NUL.  For the instruction the body is the
 * value of ?mac= (percent-encoded).
 *
 * Properties: every answer is one the protocol documents (200, 204, 400,
 * 401, 403, 404, 405, 413), never a 500; another machine's token is
 * refused; a NIC, once a machine's, stays that machine's whatever any
 * report claims (no report steals a NIC), and the inventory machine's MAC
 * never joins a lifecycle machine.  Each report body also goes through
 * ib_hw_facts_parse (the facts group selectors read, boot_plan.h): it
 * answers 0 or -EINVAL, and its strings are terminated and short.  Any
 * broken property aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "boot/boot_plan.h"
#include "http/http_url.h"
#include "http_harness.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define REQS_MAX 4
#define REQ_MAX (1u << 17)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const macs[] = { "52:54:00:00:cc:01", "52:54:00:00:cc:02" };
static const char inventory_mac[] = "52:54:00:00:00:10";

/* Which machine (its first MAC) each NIC belongs to, once it does. */
static struct {
	char nic[18];
	char owner[18];
} owners[64];
static size_t n_owners;

static void send_req(const char *req, size_t len, struct fuzz_http_reply *r)
{
	fuzz_http_exchange(req, len, r);
	fuzz_http_check_reply(req, len, r);
}

/* GET /api/v1/machines/MAC/lifecycle: checks and records who owns what. */
static void check_owner(const char *mac)
{
	static char req[512];
	struct fuzz_http_reply r;
	json_t *m, *nics, *v;
	const char *owner;
	size_t i;
	int n;

	n = snprintf(req, sizeof(req), "GET /api/v1/machines/%s/lifecycle HTTP/1.1\r\n"
		     "Host: x\r\nAuthorization: Bearer " FUZZ_HTTP_TOKEN "\r\n"
		     "Connection: close\r\n\r\n", mac);
	send_req(req, (size_t)n, &r);
	if (strcmp(mac, inventory_mac) == 0) {
		CHECK(r.status == 404);	/* never a lifecycle machine's NIC */
		return;
	}
	CHECK(r.status == 200 || r.status == 404);
	if (r.status != 200)
		return;
	CHECK(r.body && (m = json_loads(r.body, 0, NULL)));
	owner = json_string_value(json_object_get(m, "mac"));
	nics = json_object_get(m, "nics");
	CHECK(owner && json_is_array(nics));
	json_array_foreach(nics, i, v) {
		const char *nic = json_string_value(v);
		size_t k;

		CHECK(nic && strcmp(nic, inventory_mac) != 0);
		for (k = 0; k < n_owners && strcmp(owners[k].nic, nic); k++)
			;
		if (k < n_owners)
			CHECK(strcmp(owners[k].owner, owner) == 0);
		else if (n_owners < sizeof(owners) / sizeof(owners[0])) {
			snprintf(owners[n_owners].nic, sizeof(owners[0].nic), "%s", nic);
			snprintf(owners[n_owners].owner, sizeof(owners[0].owner), "%s", owner);
			n_owners++;
		}
	}
	json_decref(m);
}

/* Whether body's "mac" member is mac (in any form the daemon accepts). */
static bool body_mac_is(const char *body, size_t len, const char *mac)
{
	char norm[IB_HTTP_MAC_STRLEN];
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	const char *s = json_string_value(json_object_get(o, "mac"));
	bool is = s && ib_http_mac_normalize(s, norm) == 0 && strcmp(norm, mac) == 0;

	json_decref(o);
	return is;
}

/* The selectors' facts of a report body (NUL-terminated). */
static void check_hw_facts(const char *body)
{
	struct ib_hw_facts hw;
	int r = ib_hw_facts_parse(body, &hw);

	CHECK(r == 0 || r == -EINVAL);
	CHECK(memchr(hw.vendor, 0, sizeof(hw.vendor)) && memchr(hw.product, 0, sizeof(hw.product)));
	if (r < 0)
		CHECK(!hw.vendor[0] && !hw.product[0] && !hw.memory_bytes && !hw.disk_max_bytes);
}

static void one(uint8_t sel, const uint8_t *body, size_t len)
{
	static char req[REQ_MAX];
	static const char *const paths[] = { "report", "progress", "instruction", "report" };
	const char *mac = macs[(sel >> 2) & 1], *other = macs[!((sel >> 2) & 1)];
	unsigned ep = sel & 3, auth = (sel >> 3) & 3;
	char tok[33], hdr[80] = "";
	struct fuzz_http_reply r;
	int n;

	if (auth != 2) {
		fuzz_http_machine_token(auth == 1 ? other : mac, tok);
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
	}
	if (ep == 2) {
		n = snprintf(req, sizeof(req), "GET /api/v1/agent/instruction?mac=");
		for (size_t i = 0; i < len && (size_t)n + 4 < 4096; i++)
			n += snprintf(req + n, sizeof(req) - (size_t)n, "%%%02X", body[i]);
		n += snprintf(req + n, sizeof(req) - (size_t)n, " HTTP/1.1\r\nHost: x\r\n%s"
			      "Connection: close\r\n\r\n", hdr);
	} else {
		if (ep != 1)
			check_hw_facts((const char *)body);
		if (len > REQ_MAX - 512)
			len = REQ_MAX - 512;
		n = snprintf(req, sizeof(req), "POST /api/v1/agent/%s HTTP/1.1\r\nHost: x\r\n%s"
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			     "Connection: close\r\n\r\n", paths[ep], hdr, len);
		memcpy(req + n, body, len);
		n += (int)len;
	}
	send_req(req, (size_t)n, &r);
	CHECK(r.status == 200 || r.status == 204 || r.status == 400 || r.status == 401 ||
	      r.status == 403 || r.status == 404 || r.status == 405 || r.status == 413 ||
	      r.len == 0);
	/* a token speaks only for its own machine: accepted with the other
	 * machine's token, the body was about the other machine */
	if (auth == 1 && ep != 2 && r.status == 204)
		CHECK(body_mac_is((const char *)body, len, other));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	size_t off = 0;

	if (!ready) {
		fuzz_http_init();
		ready = true;
	}
	for (int i = 0; i < REQS_MAX && off < size; i++) {
		const uint8_t *end = memchr(data + off, 0, size - off);
		size_t len = end ? (size_t)(end - (data + off)) : size - off;

		if (len > 0) {
			char *body = malloc(len);	/* NUL-terminated copy for strstr */

			CHECK(body != NULL);
			memcpy(body, data + off + 1, len - 1);
			body[len - 1] = '\0';
			one(data[off], (const uint8_t *)body, len - 1);
			free(body);
		}
		off += len + 1;
	}
	check_owner(macs[0]);
	check_owner(macs[1]);
	check_owner(inventory_mac);
	fuzz_http_reset();
	return 0;
}
