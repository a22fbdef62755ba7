/*
 * dm-json.c - the metrics as the JSON object of the "metrics" capability
 * (see desktop-metrics.c); NAN becomes null.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dm.h"
#include "util.h"

/* A number rounded to one decimal, or null for NAN.  */
static struct json_object *
dm_num(double v)
{
	char	buf[64];

	if (isnan(v))
		return NULL;
	if (v == floor(v) && fabs(v) < 1e15)
		return json_object_new_int64((int64_t)v);
	snprintf(buf, sizeof buf, "%.1f", v);
	return json_object_new_double_s(v, buf);
}

static void
dm_add(struct json_object *o, const char *key, double v)
{
	json_object_object_add(o, key, dm_num(v));
}

/* The GPU with the most free memory (the one a task would get), or NULL. */
static const struct dm_gpu *
dm_best_gpu(const struct dm_metrics *m)
{
	const struct dm_gpu	*best = NULL;
	size_t			 i;

	for (i = 0; i < m->ngpus; i++) {
		if (best == NULL || (!isnan(m->gpus[i].mem_free_mb) &&
		    (isnan(best->mem_free_mb) ||
		    m->gpus[i].mem_free_mb > best->mem_free_mb)))
			best = &m->gpus[i];
	}
	return best;
}

char *
dm_json(const struct dm_metrics *m)
{
	struct json_object	*o, *arr, *g;
	const struct dm_gpu	*best;
	const char		*type = "none";
	char			*out;
	size_t			 i;

	o = json_object_new_object();
	dm_add(o, "load1", m->load[0]);
	dm_add(o, "load5", m->load[1]);
	dm_add(o, "load15", m->load[2]);
	dm_add(o, "cores_physical", m->cores_physical);
	dm_add(o, "cores_logical", m->cores_logical);
	dm_add(o, "cores_available", m->cores_available);
	dm_add(o, "mem_total_mb", m->mem_total_mb);
	dm_add(o, "mem_available_mb", m->mem_available_mb);
	dm_add(o, "mem_used_percent", m->mem_used_percent);
	/* The flat keys tasks.resources are compared with (dispatch.h). */
	dm_add(o, "cpu", m->cores_logical);
	dm_add(o, "cpu_free", m->cores_available);
	dm_add(o, "mem_mb", m->mem_total_mb);
	dm_add(o, "mem_mb_free", m->mem_available_mb);
	if (m->ndisks > 0) {
		dm_add(o, "disk_mb", m->disks[0].total_mb);
		dm_add(o, "disk_mb_free", m->disks[0].free_mb);
	}
	arr = json_object_new_array();
	for (i = 0; i < m->ndisks; i++) {
		g = json_object_new_object();
		json_object_object_add(g, "path",
		    json_object_new_string(m->disks[i].path));
		dm_add(g, "total_mb", m->disks[i].total_mb);
		dm_add(g, "free_mb", m->disks[i].free_mb);
		json_object_array_add(arr, g);
	}
	json_object_object_add(o, "disks", arr);

	for (i = 0; i < m->ngpus; i++) {
		if (strcmp(m->gpus[i].vendor, "nvidia") == 0 ||
		    strcmp(type, "none") == 0)
			type = m->gpus[i].vendor;
	}
	json_object_object_add(o, "gpu_type", json_object_new_string(type));
	/* A step needing {"gpu": true} needs the key: only with a GPU. */
	if (m->ngpus > 0)
		json_object_object_add(o, "gpu", json_object_new_string(type));
	json_object_object_add(o, "gpu_count",
	    json_object_new_int((int)m->ngpus));
	json_object_object_add(o, "gpu_source",
	    json_object_new_string(m->gpu_source));
	if (m->gpu_error != NULL)
		json_object_object_add(o, "gpu_error",
		    json_object_new_string(m->gpu_error));
	if ((best = dm_best_gpu(m)) != NULL) {
		dm_add(o, "gpu_mem_mb", best->mem_total_mb);
		dm_add(o, "gpu_mem_mb_free", best->mem_free_mb);
	} else {
		dm_add(o, "gpu_mem_mb", 0);
		dm_add(o, "gpu_mem_mb_free", 0);
	}
	arr = json_object_new_array();
	for (i = 0; i < m->ngpus; i++) {
		g = json_object_new_object();
		json_object_object_add(g, "vendor",
		    json_object_new_string(m->gpus[i].vendor));
		json_object_object_add(g, "index",
		    json_object_new_int(m->gpus[i].index));
		json_object_object_add(g, "name", m->gpus[i].name != NULL ?
		    json_object_new_string(m->gpus[i].name) : NULL);
		dm_add(g, "mem_total_mb", m->gpus[i].mem_total_mb);
		dm_add(g, "mem_free_mb", m->gpus[i].mem_free_mb);
		dm_add(g, "mem_used_mb", m->gpus[i].mem_used_mb);
		dm_add(g, "util_percent", m->gpus[i].util_percent);
		dm_add(g, "temp_c", m->gpus[i].temp_c);
		json_object_array_add(arr, g);
	}
	json_object_object_add(o, "gpus", arr);
	json_object_object_add(o, "machine_id", m->machine_id != NULL ?
	    json_object_new_string(m->machine_id) : NULL);
	out = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

