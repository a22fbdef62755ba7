/*
 * testmain.c - the main() of every Check suite (testutil_main in
 * testutil.h).  It is a library of its own (tests/libtestmain.la, in
 * $(TEST_LIBS)) so that suites without a database link it too.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include <git2.h>

#include "testutil.h"

int
testutil_main(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	git_libgit2_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	git_libgit2_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
