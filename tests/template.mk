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
