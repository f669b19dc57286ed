/* The kernel command line of the agent: see agent_cmdline.h. */
#include "agent/agent_cmdline.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"

static const char *const mode_names[] = {
	[IB_AGENT_MODE_DISCOVER] = "discover",
	[IB_AGENT_MODE_WIPE] = "wipe",
	[IB_AGENT_MODE_WAIT] = "wait",
	[IB_AGENT_MODE_INSTALL] = "install",
};

const char *ib_agent_mode_name(enum ib_agent_mode m)
{
	return (size_t)m < IB_ARRAY_SIZE(mode_names) ? mode_names[m] : "?";
}

bool ib_agent_token_ok(const char *t)
{
	size_t n = strlen(t), i = 0;

	if (n == 0 || n > IB_AGENT_TOKEN_MAX)
		return false;
	for (; i < n && t[i] != '='; i++) {
		unsigned char c = (unsigned char)t[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("-._~+/", c)))
			return false;
	}
	for (; i < n; i++)
		if (t[i] != '=')
			return false;
	return t[0] != '=';
}

/* One ib.* key: its parser writes into the result or returns -errno. */
struct key_handler {
	const char *key;
	int (*parse)(const char *val, struct ib_agent_cmdline *c);
	bool required;
};

static int set_server(const char *val, struct ib_agent_cmdline *c)
{
	int r = ib_agent_url_parse(val, &c->server);
	if (r < 0)
		return r;
	strcpy(c->server_text, val);	/* fits: the parse checked the length */
	return 0;
}

static int set_token(const char *val, struct ib_agent_cmdline *c)
{
	if (!ib_agent_token_ok(val))
		return -EINVAL;
	strcpy(c->token, val);
	return 0;
}

static int set_mac(const char *val, struct ib_agent_cmdline *c)
{
	uint8_t mac[6];
	int r = ib_mac_parse(val, mac);
	if (r < 0)
		return -EINVAL;
	ib_mac_format(mac, 6, c->mac, sizeof(c->mac));
	c->has_mac = true;
	return 0;
}

static int set_mode(const char *val, struct ib_agent_cmdline *c)
{
	for (size_t i = 0; i < IB_ARRAY_SIZE(mode_names); i++)
		if (strcmp(val, mode_names[i]) == 0) {
			c->mode = (enum ib_agent_mode)i;
			return 0;
		}
	return -EINVAL;
}

static const struct key_handler keys[] = {
	{ "ib.server", set_server, true },
	{ "ib.token", set_token, true },
	{ "ib.mac", set_mac, false },
	{ "ib.mode", set_mode, false },
};

/* Next word of [*p, end) into word (quotes dropped); false at the end. */
static bool next_word(const char **p, const char *end, char *word, size_t cap,
		      bool *ret_truncated)
{
	const char *s = *p;
	size_t n = 0;
	bool quoted = false;

	while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\0'))
		s++;
	if (s == end)
		return false;
	*ret_truncated = false;
	for (; s < end && (quoted || !(*s == ' ' || *s == '\t' || *s == '\n' || *s == '\0')); s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		if (n + 1 < cap)
			word[n++] = *s;
		else
			*ret_truncated = true;
	}
	word[n] = '\0';
	*p = s;
	return true;
}

int ib_agent_cmdline_parse(const char *text, size_t len,
			   struct ib_agent_cmdline *ret, const char **ret_key)
{
	struct ib_agent_cmdline c;
	char word[IB_AGENT_URL_MAX + 16];
	bool seen[IB_ARRAY_SIZE(keys)] = { false };
	const char *p = text, *end = text + len;
	bool trunc;

	if (len > IB_AGENT_CMDLINE_MAX)
		return -E2BIG;
	memset(&c, 0, sizeof(c));
	c.mode = IB_AGENT_MODE_DISCOVER;
	while (next_word(&p, end, word, sizeof(word), &trunc)) {
		char *eq = strchr(word, '=');
		if (!eq)
			continue;
		*eq = '\0';
		for (size_t i = 0; i < IB_ARRAY_SIZE(keys); i++) {
			int r;
			if (strcmp(word, keys[i].key) != 0)
				continue;
			r = trunc ? -ENAMETOOLONG : keys[i].parse(eq + 1, &c);
			if (r < 0) {
				if (ret_key)
					*ret_key = keys[i].key;
				return r;
			}
			seen[i] = true;
		}
	}
	for (size_t i = 0; i < IB_ARRAY_SIZE(keys); i++)
		if (keys[i].required && !seen[i]) {
			if (ret_key)
				*ret_key = keys[i].key;
			return -ENOENT;
		}
	*ret = c;
	return 0;
}
