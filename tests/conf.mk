## tests/conf.mk - chiffon.conf parsing (see tests/local.mk)
check_PROGRAMS += tests/check_conf
TESTS += tests/check_conf
tests_check_conf_SOURCES = tests/check_conf.c
tests_check_conf_CPPFLAGS = $(TEST_CFLAGS)
tests_check_conf_LDADD = $(TEST_LIBS)
EXTRA_DIST += \
	tests/conf/good.conf \
	tests/conf/unknown.conf \
	tests/conf/duplicate.conf \
	tests/conf/bad-enum.conf \
	tests/conf/bad-duration.conf \
	tests/conf/bad-duration-range.conf \
	tests/conf/bad-usd.conf \
	tests/conf/inline-comment.conf \
	tests/conf/bad-url.conf \
	tests/conf/bad-conninfo.conf \
	tests/conf/bad-list.conf \
	tests/conf/bad-path.conf \
	tests/conf/bad-pathlist.conf \
	tests/conf/bad-program.conf \
	tests/conf/bad-then-syntax.conf \
	tests/conf/syntax.conf \
	tests/conf/syntax-section.conf \
	tests/conf/syntax-noname.conf \
	tests/conf/long-line.conf \
	tests/conf/long-line-ok.conf
