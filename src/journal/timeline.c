/* The boot timeline's stages: see timeline.h. */
#include "journal/timeline.h"

#include <string.h>

#include "common/util.h"

const char *ib_stage_name(enum ib_stage s)
{
	static const char *const names[] = {
		[IB_STAGE_OTHER] = "other", [IB_STAGE_FIRMWARE] = "firmware",
		[IB_STAGE_LOADER] = "loader", [IB_STAGE_IPXE] = "ipxe",
		[IB_STAGE_SCRIPT] = "script", [IB_STAGE_KERNEL] = "kernel",
		[IB_STAGE_INSTALL] = "install", [IB_STAGE_LIFECYCLE] = "lifecycle",
	};

	return (size_t)s < IB_ARRAY_SIZE(names) ? names[s] : "other";
}

bool ib_timeline_unverified(const struct ib_event *e)
{
	/* HTTP marks refusals and unverified claims; TFTP a transfer its
	 * client never proved it receives at its address (issue #11) */
	if (strcmp(e->proto, "http") == 0)
		return strstr(e->detail, "\"" IB_TIMELINE_REFUSED "\":1") != NULL ||
		       strstr(e->detail, "\"" IB_TIMELINE_UNVERIFIED "\":1") != NULL;
	return strcmp(e->proto, "tftp") == 0 &&
	       strstr(e->detail, "\"" IB_TIMELINE_UNVERIFIED "\":1") != NULL;
}

void ib_timeline_init(struct ib_timeline *t)
{
	memset(t, 0, sizeof(*t));
}

/* A DHCP event's stage by what it says of its client; OTHER: it says
 * nothing (a lease row), so the machine's stage holds. */
static enum ib_stage dhcp_stage(const char *detail)
{
	if (strstr(detail, "\"boot\":\"ipxe\"") || strstr(detail, "\"user_class\":\"iPXE"))
		return IB_STAGE_IPXE;
	if (strstr(detail, "\"xid\":") || strstr(detail, "\"vendor_class\":") ||
	    strstr(detail, "\"arch\":"))
		return IB_STAGE_FIRMWARE;
	return IB_STAGE_OTHER;
}

/* The stage of e alone; OTHER for a DHCP event that says nothing. */
static enum ib_stage stage_of(const struct ib_event *e)
{
	static const struct {
		const char *proto, *kind;	/* kind NULL: any */
		enum ib_stage stage;
	} table[] = {
		{ "tftp", NULL, IB_STAGE_LOADER },
		{ "http", "script", IB_STAGE_SCRIPT },
		{ "http", "asset", IB_STAGE_KERNEL },
		{ "http", "config", IB_STAGE_INSTALL },
		{ "http", "api", IB_STAGE_LIFECYCLE },
		{ "machine", NULL, IB_STAGE_LIFECYCLE },
		{ "agent", NULL, IB_STAGE_LIFECYCLE },
	};

	if (strcmp(e->proto, "dhcp4") == 0 || strcmp(e->proto, "dhcp6") == 0)
		return dhcp_stage(e->detail);
	for (size_t i = 0; i < IB_ARRAY_SIZE(table); i++)
		if (strcmp(e->proto, table[i].proto) == 0 &&
		    (!table[i].kind || strcmp(e->kind, table[i].kind) == 0))
			return table[i].stage;
	return IB_STAGE_OTHER;
}

/* The slot of mac, made (or taken over, oldest made first) when absent. */
static size_t slot_of(struct ib_timeline *t, const char *mac)
{
	size_t i;

	for (i = 0; i < IB_TIMELINE_MACS && t->m[i].mac[0]; i++)
		if (strncmp(t->m[i].mac, mac, sizeof(t->m[i].mac)) == 0)
			return i;
	if (i == IB_TIMELINE_MACS) {
		i = t->next;
		t->next = (t->next + 1) % IB_TIMELINE_MACS;
	}
	memset(&t->m[i], 0, sizeof(t->m[i]));
	memcpy(t->m[i].mac, mac, strnlen(mac, sizeof(t->m[i].mac) - 1));
	t->m[i].cur = IB_STAGE_OTHER;
	t->m[i].cur_us = -1;
	t->m[i].prev_us = -1;
	return i;
}

void ib_timeline_step(struct ib_timeline *t, const struct ib_event *e,
		      enum ib_stage *ret_stage, int64_t *ret_since_us)
{
	enum ib_stage st = stage_of(e);
	size_t i;

	*ret_since_us = -1;
	if (ib_timeline_unverified(e)) {
		*ret_stage = IB_STAGE_OTHER;
		return;
	}
	if (!e->mac[0]) {
		*ret_stage = st;
		return;
	}
	i = slot_of(t, e->mac);
	/* a DHCP event that says nothing of its client stays in a DHCP stage */
	if (st == IB_STAGE_OTHER && (strcmp(e->proto, "dhcp4") == 0 ||
				     strcmp(e->proto, "dhcp6") == 0))
		st = t->m[i].cur == IB_STAGE_IPXE ? IB_STAGE_IPXE : IB_STAGE_FIRMWARE;
	if (t->m[i].cur_us < 0 || st != t->m[i].cur) {
		t->m[i].prev_us = t->m[i].cur_us;
		t->m[i].cur = st;
		t->m[i].cur_us = e->ts_us;
	}
	*ret_stage = st;
	if (t->m[i].prev_us >= 0)
		*ret_since_us = e->ts_us - t->m[i].prev_us;
}
