/*
 * Unit tests of the lifecycle's boot decision (src/boot/boot_lifecycle.c):
 * for every state, what the script boots (the agent with its ib.* command
 * line, the allocated profile, the disk by exit or sanboot), the refusals
 * (no token, no profile, a value iPXE would misread), and the lifecycle
 * section's keys, defaults and refusals.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/boot_lifecycle.h"
#include "config/config.h"

#define MAC "52:54:00:00:00:30"
#define TOKEN "0123456789abcdef0123456789abcdef"
#define BASE "http://198.18.0.1:8080"
#define SHA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const char yaml[] =
	"http: { listen: [198.18.0.1] }\n"
	"lifecycle: { agent_kernel: ag/vmlinuz }\n"
	"profiles:\n"
	"  - { name: deb, kernel: deb/linux, args: [auto=true], local_method: sanboot }\n"
	"  - { name: plain, kernel: p/linux }\n"
	"  - name: img\n"
	"    image: { url: \"http://198.18.0.1:8080/assets/os.img.gz\", disk: vda,\n"
	"             sha256: " SHA ", format: gzip }\n";

static struct ib_config *load(const char *text, int want)
{
	struct ib_config *cfg = NULL;
	char err[IB_CONFIG_ERRLEN] = "";
	int r = ib_config_load_buffer("t.yaml", text, strlen(text), &cfg, err);

	if (r != want)
		fail_msg("load: want %d, got %d: %s", want, r, err);
	return cfg;
}

/* Renders state s with profile name (or NULL) and token (or NULL). */
static int render(const struct ib_config *cfg, enum ib_lc_state s, const char *profile,
		  const char *token, struct ib_tpl_out *out, char *err)
{
	const struct ib_profile *p = NULL;
	struct ib_boot_plan plan = { 0 };
	struct ib_facts f = { 0 };
	json_t *v;
	int r;

	for (size_t i = 0; profile && i < cfg->n_profiles; i++)
		if (!strcmp(cfg->profiles[i].name, profile))
			p = &cfg->profiles[i];
	plan.profile = ib_boot_lifecycle_kind(s, NULL) == IB_LC_BOOT_PROFILE ? p : NULL;
	assert_int_equal(ib_facts_set_mac(&f, MAC), 0);
	v = ib_boot_values(cfg, &f, &plan);
	assert_non_null(v);
	assert_int_equal(ib_boot_values_add_private(v, &plan, token), 0);
	ib_tpl_out_init(out, 1 << 16);
	r = ib_boot_lifecycle_render(cfg, s, p, v, out, err);
	json_decref(v);
	return r;
}

static const struct state_case {
	enum ib_lc_state s;
	const char *profile;		/* allocated profile */
	const char *want[3];		/* lines the script holds */
	const char *not;		/* a text it must not hold */
} cases[] = {
	{ IB_LC_DISCOVERED, NULL, { "kernel " BASE "/assets/ag/vmlinuz console=tty0 "
		"console=ttyS0 ib.server=" BASE " ib.token=" TOKEN " ib.mac=" MAC
		" ib.mode=discover initrd=agent.img",
		"initrd --name agent.img " BASE "/assets/agent/initrd.img", "boot" }, "exit" },
	{ IB_LC_ACCEPTED, NULL, { "echo ironboot: mac " MAC " is accepted: booting the "
		"agent (wipe)" }, "sanboot" },
	{ IB_LC_WIPING, NULL, { "echo ironboot: mac " MAC " is wiping: booting the "
		"agent (wipe)" }, NULL },
	{ IB_LC_RELEASING, NULL, { "echo ironboot: mac " MAC " is releasing: booting the "
		"agent (wipe)" }, NULL },
	{ IB_LC_READY, NULL, { "echo ironboot: mac " MAC " is ready: booting the agent "
		"(wait)" }, NULL },
	{ IB_LC_ALLOCATED, "deb", { "kernel " BASE "/assets/deb/linux auto=true" }, "ib.mode" },
	{ IB_LC_INSTALLING, "deb", { "kernel " BASE "/assets/deb/linux auto=true" }, "agent" },
	{ IB_LC_INSTALLING, "img", { "echo ironboot: mac " MAC " is installing: booting the "
		"agent (install)" }, "exit" },
	{ IB_LC_ALLOCATED, "img", { "kernel " BASE "/assets/ag/vmlinuz console=tty0 "
		"console=ttyS0 ib.server=" BASE " ib.token=" TOKEN " ib.mac=" MAC
		" ib.mode=install initrd=agent.img" }, NULL },
	{ IB_LC_INSTALLED, "deb", { "sanboot --no-describe --drive 0x80" }, "kernel" },
	{ IB_LC_INSTALLED, "plain", { "exit 1" }, "sanboot" },
	{ IB_LC_INSTALLED, NULL, { "exit 1" }, "kernel" },
	{ IB_LC_FAILED, "deb", { "echo ironboot: mac " MAC " is failed: booting from its "
		"disk", "exit 1" }, "sanboot" },
	{ IB_LC_RETIRED, NULL, { "exit 1" }, "kernel" },
};

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static void test_states(void **state)
{
	struct ib_config *cfg = load(yaml, 0);
	char err[IB_BOOT_ERRLEN];
	struct ib_tpl_out out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct state_case *c = &cases[i];
		char *text;
		int r = render(cfg, c->s, c->profile, TOKEN, &out, err);

		if (r != 0)
			fail_msg("case %zu: %d %s", i, r, err);
		text = strndup(out.buf, out.len);
		assert_non_null(text);
		assert_true(strncmp(text, "#!ipxe\n", 7) == 0);
		for (size_t j = 0; j < 3 && c->want[j]; j++)
			if (!has_line(text, c->want[j]))
				fail_msg("case %zu: no line \"%s\" in:\n%s", i, c->want[j], text);
		if (c->not && strstr(text, c->not))
			fail_msg("case %zu: \"%s\" in:\n%s", i, c->not, text);
		free(text);
		ib_tpl_out_done(&out);
	}
	ib_config_free(cfg);
}

static void test_refusals(void **state)
{
	struct ib_config *cfg = load(yaml, 0);
	char err[IB_BOOT_ERRLEN];
	struct ib_tpl_out out;

	(void)state;
	/* the agent without a token could not authenticate: refused */
	assert_int_equal(render(cfg, IB_LC_DISCOVERED, NULL, NULL, &out, err), -EINVAL);
	assert_non_null(strstr(err, "token"));
	ib_tpl_out_done(&out);
	/* allocated to a profile the config no longer has */
	assert_int_equal(render(cfg, IB_LC_INSTALLING, "gone", TOKEN, &out, err), -EINVAL);
	assert_non_null(strstr(err, "profile"));
	ib_tpl_out_done(&out);
	/* a token that would change the command line is refused by the context */
	assert_int_equal(render(cfg, IB_LC_READY, NULL, "x ib.mode=install", &out, err),
			 -EINVAL);
	ib_tpl_out_done(&out);
	ib_config_free(cfg);
}

static void test_config(void **state)
{
	struct ib_config *cfg;

	(void)state;
	cfg = load("http: { listen: [198.18.0.1] }\n", 0);
	assert_false(cfg->lifecycle.enabled);
	ib_config_free(cfg);
	cfg = load("http: { listen: [198.18.0.1] }\nlifecycle: {}\n", 0);
	assert_true(cfg->lifecycle.enabled);
	assert_true(cfg->lifecycle.auto_discover);
	assert_string_equal(cfg->lifecycle.agent_kernel, "agent/vmlinuz");
	assert_string_equal(cfg->lifecycle.agent_initrd, "agent/initrd.img");
	ib_config_free(cfg);
	cfg = load("lifecycle: { auto_discover: false }\n", 0);
	assert_false(cfg->lifecycle.auto_discover);
	ib_config_free(cfg);
	load("lifecycle: { agent_kernel: ../etc/shadow }\n", -EINVAL);
	load("lifecycle: { agent_initrd: /boot/initrd }\n", -EINVAL);
	load("lifecycle: { agent_kernel: \"http://x/vmlinuz\" }\n", -EINVAL);
	load("lifecycle: { agent_kernel: \"a b\" }\n", -EINVAL);
	load("lifecycle: { agent: x }\n", -EINVAL);
	cfg = load(yaml, 0);
	assert_string_equal(cfg->profiles[2].image.disk, "vda");
	assert_null(cfg->profiles[0].image.url);
	ib_config_free(cfg);
#define IMG(x) "http: { listen: [198.18.0.1] }\nprofiles:\n  - { name: i, image: { " x " } }\n"
	ib_config_free(load(IMG("url: \"http://10.0.0.1/a\", sha256: " SHA ", disk: sda"), 0));
	load(IMG("url: \"http://mirror.example/a\", sha256: " SHA ", disk: sda"), -EINVAL);
	load(IMG("url: \"https://10.0.0.1/a\", sha256: " SHA ", disk: sda"), -EINVAL);
	ib_config_free(load(IMG("url: \"http://[fd00:b007::1]:8080/a\", sha256: " SHA
				", disk: sda"), 0));
	load(IMG("url: \"http://10.0.0.1/a\", sha256: abc, disk: sda"), -EINVAL);
	load(IMG("url: \"http://10.0.0.1/a\", sha256: " SHA ", disk: \"../x\""), -EINVAL);
	load(IMG("url: \"http://10.0.0.1/a\", sha256: " SHA ", disk: sda, format: xz"),
	     -EINVAL);
	load(IMG("url: \"http://10.0.0.1/a\", disk: sda"), -EINVAL);
	/* the digest from a sha256sum file under http.assets: one or the other */
	cfg = load(IMG("url: \"http://10.0.0.1/a\", sha256_file: sums/a.sha256, disk: sda"), 0);
	assert_string_equal(cfg->profiles[0].image.sha256_file, "sums/a.sha256");
	assert_null(cfg->profiles[0].image.sha256);
	ib_config_free(cfg);
	load(IMG("url: \"http://10.0.0.1/a\", sha256: " SHA ", sha256_file: a.sha256, disk: sda"),
	     -EINVAL);
	load(IMG("url: \"http://10.0.0.1/a\", sha256_file: /etc/a.sha256, disk: sda"), -EINVAL);
	load(IMG("url: \"http://10.0.0.1/a\", sha256_file: ../a.sha256, disk: sda"), -EINVAL);
	load(IMG("url: \"http://10.0.0.1/a\", sha256_file: \"\", disk: sda"), -EINVAL);
}

static void test_sha256sum(void **state)
{
	static const struct {
		const char *text;
		int r;
	} sums[] = {
		{ SHA "  disk.img.gz\n", 0 },
		{ SHA "\n", 0 },
		{ SHA, 0 },
		{ SHA " *disk.img.gz\n", 0 },		/* binary mode marker */
		{ SHA "0  disk.img.gz\n", -EBADMSG },	/* 65 digits */
		{ "abc  disk.img.gz\n", -EBADMSG },
		{ "", -EBADMSG },
		{ "  " SHA "\n", -EBADMSG },
		{ "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
		  -EBADMSG },
	};
	char out[65];

	(void)state;
	for (size_t i = 0; i < sizeof(sums) / sizeof(sums[0]); i++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(ib_boot_lifecycle_sha256sum(sums[i].text, strlen(sums[i].text),
							     out), sums[i].r);
		if (sums[i].r == 0)
			assert_string_equal(out, SHA);
	}
	/* upper case in, lower case out; an embedded NUL is no digit */
	assert_int_equal(ib_boot_lifecycle_sha256sum("0123456789ABCDEF0123456789ABCDEF"
						     "0123456789ABCDEF0123456789ABCDEF", 64,
						     out), 0);
	assert_string_equal(out, "0123456789abcdef0123456789abcdef"
				 "0123456789abcdef0123456789abcdef");
	assert_int_equal(ib_boot_lifecycle_sha256sum("0123\0", 65, out), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_sha256sum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
