## plugins/template/local.mk - the template plugin: scaffold a new service
## in the repository's own layout (template.generate, template.preview).
## scaffold.c is host-independent (tests/template.mk compiles it into
## check_template); template.c is the host glue.
pkglib_plugin_LTLIBRARIES += plugins/template/template.la
plugins_template_template_la_SOURCES = plugins/template/template.c \
	plugins/template/scaffold.c plugins/template/scaffold.h \
	src/sha256.c src/sha256.h src/util.c src/util.h
plugins_template_template_la_CPPFLAGS = $(AM_CPPFLAGS) $(JSONC_CFLAGS) \
	$(YAML_CFLAGS) $(NETTLE_CFLAGS) \
	-DCHIFFON_SRC_TEMPLATE_DIR='"$(abs_top_srcdir)/plugins/template/templates"'
plugins_template_template_la_LIBADD = $(JSONC_LIBS) $(YAML_LIBS) \
	$(NETTLE_LIBS)
plugins_template_template_la_LDFLAGS = $(plugin_ldflags)

# The built-in templates (plugin.template.dir overrides them file by file).
tmpl_playbookdir = $(pkgdatadir)/templates/playbook
dist_tmpl_playbook_DATA = plugins/template/templates/playbook/deploy.yml \
	plugins/template/templates/playbook/deploy-role.yml
tmpl_sitedir = $(pkgdatadir)/templates/site
dist_tmpl_site_DATA = plugins/template/templates/site/entry.yml \
	plugins/template/templates/site/play.yml
tmpl_roledir = $(pkgdatadir)/templates/role
dist_tmpl_role_DATA = plugins/template/templates/role/README.md
tmpl_role_tasksdir = $(pkgdatadir)/templates/role/tasks
dist_tmpl_role_tasks_DATA = plugins/template/templates/role/tasks/main.yml
tmpl_role_handlersdir = $(pkgdatadir)/templates/role/handlers
dist_tmpl_role_handlers_DATA = \
	plugins/template/templates/role/handlers/main.yml
tmpl_role_defaultsdir = $(pkgdatadir)/templates/role/defaults
dist_tmpl_role_defaults_DATA = \
	plugins/template/templates/role/defaults/main.yml
tmpl_role_metadir = $(pkgdatadir)/templates/role/meta
dist_tmpl_role_meta_DATA = plugins/template/templates/role/meta/main.yml
tmpl_role_templatesdir = $(pkgdatadir)/templates/role/templates
dist_tmpl_role_templates_DATA = \
	plugins/template/templates/role/templates/docker-compose.yml.j2
