/* test_util_perm.c - mt_perm_check on real files and folders with each mode that matters. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mt_test.h"
#include "util/perm.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mt_perm_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void make(const char *path, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs("x\n", fp);
	fclose(fp);
	ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(test_file_modes)
{
	char f[128], err[256];

	snprintf(f, sizeof(f), "%s/city.mmdb", dir);
	make(f, 0644);
	ck_assert_int_eq(mt_perm_check(f, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(chmod(f, 0400), 0);
	ck_assert_int_eq(mt_perm_check(f, err, sizeof(err)), 0);
	ck_assert_int_eq(chmod(f, 0664), 0);
	ck_assert_int_eq(mt_perm_check(f, err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(strstr(err, "group"));
	ck_assert_ptr_nonnull(strstr(err, f));
	ck_assert_int_eq(chmod(f, 0646), 0);
	ck_assert_int_eq(mt_perm_check(f, err, sizeof(err)), -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "every user"));
	ck_assert_int_eq(chmod(f, 0666), 0);
	ck_assert_int_eq(mt_perm_check(f, NULL, 0), -EPERM); /* err may be NULL */
	ck_assert_int_eq(chmod(f, 0644), 0);
	/* missing, empty */
	snprintf(f, sizeof(f), "%s/absent.mmdb", dir);
	ck_assert_int_eq(mt_perm_check(f, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "absent.mmdb"));
	ck_assert_int_eq(mt_perm_check("", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(mt_perm_check(NULL, err, sizeof(err)), -EINVAL);
}
END_TEST

/* A folder: itself and the files directly in it; world-writable even with the sticky bit is refused. */
START_TEST(test_folder)
{
	char sigs[128], f[160], g[160], err[256];

	snprintf(sigs, sizeof(sigs), "%s/signatures", dir);
	ck_assert_int_eq(mkdir(sigs, 0755), 0);
	snprintf(f, sizeof(f), "%s/pools.txt", sigs);
	make(f, 0644);
	snprintf(g, sizeof(g), "%s/agents.txt", sigs);
	make(g, 0644);
	ck_assert_int_eq(mt_perm_check(sigs, err, sizeof(err)), 0);
	ck_assert_int_eq(chmod(g, 0666), 0);
	ck_assert_int_eq(mt_perm_check(sigs, err, sizeof(err)), -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "agents.txt"));
	ck_assert_int_eq(chmod(g, 0660), 0);
	ck_assert_int_eq(mt_perm_check(sigs, err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(strstr(err, "agents.txt"));
	ck_assert_int_eq(chmod(g, 0644), 0);
	ck_assert_int_eq(chmod(sigs, 01777), 0);
	ck_assert_int_eq(mt_perm_check(sigs, err, sizeof(err)), -EPERM);
	ck_assert_int_eq(chmod(sigs, 0775), 0);
	ck_assert_int_eq(mt_perm_check(sigs, err, sizeof(err)), 1);
	ck_assert_int_eq(chmod(sigs, 0755), 0);
	/* a trailing slash names the same folder */
	snprintf(f, sizeof(f), "%s/", sigs);
	ck_assert_int_eq(mt_perm_check(f, err, sizeof(err)), 0);
}
END_TEST

/* The folder holding a file: world-writable without the sticky bit lets anyone replace the file. */
START_TEST(test_parent)
{
	char sub[128], f[160], err[256], cwd[4096];

	snprintf(sub, sizeof(sub), "%s/geoip", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	snprintf(f, sizeof(f), "%s/asn.mmdb", sub);
	make(f, 0644);
	ck_assert_int_eq(mt_perm_check(f, err, sizeof(err)), 0);
	ck_assert_int_eq(chmod(sub, 0777), 0);
	ck_assert_int_eq(mt_perm_check(f, err, sizeof(err)), -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "sticky"));
	ck_assert_int_eq(chmod(sub, 01777), 0); /* as /tmp: others cannot replace our file */
	ck_assert_int_eq(mt_perm_check(f, err, sizeof(err)), 0);
	ck_assert_int_eq(chmod(sub, 0777), 0);
	/* a relative name: the parent is the current folder */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(sub), 0);
	ck_assert_int_eq(mt_perm_check("asn.mmdb", err, sizeof(err)), -EPERM);
	ck_assert_int_eq(chmod(".", 0755), 0);
	ck_assert_int_eq(mt_perm_check("asn.mmdb", err, sizeof(err)), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	/* the root folder as parent */
	ck_assert_int_eq(mt_perm_check("/", err, sizeof(err)) >= 0, 1);
}
END_TEST

/* Owned by another user (needs root to chown): a warning. */
START_TEST(test_owner)
{
	char f[128], err[256];

	if (geteuid() != 0) {
		fprintf(stderr, "test_owner: not root, chown not possible: skipped\n");
		return;
	}
	snprintf(f, sizeof(f), "%s/reg.mmdb", dir);
	make(f, 0644);
	ck_assert_int_eq(chown(f, 65534, 65534), 0);
	ck_assert_int_eq(mt_perm_check(f, err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(strstr(err, "uid 65534"));
	ck_assert_int_eq(chown(f, 0, 0), 0);
	ck_assert_int_eq(mt_perm_check(f, err, sizeof(err)), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("util_perm");
	TCase *tc = tcase_create("perm");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_file_modes);
	tcase_add_test(tc, test_folder);
	tcase_add_test(tc, test_parent);
	tcase_add_test(tc, test_owner);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
