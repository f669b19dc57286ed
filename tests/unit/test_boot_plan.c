/*
 * The boot decision of the HTTP boot service: which group wins for which
 * facts (table), what the scripts look like (built-in kernel, local exit
 * and sanboot, no group), that hostile inventory and request values never
 * change a script's command lines, install configs, and values precedence;
 * the machine's token and secrets only through ib_boot_values_add_private().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "boot/boot_plan.h"
#include "config/config.h"

#define HTTP "http: { listen: [198.18.0.1] }\n"
#define BASE "http://198.18.0.1:8080"

#define PROFILES \
	"profiles:\n" \
	"  - { name: linux, kernel: vmlinuz, initrd: [initrd.img, https://x.example/fw.img],\n" \
	"      args: [console=ttyS0, \"ib.marker=booted-{{hostname}}\", quiet] }\n" \
	"  - { name: efi, kernel: http://mirror.example/efi/vmlinuz }\n" \
	"  - { name: bios, kernel: bios/vmlinuz }\n" \
	"  - { name: rack, kernel: rack/vmlinuz, args: [\"rack={{labels.rack}}\"] }\n" \
	"  - { name: disk, boot: local }\n" \
	"  - { name: disk-bios, boot: local, local_method: sanboot }\n"

#define MACHINES \
	"machines:\n" \
	"  - { mac: \"52:54:00:00:00:10\", hostname: node10, labels: { rack: r1 } }\n" \
	"  - { mac: \"52:54:00:00:00:20\" }\n"

static const char selection_yaml[] = HTTP PROFILES MACHINES
	"groups:\n"
	"  - { name: default, profile: linux }\n"
	"  - { name: efi, profile: efi, selector: { platform: efi } }\n"
	"  - { name: bios, profile: bios, selector: { platform: pcbios } }\n"
	"  - { name: rack1, profile: rack, selector: { platform: efi, labels: { rack: r1 } } }\n"
	"  - { name: mac20, profile: disk, selector: { mac: \"52:54:00:00:00:20\", platform: pcbios } }\n"
	"  - { name: mac20x, profile: disk-bios,\n"
	"      selector: { mac: \"52:54:00:00:00:20\", platform: pcbios, arch: x86_64 } }\n";

static struct ib_config *load(const char *yaml)
{
	struct ib_config *cfg = NULL;
	char err[IB_CONFIG_ERRLEN];

	if (ib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err) < 0)
		fail_msg("load failed: %s", err);
	return cfg;
}

/* ---- selection ---- */

struct sel_case {
	const char *mac;		/* request facts */
	const char *platform;
	const char *arch;
	const char *group;		/* expected group, NULL = none */
	const char *profile;		/* expected profile */
	const char *why;		/* expected why */
};

static const struct sel_case sel_cases[] = {
	{ "52:54:00:00:00:30", NULL, NULL, "default", "linux",
	  "no group matched; default group default" },
	{ "52:54:00:00:00:30", "efi", NULL, "efi", "efi", "group efi (platform=efi; specificity 1)" },
	{ "52:54:00:00:00:10", "efi", NULL, "rack1", "rack",
	  "group rack1 (platform=efi, labels.rack=r1; specificity 2)" },
	{ "52:54:00:00:00:10", "pcbios", "x86_64", "bios", "bios",
	  "group bios (platform=pcbios; specificity 1)" },
	{ "52-54-00-00-00-20", "pcbios", "i386", "mac20", "disk",
	  "group mac20 (mac=52:54:00:00:00:20, platform=pcbios; specificity 2)" },
	{ "52:54:00:00:00:20", "pcbios", "x86_64", "mac20x", "disk-bios",
	  "group mac20x (mac=52:54:00:00:00:20, arch=x86_64, platform=pcbios; specificity 3)" },
	{ "52:54:00:00:00:20", "efi", "x86_64", "efi", "efi", "group efi (platform=efi; specificity 1)" },
};

static void test_selection(void **state)
{
	struct ib_config *cfg = load(selection_yaml);

	for (size_t i = 0; i < sizeof(sel_cases) / sizeof(sel_cases[0]); i++) {
		const struct sel_case *c = &sel_cases[i];
		struct ib_facts f = { .platform = c->platform, .arch = c->arch };
		struct ib_boot_plan plan;

		assert_int_equal(ib_facts_set_mac(&f, c->mac), 0);
		assert_int_equal(ib_boot_plan(cfg, &f, &plan), 0);
		if (!plan.group || strcmp(plan.group->name, c->group) != 0 ||
		    strcmp(plan.profile->name, c->profile) != 0 || strcmp(plan.why, c->why) != 0)
			fail_msg("case %zu: got group %s (%s), wanted %s (%s)", i,
				 plan.group ? plan.group->name : "-", plan.why, c->group, c->why);
	}
	ib_config_free(cfg);
}

static void test_machine_entry(void **state)
{
	struct ib_config *cfg = load(selection_yaml);
	struct ib_facts f = { .hostname = "evil", .uuid = "u-1" };
	struct ib_boot_plan plan;
	json_t *v;

	assert_int_equal(ib_facts_set_mac(&f, "52:54:00:00:00:10"), 0);
	assert_int_equal(ib_boot_plan(cfg, &f, &plan), 0);
	assert_non_null(plan.machine);
	v = ib_boot_values(cfg, &f, &plan);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "hostname")), "node10");
	assert_string_equal(json_string_value(json_object_get(v, "uuid")), "u-1");
	assert_string_equal(json_string_value(json_object_get(v, "mac")), "52:54:00:00:00:10");
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "labels"), "rack")),
			    "r1");
	assert_true(json_is_null(json_object_get(v, "serial")));
	json_decref(v);
	ib_config_free(cfg);
}

/* ---- the hardware report's selectors ---- */

static const char hw_yaml[] = HTTP PROFILES
	"groups:\n"
	"  - { name: default, profile: linux }\n"
	"  - { name: big, profile: disk, selector: { disk_min_gib: 100, memory_min_gib: 8 } }\n"
	"  - { name: dell, profile: rack, selector: { vendor: dell inc., product: r640,\n"
	"      disk_min_gib: 1 } }\n";

struct hw_case {
	const char *report;		/* NULL: no report */
	const char *group;		/* expected */
};

#define GIB_S "1073741824"
static const struct hw_case hw_cases[] = {
	{ NULL, "default" },			/* no report: none of them */
	{ "{}", "default" },
	{ "{\"memory\": {\"total_bytes\": 8589934592},"
	  " \"disks\": [{\"size_bytes\": 1}, {\"size_bytes\": 107374182400}]}", "big" },
	{ "{\"memory\": {\"total_bytes\": 8589934591},"	/* a byte short */
	  " \"disks\": [{\"size_bytes\": 107374182400}]}", "default" },
	{ "{\"memory\": {\"total_bytes\": \"8589934592\"},"	/* not a number */
	  " \"disks\": [{\"size_bytes\": 107374182400}]}", "default" },
	{ "{\"memory\": {\"total_bytes\": -1}, \"disks\": {\"size_bytes\": 1}}", "default" },
	{ "{\"system\": {\"vendor\": \"Dell Inc.\", \"product\": \"R640\"},"
	  " \"disks\": [{\"size_bytes\": " GIB_S "}]}", "dell" },
	{ "{\"system\": {\"vendor\": \"Dell Inc.\", \"product\": \"R650\"},"
	  " \"disks\": [{\"size_bytes\": " GIB_S "}]}", "default" },
	{ "{\"system\": {\"vendor\": 7, \"product\": \"R640\"},"
	  " \"disks\": [{\"size_bytes\": " GIB_S "}]}", "default" },
};

static void test_hw_selectors(void **state)
{
	struct ib_config *cfg = load(hw_yaml);
	struct ib_hw_facts hw;

	assert_int_equal(cfg->groups[1].specificity, 2);
	assert_int_equal(cfg->groups[2].specificity, 3);
	for (size_t i = 0; i < sizeof(hw_cases) / sizeof(hw_cases[0]); i++) {
		const struct hw_case *c = &hw_cases[i];
		struct ib_facts f = { .hw = c->report ? &hw : NULL };
		struct ib_boot_plan plan;

		if (c->report)
			assert_int_equal(ib_hw_facts_parse(c->report, &hw), 0);
		assert_int_equal(ib_facts_set_mac(&f, "52:54:00:00:00:30"), 0);
		assert_int_equal(ib_boot_plan(cfg, &f, &plan), 0);
		if (!plan.group || strcmp(plan.group->name, c->group) != 0)
			fail_msg("case %zu: got group %s (%s), wanted %s", i,
				 plan.group ? plan.group->name : "-", plan.why, c->group);
	}
	assert_int_equal(ib_hw_facts_parse("[1]", &hw), -EINVAL);
	assert_int_equal(ib_hw_facts_parse("{\"a\": 1, \"a\": 2}", &hw), -EINVAL);
	assert_int_equal(ib_hw_facts_parse("not json", &hw), -EINVAL);
	ib_config_free(cfg);
}

static void test_bad_facts(void **state)
{
	struct ib_config *cfg = load(selection_yaml);
	struct ib_facts f = { 0 };
	struct ib_boot_plan plan;
	char big[IB_BOOT_FACT_MAX + 2];

	assert_int_equal(ib_facts_set_mac(&f, "52:54:00:00:00"), -EINVAL);
	assert_int_equal(ib_facts_set_mac(&f, "52:54:00:00:00:1g"), -EINVAL);
	assert_int_equal(ib_facts_set_mac(&f, "AA:BB:CC:DD:EE:FF"), 0);
	assert_string_equal(f.mac, "aa:bb:cc:dd:ee:ff");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	f.serial = big;
	assert_int_equal(ib_boot_plan(cfg, &f, &plan), -EINVAL);
	ib_config_free(cfg);
}

/* ---- scripts ---- */

/* Plans and renders the script for mac (and request hostname); returns the
 * render's result, the script in out. */
static int script_for(const struct ib_config *cfg, const char *mac, const char *hostname,
		      const char *platform, struct ib_tpl_out *out, char *err)
{
	struct ib_facts f = { .hostname = hostname, .platform = platform };
	struct ib_boot_plan plan;
	json_t *v;
	int r;

	assert_int_equal(ib_facts_set_mac(&f, mac), 0);
	assert_int_equal(ib_boot_plan(cfg, &f, &plan), 0);
	v = ib_boot_values(cfg, &f, &plan);
	assert_non_null(v);
	r = ib_boot_render_script(cfg, &plan, v, out, err);
	json_decref(v);
	return r;
}

struct script_case {
	const char *mac;
	const char *platform;
	const char *script;
};

static const struct script_case script_cases[] = {
	{ "52:54:00:00:00:10", NULL,
	  "#!ipxe\n"
	  "echo ironboot: mac 52:54:00:00:00:10 group default profile linux\n"
	  "kernel " BASE "/assets/vmlinuz console=ttyS0 ib.marker=booted-node10 quiet"
	  " initrd=initrd.img initrd=fw.img\n"
	  "initrd --name initrd.img " BASE "/assets/initrd.img\n"
	  "initrd --name fw.img https://x.example/fw.img\n"
	  "boot\n" },
	{ "52:54:00:00:00:10", "efi",
	  "#!ipxe\n"
	  "echo ironboot: mac 52:54:00:00:00:10 group rack1 profile rack\n"
	  "kernel " BASE "/assets/rack/vmlinuz rack=r1\n"
	  "boot\n" },
	{ "52:54:00:00:00:30", "efi",
	  "#!ipxe\n"
	  "echo ironboot: mac 52:54:00:00:00:30 group efi profile efi\n"
	  "kernel http://mirror.example/efi/vmlinuz\n"
	  "boot\n" },
	{ "52:54:00:00:00:20", "pcbios",
	  "#!ipxe\n"
	  "echo ironboot: mac 52:54:00:00:00:20 group mac20 profile disk\n"
	  "exit\n" },
};

static void test_scripts(void **state)
{
	struct ib_config *cfg = load(selection_yaml);
	char err[IB_BOOT_ERRLEN];
	struct ib_tpl_out out;

	ib_tpl_out_init(&out, 0);
	for (size_t i = 0; i < sizeof(script_cases) / sizeof(script_cases[0]); i++) {
		const struct script_case *c = &script_cases[i];

		if (script_for(cfg, c->mac, NULL, c->platform, &out, err) < 0)
			fail_msg("case %zu: %s", i, err);
		assert_string_equal(out.buf, c->script);
	}
	ib_tpl_out_done(&out);
	ib_config_free(cfg);
}

/* Each initrd is fetched under an image name the kernel line names once. */
static void test_initrd_names(void **state)
{
	static const char yaml[] = HTTP
		"profiles:\n"
		"  - { name: many, kernel: vmlinuz, args: [quiet], initrd: [a/initrd.img, b/INITRD.img,\n"
		"      \"https://x.example/i.img?v=1#f\", \"https://x.example/dir/\"] }\n"
		"  - { name: named, kernel: vmlinuz, initrd: [initrd.img], args: [initrd=initrd.img] }\n"
		"groups:\n"
		"  - { name: many, profile: many }\n"
		"  - { name: named, profile: named, selector: { mac: \"52:54:00:00:00:20\" } }\n";
	struct ib_config *cfg = load(yaml);
	char err[IB_BOOT_ERRLEN];
	struct ib_tpl_out out;

	ib_tpl_out_init(&out, 0);
	assert_int_equal(script_for(cfg, "52:54:00:00:00:10", NULL, NULL, &out, err), 0);
	assert_string_equal(out.buf,
		"#!ipxe\n"
		"echo ironboot: mac 52:54:00:00:00:10 group many profile many\n"
		"kernel " BASE "/assets/vmlinuz quiet initrd=initrd.img initrd=1-INITRD.img"
		" initrd=i.img initrd=initrd3\n"
		"initrd --name initrd.img " BASE "/assets/a/initrd.img\n"
		"initrd --name 1-INITRD.img " BASE "/assets/b/INITRD.img\n"
		"initrd --name i.img https://x.example/i.img?v=1#f\n"
		"initrd --name initrd3 https://x.example/dir/\n"
		"boot\n");
	/* the profile's args name the initrd already: not twice */
	assert_int_equal(script_for(cfg, "52:54:00:00:00:20", NULL, NULL, &out, err), 0);
	assert_string_equal(out.buf,
		"#!ipxe\n"
		"echo ironboot: mac 52:54:00:00:00:20 group named profile named\n"
		"kernel " BASE "/assets/vmlinuz initrd=initrd.img\n"
		"initrd --name initrd.img " BASE "/assets/initrd.img\n"
		"boot\n");
	ib_tpl_out_done(&out);
	ib_config_free(cfg);
}

static void test_sanboot(void **state)
{
	struct ib_config *cfg = load(selection_yaml);
	struct ib_facts f = { .platform = "pcbios", .arch = "x86_64" };
	char err[IB_BOOT_ERRLEN];
	struct ib_boot_plan plan;
	struct ib_tpl_out out;
	json_t *v;

	ib_tpl_out_init(&out, 0);
	assert_int_equal(ib_facts_set_mac(&f, "52:54:00:00:00:20"), 0);
	assert_int_equal(ib_boot_plan(cfg, &f, &plan), 0);
	v = ib_boot_values(cfg, &f, &plan);
	assert_int_equal(ib_boot_render_script(cfg, &plan, v, &out, err), 0);
	assert_string_equal(out.buf, "#!ipxe\n"
			    "echo ironboot: mac 52:54:00:00:00:20 group mac20x profile disk-bios\n"
			    "sanboot --no-describe --drive 0x80\n");
	json_decref(v);
	ib_tpl_out_done(&out);
	ib_config_free(cfg);
}

static void test_no_group(void **state)
{
	struct ib_config *cfg = load(HTTP PROFILES
		"groups:\n  - { name: efi, profile: efi, selector: { platform: efi } }\n");
	struct ib_facts f = { .platform = "pcbios" };
	char err[IB_BOOT_ERRLEN];
	struct ib_boot_plan plan;
	struct ib_tpl_out out;
	json_t *v;

	ib_tpl_out_init(&out, 0);
	assert_int_equal(ib_facts_set_mac(&f, "52:54:00:00:00:99"), 0);
	assert_int_equal(ib_boot_plan(cfg, &f, &plan), 0);
	assert_null(plan.group);
	assert_null(plan.profile);
	assert_string_equal(plan.why, "no group matched and no default");
	v = ib_boot_values(cfg, &f, &plan);
	assert_int_equal(ib_boot_render_script(cfg, &plan, v, &out, err), 0);
	assert_memory_equal(out.buf, "#!ipxe\n", 7);
	assert_non_null(strstr(out.buf, "mac 52:54:00:00:00:99"));
	assert_non_null(strstr(out.buf, "\nexit\n"));
	assert_int_equal(ib_boot_render_config(cfg, &plan, v, "ks", &out, err), -ENOENT);
	json_decref(v);
	ib_tpl_out_done(&out);
	ib_config_free(cfg);
}

/* ---- injection ---- */

/* Each line's command word and number of words. */
static void shape(const char *s, char *out, size_t outlen)
{
	size_t n = 0;

	out[0] = '\0';
	while (*s) {
		size_t line = strcspn(s, "\n"), words = 0, cmd = strcspn(s, " \n");

		for (size_t i = 0; i < line; i++)
			words += s[i] != ' ' && (i == 0 || s[i - 1] == ' ');
		n += (size_t)snprintf(out + n, outlen - n, "%.*s/%zu;", (int)cmd, s, words);
		s += line + (s[line] == '\n');
	}
}

static const char *const hostile[] = {
	"a\nboot", "a\rb", "||", "&&", ";", "${root}", "x${net0/ip}", "a}b", ":label",
	"#comment", "-x", "a b", "a\tb", "a\\", "\xff\xfe", "imgfetch", "goto", "x||y",
};

static void test_injection_request(void **state)
{
	struct ib_config *cfg = load(selection_yaml);
	char err[IB_BOOT_ERRLEN], want[512], got[512];
	struct ib_tpl_out out;

	ib_tpl_out_init(&out, 0);
	assert_int_equal(script_for(cfg, "52:54:00:00:00:30", "benign", NULL, &out, err), 0);
	shape(out.buf, want, sizeof(want));
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		int r = script_for(cfg, "52:54:00:00:00:30", hostile[i], NULL, &out, err);

		if (r == -EINVAL) {
			assert_non_null(strstr(err, "'hostname'"));
			continue;
		}
		assert_int_equal(r, 0);
		shape(out.buf, got, sizeof(got));
		if (strcmp(got, want) != 0)
			fail_msg("hostile %zu changed the script:\n%s", i, out.buf);
	}
	ib_tpl_out_done(&out);
	ib_config_free(cfg);
}

/* Inventory labels land in an arg; the loader refuses control characters. */
static void test_injection_labels(void **state)
{
	static const char *const labels[] = { "||", "&&", "${x}", ":label", "a;b", "-a", "#c" };
	char yaml[2048], err[IB_BOOT_ERRLEN], want[512], got[512];
	struct ib_config *cfg;
	struct ib_tpl_out out;

	ib_tpl_out_init(&out, 0);
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		int r;

		snprintf(yaml, sizeof(yaml), HTTP PROFILES
			 "machines:\n  - { mac: \"52:54:00:00:00:10\", labels: { rack: \"%s\" } }\n"
			 "groups:\n  - { name: r, profile: rack }\n", labels[i]);
		cfg = load(yaml);
		r = script_for(cfg, "52:54:00:00:00:10", NULL, NULL, &out, err);
		if (r == -EINVAL) {
			assert_non_null(strstr(err, "'labels.rack'"));
		} else {
			assert_int_equal(r, 0);
			shape(out.buf, got, sizeof(got));
			snprintf(want, sizeof(want), "#!ipxe/1;echo/8;kernel/3;boot/1;");
			if (strcmp(got, want) != 0)
				fail_msg("label %zu changed the script:\n%s", i, out.buf);
		}
		ib_config_free(cfg);
	}
	cfg = NULL;
	snprintf(yaml, sizeof(yaml), HTTP PROFILES
		 "machines:\n  - { mac: \"52:54:00:00:00:10\", labels: { rack: \"a\\nboot\" } }\n");
	assert_int_equal(ib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "machines[0].labels.rack: control character 0x0a"));
	ib_tpl_out_done(&out);
}

/* ---- templates from files ---- */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct ib_config *load_with_templates(const char *profiles)
{
	char yaml[2048];

	snprintf(yaml, sizeof(yaml),
		 "http: { listen: [198.18.0.1], templates: %s }\n%s"
		 "groups:\n  - { name: d, profile: p, metadata: { b: g, c: g } }\n"
		 "machines:\n  - { mac: \"52:54:00:00:00:10\", metadata: { c: m } }\n",
		 tmpdir, profiles);
	return load(yaml);
}

static void test_custom_script(void **state)
{
	struct ib_config *cfg;
	char err[IB_BOOT_ERRLEN];
	struct ib_tpl_out out;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ib-boot-plan-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	write_file("good.ipxe", "#!ipxe\nchain {{base_url}}/x?mac={{mac}}&m={{metadata.b}}\n");
	write_file("bad.ipxe", "echo no magic\n");
	write_file("ks.cfg", "network --hostname={{hostname}}\n# {{metadata.a}} {{metadata.b}} {{metadata.c}}\n");
	write_file("ud.yaml", "hostname: {{hostname}}\n");

	ib_tpl_out_init(&out, 0);
	cfg = load_with_templates("profiles:\n  - { name: p, script: good.ipxe, metadata: { a: p, b: p },\n"
		"      configs: [ { name: ks, template: ks.cfg }, { name: ud, template: ud.yaml, format: yaml } ] }\n");
	assert_int_equal(script_for(cfg, "52:54:00:00:00:10", "h1", NULL, &out, err), 0);
	assert_string_equal(out.buf, "#!ipxe\nchain " BASE "/x?mac=52:54:00:00:00:10&m=g\n");
	{
		struct ib_facts f = { .hostname = "a\"\nb: c" };
		struct ib_boot_plan plan;
		json_t *v;

		assert_int_equal(ib_facts_set_mac(&f, "52:54:00:00:00:10"), 0);
		assert_int_equal(ib_boot_plan(cfg, &f, &plan), 0);
		v = ib_boot_values(cfg, &f, &plan);
		assert_int_equal(ib_boot_render_config(cfg, &plan, v, "ud", &out, err), 0);
		assert_string_equal(out.buf, "hostname: \"a\\\"\\nb: c\"\n");
		assert_int_equal(ib_boot_render_config(cfg, &plan, v, "ks", &out, err), -EINVAL);
		assert_non_null(strstr(err, "'hostname'"));
		f.hostname = "h1";
		json_decref(v);
		v = ib_boot_values(cfg, &f, &plan);
		assert_int_equal(ib_boot_render_config(cfg, &plan, v, "ks", &out, err), 0);
		assert_string_equal(out.buf, "network --hostname=h1\n# p g m\n");
		assert_int_equal(ib_boot_render_config(cfg, &plan, v, "nope", &out, err), -ENOENT);
		json_decref(v);
	}
	ib_config_free(cfg);

	cfg = load_with_templates("profiles:\n  - { name: p, script: bad.ipxe }\n");
	assert_int_equal(script_for(cfg, "52:54:00:00:00:10", NULL, NULL, &out, err), -EINVAL);
	assert_non_null(strstr(err, "does not start with the line \"#!ipxe\""));
	ib_config_free(cfg);
	ib_tpl_out_done(&out);
	write_file("good.ipxe", "");
	for (const char *n = "good.ipxe\0bad.ipxe\0ks.cfg\0ud.yaml\0"; *n; n += strlen(n) + 1) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", tmpdir, n);
		unlink(path);
	}
	rmdir(tmpdir);
}

/* The machine's token and secrets: never in ib_boot_values(), added for the
 * machine itself by ib_boot_values_add_private(), machine over profile. */
static void test_private_values(void **state)
{
	static const char token[] = "0123456789abcdef0123456789abcdef";
	struct ib_config *cfg;
	char err[IB_BOOT_ERRLEN], yaml[1024], *dump;
	struct ib_tpl_out out;
	struct ib_boot_plan plan;
	struct ib_facts f = { 0 };
	json_t *v;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ib-boot-plan-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	write_file("sec.ipxe", "#!ipxe\nchain {{base_url}}/configs/sec?{{machine_query}}\n"
		   "echo t={{token}} pw={{secrets.pw}}\n");
	write_file("sec.yaml", "pw: {{secrets.pw}}\nkey: {{secrets.key}}\n");
	snprintf(yaml, sizeof(yaml),
		 "http: { listen: [198.18.0.1], templates: %s }\n"
		 "profiles:\n  - { name: p, script: sec.ipxe, secrets: { pw: ppw, key: pkey },\n"
		 "      configs: [ { name: sec, template: sec.yaml, format: yaml } ] }\n"
		 "groups:\n  - { name: d, profile: p }\n"
		 "machines:\n  - { mac: \"52:54:00:00:00:10\", secrets: { pw: mpw } }\n", tmpdir);
	cfg = load(yaml);
	ib_tpl_out_init(&out, 0);

	/* what explain, the API and an unauthorized render see */
	assert_int_equal(ib_facts_set_mac(&f, "52:54:00:00:00:10"), 0);
	assert_int_equal(ib_boot_plan(cfg, &f, &plan), 0);
	v = ib_boot_values(cfg, &f, &plan);
	assert_non_null(v);
	assert_null(json_object_get(v, "secrets"));
	assert_null(json_object_get(v, "token"));
	assert_null(json_object_get(v, "machine_query"));
	dump = json_dumps(v, 0);
	assert_null(strstr(dump, "mpw"));
	assert_null(strstr(dump, "ppw"));
	free(dump);
	assert_int_equal(ib_boot_render_script(cfg, &plan, v, &out, err), 0);
	assert_string_equal(out.buf, "#!ipxe\nchain " BASE "/configs/sec?\necho t= pw=\n");
	assert_int_equal(ib_boot_render_config(cfg, &plan, v, "sec", &out, err), 0);
	assert_string_equal(out.buf, "pw: \"\"\nkey: \"\"\n");

	/* the machine itself: its token, and its secrets over the profile's */
	assert_int_equal(ib_boot_values_add_private(v, &plan, token), 0);
	assert_int_equal(ib_boot_render_script(cfg, &plan, v, &out, err), 0);
	assert_string_equal(out.buf, "#!ipxe\nchain " BASE "/configs/sec?mac=52:54:00:00:00:10&token="
			    "0123456789abcdef0123456789abcdef\necho t=0123456789abcdef0123456789abcdef"
			    " pw=mpw\n");
	assert_int_equal(ib_boot_render_config(cfg, &plan, v, "sec", &out, err), 0);
	assert_string_equal(out.buf, "pw: \"mpw\"\nkey: \"pkey\"\n");
	json_decref(v);

	/* a machine without an entry: the profile's secrets; no token, no query */
	assert_int_equal(ib_facts_set_mac(&f, "52:54:00:00:00:99"), 0);
	assert_int_equal(ib_boot_plan(cfg, &f, &plan), 0);
	v = ib_boot_values(cfg, &f, &plan);
	assert_int_equal(ib_boot_values_add_private(v, &plan, NULL), 0);
	assert_true(json_is_null(json_object_get(v, "token")));
	assert_true(json_is_null(json_object_get(v, "machine_query")));
	assert_int_equal(ib_boot_render_config(cfg, &plan, v, "sec", &out, err), 0);
	assert_string_equal(out.buf, "pw: \"ppw\"\nkey: \"pkey\"\n");
	json_decref(v);

	ib_config_free(cfg);
	ib_tpl_out_done(&out);
	for (const char *n = "sec.ipxe\0sec.yaml\0"; *n; n += strlen(n) + 1) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", tmpdir, n);
		unlink(path);
	}
	rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_machine_entry),
		cmocka_unit_test(test_hw_selectors),
		cmocka_unit_test(test_bad_facts),
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_initrd_names),
		cmocka_unit_test(test_sanboot),
		cmocka_unit_test(test_no_group),
		cmocka_unit_test(test_injection_request),
		cmocka_unit_test(test_injection_labels),
		cmocka_unit_test(test_custom_script),
		cmocka_unit_test(test_private_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
