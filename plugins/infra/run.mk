## plugins/infra/run.mk - ansible-playbook runs, callback plugin, lint
plugins_infra_infra_la_SOURCES += plugins/infra/run.c plugins/infra/run.h \
	plugins/infra/run-cfg.c \
	plugins/infra/summary.c plugins/infra/summary.h \
	plugins/infra/lint.c
plugins_infra_infra_la_CPPFLAGS += \
	-DCHIFFON_SRC_CALLBACK_DIR='"$(abs_top_srcdir)/plugins/infra/callback"'

# The callback plugin Ansible loads for chiffon's runs (run.c finds it
# here when installed, in the source tree otherwise).
ansible_callbackdir = $(pkgdatadir)/ansible/callback_plugins
dist_ansible_callback_DATA = plugins/infra/callback/chiffon_events.py

# `chiffon lint` (the "ansible.lint" capability from the command line).
src_chiffon_SOURCES += src/cmd-lint.c
