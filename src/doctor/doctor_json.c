/*
 * A doctor report as JSON, the one shape of `ironboot --json doctor` and
 * the API's GET /api/v1/machines/MAC/doctor: {"status", "findings": [{
 * "rule", "severity", "cause", "fix", "evidence"}]}, and for one machine
 * also "mac", "stopped" and "most_likely".  The texts are scrubbed
 * (ib_doctor_scrub) before they get here, so jansson takes them.
 */
#include <jansson.h>

#include "doctor/doctor.h"

json_t *ib_doctor_report_json(const struct ib_doctor_report *r, const char *mac)
{
	json_t *a = json_array(), *o;

	for (size_t i = 0; a && i < r->n; i++) {
		const struct ib_doctor_finding *f = &r->v[i];

		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s}", "rule", f->rule,
			"severity", ib_doctor_sev_str(f->severity), "cause", f->cause,
			"fix", f->fix, "evidence", f->evidence));
	}
	o = json_pack("{s:i, s:o}", "status", ib_doctor_status(r), "findings", a);
	if (o && mac) {
		json_object_set_new(o, "mac", json_string(mac));
		json_object_set_new(o, "stopped", json_string(r->stopped));
		if (r->n)
			json_object_set_new(o, "most_likely", json_string(r->v[0].rule));
	}
	return o;
}
