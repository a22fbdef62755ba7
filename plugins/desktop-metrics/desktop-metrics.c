/*
 * desktop-metrics.c - the desktop-metrics plugin: what this machine can
 * take.  Capability "metrics" (no parameters) finishes "successful" with
 * the JSON object documented in chiffon(1) under `chiffon agent`: load,
 * cores, memory, disks, GPUs, and the flat keys the dispatcher compares
 * with a task's resources (cpu/cpu_free, mem_mb/mem_mb_free,
 * gpu_mem_mb/gpu_mem_mb_free, disk_mb/disk_mb_free).
 *
 * NVIDIA: NVML through dlopen (plugin.desktop-metrics.nvml_library), kept
 * open between collections; without it, and when the NVIDIA driver is
 * present under the root or nvidia_smi is configured, nvidia-smi is run
 * through host->spawn with a timeout (nvidia_smi_timeout, 5 s).  AMD:
 * sysfs.  Neither: gpu_type "none" with zeros.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>


#include "chiffon/capabilities.h"
#include "chiffon/plugin.h"
#include "dm.h"
#include "util.h"

#define DM_KEY(k)		"plugin.desktop-metrics." k
#define DM_NVML_DEFAULT		"libnvidia-ml.so.1"
#define DM_SMI_DEFAULT		"nvidia-smi"
#define DM_SMI_TIMEOUT_S	5.0

/* The plugin's state: the host and the NVML library once opened. */
static struct {
	const struct chiffon_host	*host;
	struct chiffon_plugin		*plugin;
	struct dm_nvml			*nvml;
	char				*nvml_error;	/* last open failure */
} dm;

/* One collection waiting for nvidia-smi. */
struct dm_job {
	struct chiffon_task	*task;
	struct chiffon_child	*child;
	struct dm_metrics	 m;
	struct strbuf		 out;
	char			*root;
	int			 timer;
	int			 timed_out;
	double			 timeout_s;
};

static const char *
dm_conf(const char *key, const char *def)
{
	const char	*v = dm.host->config_get(dm.plugin, key);

	return v != NULL && *v != '\0' ? v : def;
}

/* -- collection ---------------------------------------------------------- */

/* Disks: the data dir, then plugin.desktop-metrics.disk_paths (":" or ","). */
static void
dm_collect_disks(struct dm_metrics *m)
{
	const char	*dir = dm_conf("core.data_dir", NULL);
	const char	*list = dm_conf(DM_KEY("disk_paths"), NULL);
	char		*copy, *p, *save = NULL;

	if (dir != NULL)
		dm_read_disk(dir, m);
	if (list == NULL)
		return;
	copy = xstrdup(list);
	for (p = strtok_r(copy, ":,", &save); p != NULL;
	    p = strtok_r(NULL, ":,", &save)) {
		while (*p == ' ')
			p++;
		if (*p != '\0')
			dm_read_disk(p, m);
	}
	free(copy);
}

/* NVIDIA through NVML.  Returns the number of GPUs, or -1 (not usable). */
static int
dm_collect_nvml(struct dm_metrics *m)
{
	const char	*lib = dm_conf(DM_KEY("nvml_library"), DM_NVML_DEFAULT);
	char		*err = NULL;
	int		 n;

	if (strcmp(lib, "none") == 0)
		return -1;
	if (dm.nvml == NULL) {
		if ((dm.nvml = dm_nvml_open(lib, &err)) == NULL) {
			if (dm.nvml_error == NULL ||
			    strcmp(dm.nvml_error, err) != 0)
				dm.host->log(dm.plugin, CHIFFON_LOG_DEBUG,
				    "NVML not usable: %s", err);
			free(dm.nvml_error);
			dm.nvml_error = err;
			return -1;
		}
		free(dm.nvml_error);
		dm.nvml_error = NULL;
	}
	if ((n = dm_nvml_read(dm.nvml, m, &err)) < 0) {
		/* Reopen next time: the driver may have been reloaded. */
		dm.host->log(dm.plugin, CHIFFON_LOG_WARNING, "NVML: %s", err);
		free(m->gpu_error);
		m->gpu_error = err;
		dm_nvml_close(dm.nvml);
		dm.nvml = NULL;
		return -1;
	}
	m->gpu_source = "nvml";
	return n;
}

/* Finish the collection: AMD, then the JSON.  Frees job. */
static void
dm_job_finish(struct dm_job *job)
{
	char	*json;

	if (dm_read_amd(job->root, &job->m) > 0 &&
	    strcmp(job->m.gpu_source, "none") == 0)
		job->m.gpu_source = "sysfs";
	json = dm_json(&job->m);
	dm.host->task_on_cancel(job->task, NULL, NULL);
	dm.host->task_finish(job->task, "successful", json);
	free(json);
	if (job->timer > 0)
		dm.host->remove(dm.plugin, job->timer);
	dm_metrics_free(&job->m);
	strbuf_free(&job->out);
	free(job->root);
	free(job);
}

static void
dm_smi_line(struct chiffon_child *c, int stream, const char *line,
    size_t len, void *data)
{
	struct dm_job	*job = data;

	(void)c;
	(void)stream;
	strbuf_add(&job->out, line, len);
	strbuf_addc(&job->out, '\n');
}

static void
dm_smi_exit(struct chiffon_child *c, int wstatus,
    const struct chiffon_rusage *usage, void *data)
{
	struct dm_job	*job = data;
	char		*err = NULL;

	(void)c;
	(void)usage;
	job->child = NULL;
	free(job->m.gpu_error);
	job->m.gpu_error = NULL;
	if (job->timed_out)
		job->m.gpu_error = xasprintf("nvidia-smi did not answer "
		    "within %g s", job->timeout_s);
	else if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
		job->m.gpu_error = xasprintf("nvidia-smi failed (%s %d)",
		    WIFEXITED(wstatus) ? "exit status" : "signal",
		    WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) :
		    WTERMSIG(wstatus));
	else if (dm_smi_parse(job->out.buf != NULL ? job->out.buf : "",
	    &job->m, &err) < 0)
		job->m.gpu_error = err;
	else if (job->m.ngpus > 0)
		job->m.gpu_source = "nvidia-smi";
	if (job->m.gpu_error != NULL) {
		dm.host->log(dm.plugin, CHIFFON_LOG_WARNING, "%s",
		    job->m.gpu_error);
		/* A half-parsed answer is no answer. */
		while (job->m.ngpus > 0)
			free(job->m.gpus[--job->m.ngpus].name);
	}
	dm_job_finish(job);
}

static int
dm_smi_timeout(void *data)
{
	struct dm_job	*job = data;

	job->timer = 0;
	job->timed_out = 1;
	if (job->child != NULL)
		dm.host->child_signal(job->child, SIGKILL);
	return 1;
}

static void
dm_cancel(struct chiffon_task *t, void *data)
{
	struct dm_job	*job = data;

	(void)t;
	if (job->child != NULL)
		dm.host->child_signal(job->child, SIGKILL);
}

/*
 * Whether to ask nvidia-smi: configured explicitly, or the NVIDIA driver
 * is loaded (root/proc/driver/nvidia exists).
 */
static const char *
dm_smi_program(const char *root)
{
	const char	*prog = dm.host->config_get(dm.plugin,
	    DM_KEY("nvidia_smi"));
	char		*drv;
	int		 present;

	if (prog != NULL)
		return *prog != '\0' && strcmp(prog, "none") != 0 ? prog :
		    NULL;
	drv = path_join(root, "proc/driver/nvidia");
	present = access(drv, F_OK) == 0;
	free(drv);
	return present ? DM_SMI_DEFAULT : NULL;
}

/* Start nvidia-smi for job.  0, or -1 with err set (job untouched). */
static int
dm_smi_start(struct dm_job *job, const char *prog, char *err, size_t errlen)
{
	static const struct chiffon_child_cbs	 cbs = {
		.on_line = dm_smi_line,
		.on_exit = dm_smi_exit,
	};
	const char				*argv[5];
	struct chiffon_spawn_opts		 opts = { 0 };
	struct chiffon_user_data		 ud = { job, NULL };

	/* Declared: the host checked the value at start. */
	job->timeout_s = DM_SMI_TIMEOUT_S;
	dm.host->config_duration(dm.plugin, DM_KEY("nvidia_smi_timeout"),
	    &job->timeout_s);
	argv[0] = prog;
	argv[1] = "--query-gpu=name,memory.total,memory.free,utilization.gpu";
	argv[2] = "--format=csv,noheader,nounits";
	argv[3] = NULL;
	opts.argv = argv;
	if ((job->child = dm.host->spawn_err(dm.plugin, &opts, &cbs,
	    &ud, err, errlen)) == NULL)
		return -1;
	job->timer = dm.host->add_timer(dm.plugin,
	    (uint64_t)(job->timeout_s * 1000), dm_smi_timeout, &ud);
	dm.host->task_on_cancel(job->task, dm_cancel, job);
	return 0;
}

/* The "metrics" capability. */
static int
dm_metrics_cap(struct chiffon_task *task, void *data)
{
	struct dm_job	*job;
	const char	*prog;
	char		 err[512];

	(void)data;
	job = xcalloc(1, sizeof *job);
	job->task = task;
	job->root = xstrdup(dm_conf(DM_KEY("root"), "/"));
	dm_metrics_init(&job->m);
	dm_read_cpu(job->root, &job->m);
	dm_read_mem(job->root, &job->m);
	dm_read_machine_id(job->root, &job->m);
	dm_collect_disks(&job->m);
	if (dm_collect_nvml(&job->m) <= 0 &&
	    (prog = dm_smi_program(job->root)) != NULL) {
		if (dm_smi_start(job, prog, err, sizeof err) == 0)
			return 0;
		free(job->m.gpu_error);
		job->m.gpu_error = xstrdup(err);
	}
	dm_job_finish(job);
	return 0;
}

/* -- descriptor ---------------------------------------------------------- */

static int
dm_init(struct chiffon_plugin *p, const struct chiffon_host *host)
{
	struct chiffon_user_data	ud = { NULL, NULL };

	if (host->abi_minor < 2 || host->size <
	    offsetof(struct chiffon_host, spawn_err) + sizeof(void *))
		return -1;
	dm.host = host;
	dm.plugin = p;
	return host->register_capability(p, CHIFFON_CAP_METRICS,
	    dm_metrics_cap, &ud);
}

static void
dm_end(struct chiffon_plugin *p)
{
	(void)p;
	dm_nvml_close(dm.nvml);
	free(dm.nvml_error);
	memset(&dm, 0, sizeof dm);
}

/* The keys of [plugin.desktop-metrics] (chiffon.conf(5)). */
static const struct chiffon_config_key dm_config_keys[] = {
	{ .name = "root", .type = CHIFFON_CONFIG_STRING, .def = "/",
	  .doc = "directory under which proc/, sys/ and etc/machine-id are "
	  "read" },
	{ .name = "disk_paths", .type = CHIFFON_CONFIG_STRING,
	  .doc = "paths (separated by ':' or ',') whose free space is "
	  "reported besides core.data_dir" },
	{ .name = "nvml_library", .type = CHIFFON_CONFIG_STRING,
	  .def = DM_NVML_DEFAULT,
	  .doc = "the NVML library opened at run time, or none" },
	{ .name = "nvidia_smi", .type = CHIFFON_CONFIG_STRING,
	  .doc = "the nvidia-smi program asked when NVML gives no GPU, or "
	  "none (unset: nvidia-smi when the driver is loaded)" },
	{ .name = "nvidia_smi_timeout", .type = CHIFFON_CONFIG_DURATION,
	  .def = "5s", .min = 0, .max = 3600,
	  .doc = "an nvidia-smi still running after this is killed" },
	{ .name = NULL },
};

const struct chiffon_plugin_descriptor chiffon_plugin_descriptor = {
	CHIFFON_PLUGIN_DESCRIPTOR_INIT,
	.config_keys = dm_config_keys,
	.name = "desktop-metrics",
	.version = PACKAGE_VERSION,
	.description = "what this machine can take: CPU, memory, disks, GPUs",
	.init = dm_init,
	.end = dm_end,
};
