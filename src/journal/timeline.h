/*
 * The boot timeline of the journal: which stage of the network-boot chain
 * each event belongs to, and how long since the previous stage began
 * (`ironboot events`, docs/METRICS.md).  Pure: no I/O, no clock.
 *
 * Stages, in the order a netboot passes them: firmware (DHCP from the
 * firmware's PXE or HTTP client), loader (TFTP of the first-stage boot
 * file), ipxe (DHCP from iPXE, user class iPXE), script (/boot.ipxe),
 * kernel (/assets/: kernels, initrds, images), install (/configs/),
 * lifecycle (machine state moves and the agent); other for the rest.  A
 * DHCP event that says nothing of its client (a lease written, expired)
 * stays in the DHCP stage the machine is in.
 *
 * A refused HTTP request (401, 403: a wrong token, another machine's
 * data) is journalled under the MAC it names, but any host may send it:
 * it is no activity of that machine, so it takes no stage, moves no
 * stage, and is no machine's "last seen" (the fleet view, the doctor).
 * Nor is a served request for a shared file (/assets/) whose mac= the
 * request is not authorized as (marked "unverified"): any host may ask
 * for a kernel in any machine's name.
 */
#ifndef IB_JOURNAL_TIMELINE_H
#define IB_JOURNAL_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum ib_stage {
	IB_STAGE_OTHER,
	IB_STAGE_FIRMWARE,
	IB_STAGE_LOADER,
	IB_STAGE_IPXE,
	IB_STAGE_SCRIPT,
	IB_STAGE_KERNEL,
	IB_STAGE_INSTALL,
	IB_STAGE_LIFECYCLE,
};

#define IB_TIMELINE_MACS 64		/* machines followed at once; more reuse slots */

/* Where each machine is: its stage, and when that and the one before began. */
struct ib_timeline {
	struct {
		char mac[IB_MACHINE_MAC_STRLEN];	/* "" = free */
		enum ib_stage cur;			/* stage of its last event */
		int64_t cur_us;				/* when cur began */
		int64_t prev_us;			/* when the stage before began, or -1 */
	} m[IB_TIMELINE_MACS];
	size_t next;				/* slot to reuse when all are taken */
};

/* The detail key marking a refused HTTP request (value 1). */
#define IB_TIMELINE_REFUSED "refused"
/* The detail key marking a served request for a shared file whose mac=
 * the request is not authorized as, or a TFTP transfer whose client never
 * answered it (value 1). */
#define IB_TIMELINE_UNVERIFIED "unverified"

/* Whether e is a refused HTTP request or an unverified claim (HTTP or
 * TFTP): not its machine's activity. */
bool ib_timeline_unverified(const struct ib_event *e);

/* "firmware", "loader", ...; "other". */
const char *ib_stage_name(enum ib_stage s);

/* An empty timeline. */
void ib_timeline_init(struct ib_timeline *t);

/*
 * Takes the next event (in time order) of any machine: *ret_stage is its
 * stage, *ret_since_us the time since the stage before it began, or -1
 * when the machine has no earlier stage in t (or the event no MAC).  A
 * refused request or an unverified claim is IB_STAGE_OTHER and leaves t
 * as it was.
 */
void ib_timeline_step(struct ib_timeline *t, const struct ib_event *e,
		      enum ib_stage *ret_stage, int64_t *ret_since_us);

#endif
