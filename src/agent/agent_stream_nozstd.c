/* Built when no static libzstd was found: zstd images are refused at the
 * start of an install (docs/AGENT.md, "Image formats"). */
#include "agent/agent_stream.h"

#include <errno.h>

static int none_init(void **ret_state)
{
	return -EPROTONOSUPPORT;
}

static int none_feed(void *state, const uint8_t *p, size_t n, struct ib_agent_stream_out *o)
{
	return -EPROTONOSUPPORT;
}

static int none_finish(void *state, struct ib_agent_stream_out *o)
{
	return -EPROTONOSUPPORT;
}

static void none_free(void *state)
{
}

const struct ib_agent_decoder ib_agent_decoder_zstd = {
	none_init, none_feed, none_finish, none_free,
};
