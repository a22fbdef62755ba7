## tests/metrics.mk - see tests/local.mk
## check_metrics: the desktop-metrics plugin on fake /proc and /sys trees,
## through the host with the NVML double (a shared library exporting the
## real NVML symbols) and the nvidia-smi stand-in script.
check_LTLIBRARIES += tests/metrics/nvml-double.la
tests_metrics_nvml_double_la_SOURCES = tests/metrics/nvml-double.c
tests_metrics_nvml_double_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere
check_PROGRAMS += tests/check_metrics
TESTS += tests/check_metrics
tests_check_metrics_SOURCES = tests/check_metrics.c $(DM_CORE_SOURCES) \
	$(ORCH_TEST_SOURCES)
tests_check_metrics_CPPFLAGS = $(TEST_CFLAGS) \
	-I$(top_srcdir)/plugins/desktop-metrics
tests_check_metrics_LDADD = $(PGTEST_LIBS) $(TEST_LIBS) -lm
EXTRA_tests_check_metrics_DEPENDENCIES = tests/metrics/nvml-double.la \
	plugins/desktop-metrics/desktop-metrics.la
EXTRA_DIST += tests/metrics/nvidia-smi \
	tests/metrics/amd/etc/machine-id \
	tests/metrics/amd/proc/cpuinfo \
	tests/metrics/amd/proc/loadavg \
	tests/metrics/amd/proc/meminfo \
	tests/metrics/amd/sys/class/drm/card0-DP-1/status \
	tests/metrics/amd/sys/class/drm/card0/device/gpu_busy_percent \
	tests/metrics/amd/sys/class/drm/card0/device/mem_info_vram_total \
	tests/metrics/amd/sys/class/drm/card0/device/mem_info_vram_used \
	tests/metrics/amd/sys/class/drm/card0/device/vendor \
	tests/metrics/amd/sys/class/drm/card1/device/vendor \
	tests/metrics/arm/proc/cpuinfo \
	tests/metrics/arm/proc/loadavg \
	tests/metrics/arm/sys/devices/system/cpu/cpu0/topology/core_id \
	tests/metrics/arm/sys/devices/system/cpu/cpu0/topology/physical_package_id \
	tests/metrics/arm/sys/devices/system/cpu/cpu1/topology/core_id \
	tests/metrics/arm/sys/devices/system/cpu/cpu1/topology/physical_package_id \
	tests/metrics/arm/sys/devices/system/cpu/cpu2/topology/core_id \
	tests/metrics/arm/sys/devices/system/cpu/cpu2/topology/physical_package_id \
	tests/metrics/arm/sys/devices/system/cpu/cpu3/topology/core_id \
	tests/metrics/arm/sys/devices/system/cpu/cpu3/topology/physical_package_id \
	tests/metrics/arm/sys/devices/system/cpu/cpufreq/README \
	tests/metrics/broken/proc/loadavg \
	tests/metrics/broken/proc/meminfo/README \
	tests/metrics/broken/sys/class/drm/card0/device/gpu_busy_percent \
	tests/metrics/broken/sys/class/drm/card0/device/mem_info_vram_total/README \
	tests/metrics/broken/sys/class/drm/card0/device/mem_info_vram_used \
	tests/metrics/broken/sys/class/drm/card0/device/vendor
