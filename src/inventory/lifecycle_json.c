/*
 * The JSON shape of a machine's lifecycle row; see lifecycle.h.
 */
#include <jansson.h>

#include "inventory/lifecycle.h"
#include "store/store.h"

json_t *ib_lifecycle_json(const struct ib_machine_state *m, const char *report)
{
	json_t *nics = json_array(), *o, *rep = NULL, *failure = json_null();

	for (size_t i = 0; nics && i < m->n_nics; i++)
		json_array_append_new(nics, json_string(m->nics[i]));
	if (report)
		rep = json_loads(report, JSON_REJECT_DUPLICATES, NULL);
	if (m->state == IB_LC_FAILED)
		failure = json_pack("{s:s, s:s}", "step", m->fail_step, "reason", m->fail_reason);
	o = json_pack("{s:s, s:o*, s:s, s:I, s:s?, s:o*, s:I, s:I, s:I, s:I, s:o*}",
		      "mac", m->mac, "nics", nics,
		      "state", ib_lc_state_name((enum ib_lc_state)m->state) ?
			       ib_lc_state_name((enum ib_lc_state)m->state) : "?",
		      "version", (json_int_t)m->version,
		      "profile", m->profile[0] ? m->profile : NULL,
		      "failure", failure, "local_boots", (json_int_t)m->local_boots,
		      "created_us", (json_int_t)m->created_us,
		      "updated_us", (json_int_t)m->updated_us,
		      "since_us", (json_int_t)m->since_us,
		      "report", rep ? rep : json_null());
	return o;
}

json_t *ib_power_row_json(const struct ib_power_row *row)
{
	return json_pack("{s:s, s:s, s:s?, s:I, s:I}", "state", row->state, "op", row->op,
			 "error", row->error[0] ? row->error : NULL,
			 "checked_us", (json_int_t)row->checked_us,
			 "changed_us", (json_int_t)row->changed_us);
}
