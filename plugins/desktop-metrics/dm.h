/*
 * dm.h - the desktop-metrics plugin's parts: what a machine can take.
 *
 * dm-read.c reads CPU, memory, disks, the machine id and AMD GPUs from
 * /proc and /sys below a root directory (htop style, so tests use fake
 * trees); dm-gpu.c reads NVIDIA GPUs through NVML loaded at run time and
 * parses nvidia-smi's CSV; desktop-metrics.c holds the descriptor, the
 * "metrics" capability and the JSON.  Every number starts as NAN and
 * stays so when it cannot be read; the JSON shows it as null.
 */
#ifndef CHIFFON_DM_H
#define CHIFFON_DM_H

#include <stddef.h>

/* One GPU. */
struct dm_gpu {
	char		 vendor[8];	/* "nvidia" or "amd" */
	int		 index;
	char		*name;		/* NULL: unknown */
	double		 mem_total_mb;
	double		 mem_free_mb;
	double		 mem_used_mb;
	double		 util_percent;
	double		 temp_c;
};

/* Free space of one path. */
struct dm_disk {
	char		*path;
	double		 total_mb;
	double		 free_mb;
};

/* Everything one collection found. */
struct dm_metrics {
	double		 load[3];	/* 1, 5, 15 minutes */
	double		 cores_logical;
	double		 cores_physical;
	double		 cores_available; /* logical - load1, at least 1 */
	double		 mem_total_mb;
	double		 mem_available_mb;
	double		 mem_used_percent;
	struct dm_disk	*disks;
	size_t		 ndisks;
	struct dm_gpu	*gpus;
	size_t		 ngpus;
	const char	*gpu_source;	/* "nvml", "nvidia-smi", "sysfs",
					   "none" (static) */
	char		*gpu_error;	/* why NVIDIA could not be read */
	char		*machine_id;	/* NULL: unknown */
};

void		 dm_metrics_init(struct dm_metrics *);
void		 dm_metrics_free(struct dm_metrics *);
/* A new GPU entry (NAN values) appended to m. */
struct dm_gpu	*dm_gpu_add(struct dm_metrics *, const char *vendor);

/* dm-read.c: root is the directory holding proc/, sys/ and etc/. */
void		 dm_read_cpu(const char *root, struct dm_metrics *);
void		 dm_read_mem(const char *root, struct dm_metrics *);
void		 dm_read_machine_id(const char *root, struct dm_metrics *);
/* Free space of path (statvfs; not below root). */
void		 dm_read_disk(const char *path, struct dm_metrics *);
/* AMD GPUs of root/sys/class/drm/card<N>/device.  Returns how many. */
int		 dm_read_amd(const char *root, struct dm_metrics *);

/*
 * dm-gpu.c: NVML opened once with dlopen(library) and kept open; every
 * symbol looked up with dlsym.  0, or -1 with *errp (caller frees).
 */
struct dm_nvml;
struct dm_nvml	*dm_nvml_open(const char *library, char **errp);
/* Append every device to m.  Returns how many, or -1 with *errp. */
int		 dm_nvml_read(struct dm_nvml *, struct dm_metrics *,
		    char **errp);
void		 dm_nvml_close(struct dm_nvml *);
/*
 * Parse the output of nvidia-smi --query-gpu=name,memory.total,
 * memory.free,utilization.gpu --format=csv,noheader,nounits (MiB and
 * percent; "[N/A]" fields are unknown).  Returns the number of GPUs
 * appended, or -1 with *errp naming the bad line.
 */
int		 dm_smi_parse(const char *text, struct dm_metrics *,
		    char **errp);

/* dm-json.c: the metrics as a JSON object text.  Caller frees. */
char		*dm_json(const struct dm_metrics *);

#endif
