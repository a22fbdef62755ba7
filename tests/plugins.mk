## tests/plugins.mk - see tests/local.mk
## The plugin loader suite and its test plugins (good and broken ones).
## The plugins are libtool modules that are never installed; the suite
## copies them out of tests/plugins/.libs into directories it lays out.
test_plugin_ldflags = -module -avoid-version -shared -rpath /nowhere \
	-export-symbols-regex '^chiffon_plugin_descriptor$$'
test_plugins = \
	tests/plugins/good.la \
	tests/plugins/no_symbol.la \
	tests/plugins/abi_major.la \
	tests/plugins/abi_minor_newer.la \
	tests/plugins/small_size.la \
	tests/plugins/dup_name.la \
	tests/plugins/dup_cap.la \
	tests/plugins/init_fails.la \
	tests/plugins/no_init.la \
	tests/plugins/keys.la \
	tests/plugins/bad_keys.la \
	tests/plugins/old_minor0.la
check_LTLIBRARIES += $(test_plugins)
tests_plugins_good_la_SOURCES = tests/plugins/good.c
tests_plugins_good_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_no_symbol_la_SOURCES = tests/plugins/no_symbol.c
# Exports only a near-miss name (an empty export list breaks the link).
tests_plugins_no_symbol_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere -export-symbols-regex '^chiffon_plugin_descriptor_v0$$'
tests_plugins_abi_major_la_SOURCES = tests/plugins/abi_major.c
tests_plugins_abi_major_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_abi_minor_newer_la_SOURCES = tests/plugins/abi_minor_newer.c
tests_plugins_abi_minor_newer_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_small_size_la_SOURCES = tests/plugins/small_size.c
tests_plugins_small_size_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_dup_name_la_SOURCES = tests/plugins/dup_name.c
tests_plugins_dup_name_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_dup_cap_la_SOURCES = tests/plugins/dup_cap.c
tests_plugins_dup_cap_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_init_fails_la_SOURCES = tests/plugins/init_fails.c
tests_plugins_init_fails_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_no_init_la_SOURCES = tests/plugins/no_init.c
tests_plugins_no_init_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_keys_la_SOURCES = tests/plugins/keys.c
tests_plugins_keys_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_bad_keys_la_SOURCES = tests/plugins/bad_keys.c
tests_plugins_bad_keys_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_old_minor0_la_SOURCES = tests/plugins/old_minor0.c
tests_plugins_old_minor0_la_LDFLAGS = $(test_plugin_ldflags)

check_PROGRAMS += tests/check_plugins
TESTS += tests/check_plugins
tests_check_plugins_SOURCES = tests/check_plugins.c src/cmd-plugins.c \
	$(TESTUTIL_SOURCES)
tests_check_plugins_CPPFLAGS = $(TEST_CFLAGS)
tests_check_plugins_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
EXTRA_tests_check_plugins_DEPENDENCIES = $(test_plugins)
