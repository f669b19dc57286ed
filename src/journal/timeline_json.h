/*
 * A journal event with its place on the boot timeline, as JSON: the one
 * shape GET /api/v1/events, its ?follow=1 stream and `ironboot --json
 * events` print (the event, then "stage" and "since_prev_stage_ms").
 */
#ifndef IB_JOURNAL_TIMELINE_JSON_H
#define IB_JOURNAL_TIMELINE_JSON_H

#include <jansson.h>

#include "journal/timeline.h"

/*
 * Steps t with e (ib_timeline_step) and returns e as ib_event_json builds
 * it plus "stage" and "since_prev_stage_ms" (null when the machine has no
 * earlier stage in t).  New reference, or NULL when out of memory (t is
 * stepped either way).
 */
json_t *ib_timeline_event_json(struct ib_timeline *t, const struct ib_event *e);

#endif
