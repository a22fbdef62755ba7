/*
 * check_metrics.c - the desktop-metrics plugin.  Its readers on the fake
 * /proc and /sys trees of tests/metrics (an AMD desktop, a machine whose
 * files cannot be read), the nvidia-smi CSV parser, and the built plugin
 * through the host: NVML through the real dlopen path (the NVML double,
 * tests/metrics/nvml-double.c), the nvidia-smi stand-in script with its
 * timeout, and a machine with no GPU at all.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app.h"
#include "conf.h"
#include "dm.h"
#include "host.h"
#include "log.h"
#include "orchtest.h"
#include "plugins.h"
#include "testutil.h"
#include "util.h"

static struct app	 app;
static char		*tmp;

/* tests/metrics/rel in the source tree.  Caller frees. */
static char *
tree(const char *rel)
{
	return xasprintf("%s/tests/metrics/%s", orchtest_srcdir(), rel);
}

/* -- the readers on fake trees ------------------------------------------- */

START_TEST(test_amd_tree)
{
	struct dm_metrics	 m;
	char			*root = tree("amd");

	dm_metrics_init(&m);
	dm_read_cpu(root, &m);
	dm_read_mem(root, &m);
	dm_read_machine_id(root, &m);
	ck_assert_int_eq(dm_read_amd(root, &m), 1);
	ck_assert_double_eq_tol(m.load[0], 1.5, 1e-9);
	ck_assert_double_eq_tol(m.load[1], 1.2, 1e-9);
	ck_assert_double_eq_tol(m.load[2], 0.9, 1e-9);
	ck_assert_double_eq(m.cores_logical, 8);
	ck_assert_double_eq(m.cores_physical, 4);
	ck_assert_double_eq_tol(m.cores_available, 6.5, 1e-9);
	ck_assert_double_eq(m.mem_total_mb, 32000);
	ck_assert_double_eq(m.mem_available_mb, 24000);
	ck_assert_double_eq_tol(m.mem_used_percent, 25, 1e-9);
	ck_assert_str_eq(m.machine_id, "0123456789abcdef0123456789abcdef");
	/* card0 is the AMD GPU; card0-DP-1 a connector, card1 an iGPU. */
	ck_assert_uint_eq(m.ngpus, 1);
	ck_assert_str_eq(m.gpus[0].vendor, "amd");
	ck_assert_str_eq(m.gpus[0].name, "AMD GPU (card0)");
	ck_assert_double_eq(m.gpus[0].mem_total_mb, 16384);
	ck_assert_double_eq(m.gpus[0].mem_used_mb, 1024);
	ck_assert_double_eq(m.gpus[0].mem_free_mb, 15360);
	ck_assert_double_eq(m.gpus[0].util_percent, 12);
	ck_assert(isnan(m.gpus[0].temp_c));
	dm_metrics_free(&m);
	free(root);
}
END_TEST

/* No core ids in /proc/cpuinfo (a Raspberry Pi): sysfs topology. */
START_TEST(test_arm_topology)
{
	struct dm_metrics	 m;
	char			*root = tree("arm");

	dm_metrics_init(&m);
	dm_read_cpu(root, &m);
	ck_assert_double_eq(m.cores_logical, 4);
	ck_assert_double_eq(m.cores_physical, 4);
	ck_assert_double_eq_tol(m.cores_available, 3.6, 1e-9);
	/* No meminfo in this tree: unknown, not zero. */
	dm_read_mem(root, &m);
	ck_assert(isnan(m.mem_total_mb));
	ck_assert_int_eq(dm_read_amd(root, &m), 0);
	dm_metrics_free(&m);
	free(root);
}
END_TEST

/* Available cores never drop below one, however high the load. */
START_TEST(test_available_cores_floor)
{
	struct dm_metrics	 m;
	char			*dir = testutil_tmpdir("dmload");
	char			*proc, *f, *root = tree("amd"), *src, *text;
	FILE			*fp;

	proc = path_join(dir, "proc");
	ck_assert_int_eq(mkdir(proc, 0755), 0);
	f = path_join(proc, "loadavg");
	fp = fopen(f, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("31.00 20.00 10.00 40/500 999\n", fp);
	fclose(fp);
	free(f);
	src = path_join(root, "proc/cpuinfo");
	text = read_file(src, NULL);
	ck_assert_ptr_nonnull(text);
	f = path_join(proc, "cpuinfo");
	fp = fopen(f, "w");
	fputs(text, fp);
	fclose(fp);
	dm_metrics_init(&m);
	dm_read_cpu(dir, &m);
	ck_assert_double_eq(m.cores_logical, 8);
	ck_assert_double_eq(m.cores_available, 1);
	dm_metrics_free(&m);
	free(f);
	free(text);
	free(src);
	free(proc);
	free(root);
	testutil_rm(dir);
	free(dir);
}
END_TEST

START_TEST(test_unreadable_tree)
{
	struct dm_metrics	 m;
	struct json_object	*o, *v, *g;
	char			*root = tree("broken"), *json;

	dm_metrics_init(&m);
	dm_read_cpu(root, &m);
	dm_read_mem(root, &m);
	dm_read_machine_id(root, &m);
	ck_assert_int_eq(dm_read_amd(root, &m), 1);
	ck_assert(isnan(m.load[0]));
	ck_assert(isnan(m.cores_logical));
	ck_assert(isnan(m.cores_available));
	ck_assert(isnan(m.mem_total_mb));
	ck_assert(isnan(m.mem_used_percent));
	ck_assert_ptr_null(m.machine_id);
	ck_assert(isnan(m.gpus[0].mem_total_mb));
	ck_assert(isnan(m.gpus[0].mem_free_mb));
	ck_assert_double_eq(m.gpus[0].mem_used_mb, 1);
	ck_assert(isnan(m.gpus[0].util_percent));

	/* Unknown is null in the JSON, never zero. */
	json = dm_json(&m);
	o = json_tokener_parse(json);
	ck_assert_ptr_nonnull(o);
	static const char *const nulls[] = { "load1", "load5", "load15",
	    "cores_logical", "cores_physical", "cores_available",
	    "mem_total_mb", "mem_available_mb", "mem_used_percent", "cpu",
	    "cpu_free", "mem_mb", "mem_mb_free", "gpu_mem_mb",
	    "gpu_mem_mb_free", "machine_id" };
	for (size_t i = 0; i < nitems(nulls); i++) {
		ck_assert_msg(json_object_object_get_ex(o, nulls[i], &v),
		    "%s missing: %s", nulls[i], json);
		ck_assert_msg(v == NULL, "%s is not null: %s", nulls[i], json);
	}
	ck_assert(json_object_object_get_ex(o, "gpus", &v));
	g = json_object_array_get_idx(v, 0);
	ck_assert(json_object_object_get_ex(g, "mem_used_mb", &v));
	ck_assert_int_eq(json_object_get_int(v), 1);
	ck_assert(json_object_object_get_ex(g, "mem_total_mb", &v));
	ck_assert_ptr_null(v);
	ck_assert(json_object_object_get_ex(o, "gpu_type", &v));
	ck_assert_str_eq(json_object_get_string(v), "amd");
	json_object_put(o);
	free(json);
	dm_metrics_free(&m);
	free(root);
}
END_TEST

START_TEST(test_smi_parse)
{
	struct dm_metrics	 m;
	char			*err = NULL;

	dm_metrics_init(&m);
	ck_assert_int_eq(dm_smi_parse("NVIDIA GeForce RTX 4090, 24564, "
	    "16384, 7\nTesla T4, 15360, [N/A], [N/A]\r\n\n", &m, &err), 2);
	ck_assert_str_eq(m.gpus[0].name, "NVIDIA GeForce RTX 4090");
	ck_assert_double_eq(m.gpus[0].mem_total_mb, 24564);
	ck_assert_double_eq(m.gpus[0].mem_free_mb, 16384);
	ck_assert_double_eq(m.gpus[0].mem_used_mb, 24564 - 16384);
	ck_assert_double_eq(m.gpus[0].util_percent, 7);
	ck_assert_int_eq(m.gpus[1].index, 1);
	ck_assert(isnan(m.gpus[1].mem_free_mb));
	ck_assert(isnan(m.gpus[1].mem_used_mb));
	ck_assert(isnan(m.gpus[1].util_percent));
	dm_metrics_free(&m);

	dm_metrics_init(&m);
	ck_assert_int_eq(dm_smi_parse("GPU 0, 100, 50, 1\nno csv here\n", &m,
	    &err), -1);
	ck_assert_msg(strstr(err, "line 2") != NULL, "%s", err);
	free(err);
	err = NULL;
	ck_assert_int_eq(dm_smi_parse("A, 1, 2, 3, 4\n", &m, &err), -1);
	free(err);
	err = NULL;
	ck_assert_int_eq(dm_smi_parse("A, 1 MiB, 2, 3\n", &m, &err), -1);
	free(err);
	dm_metrics_free(&m);
}
END_TEST

START_TEST(test_json_no_gpu)
{
	struct dm_metrics	 m;
	struct json_object	*o, *v;
	char			*json;

	dm_metrics_init(&m);
	json = dm_json(&m);
	o = json_tokener_parse(json);
	ck_assert(json_object_object_get_ex(o, "gpu_type", &v));
	ck_assert_str_eq(json_object_get_string(v), "none");
	ck_assert(json_object_object_get_ex(o, "gpu_mem_mb", &v));
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(json_object_get_int(v), 0);
	ck_assert(json_object_object_get_ex(o, "gpu_mem_mb_free", &v));
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(json_object_get_int(v), 0);
	ck_assert(json_object_object_get_ex(o, "gpu_count", &v));
	ck_assert_int_eq(json_object_get_int(v), 0);
	/* No "gpu" key: a step needing {"gpu": true} does not fit here. */
	ck_assert(!json_object_object_get_ex(o, "gpu", NULL));
	json_object_put(o);
	free(json);
	dm_metrics_free(&m);
}
END_TEST

/* -- the plugin through the host ----------------------------------------- */

static void
set(const char *key, const char *value)
{
	testutil_conf_set(app.conf, key, value);
}

static void
host_setup(void)
{
	char	*dir;

	tmp = testutil_tmpdir("dmhost");
	memset(&app, 0, sizeof app);
	app.argv0 = "check_metrics";
	app.conf = conf_new();
	set("core.data_dir", tmp);
	dir = xasprintf("%s/plugins/desktop-metrics/.libs", orchtest_builddir());
	set("plugins.path", dir);
	free(dir);
	set("plugins.load", "desktop-metrics");
	unsetenv("NVML_DOUBLE_GPUS");
	unsetenv("NVML_DOUBLE_INIT_FAIL");
	unsetenv("NVIDIA_SMI_MODE");
	setenv("NVML_DOUBLE_LOG", "/dev/null", 1);
}

static void
host_teardown(void)
{
	app_free(&app);
	testutil_rm(tmp);
	free(tmp);
}

/* The NVML double built in tests/metrics.  Caller frees. */
static char *
nvml_double(void)
{
	return xasprintf("%s/tests/metrics/.libs/nvml-double.so", orchtest_builddir());
}

/* Invoke "metrics"; the parsed result (caller puts). */
static struct json_object *
collect(double *secondsp)
{
	struct json_object	*o;
	char			*status = NULL, *result = NULL, *err = NULL;
	double			 t0 = now_s();

	ck_assert_msg(plugins_find(app_plugins(&app), "desktop-metrics") !=
	    NULL, "the plugin did not load");
	ck_assert_msg(host_invoke_sync(&app, "metrics", NULL, 30000, &status,
	    &result, &err) == 0, "%s", err);
	if (secondsp != NULL)
		*secondsp = now_s() - t0;
	ck_assert_str_eq(status, "successful");
	o = json_tokener_parse(result);
	ck_assert_msg(o != NULL, "not JSON: %s", result);
	free(status);
	free(result);
	return o;
}

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static double
jnum(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return NAN;
	return json_object_get_double(v);
}

static struct json_object *
jgpu(struct json_object *o, size_t i)
{
	struct json_object	*v;

	ck_assert(json_object_object_get_ex(o, "gpus", &v));
	ck_assert_uint_gt(json_object_array_length(v), i);
	return json_object_array_get_idx(v, i);
}

/* NVML through dlopen: the double's devices, kept open between calls. */
START_TEST(test_nvml_double)
{
	struct json_object	*o, *g;
	char			*lib = nvml_double(), *root = tree("amd");
	char			*log = path_join(tmp, "nvml.log"), *text;

	setenv("NVML_DOUBLE_GPUS", "NVIDIA RTX A4000:16376:16000:3:41;"
	    "NVIDIA T400:2048:1900:0:35", 1);
	setenv("NVML_DOUBLE_LOG", log, 1);
	set("plugin.desktop-metrics.nvml_library", lib);
	set("plugin.desktop-metrics.root", root);
	set("plugin.desktop-metrics.nvidia_smi", "none");
	o = collect(NULL);
	ck_assert_str_eq(jstr(o, "gpu_type"), "nvidia");
	ck_assert_str_eq(jstr(o, "gpu_source"), "nvml");
	ck_assert_str_eq(jstr(o, "gpu"), "nvidia");
	ck_assert_int_eq((int)jnum(o, "gpu_count"), 3);	/* + the AMD card */
	ck_assert_double_eq(jnum(o, "gpu_mem_mb"), 16376);
	ck_assert_double_eq(jnum(o, "gpu_mem_mb_free"), 16000);
	g = jgpu(o, 0);
	ck_assert_str_eq(jstr(g, "name"), "NVIDIA RTX A4000");
	ck_assert_str_eq(jstr(g, "vendor"), "nvidia");
	ck_assert_double_eq(jnum(g, "mem_used_mb"), 376);
	ck_assert_double_eq(jnum(g, "util_percent"), 3);
	ck_assert_double_eq(jnum(g, "temp_c"), 41);
	g = jgpu(o, 2);
	ck_assert_str_eq(jstr(g, "vendor"), "amd");
	ck_assert_double_eq(jnum(o, "cpu"), 8);
	ck_assert_double_eq(jnum(o, "cpu_free"), 6.5);
	ck_assert_double_eq(jnum(o, "mem_mb_free"), 24000);
	ck_assert_str_eq(jstr(o, "machine_id"),
	    "0123456789abcdef0123456789abcdef");
	json_object_put(o);
	/* A second collection reuses the open library. */
	o = collect(NULL);
	ck_assert_str_eq(jstr(o, "gpu_source"), "nvml");
	json_object_put(o);
	text = read_file(log, NULL);
	ck_assert_str_eq(text, "init\n");
	free(text);
	/* Unloading shuts NVML down. */
	app_free(&app);
	memset(&app, 0, sizeof app);
	text = read_file(log, NULL);
	ck_assert_str_eq(text, "init\nshutdown\n");
	free(text);
	app.conf = conf_new();
	free(log);
	free(root);
	free(lib);
}
END_TEST

/* NVML present but without a driver: nvidia-smi answers instead. */
START_TEST(test_smi_fallback)
{
	struct json_object	*o, *g;
	char			*lib = nvml_double(), *root = tree("broken");
	char			*smi = tree("nvidia-smi");

	setenv("NVML_DOUBLE_INIT_FAIL", "1", 1);
	set("plugin.desktop-metrics.nvml_library", lib);
	set("plugin.desktop-metrics.root", root);
	set("plugin.desktop-metrics.nvidia_smi", smi);
	o = collect(NULL);
	ck_assert_str_eq(jstr(o, "gpu_source"), "nvidia-smi");
	ck_assert_str_eq(jstr(o, "gpu_type"), "nvidia");
	ck_assert_ptr_null(jstr(o, "gpu_error"));
	g = jgpu(o, 0);
	ck_assert_str_eq(jstr(g, "name"), "NVIDIA GeForce RTX 4090");
	ck_assert_double_eq(jnum(g, "mem_free_mb"), 16384);
	g = jgpu(o, 1);
	ck_assert_str_eq(jstr(g, "name"), "Tesla T4");
	ck_assert(isnan(jnum(g, "util_percent")));
	ck_assert_double_eq(jnum(o, "gpu_mem_mb_free"), 16384);
	/* The broken tree's values stay unknown. */
	ck_assert(isnan(jnum(o, "load1")));
	ck_assert(isnan(jnum(o, "mem_mb")));
	json_object_put(o);

	setenv("NVIDIA_SMI_MODE", "fail", 1);
	o = collect(NULL);
	ck_assert_msg(strstr(jstr(o, "gpu_error"), "exit status 9") != NULL,
	    "%s", jstr(o, "gpu_error"));
	ck_assert_str_eq(jstr(o, "gpu_type"), "amd");
	json_object_put(o);

	setenv("NVIDIA_SMI_MODE", "garbage", 1);
	o = collect(NULL);
	ck_assert_ptr_nonnull(strstr(jstr(o, "gpu_error"), "line 1"));
	json_object_put(o);
	free(smi);
	free(root);
	free(lib);
}
END_TEST

/* A hung nvidia-smi is killed after the timeout; the answer still comes. */
START_TEST(test_smi_timeout)
{
	struct json_object	*o;
	char			*smi = tree("nvidia-smi"), *root = tree("amd");
	double			 secs;

	setenv("NVIDIA_SMI_MODE", "hang", 1);
	set("plugin.desktop-metrics.nvml_library", "none");
	set("plugin.desktop-metrics.root", root);
	set("plugin.desktop-metrics.nvidia_smi", smi);
	set("plugin.desktop-metrics.nvidia_smi_timeout", "1s");
	o = collect(&secs);
	ck_assert_msg(secs >= 0.9 && secs < 5, "took %.2f s", secs);
	ck_assert_msg(strstr(jstr(o, "gpu_error"), "did not answer within 1 s")
	    != NULL, "%s", jstr(o, "gpu_error"));
	ck_assert_str_eq(jstr(o, "gpu_type"), "amd");
	ck_assert_str_eq(jstr(o, "gpu_source"), "sysfs");
	json_object_put(o);
	free(root);
	free(smi);
}
END_TEST

/* No GPU at all: gpu_type none with zeros; disks as configured. */
START_TEST(test_no_gpu_and_disks)
{
	struct json_object	*o, *d, *v;
	char			*root = testutil_tmpdir("dmempty");
	char			*paths;

	set("plugin.desktop-metrics.nvml_library", "/nonexistent/libnvml.so");
	set("plugin.desktop-metrics.root", root);
	paths = xasprintf("%s, /nonexistent/chiffon", root);
	set("plugin.desktop-metrics.disk_paths", paths);
	free(paths);
	o = collect(NULL);
	ck_assert_str_eq(jstr(o, "gpu_type"), "none");
	ck_assert_str_eq(jstr(o, "gpu_source"), "none");
	ck_assert_double_eq(jnum(o, "gpu_mem_mb"), 0);
	ck_assert_double_eq(jnum(o, "gpu_mem_mb_free"), 0);
	ck_assert_ptr_null(jstr(o, "gpu_error"));
	ck_assert(json_object_object_get_ex(o, "disks", &d));
	ck_assert_uint_eq(json_object_array_length(d), 3);
	ck_assert_str_eq(jstr(json_object_array_get_idx(d, 0), "path"), tmp);
	ck_assert_double_gt(jnum(json_object_array_get_idx(d, 0), "free_mb"),
	    0);
	ck_assert_double_gt(jnum(o, "disk_mb_free"), 0);
	ck_assert_str_eq(jstr(json_object_array_get_idx(d, 1), "path"), root);
	v = json_object_array_get_idx(d, 2);
	ck_assert_str_eq(jstr(v, "path"), "/nonexistent/chiffon");
	ck_assert(isnan(jnum(v, "free_mb")));
	json_object_put(o);
	testutil_rm(root);
	free(root);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("readers");
	TCase	*th = tcase_create("plugin");

	tcase_add_test(tc, test_amd_tree);
	tcase_add_test(tc, test_available_cores_floor);
	tcase_add_test(tc, test_arm_topology);
	tcase_add_test(tc, test_unreadable_tree);
	tcase_add_test(tc, test_smi_parse);
	tcase_add_test(tc, test_json_no_gpu);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(th, host_setup, host_teardown);
	tcase_set_timeout(th, 60);
	tcase_add_test(th, test_nvml_double);
	tcase_add_test(th, test_smi_fallback);
	tcase_add_test(th, test_smi_timeout);
	tcase_add_test(th, test_no_gpu_and_disks);
	suite_add_tcase(s, th);
	return s;
}

int
main(void)
{
	log_set_level(CHIFFON_LOG_ERROR);
	return testutil_main(metrics_suite());
}
