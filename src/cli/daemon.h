/* daemon.h - running as a service: pid file, dropping root, optional chroot. */
#ifndef MT_CLI_DAEMON_H
#define MT_CLI_DAEMON_H

#include <stddef.h>

/*
 * Writes our pid to path (created 0644, replaced if present). 0 or a
 * negative errno with a reason in err.
 */
int mt_daemon_pidfile(const char *path, char *err, size_t errlen);

/*
 * Becomes user (a name or a number): supplementary groups cleared, then the
 * user's group, then the user, so nothing of root is kept; if chroot_dir is
 * set, chroots there first (after resolving the user, which needs
 * /etc/passwd). Checks that root cannot be regained. 0 or a negative errno
 * with a reason in err.
 */
int mt_daemon_drop(const char *user, const char *chroot_dir, char *err, size_t errlen);

#endif
