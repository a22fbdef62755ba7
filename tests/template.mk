## tests/template.mk - see tests/local.mk
## check_template: the template plugin's scaffold.c (names, @@name@@
## substitution, layouts, site playbook edits, atomic writes) on the
## fixture repositories tests/template/per-service and tests/template/site.
check_PROGRAMS += tests/check_template
TESTS += tests/check_template
tests_check_template_SOURCES = tests/check_template.c \
	plugins/template/scaffold.c plugins/template/scaffold.h \
	$(TESTUTIL_SOURCES)
tests_check_template_CPPFLAGS = $(TEST_CFLAGS) \
	-I$(top_srcdir)/plugins/template
tests_check_template_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
EXTRA_DIST += tests/template/per-service/ansible.cfg \
	tests/template/per-service/inventory.yml \
	tests/template/per-service/web-deploy.yml \
	tests/template/per-service/dns-deploy.yml \
	tests/template/site/ansible.cfg tests/template/site/inventory.yml \
	tests/template/site/site.yml \
	tests/template/site/roles/web/tasks/main.yml \
	tests/template/site/roles/web/defaults/main.yml \
	tests/template/site/roles/dns/tasks/main.yml \
	tests/template/site/roles/dns/defaults/main.yml \
	tests/template/site/roles/dns_cache/tasks/main.yml \
	tests/template/site/roles/dns_cache/defaults/main.yml

## check_generate: `chiffon generate` end to end on git copies of both
## fixture repositories: refusals, validation for real, the commit as the
## approver, real deploys (connection: local) with changed=0 the second
## time, rollback, and a plain-English request planned and approved.
check_PROGRAMS += tests/check_generate
TESTS += tests/check_generate
tests_check_generate_SOURCES = tests/check_generate.c $(ORCH_TEST_SOURCES)
tests_check_generate_CPPFLAGS = $(TEST_CFLAGS)
tests_check_generate_LDADD = $(PGTEST_LIBS) $(TEST_LIBS)
EXTRA_tests_check_generate_DEPENDENCIES = plugins/infra/infra.la \
	plugins/template/template.la src/chiffon$(EXEEXT)
