/* mt_test.h - shared bits of the Check suites: running a suite, locating files. */
#ifndef MT_TEST_H
#define MT_TEST_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs the suite in fork mode; returns the process exit status. */
static inline int mt_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* $MT_SOURCE_ROOT/rel (or ./rel when unset) into out. */
static inline const char *mt_test_src(const char *rel, char *out, size_t n)
{
	const char *root = getenv("MT_SOURCE_ROOT");
	snprintf(out, n, "%s/%s", root ? root : ".", rel);
	return out;
}

/* The shared corpus folder if it exists (../shared/corpus from the source root), else NULL. */
static inline const char *mt_test_shared(const char *rel, char *out, size_t n)
{
	const char *root = getenv("MT_SOURCE_ROOT");
	FILE *fp;
	snprintf(out, n, "%s/../shared/%s", root ? root : ".", rel);
	fp = fopen(out, "r");
	if (!fp)
		return NULL;
	fclose(fp);
	return out;
}

#endif
