/* mt_run.h - running the minetrace program from a test and reading what it wrote. */
#ifndef MT_RUN_H
#define MT_RUN_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs argv with stdin from a file and stdout, stderr to files (NULL: /dev/null). Returns the exit status, or -1. */
static inline int mt_run_in(char *const argv[], const char *in, const char *out, const char *err)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int o = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int i = open(in ? in : "/dev/null", O_RDONLY);
		if (o < 0 || e < 0 || i < 0)
			_exit(126);
		dup2(i, 0);
		dup2(o, 1);
		dup2(e, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static inline int mt_run(char *const argv[], const char *out, const char *err)
{
	return mt_run_in(argv, NULL, out, err);
}

/* Reads a whole file (NUL-terminated); NULL if it cannot be read. Caller frees. */
static inline char *mt_slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (!fp)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			char *nb = realloc(buf, cap + 65536 + 1);
			if (!nb) {
				free(buf);
				fclose(fp);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
		if (r == 0)
			break;
	}
	fclose(fp);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static inline int mt_count_lines(const char *s)
{
	int n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

#endif
