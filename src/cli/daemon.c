/* daemon.c - running as a service: pid file, dropping root, optional chroot. */
#define _GNU_SOURCE /* setresuid, setresgid */
#include "cli/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

int mt_daemon_pidfile(const char *path, char *err, size_t errlen)
{
	char buf[32];
	int fd, n, e;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		e = errno ? errno : EIO;
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (close(fd) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

/* A user name, or a decimal uid. */
static int lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(user);
	const char *p = user;
	unsigned long v = 0;

	if (pw) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
		return 0;
	}
	if (!*p)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > 100000000ul)
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	pw = getpwuid((uid_t)v);
	*uid = (uid_t)v;
	*gid = pw ? pw->pw_gid : (gid_t)v;
	return 0;
}

int mt_daemon_drop(const char *user, const char *chroot_dir, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;
	int e;

	if (lookup(user, &uid, &gid) < 0) {
		snprintf(err, errlen, "-Z %s: no such user", user);
		return -ENOENT;
	}
	if (chroot_dir && *chroot_dir) {
		if (chroot(chroot_dir) < 0 || chdir("/") < 0) {
			e = errno;
			snprintf(err, errlen, "chroot %s: %s", chroot_dir, strerror(e));
			return -e;
		}
	}
	/* Groups first: once the uid is gone, the groups cannot be changed any more. */
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
		e = errno;
		snprintf(err, errlen, "-Z %s: %s", user, strerror(e));
		return -e;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "-Z %s: root could be regained", user);
		return -EPERM;
	}
	/* Nothing gained through exec either (set-uid programs, file capabilities). */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}
