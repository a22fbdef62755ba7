## plugins/infra/local.mk - the Ansible capability plugin.
## infra.c holds the descriptor; catalog.mk and run.mk add their parts.
pkglib_plugin_LTLIBRARIES += plugins/infra/infra.la
plugins_infra_infra_la_SOURCES = plugins/infra/infra.c plugins/infra/infra.h \
	src/util.c src/util.h src/json-get.c src/json-get.h
plugins_infra_infra_la_CPPFLAGS = $(AM_CPPFLAGS) $(JSONC_CFLAGS) $(YAML_CFLAGS)
plugins_infra_infra_la_LIBADD = $(JSONC_LIBS) $(YAML_LIBS)
plugins_infra_infra_la_LDFLAGS = $(plugin_ldflags)
include plugins/infra/catalog.mk
include plugins/infra/run.mk
