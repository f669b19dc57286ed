/* The daemon's agent API, with retries: see agent.h and docs/AGENT.md. */
#include "agent/agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_http.h"
#include "common/log.h"

#define REPORT_RETRY_MS 2000		/* first retry of the report */
#define REPORT_RETRY_MAX_MS 30000	/* retries back off to this */
#define PROGRESS_TIMEOUT_MS 5000	/* a progress post waits no longer */

int ib_agent_client_init(struct ib_agent *a)
{
	char path[128];
	int r;

	if (!a->mac[0])
		return -EINVAL;
	snprintf(path, sizeof(path), "/api/v1/agent/instruction?mac=%s", a->mac);
	if ((r = ib_agent_url_join(&a->cl.server, "/api/v1/agent/report", &a->report_url)) < 0 ||
	    (r = ib_agent_url_join(&a->cl.server, path, &a->instruction_url)) < 0 ||
	    (r = ib_agent_url_join(&a->cl.server, "/api/v1/agent/progress", &a->progress_url)) < 0)
		return r;
	return 0;
}

static void sleep_ms(unsigned ms)
{
	usleep(ms * 1000u);
}

int ib_agent_client_report(struct ib_agent *a, const char *body, unsigned max_tries)
{
	struct ib_agent_http_call c = {
		.method = "POST", .url = &a->report_url, .token = a->cl.token,
		.body = body, .body_len = strlen(body), .timeout_ms = IB_AGENT_HTTP_TIMEOUT_MS,
	};
	unsigned wait = REPORT_RETRY_MS;

	for (unsigned n = 1;; n++) {
		int status = 0, r = ib_agent_http_call(&c, &status);
		if (r == 0 && status / 100 == 2) {
			ib_info("agent: report accepted (%d, %zu bytes)", status, c.body_len);
			return 0;
		}
		if (r < 0)
			ib_warn("agent: report to %s:%u: %s; retrying in %u s",
				a->report_url.host, a->report_url.port, strerror(-r), wait / 1000);
		else
			ib_warn("agent: report refused with HTTP %d%s; retrying in %u s", status,
				status == 401 || status == 403 ? " (token not accepted)" : "",
				wait / 1000);
		if (max_tries && n >= max_tries)
			return -ETIMEDOUT;
		sleep_ms(wait);
		wait = wait * 2 > REPORT_RETRY_MAX_MS ? REPORT_RETRY_MAX_MS : wait * 2;
	}
}

int ib_agent_client_instruction(struct ib_agent *a, struct ib_agent_instruction *ret,
				const char **ret_why)
{
	struct ib_agent_http_call c = {
		.method = "GET", .url = &a->instruction_url, .token = a->cl.token,
		.timeout_ms = IB_AGENT_HTTP_TIMEOUT_MS,
	};
	char *body = NULL;
	size_t len = 0;
	int status = 0, r;

	*ret_why = NULL;
	r = ib_agent_http_fetch(&c, IB_AGENT_INSTRUCTION_MAX, &status, &body, &len);
	if (r < 0)
		return r;
	if (status == 401 || status == 403)
		r = -EACCES;
	else if (status != 200)
		r = -EPROTO;
	else
		r = ib_agent_instruction_parse(body, len, ret, ret_why);
	free(body);
	return r;
}

void ib_agent_client_progress(struct ib_agent *a, struct ib_agent_progress *p)
{
	struct ib_agent_http_call c = {
		.method = "POST", .url = &a->progress_url, .token = a->cl.token,
		.timeout_ms = PROGRESS_TIMEOUT_MS,
	};
	char *body;
	int status = 0, r = -ENOMEM;

	p->mac = a->mac;
	p->instruction = a->instruction_id;
	body = ib_agent_progress_json(p);
	ib_info("agent: %s %s%s%s", p->step, p->status, p->error ? ": " : "",
		p->error ? p->error : "");
	if (!body)
		return;
	c.body = body;
	c.body_len = strlen(body);
	for (int tries = 0; tries < 2; tries++) {
		r = ib_agent_http_call(&c, &status);
		if (r == 0 && status / 100 == 2)
			break;
	}
	if (r < 0 || status / 100 != 2)
		ib_warn("agent: progress %s/%s not delivered: %s", p->step, p->status,
			r < 0 ? strerror(-r) : "refused");
	free(body);
}
