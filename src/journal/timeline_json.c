/* An event with its timeline stage as JSON: see timeline_json.h. */
#include "journal/timeline_json.h"

#include "store/lease_json.h"

json_t *ib_timeline_event_json(struct ib_timeline *t, const struct ib_event *e)
{
	enum ib_stage stage;
	int64_t since_us;
	json_t *o;

	ib_timeline_step(t, e, &stage, &since_us);
	if (!(o = ib_event_json(e)))
		return NULL;
	json_object_set_new(o, "stage", json_string(ib_stage_name(stage)));
	json_object_set_new(o, "since_prev_stage_ms",
			    since_us < 0 ? json_null() : json_integer(since_us / 1000));
	return o;
}
