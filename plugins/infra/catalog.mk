## plugins/infra/catalog.mk - catalog, inventory, matcher.
## catalog.c, yaml-play.c, inventory.c, match.c and src/sha256.c (the
## host's own, shared with the approval gate) are host-independent
## (tests/infra.mk compiles them into check_catalog, check_match and the
## benchmarks); infra-catalog.c is the host glue.
plugins_infra_infra_la_SOURCES += \
	plugins/infra/catalog.c plugins/infra/catalog.h \
	plugins/infra/yaml-play.c plugins/infra/yaml-play.h \
	plugins/infra/inventory.c plugins/infra/inventory.h \
	plugins/infra/match.c plugins/infra/match.h \
	src/sha256.c src/sha256.h \
	plugins/infra/infra-catalog.c src/actions.c src/actions.h
plugins_infra_infra_la_CPPFLAGS += $(INIH_CFLAGS) $(NETTLE_CFLAGS)
plugins_infra_infra_la_LIBADD += -lm $(INIH_LIBS) $(NETTLE_LIBS)
src_chiffon_SOURCES += src/cmd-catalog.c
