/*
 * dm-read.c - CPU, memory, disks, the machine id and AMD GPUs read from
 * /proc, /sys and /etc below a root directory.  A value that cannot be
 * read or parsed stays NAN (see dm.h).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "dm.h"
#include "util.h"

#define DM_MAX_CPUS	4096	/* distinct cores tracked per machine */
#define DM_MB		(1024.0 * 1024.0)

/* The contents of root/rel, or NULL when it cannot be read.  Caller frees. */
static char *
dm_slurp(const char *root, const char *rel)
{
	char	*path, *text;

	path = path_join(root, rel);
	text = read_file(path, NULL);
	free(path);
	return text;
}

/* A number file (one decimal value and a newline), or NAN. */
static double
dm_number_file(const char *root, const char *rel)
{
	char	*text, *end;
	double	 v = NAN;

	if ((text = dm_slurp(root, rel)) == NULL)
		return NAN;
	v = strtod(text, &end);
	if (end == text || (*end != '\0' && !isspace((unsigned char)*end)))
		v = NAN;
	free(text);
	return v;
}

void
dm_metrics_init(struct dm_metrics *m)
{
	memset(m, 0, sizeof *m);
	m->load[0] = m->load[1] = m->load[2] = NAN;
	m->cores_logical = m->cores_physical = m->cores_available = NAN;
	m->mem_total_mb = m->mem_available_mb = m->mem_used_percent = NAN;
	m->gpu_source = "none";
}

void
dm_metrics_free(struct dm_metrics *m)
{
	size_t	i;

	for (i = 0; i < m->ndisks; i++)
		free(m->disks[i].path);
	for (i = 0; i < m->ngpus; i++)
		free(m->gpus[i].name);
	free(m->disks);
	free(m->gpus);
	free(m->gpu_error);
	free(m->machine_id);
	dm_metrics_init(m);
}

struct dm_gpu *
dm_gpu_add(struct dm_metrics *m, const char *vendor)
{
	struct dm_gpu	*g;
	size_t		 i;
	int		 index = 0;

	for (i = 0; i < m->ngpus; i++)
		index += strcmp(m->gpus[i].vendor, vendor) == 0;
	m->gpus = xreallocarray(m->gpus, m->ngpus + 1, sizeof *m->gpus);
	g = &m->gpus[m->ngpus++];
	memset(g, 0, sizeof *g);
	snprintf(g->vendor, sizeof g->vendor, "%s", vendor);
	g->index = index;
	g->mem_total_mb = g->mem_free_mb = g->mem_used_mb = NAN;
	g->util_percent = g->temp_c = NAN;
	return g;
}

/* -- CPU ----------------------------------------------------------------- */

/* Count package/core pair once in cores[*np] (DM_MAX_CPUS long). */
static void
dm_core_add(long *cores, size_t *np, long package, long core)
{
	long	key = package * 65536 + core;
	size_t	i;

	for (i = 0; i < *np && cores[i] != key; i++)
		continue;
	if (i == *np && *np < DM_MAX_CPUS)
		cores[(*np)++] = key;
}

/* "key<spaces>: value" of a /proc/cpuinfo line: the value, or NULL. */
static const char *
dm_cpuinfo_value(const char *line, const char *key)
{
	size_t	n = strlen(key);

	if (strncmp(line, key, n) != 0)
		return NULL;
	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	if (*line != ':')
		return NULL;
	return line + 1;
}

/*
 * Logical cores (processor lines) and physical ones (distinct physical
 * id / core id pairs; unknown when the file has no core ids).
 */
static void
dm_read_cpuinfo(const char *root, struct dm_metrics *m)
{
	long		*cores;
	char		*text, *line, *next;
	const char	*v;
	long		 logical = 0, phys = 0, core = -1;
	size_t		 ncores = 0;
	int		 have_core_ids = 0;

	if ((text = dm_slurp(root, "proc/cpuinfo")) == NULL)
		return;
	cores = xcalloc(DM_MAX_CPUS, sizeof *cores);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (dm_cpuinfo_value(line, "processor") != NULL) {
			logical++;
			phys = 0;
			core = -1;
		} else if ((v = dm_cpuinfo_value(line, "physical id")) != NULL)
			phys = strtol(v, NULL, 10);
		else if ((v = dm_cpuinfo_value(line, "core id")) != NULL) {
			core = strtol(v, NULL, 10);
			have_core_ids = 1;
			dm_core_add(cores, &ncores, phys, core);
		}
	}
	if (logical > 0)
		m->cores_logical = (double)logical;
	if (have_core_ids && ncores > 0)
		m->cores_physical = (double)ncores;
	free(cores);
	free(text);
}

/*
 * Without core ids in /proc/cpuinfo (ARM): the distinct package/core
 * pairs of sys/devices/system/cpu/cpu<N>/topology.
 */
static void
dm_read_topology(const char *root, struct dm_metrics *m)
{
	struct dirent	*de;
	long		*cores;
	char		*dir, *rel;
	double		 pkg, core;
	size_t		 ncores = 0;
	DIR		*d;

	dir = path_join(root, "sys/devices/system/cpu");
	d = opendir(dir);
	free(dir);
	if (d == NULL)
		return;
	cores = xcalloc(DM_MAX_CPUS, sizeof *cores);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "cpu", 3) != 0 || de->d_name[3] == '\0' ||
		    strspn(de->d_name + 3, "0123456789") !=
		    strlen(de->d_name + 3))
			continue;
		rel = xasprintf("sys/devices/system/cpu/%s/topology/core_id",
		    de->d_name);
		core = dm_number_file(root, rel);
		free(rel);
		rel = xasprintf("sys/devices/system/cpu/%s/topology/"
		    "physical_package_id", de->d_name);
		pkg = dm_number_file(root, rel);
		free(rel);
		if (isnan(core) || isnan(pkg))
			continue;
		dm_core_add(cores, &ncores, (long)pkg, (long)core);
	}
	closedir(d);
	if (ncores > 0)
		m->cores_physical = (double)ncores;
	free(cores);
}

void
dm_read_cpu(const char *root, struct dm_metrics *m)
{
	char	*text;
	double	 l[3];

	if ((text = dm_slurp(root, "proc/loadavg")) != NULL) {
		if (sscanf(text, "%lf %lf %lf", &l[0], &l[1], &l[2]) == 3)
			memcpy(m->load, l, sizeof l);
		free(text);
	}
	dm_read_cpuinfo(root, m);
	if (isnan(m->cores_physical))
		dm_read_topology(root, m);
	if (!isnan(m->cores_logical) && !isnan(m->load[0])) {
		m->cores_available = m->cores_logical - m->load[0];
		if (m->cores_available < 1)
			m->cores_available = 1;
	}
}

/* -- memory, machine id, disks ------------------------------------------- */

void
dm_read_mem(const char *root, struct dm_metrics *m)
{
	char		*text, *line, *next;
	long long	 v;
	double		 total = NAN, avail = NAN;

	if ((text = dm_slurp(root, "proc/meminfo")) == NULL)
		return;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			next++;
		if (sscanf(line, "MemTotal: %lld kB", &v) == 1 && v > 0)
			total = (double)v / 1024.0;
		else if (sscanf(line, "MemAvailable: %lld kB", &v) == 1 &&
		    v >= 0)
			avail = (double)v / 1024.0;
	}
	free(text);
	m->mem_total_mb = total;
	m->mem_available_mb = avail;
	if (!isnan(total) && !isnan(avail) && avail <= total)
		m->mem_used_percent = 100.0 * (total - avail) / total;
}

void
dm_read_machine_id(const char *root, struct dm_metrics *m)
{
	static const char *const	 where[] = { "etc/machine-id",
	    "var/lib/dbus/machine-id" };
	char				*text;
	size_t				 i, n;

	for (i = 0; i < nitems(where) && m->machine_id == NULL; i++) {
		if ((text = dm_slurp(root, where[i])) == NULL)
			continue;
		n = strspn(text, "0123456789abcdefABCDEF");
		if (n >= 16)
			m->machine_id = xstrndup(text, n);
		free(text);
	}
}

void
dm_read_disk(const char *path, struct dm_metrics *m)
{
	struct statvfs	 st;
	struct dm_disk	*d;

	m->disks = xreallocarray(m->disks, m->ndisks + 1, sizeof *m->disks);
	d = &m->disks[m->ndisks++];
	d->path = xstrdup(path);
	d->total_mb = d->free_mb = NAN;
	if (statvfs(path, &st) != 0)
		return;
	d->total_mb = (double)st.f_blocks * (double)st.f_frsize / DM_MB;
	d->free_mb = (double)st.f_bavail * (double)st.f_frsize / DM_MB;
}

/* -- AMD ----------------------------------------------------------------- */

/* Is name "card" followed by digits only (not a connector "card0-DP-1")? */
static int
dm_is_card(const char *name)
{
	if (strncmp(name, "card", 4) != 0 || name[4] == '\0')
		return 0;
	return strspn(name + 4, "0123456789") == strlen(name + 4);
}

static int
dm_card_cmp(const void *a, const void *b)
{
	return atoi(*(char *const *)a + 4) - atoi(*(char *const *)b + 4);
}

int
dm_read_amd(const char *root, struct dm_metrics *m)
{
	struct dirent	*de;
	struct dm_gpu	*g;
	DIR		*dir;
	char		*drm, **cards = NULL, *rel, *name;
	size_t		 ncards = 0, i;
	double		 total, used;
	int		 found = 0;

	drm = path_join(root, "sys/class/drm");
	dir = opendir(drm);
	free(drm);
	if (dir == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL) {
		if (!dm_is_card(de->d_name))
			continue;
		cards = xreallocarray(cards, ncards + 1, sizeof *cards);
		cards[ncards++] = xstrdup(de->d_name);
	}
	closedir(dir);
	qsort(cards, ncards, sizeof *cards, dm_card_cmp);
	for (i = 0; i < ncards; i++) {
		/* Only cards with VRAM counters are GPUs for this purpose. */
		rel = xasprintf("sys/class/drm/%s/device/mem_info_vram_total",
		    cards[i]);
		total = dm_number_file(root, rel);
		free(rel);
		rel = xasprintf("sys/class/drm/%s/device/mem_info_vram_used",
		    cards[i]);
		used = dm_number_file(root, rel);
		free(rel);
		rel = xasprintf("sys/class/drm/%s/device/vendor", cards[i]);
		name = dm_slurp(root, rel);
		free(rel);
		if (isnan(total) && isnan(used) && (name == NULL ||
		    strncmp(name, "0x1002", 6) != 0)) {
			free(name);
			continue;
		}
		free(name);
		g = dm_gpu_add(m, "amd");
		g->name = xasprintf("AMD GPU (%s)", cards[i]);
		g->mem_total_mb = total / DM_MB;
		g->mem_used_mb = used / DM_MB;
		if (!isnan(total) && !isnan(used) && used <= total)
			g->mem_free_mb = (total - used) / DM_MB;
		rel = xasprintf("sys/class/drm/%s/device/gpu_busy_percent",
		    cards[i]);
		g->util_percent = dm_number_file(root, rel);
		free(rel);
		found++;
	}
	for (i = 0; i < ncards; i++)
		free(cards[i]);
	free(cards);
	return found;
}
