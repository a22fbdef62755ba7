## src/audit.mk - the audit trail: audit_log rows and their hash chain,
## the git trail (libgit2), audit queries, `chiffon audit`, `chiffon show`
## and the retention command behind `chiffon db prune`.
src_libchiffon_core_la_SOURCES += \
	src/audit.c src/audit.h \
	src/audit-query.c src/audit-query.h \
	src/gittrail.c src/gittrail.h
src_chiffon_SOURCES += src/cmd-audit.c src/cmd-show.c src/cmd-prune.c
