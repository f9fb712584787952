/* perm.c - ownership and mode checks for files minetrace trusts: world-writable is refused, group-writable warned. */
#include "util/perm.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "PATH: WHAT" into err (which may be NULL). */
static void say(char *err, size_t errlen, const char *path, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s%s", path, *path ? ": " : "", what);
}

/* One object: -EPERM, 1 or 0 as mt_perm_check, with the reason. */
static int check_one(const char *path, const struct stat *st, char *err, size_t errlen)
{
	/* even with the sticky bit: anyone could add a file to a folder we load every file of */
	if (st->st_mode & S_IWOTH) {
		say(err, errlen, path, "writable by every user (chmod o-w)");
		return -EPERM;
	}
	if (st->st_mode & S_IWGRP) {
		say(err, errlen, path, "writable by its group");
		return 1;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		if (err && errlen)
			snprintf(err, errlen, "%s: owned by uid %u, not by root or us", path, (unsigned)st->st_uid);
		return 1;
	}
	return 0;
}

/* The folder holding path: anyone who may write it may replace path (unless it is sticky, as /tmp). */
static int check_parent(const char *path, char *err, size_t errlen)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n;
	struct stat st;

	if (!slash) {
		memcpy(dir, ".", 2);
	} else {
		n = (size_t)(slash - path);
		while (n > 0 && path[n - 1] == '/')
			n--;
		if (n == 0)
			n = 1; /* "/x": the root */
		if (n >= sizeof(dir))
			return 0; /* not examined: too long to be worth refusing */
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if (stat(dir, &st) != 0)
		return 0; /* the object itself was stat'ed; a vanished parent is no permission problem */
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
		say(err, errlen, dir, "folder writable by every user, without the sticky bit");
		return -EPERM;
	}
	return 0;
}

int mt_perm_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int rc, warn = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !*path) {
		say(err, errlen, "", "empty path");
		return -EINVAL;
	}
	if (stat(path, &st) != 0) {
		rc = -errno;
		say(err, errlen, path, strerror(-rc));
		return rc;
	}
	rc = check_parent(path, err, errlen);
	if (rc < 0)
		return rc;
	rc = check_one(path, &st, err, errlen);
	if (rc < 0)
		return rc;
	warn = rc;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		unsigned n = 0;
		char sub[4096], werr[512];

		if (!d) {
			rc = -errno;
			say(err, errlen, path, strerror(-rc));
			return rc;
		}
		while ((de = readdir(d)) && n++ < MT_PERM_MAX_ENTRIES) {
			struct stat fs;

			if (de->d_name[0] == '.')
				continue;
			if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
				continue;
			if (stat(sub, &fs) != 0 || !S_ISREG(fs.st_mode))
				continue;
			rc = check_one(sub, &fs, werr, sizeof(werr));
			if (rc < 0) {
				if (err && errlen)
					snprintf(err, errlen, "%s", werr);
				closedir(d);
				return rc;
			}
			if (rc > 0 && !warn) {
				warn = 1;
				if (err && errlen)
					snprintf(err, errlen, "%s", werr);
			}
		}
		closedir(d);
	}
	return warn;
}
