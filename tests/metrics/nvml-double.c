/*
 * nvml-double.c - a stand-in for libnvidia-ml.so.1 (there is no NVIDIA
 * GPU here).  It exports the real NVML symbol names with their real
 * signatures (nvml.h), so the desktop-metrics plugin loads it through its
 * own dlopen/dlsym path.  The devices come from $NVML_DOUBLE_GPUS:
 * "NAME:TOTAL_MB:FREE_MB:UTIL:TEMP" entries separated by ';'.
 * $NVML_DOUBLE_INIT_FAIL makes nvmlInit_v2 fail as without a driver;
 * $NVML_DOUBLE_LOG names a file that gets one line per init/shutdown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct {
	unsigned long long	total;
	unsigned long long	free;
	unsigned long long	used;
} nvmlMemory_t;
typedef struct {
	unsigned int		gpu;
	unsigned int		memory;
} nvmlUtilization_t;
typedef int nvmlTemperatureSensors_t;

/* The prototypes, as nvml.h declares them. */
nvmlReturn_t	nvmlInit_v2(void);
nvmlReturn_t	nvmlShutdown(void);
const char	*nvmlErrorString(nvmlReturn_t);
nvmlReturn_t	nvmlDeviceGetCount_v2(unsigned int *);
nvmlReturn_t	nvmlDeviceGetHandleByIndex_v2(unsigned int, nvmlDevice_t *);
nvmlReturn_t	nvmlDeviceGetName(nvmlDevice_t, char *, unsigned int);
nvmlReturn_t	nvmlDeviceGetMemoryInfo(nvmlDevice_t, nvmlMemory_t *);
nvmlReturn_t	nvmlDeviceGetUtilizationRates(nvmlDevice_t,
		    nvmlUtilization_t *);
nvmlReturn_t	nvmlDeviceGetTemperature(nvmlDevice_t,
		    nvmlTemperatureSensors_t, unsigned int *);

#define NVML_SUCCESS			0
#define NVML_ERROR_UNINITIALIZED	1
#define NVML_ERROR_INVALID_ARGUMENT	2
#define NVML_ERROR_DRIVER_NOT_LOADED	9
#define MAX_GPUS			8

struct nvmlDevice_st {
	char			name[64];
	unsigned long long	total_mb, free_mb;
	unsigned int		util, temp;
};

static struct nvmlDevice_st	gpus[MAX_GPUS];
static unsigned int		ngpus;
static int			inited;

static void
note(const char *what)
{
	const char	*log = getenv("NVML_DOUBLE_LOG");
	FILE		*f;

	if (log != NULL && (f = fopen(log, "a")) != NULL) {
		fprintf(f, "%s\n", what);
		fclose(f);
	}
}

nvmlReturn_t
nvmlInit_v2(void)
{
	const char	*spec = getenv("NVML_DOUBLE_GPUS");
	char		*copy, *e, *save = NULL;

	note("init");
	if (getenv("NVML_DOUBLE_INIT_FAIL") != NULL)
		return NVML_ERROR_DRIVER_NOT_LOADED;
	ngpus = 0;
	copy = strdup(spec != NULL ? spec : "");
	for (e = strtok_r(copy, ";", &save); e != NULL && ngpus < MAX_GPUS;
	    e = strtok_r(NULL, ";", &save)) {
		struct nvmlDevice_st	*d = &gpus[ngpus];

		if (sscanf(e, "%63[^:]:%llu:%llu:%u:%u", d->name, &d->total_mb,
		    &d->free_mb, &d->util, &d->temp) == 5)
			ngpus++;
	}
	free(copy);
	inited = 1;
	return NVML_SUCCESS;
}

nvmlReturn_t
nvmlShutdown(void)
{
	note("shutdown");
	if (!inited)
		return NVML_ERROR_UNINITIALIZED;
	inited = 0;
	return NVML_SUCCESS;
}

const char *
nvmlErrorString(nvmlReturn_t rc)
{
	return rc == NVML_ERROR_DRIVER_NOT_LOADED ? "Driver Not Loaded" :
	    rc == NVML_SUCCESS ? "Success" : "Unknown Error";
}

nvmlReturn_t
nvmlDeviceGetCount_v2(unsigned int *count)
{
	if (!inited)
		return NVML_ERROR_UNINITIALIZED;
	*count = ngpus;
	return NVML_SUCCESS;
}

nvmlReturn_t
nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
	if (!inited)
		return NVML_ERROR_UNINITIALIZED;
	if (index >= ngpus)
		return NVML_ERROR_INVALID_ARGUMENT;
	*device = &gpus[index];
	return NVML_SUCCESS;
}

nvmlReturn_t
nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)
{
	if (!inited || device == NULL || length == 0)
		return NVML_ERROR_INVALID_ARGUMENT;
	snprintf(name, length, "%s", device->name);
	return NVML_SUCCESS;
}

nvmlReturn_t
nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)
{
	if (!inited || device == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	memory->total = device->total_mb * 1024ULL * 1024ULL;
	memory->free = device->free_mb * 1024ULL * 1024ULL;
	memory->used = memory->total - memory->free;
	return NVML_SUCCESS;
}

nvmlReturn_t
nvmlDeviceGetUtilizationRates(nvmlDevice_t device,
    nvmlUtilization_t *utilization)
{
	if (!inited || device == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	utilization->gpu = device->util;
	utilization->memory = 0;
	return NVML_SUCCESS;
}

nvmlReturn_t
nvmlDeviceGetTemperature(nvmlDevice_t device,
    nvmlTemperatureSensors_t sensorType, unsigned int *temp)
{
	if (!inited || device == NULL || sensorType != 0)
		return NVML_ERROR_INVALID_ARGUMENT;
	*temp = device->temp;
	return NVML_SUCCESS;
}
