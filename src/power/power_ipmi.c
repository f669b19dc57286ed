/*
 * IPMI v2.0 over LAN (RMCP+) through libfreeipmi, run on a worker thread.
 * One session per operation: open (RAKP with the BMC's cipher suite, 3 =
 * HMAC-SHA1/AES-128 or 17 = HMAC-SHA256/AES-128), one or two commands,
 * close.  freeipmi retransmits within a session timeout; we bound that by
 * the operation's deadline and retry a timed-out session up to bmc.retries
 * times.  IPMI v2.0 section 28 (chassis commands).
 */
#include <errno.h>
#include <freeipmi/freeipmi.h>
#include <stdio.h>
#include <string.h>

#include "power/power.h"
#include "power/power_int.h"

/* The chassis control of each power op (IPMI v2.0 28.3); -1: none. */
static const int chassis_control[IB_POWER_OP_COUNT] = {
	[IB_POWER_STATUS] = -1,
	[IB_POWER_ON] = IPMI_CHASSIS_CONTROL_POWER_UP,
	[IB_POWER_OFF] = IPMI_CHASSIS_CONTROL_POWER_DOWN,
	[IB_POWER_CYCLE] = IPMI_CHASSIS_CONTROL_POWER_CYCLE,
	[IB_POWER_SOFT] = IPMI_CHASSIS_CONTROL_INITIATE_SOFT_SHUTDOWN,
	[IB_POWER_PXE_ONCE] = -1,
	[IB_POWER_DISK_ONCE] = -1,
};

/* A freeipmi error as -errno and a message naming the BMC.  freeipmi's
 * own messages never hold the password; we still word the common ones. */
static int fail(const struct ib_power_call *c, ipmi_ctx_t ctx, const char *what,
		struct ib_power_result *res)
{
	const struct ib_bmc *b = c->bmc;
	int e = ipmi_ctx_errnum(ctx);

	switch (e) {
	case IPMI_ERR_USERNAME_INVALID:
	case IPMI_ERR_PASSWORD_INVALID:
	case IPMI_ERR_K_G_INVALID:
		snprintf(res->msg, sizeof(res->msg),
			 "bmc %s: authentication refused (wrong user or password)", b->name);
		return -EACCES;
	case IPMI_ERR_PRIVILEGE_LEVEL_INSUFFICIENT:
	case IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED:
		snprintf(res->msg, sizeof(res->msg),
			 "bmc %s: the user lacks the operator privilege", b->name);
		return -EPERM;
	case IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE:
	case IPMI_ERR_IPMI_2_0_UNAVAILABLE:
		snprintf(res->msg, sizeof(res->msg),
			 "bmc %s: RMCP+ with cipher suite %u refused", b->name, b->cipher_suite);
		return -EPROTONOSUPPORT;
	case IPMI_ERR_CONNECTION_TIMEOUT:
	case IPMI_ERR_SESSION_TIMEOUT:
	case IPMI_ERR_MESSAGE_TIMEOUT:
		snprintf(res->msg, sizeof(res->msg),
			 "bmc %s: no answer to %s within %u ms (%u attempts)", b->name, what,
			 b->timeout_ms, res->attempts);
		return -ETIMEDOUT;
	case IPMI_ERR_INTERNAL_ERROR:
	case IPMI_ERR_BAD_RMCPPLUS_STATUS_CODE:
	case IPMI_ERR_IPMI_ERROR:
		if (strcmp(what, "session setup") != 0)
			break;
		snprintf(res->msg, sizeof(res->msg),
			 "bmc %s: RMCP+ session setup with cipher suite %u failed (%s); "
			 "does the BMC offer that suite?", b->name, b->cipher_suite,
			 ipmi_ctx_errormsg(ctx));
		return -EPROTO;
	case IPMI_ERR_HOSTNAME_INVALID:
		snprintf(res->msg, sizeof(res->msg), "bmc %s: bad address", b->name);
		return -EINVAL;
	default:
		break;
	}
	snprintf(res->msg, sizeof(res->msg), "bmc %s: %s failed: %s", b->name, what,
		 ipmi_ctx_errormsg(ctx));
	return e == IPMI_ERR_BAD_COMPLETION_CODE ? -EREMOTEIO : -EIO;
}

/* Our workaround bits as freeipmi's flags. */
static unsigned workaround_flags(uint32_t wa)
{
	static const struct { uint32_t ours; unsigned theirs; } map[] = {
		{ IB_IPMI_WA_OPENSESSPRIV, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE },
		{ IB_IPMI_WA_AUTHCAP, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_AUTHENTICATION_CAPABILITIES },
		{ IB_IPMI_WA_INTEL20, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_INTEL_2_0_SESSION },
		{ IB_IPMI_WA_SUPERMICRO20, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_SUPERMICRO_2_0_SESSION },
		{ IB_IPMI_WA_SUN20, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_SUN_2_0_SESSION },
		{ IB_IPMI_WA_INTEGRITYCHECKVALUE,
		  IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_NON_EMPTY_INTEGRITY_CHECK_VALUE },
		{ IB_IPMI_WA_NOCHECKSUMCHECK, IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_NO_CHECKSUM_CHECK },
	};
	unsigned f = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (wa & map[i].ours)
			f |= map[i].theirs;
	return f;
}

static int retryable(ipmi_ctx_t ctx)
{
	int e = ipmi_ctx_errnum(ctx);

	return e == IPMI_ERR_CONNECTION_TIMEOUT || e == IPMI_ERR_SESSION_TIMEOUT ||
	       e == IPMI_ERR_MESSAGE_TIMEOUT || e == IPMI_ERR_BMC_BUSY;
}

/* Opens the RMCP+ session, retrying timeouts until the deadline. */
static int open_session(const struct ib_power_call *c, ipmi_ctx_t ctx,
			struct ib_power_result *res)
{
	const struct ib_bmc *b = c->bmc;

	/* IPMI v2.0 13.17 (RAKP): user names of 16 bytes, passwords of 20 at
	 * most; freeipmi only says "invalid parameters" */
	if (strlen(c->user) > IPMI_MAX_USER_NAME_LENGTH ||
	    strlen(c->password) > IPMI_2_0_MAX_PASSWORD_LENGTH) {
		snprintf(res->msg, sizeof(res->msg), "bmc %s: the user or password of credential "
			 "\"%s\" is too long for IPMI 2.0 (16 and 20 bytes at most)", b->name,
			 b->credential);
		return -EINVAL;
	}
	for (;;) {
		unsigned ms = ib_power_attempt_ms(c);

		if (ms == 0 || res->attempts > b->retries)
			break;
		res->attempts++;
		/* retransmit every quarter of the attempt (freeipmi's default
		 * is 1 s of 20 s): a lost datagram costs little */
		if (ipmi_ctx_open_outofband_2_0(ctx, b->address, c->user, c->password, NULL, 0,
						IPMI_PRIVILEGE_LEVEL_OPERATOR, b->cipher_suite,
						ms, ms / 4 ? ms / 4 : 1,
						workaround_flags(b->ipmi_workarounds), 0) == 0)
			return 0;
		if (!retryable(ctx))
			return fail(c, ctx, "session setup", res);
	}
	return fail(c, ctx, "session setup", res);
}

static int get_status(const struct ib_power_call *c, ipmi_ctx_t ctx, struct ib_power_result *res)
{
	fiid_obj_t rs = fiid_obj_create(tmpl_cmd_get_chassis_status_rs);
	uint64_t on = 0;
	int r = 0;

	if (!rs)
		return -ENOMEM;
	if (ipmi_cmd_get_chassis_status(ctx, rs) < 0)
		r = fail(c, ctx, "Get Chassis Status", res);
	else if (fiid_obj_get(rs, "current_power_state.power_is_on", &on) < 0)
		r = -EBADMSG;
	else
		res->state = on ? IB_POWER_STATE_ON : IB_POWER_STATE_OFF;
	fiid_obj_destroy(rs);
	return r;
}

static int control(const struct ib_power_call *c, ipmi_ctx_t ctx, struct ib_power_result *res)
{
	fiid_obj_t rs = fiid_obj_create(tmpl_cmd_chassis_control_rs);
	int r = 0;

	if (!rs)
		return -ENOMEM;
	if (ipmi_cmd_chassis_control(ctx, (uint8_t)chassis_control[c->op], rs) < 0)
		r = fail(c, ctx, "Chassis Control", res);
	fiid_obj_destroy(rs);
	return r;
}

/* IPMI v2.0 28.12, boot option parameter 5: valid, next boot only,
 * BIOS or EFI, the device; every other flag left at its default. */
static int boot_once(const struct ib_power_call *c, ipmi_ctx_t ctx, struct ib_power_result *res)
{
	fiid_obj_t rs = fiid_obj_create(tmpl_cmd_set_system_boot_options_rs);
	uint8_t dev = c->op == IB_POWER_PXE_ONCE ?
		IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_FORCE_PXE :
		IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_FORCE_HARD_DRIVE;
	uint8_t type = c->bmc->efi ? IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_TYPE_EFI :
		IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_TYPE_PC_COMPATIBLE;
	int r = 0;

	if (!rs)
		return -ENOMEM;
	if (ipmi_cmd_set_system_boot_options_boot_flags(ctx,
			IPMI_SYSTEM_BOOT_OPTIONS_PARAMETER_VALID_UNLOCKED, type,
			IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_VALID_FOR_NEXT_BOOT,
			IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_VALID,
			0, 0, dev, 0, 0,
			IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_CONSOLE_REDIRECTION_DEFAULT, 0, 0, 0,
			IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_FIRMWARE_BIOS_VERBOSITY_DEFAULT, 0,
			IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAGS_SET_MUX_TO_RECOMENDED_AT_END_OF_POST,
			0, 0, rs) < 0)
		r = fail(c, ctx, "Set System Boot Options", res);
	fiid_obj_destroy(rs);
	return r;
}

void ib_power_ipmi_run(const struct ib_power_call *c, struct ib_power_result *res)
{
	ipmi_ctx_t ctx = ipmi_ctx_create();
	int r;

	if (!ctx) {
		res->err = -ENOMEM;
		snprintf(res->msg, sizeof(res->msg), "bmc %s: out of memory", c->bmc->name);
		return;
	}
	if (c->bmc->cipher_suite != 3 && c->bmc->cipher_suite != 17) {
		res->err = -EINVAL;
		snprintf(res->msg, sizeof(res->msg), "bmc %s: cipher suite %u: only 3 and 17",
			 c->bmc->name, c->bmc->cipher_suite);
		ipmi_ctx_destroy(ctx);
		return;
	}
	r = open_session(c, ctx, res);
	if (r == 0) {
		if (c->op == IB_POWER_STATUS)
			r = get_status(c, ctx, res);
		else if (chassis_control[c->op] >= 0)
			r = control(c, ctx, res);
		else
			r = boot_once(c, ctx, res);
		ipmi_ctx_close(ctx);
	}
	res->err = r;
	ipmi_ctx_destroy(ctx);
}
