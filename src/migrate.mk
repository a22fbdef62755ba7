## src/migrate.mk - the migration runner and the migrations compiled into
## it (src/schema-sql.c is generated in the build tree from $(schema_sql),
## listed in schema/local.mk).
src_libchiffon_core_la_SOURCES += src/migrate.c src/migrate.h
nodist_src_libchiffon_core_la_SOURCES += src/schema-sql.c
BUILT_SOURCES += src/schema-sql.c
CLEANFILES += src/schema-sql.c

src/schema-sql.c: $(schema_sql) $(top_srcdir)/schema/sql2c.awk
	$(AM_V_GEN)$(MKDIR_P) src && files= && \
	for f in $(schema_sql); do \
		if test -f "$$f"; then files="$$files $$f"; \
		else files="$$files $(srcdir)/$$f"; fi; \
	done && \
	$(AWK) -f $(top_srcdir)/schema/sql2c.awk $$files > $@.tmp && \
	mv -f $@.tmp $@
