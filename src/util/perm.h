/* perm.h - refuses files and folders that others could change (databases, signatures, spool). */
#ifndef MT_PERM_H
#define MT_PERM_H

#include <stddef.h>

#define MT_PERM_MAX_ENTRIES 4096 /* entries of a folder looked at; more are not checked */

/*
 * Checks that only its owner (and root) can change `path`: a file, or a folder
 * and the regular files directly inside it. Symbolic links are followed.
 * Returns
 *   0        safe;
 *   1        a warning in err: group-writable, or owned by a user other than
 *            root and the one running us;
 *   -EPERM   unsafe, reason in err: world-writable, or inside a world-writable
 *            folder without the sticky bit (anyone could replace it);
 *   -errno   it cannot be examined (e.g. -ENOENT), reason in err.
 * err (errlen bytes, may be NULL) names the path that failed.
 */
int mt_perm_check(const char *path, char *err, size_t errlen);

#endif
