/*
 * dm-gpu.c - NVIDIA GPUs: NVML loaded at run time with dlopen (no
 * build-time dependency; the declarations below are NVML's public ABI),
 * and the parser of nvidia-smi's CSV for machines without the library.
 */
#include "config.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "util.h"

/* NVML's types, as in nvml.h. */
typedef int nvmlReturn_t;			/* NVML_SUCCESS = 0 */
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct {
	unsigned long long	total;		/* bytes */
	unsigned long long	free;
	unsigned long long	used;
} nvmlMemory_t;
typedef struct {
	unsigned int		gpu;		/* percent */
	unsigned int		memory;
} nvmlUtilization_t;
#define DM_NVML_SUCCESS		0
#define DM_NVML_TEMPERATURE_GPU	0
#define DM_NVML_NAME_LEN	96		/* NVML_DEVICE_NAME_V2_BUFFER_SIZE */
#define DM_MB			(1024.0 * 1024.0)

/* The opened library and the entry points used. */
struct dm_nvml {
	void		*lib;
	nvmlReturn_t	(*init)(void);
	nvmlReturn_t	(*shutdown)(void);
	nvmlReturn_t	(*count)(unsigned int *);
	nvmlReturn_t	(*handle)(unsigned int, nvmlDevice_t *);
	nvmlReturn_t	(*name)(nvmlDevice_t, char *, unsigned int);
	nvmlReturn_t	(*memory)(nvmlDevice_t, nvmlMemory_t *);
	nvmlReturn_t	(*util)(nvmlDevice_t, nvmlUtilization_t *);
	nvmlReturn_t	(*temp)(nvmlDevice_t, int, unsigned int *);
	const char	*(*error)(nvmlReturn_t);	/* optional */
};

/* The symbols: required ones first; offsets into struct dm_nvml. */
static const struct {
	const char	*name;
	size_t		 offset;
	int		 required;
} dm_nvml_syms[] = {
	{ "nvmlInit_v2", offsetof(struct dm_nvml, init), 1 },
	{ "nvmlShutdown", offsetof(struct dm_nvml, shutdown), 1 },
	{ "nvmlDeviceGetCount_v2", offsetof(struct dm_nvml, count), 1 },
	{ "nvmlDeviceGetHandleByIndex_v2", offsetof(struct dm_nvml, handle),
	  1 },
	{ "nvmlDeviceGetName", offsetof(struct dm_nvml, name), 1 },
	{ "nvmlDeviceGetMemoryInfo", offsetof(struct dm_nvml, memory), 1 },
	{ "nvmlDeviceGetUtilizationRates", offsetof(struct dm_nvml, util), 1 },
	{ "nvmlDeviceGetTemperature", offsetof(struct dm_nvml, temp), 0 },
	{ "nvmlErrorString", offsetof(struct dm_nvml, error), 0 },
};

static const char *
dm_nvml_strerror(const struct dm_nvml *n, nvmlReturn_t rc)
{
	static char	buf[32];

	if (n->error != NULL)
		return n->error(rc);
	snprintf(buf, sizeof buf, "NVML error %d", rc);
	return buf;
}

struct dm_nvml *
dm_nvml_open(const char *library, char **errp)
{
	struct dm_nvml	*n;
	const char	*e;
	void		*sym;
	size_t		 i;
	nvmlReturn_t	 rc;

	n = xcalloc(1, sizeof *n);
	if ((n->lib = dlopen(library, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		set_error(errp, "%s", e != NULL ? e : library);
		free(n);
		return NULL;
	}
	for (i = 0; i < nitems(dm_nvml_syms); i++) {
		sym = dlsym(n->lib, dm_nvml_syms[i].name);
		if (sym == NULL && dm_nvml_syms[i].required) {
			set_error(errp, "%s: no symbol %s", library,
			    dm_nvml_syms[i].name);
			dlclose(n->lib);
			free(n);
			return NULL;
		}
		/* POSIX: a data pointer from dlsym converts to a function. */
		memcpy((char *)n + dm_nvml_syms[i].offset, &sym, sizeof sym);
	}
	if ((rc = n->init()) != DM_NVML_SUCCESS) {
		set_error(errp, "%s: nvmlInit_v2: %s", library,
		    dm_nvml_strerror(n, rc));
		dlclose(n->lib);
		free(n);
		return NULL;
	}
	return n;
}

int
dm_nvml_read(struct dm_nvml *n, struct dm_metrics *m, char **errp)
{
	nvmlDevice_t		 dev;
	nvmlMemory_t		 mem;
	nvmlUtilization_t	 util;
	struct dm_gpu		*g;
	char			 name[DM_NVML_NAME_LEN];
	unsigned int		 count, i, temp;
	nvmlReturn_t		 rc;

	if ((rc = n->count(&count)) != DM_NVML_SUCCESS)
		return set_error(errp, "nvmlDeviceGetCount_v2: %s",
		    dm_nvml_strerror(n, rc));
	for (i = 0; i < count; i++) {
		if ((rc = n->handle(i, &dev)) != DM_NVML_SUCCESS)
			return set_error(errp, "nvmlDeviceGetHandleByIndex_v2 "
			    "(%u): %s", i, dm_nvml_strerror(n, rc));
		g = dm_gpu_add(m, "nvidia");
		if (n->name(dev, name, sizeof name) == DM_NVML_SUCCESS) {
			name[sizeof name - 1] = '\0';
			g->name = xstrdup(name);
		}
		if (n->memory(dev, &mem) == DM_NVML_SUCCESS) {
			g->mem_total_mb = (double)mem.total / DM_MB;
			g->mem_free_mb = (double)mem.free / DM_MB;
			g->mem_used_mb = (double)mem.used / DM_MB;
		}
		if (n->util(dev, &util) == DM_NVML_SUCCESS)
			g->util_percent = util.gpu;
		if (n->temp != NULL && n->temp(dev, DM_NVML_TEMPERATURE_GPU,
		    &temp) == DM_NVML_SUCCESS)
			g->temp_c = temp;
	}
	return (int)count;
}

void
dm_nvml_close(struct dm_nvml *n)
{
	if (n == NULL)
		return;
	n->shutdown();
	dlclose(n->lib);
	free(n);
}

/* -- nvidia-smi ---------------------------------------------------------- */

/* A CSV field: a number, or NAN for "[N/A]", "N/A" and the like. */
static double
dm_smi_number(const char *s, int *bad)
{
	char	*end;
	double	 v;

	while (*s == ' ')
		s++;
	if (*s == '[' || strncmp(s, "N/A", 3) == 0)
		return NAN;
	v = strtod(s, &end);
	while (*end == ' ')
		end++;
	if (end == s || *end != '\0') {
		*bad = 1;
		return NAN;
	}
	return v;
}

int
dm_smi_parse(const char *text, struct dm_metrics *m, char **errp)
{
	struct dm_gpu	*g;
	const char	*line, *nl;
	char		*copy, *f[4], *p;
	size_t		 len, nf;
	int		 lineno = 0, found = 0, bad;
	double		 v[3] = { NAN, NAN, NAN };

	for (line = text; line != NULL && *line != '\0'; line = nl) {
		lineno++;
		if ((nl = strchr(line, '\n')) != NULL) {
			len = (size_t)(nl - line);
			nl++;
		} else
			len = strlen(line);
		while (len > 0 && (line[len - 1] == '\r' ||
		    line[len - 1] == ' '))
			len--;
		if (len == 0)
			continue;
		copy = xstrndup(line, len);
		/* The name is the first field; it may hold no comma. */
		for (nf = 0, p = copy; nf < nitems(f) && p != NULL; nf++) {
			f[nf] = p;
			if ((p = strchr(p, ',')) != NULL)
				*p++ = '\0';
		}
		bad = nf != nitems(f) || p != NULL;
		if (!bad) {
			v[0] = dm_smi_number(f[1], &bad);
			v[1] = dm_smi_number(f[2], &bad);
			v[2] = dm_smi_number(f[3], &bad);
		}
		if (bad) {
			set_error(errp, "nvidia-smi output line %d is not "
			    "name, memory.total, memory.free, utilization.gpu: "
			    "%.80s", lineno, copy);
			free(copy);
			return -1;
		}
		g = dm_gpu_add(m, "nvidia");
		while (*f[0] == ' ')
			f[0]++;
		g->name = xstrdup(f[0]);
		g->mem_total_mb = v[0];
		g->mem_free_mb = v[1];
		if (!isnan(v[0]) && !isnan(v[1]))
			g->mem_used_mb = v[0] - v[1];
		g->util_percent = v[2];
		free(copy);
		found++;
	}
	return found;
}
