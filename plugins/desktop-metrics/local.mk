## plugins/desktop-metrics/local.mk - the desktop-metrics capability
## plugin: CPU, memory, disks and GPUs of the machine ("metrics").
## NVML is loaded at run time with dlopen; nothing NVIDIA is linked.
DM_CORE_SOURCES = plugins/desktop-metrics/dm.h \
	plugins/desktop-metrics/dm-read.c plugins/desktop-metrics/dm-gpu.c \
	plugins/desktop-metrics/dm-json.c
pkglib_plugin_LTLIBRARIES += plugins/desktop-metrics/desktop-metrics.la
plugins_desktop_metrics_desktop_metrics_la_SOURCES = \
	plugins/desktop-metrics/desktop-metrics.c $(DM_CORE_SOURCES) \
	src/util.c src/util.h
plugins_desktop_metrics_desktop_metrics_la_CPPFLAGS = $(AM_CPPFLAGS) \
	$(JSONC_CFLAGS)
plugins_desktop_metrics_desktop_metrics_la_LIBADD = $(JSONC_LIBS) -lm
plugins_desktop_metrics_desktop_metrics_la_LDFLAGS = $(plugin_ldflags)
