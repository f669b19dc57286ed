/*
 * libFuzzer target for the agent's own parsers (src/agent/agent_proto.c,
 * agent_cmdline.c): what the daemon hands it (an instruction body) and
 * what it boots with (the kernel command line the daemon's script
 * writes).  Both come from the network, and a wrong parse wipes or
 * writes a disk: docs/AGENT.md says an instruction the agent cannot take
 * is not carried out, even in part.
 *
 * Each input is parsed as an instruction and as a command line.
 *
 * Properties of an accepted instruction: a known action; poll_ms within
 * its clamp; an id of at most 64 bytes; every disk name (wipe's disks,
 * install's disk) a kernel name; an install has a URL with a host, a
 * target starting '/', and a known format; progress JSON carrying the id
 * and the input as its detail parses back as an object with that id.  Of
 * an accepted command line: a token of RFC 6750 characters, a server URL
 * with a host, a lowercase MAC when given, a known mode.  Any broken
 * property aborts.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_cmdline.h"
#include "agent/agent_proto.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_progress(const struct ib_agent_instruction *in, const uint8_t *data,
			   size_t size)
{
	char detail[512];
	struct ib_agent_progress p = { .mac = "52:54:00:00:00:30", .instruction = in->id,
				       .step = "instruction", .status = "ok",
				       .detail = detail };
	char *text;
	json_t *o;

	size = size < sizeof(detail) - 1 ? size : sizeof(detail) - 1;
	memcpy(detail, data, size);
	detail[size] = '\0';
	CHECK((text = ib_agent_progress_json(&p)) != NULL);
	o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	CHECK(json_is_object(o));
	CHECK(!in->id[0] || strcmp(json_string_value(json_object_get(o, "instruction")),
				   in->id) == 0);
	json_decref(o);
	free(text);
}

static void check_instruction(const struct ib_agent_instruction *in)
{
	CHECK(in->action <= IB_AGENT_ACTION_INSTALL);
	CHECK(ib_agent_action_name(in->action) != NULL);
	CHECK(in->poll_ms >= IB_AGENT_POLL_MS_MIN && in->poll_ms <= IB_AGENT_POLL_MS_MAX);
	CHECK(strlen(in->id) <= IB_AGENT_ID_MAX);
	CHECK(in->wipe_ndisks <= IB_AGENT_WIPE_DISKS_MAX);
	for (unsigned i = 0; in->action == IB_AGENT_ACTION_WIPE && i < in->wipe_ndisks; i++)
		CHECK(ib_agent_disk_name_ok(in->wipe_disks[i]));
	if (in->action != IB_AGENT_ACTION_INSTALL)
		return;
	CHECK(ib_agent_disk_name_ok(in->disk));
	CHECK(in->url.host[0] && in->url.target[0] == '/');
	CHECK(in->url.family == 2 || in->url.family == 10);	/* AF_INET, AF_INET6 */
	CHECK(in->format <= IB_AGENT_FORMAT_ZSTD && ib_agent_format_name(in->format));
	CHECK(strlen(in->disk_serial) <= IB_AGENT_SERIAL_MAX);
}

static void check_cmdline(const struct ib_agent_cmdline *c)
{
	size_t n = strlen(c->token);

	CHECK(n >= 1 && n <= IB_AGENT_TOKEN_MAX);
	CHECK(strspn(c->token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			       "0123456789-._~+/=") == n);
	CHECK(c->server.host[0] && c->server.target[0] == '/');
	CHECK(c->mode <= IB_AGENT_MODE_INSTALL && ib_agent_mode_name(c->mode));
	CHECK(!c->has_mac || (strlen(c->mac) == 17 &&
			      strspn(c->mac, "0123456789abcdef:") == 17));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ib_agent_instruction *in = malloc(sizeof(*in));
	struct ib_agent_cmdline c;
	const char *why = NULL, *key = NULL;

	CHECK(in != NULL);
	if (ib_agent_instruction_parse((const char *)data, size, in, &why) == 0) {
		check_instruction(in);
		check_progress(in, data, size);
	} else {
		CHECK(why != NULL && why[0]);
	}
	free(in);
	if (ib_agent_cmdline_parse((const char *)data, size, &c, &key) == 0)
		check_cmdline(&c);
	return 0;
}
