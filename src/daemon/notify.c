/* sd_notify(3) for the daemon's life cycle: see notify.h. */
#include "daemon/notify.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "common/log.h"

/* Sends state; says once why a notification could not be sent.  0 from
 * sd_notify() means there is no $NOTIFY_SOCKET: nothing to tell. */
static void send_state(const char *state)
{
	static bool warned;
	int r = sd_notify(0, state);

	if (r < 0 && !warned) {
		warned = true;
		ib_warn("systemd: cannot notify the service manager (%s): %s; "
			"serving anyway", state, strerror(-r));
	}
}

void ib_notify_ready(const char *status)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status ? status : "serving");
	send_state(msg);
}

void ib_notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	/* systemd(1) >= 253 (Type=notify-reload) matches the reload by this
	 * CLOCK_MONOTONIC stamp; older managers ignore it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull +
		 (unsigned long long)ts.tv_nsec / 1000ull);
	send_state(msg);
}

void ib_notify_stopping(void)
{
	send_state("STOPPING=1\nSTATUS=stopping");
}
