/*
 * The boot decision of a machine in the lifecycle; see boot_lifecycle.h.
 */
#include "boot/boot_lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

/* What each state boots (and the agent's ib.mode). */
static const struct {
	enum ib_lc_boot kind;
	const char *mode;
} by_state[IB_LC_N_STATES] = {
	[IB_LC_NONE] = { IB_LC_BOOT_DISK, NULL },
	[IB_LC_DISCOVERED] = { IB_LC_BOOT_AGENT, "discover" },
	[IB_LC_ACCEPTED] = { IB_LC_BOOT_AGENT, "wipe" },
	[IB_LC_WIPING] = { IB_LC_BOOT_AGENT, "wipe" },
	[IB_LC_READY] = { IB_LC_BOOT_AGENT, "wait" },
	[IB_LC_ALLOCATED] = { IB_LC_BOOT_PROFILE, NULL },
	[IB_LC_INSTALLING] = { IB_LC_BOOT_PROFILE, NULL },
	[IB_LC_INSTALLED] = { IB_LC_BOOT_DISK, NULL },
	[IB_LC_RELEASING] = { IB_LC_BOOT_AGENT, "wipe" },
	[IB_LC_FAILED] = { IB_LC_BOOT_DISK, NULL },
	[IB_LC_RETIRED] = { IB_LC_BOOT_DISK, NULL },
};

/*
 * The agent's script.  docs/AGENT.md: ib.server, ib.token, ib.mac,
 * ib.mode; initrd= names the initrd for an EFI stub without LoadFile2.
 */
static const char agent_script[] =
	"#!ipxe\n"
	"echo ironboot: mac {{mac}} is {{lc_state}}: booting the agent ({{lc_mode}})\n"
	"kernel {{agent_kernel_url}} console=tty0 console=ttyS0 ib.server={{base_url}}"
	" ib.token={{token}} ib.mac={{mac}} ib.mode={{lc_mode}} initrd=agent.img\n"
	"initrd --name agent.img {{agent_initrd_url}}\n"
	"boot\n";

/*
 * Leaves iPXE for the firmware's next boot device.  With a status: UEFI
 * 2.10 3.1.1, a Boot#### option that returns EFI_SUCCESS makes the boot
 * manager stop and show its menu (OVMF's UiApp), so a plain `exit` (0)
 * never reaches the disk; an error status makes it try the next option.
 * A BIOS ignores the status.
 */
static const char disk_exit_script[] =
	"#!ipxe\n"
	"echo ironboot: mac {{mac}} is {{lc_state}}: booting from its disk\n"
	"exit 1\n";

static const char disk_sanboot_script[] =
	"#!ipxe\n"
	"echo ironboot: mac {{mac}} is {{lc_state}}: booting from its disk\n"
	"sanboot --no-describe --drive 0x80\n";

enum ib_lc_boot ib_boot_lifecycle_kind(enum ib_lc_state s, const char **ret_mode)
{
	if ((unsigned)s >= IB_LC_N_STATES)
		s = IB_LC_NONE;
	if (ret_mode)
		*ret_mode = by_state[s].mode;
	return by_state[s].kind;
}

static int set_asset_url(json_t *v, const char *key, const char *base, const char *path)
{
	char url[1024];

	if ((size_t)snprintf(url, sizeof(url), "%s/assets/%s", base, path) >= sizeof(url))
		return -E2BIG;
	return json_object_set_new(v, key, json_string(url)) < 0 ? -ENOMEM : 0;
}

static int render_text(const char *name, const char *src, const json_t *v,
		       struct ib_tpl_out *out, char *err)
{
	struct ib_tpl *t = NULL;
	int r = ib_tpl_compile(name, src, strlen(src), IB_TPL_IPXE, &t, err);

	if (r == 0 && (r = ib_tpl_render(t, v, out)) < 0)
		snprintf(err, IB_BOOT_ERRLEN, "%s", out->err[0] ? out->err : strerror(-r));
	ib_tpl_free(t);
	return r;
}

int ib_boot_lifecycle_render(const struct ib_config *cfg, enum ib_lc_state s,
			     const struct ib_profile *profile, json_t *values,
			     struct ib_tpl_out *out, char *err)
{
	const char *mode = NULL;
	enum ib_lc_boot kind = ib_boot_lifecycle_kind(s, &mode);
	struct ib_boot_plan plan = { 0 };
	int r;

	err[0] = '\0';
	if (json_object_set_new(values, "lc_state", json_string(ib_lc_state_name(s))) < 0)
		return -ENOMEM;
	/* a profile with an image is installed by the agent, not an installer */
	if (kind == IB_LC_BOOT_PROFILE && profile && profile->image.url) {
		kind = IB_LC_BOOT_AGENT;
		mode = "install";
	}
	switch (kind) {
	case IB_LC_BOOT_AGENT:
		if (!json_is_string(json_object_get(values, "token"))) {
			snprintf(err, IB_BOOT_ERRLEN, "no token: the agent cannot authenticate");
			return -EINVAL;
		}
		r = json_object_set_new(values, "lc_mode", json_string(mode)) < 0 ? -ENOMEM : 0;
		r = r ? r : set_asset_url(values, "agent_kernel_url", cfg->http.base_url,
					  cfg->lifecycle.agent_kernel);
		r = r ? r : set_asset_url(values, "agent_initrd_url", cfg->http.base_url,
					  cfg->lifecycle.agent_initrd);
		return r ? r : render_text("agent script", agent_script, values, out, err);
	case IB_LC_BOOT_PROFILE:
		if (!profile) {
			snprintf(err, IB_BOOT_ERRLEN, "the allocated profile is not in the config");
			return -EINVAL;
		}
		plan.profile = profile;
		snprintf(plan.why, sizeof(plan.why), "lifecycle: allocated profile %s",
			 profile->name);
		return ib_boot_render_script(cfg, &plan, values, out, err);
	case IB_LC_BOOT_DISK:
	default:
		if (s == IB_LC_INSTALLED && profile && profile->local_method == IB_LOCAL_SANBOOT)
			return render_text("disk script", disk_sanboot_script, values, out, err);
		return render_text("disk script", disk_exit_script, values, out, err);
	}
}

int ib_boot_lifecycle_sha256sum(const char *text, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	char d[65];

	if (len < 64 || (len > 64 && text[64] != ' ' && text[64] != '\t' &&
			 text[64] != '\n' && text[64] != '\r'))
		return -EBADMSG;
	for (size_t i = 0; i < 64; i++) {
		const char *h = strchr(hex, text[i] >= 'A' && text[i] <= 'F' ?
					    text[i] - 'A' + 'a' : text[i]);

		if (!text[i] || !h)
			return -EBADMSG;
		d[i] = *h;
	}
	d[64] = '\0';
	memcpy(out, d, sizeof(d));
	return 0;
}
