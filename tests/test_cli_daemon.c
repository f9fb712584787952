/* test_cli_daemon.c - pid file and dropping root: nothing of root is kept. */
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/daemon.h"
#include "mt_test.h"

START_TEST(test_pidfile)
{
	char path[64], err[256], buf[32];
	FILE *fp;
	long pid = 0;
	int fd;

	snprintf(path, sizeof(path), "/tmp/mt_pid_XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "stale contents that are longer\n", 31), 31);
	close(fd);
	ck_assert_int_eq(mt_daemon_pidfile(path, err, sizeof(err)), 0);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	ck_assert_int_eq(sscanf(buf, "%ld", &pid), 1);
	ck_assert_int_eq(pid, (long)getpid());
	ck_assert_int_eq((int)strlen(buf), snprintf(NULL, 0, "%ld\n", pid)); /* the old text is gone */
	unlink(path);
	ck_assert_int_lt(mt_daemon_pidfile("/nonexistent/dir/x.pid", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dir/x.pid"));
}
END_TEST

START_TEST(test_unknown_user)
{
	char err[256];

	ck_assert_int_lt(mt_daemon_drop("mt-no-such-user-x", NULL, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "no such user"));
	ck_assert_int_lt(mt_daemon_drop("", NULL, err, sizeof(err)), 0);
}
END_TEST

/* Runs in its own process (Check's fork mode), so the drop does not outlive the test. */
START_TEST(test_drop_root)
{
	struct passwd *pw = getpwnam("nobody");
	char err[256];
	gid_t groups[8];

	if (geteuid() != 0 || !pw) {
		printf("cli_daemon: drop test skipped (needs root and the user nobody)\n");
		return;
	}
	ck_assert_int_eq(mt_daemon_drop("nobody", NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(getuid(), pw->pw_uid);
	ck_assert_int_eq(geteuid(), pw->pw_uid);
	ck_assert_int_eq(getgid(), pw->pw_gid);
	ck_assert_int_eq(getegid(), pw->pw_gid);
	ck_assert_int_eq(getgroups(8, groups), 0); /* root's supplementary groups are gone */
	ck_assert_int_ne(setuid(0), 0);            /* and root cannot come back */
	ck_assert_int_ne(seteuid(0), 0);
	ck_assert_int_ne(setgid(0), 0);
}
END_TEST

/* An empty folder made and removed by the runner process (the test's own process is chrooted). */
static char g_dir[64];

static void dir_make(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/mt_chroot_XXXXXX");
	if (!mkdtemp(g_dir))
		g_dir[0] = '\0';
}

static void dir_remove(void)
{
	if (g_dir[0])
		rmdir(g_dir);
}

START_TEST(test_drop_numeric_and_chroot)
{
	char err[256];

	if (geteuid() != 0 || !g_dir[0]) {
		printf("cli_daemon: chroot test skipped (needs root)\n");
		return;
	}
	ck_assert_int_eq(mt_daemon_drop("65534", g_dir, err, sizeof(err)), 0);
	ck_assert_int_eq(getuid(), 65534);
	ck_assert_int_ne(access("/etc/passwd", F_OK), 0); /* inside the empty folder now */
	/* No /proc in here: LeakSanitizer's exit check could not run, so leave without it. */
	_exit(0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli_daemon");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, dir_make, dir_remove);
	tcase_add_test(tc, test_pidfile);
	tcase_add_test(tc, test_unknown_user);
	tcase_add_test(tc, test_drop_root);
	tcase_add_exit_test(tc, test_drop_numeric_and_chroot, 0);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
