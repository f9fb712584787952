/* rusage-run - runs one command and writes its wall time, user and system CPU time and peak RSS to a file. */
/*
 * The wrapper is a few hundred KiB, so the peak RSS that wait4() reports for its child is the
 * command's own (a Python parent that forks or vforks would leave its own RSS in the child's
 * ru_maxrss). Wall time is CLOCK_MONOTONIC from just before fork() to just after wait4().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double tv_seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static double ts_seconds(struct timespec ts)
{
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	FILE *out;
	pid_t pid, got;
	int status = 0, code, sig = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: rusage-run OUTFILE COMMAND [ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "rusage-run: fork: %s\n", strerror(errno));
		return 125;
	}
	if (pid == 0) {
		execvp(argv[2], &argv[2]);
		fprintf(stderr, "rusage-run: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	do {
		got = wait4(pid, &status, 0, &ru);
	} while (got < 0 && errno == EINTR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (got < 0) {
		fprintf(stderr, "rusage-run: wait4: %s\n", strerror(errno));
		return 125;
	}
	if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
	} else {
		sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
		code = 128 + sig;
	}
	out = fopen(argv[1], "w");
	if (out == NULL) {
		fprintf(stderr, "rusage-run: %s: %s\n", argv[1], strerror(errno));
		return 125;
	}
	/* ru_maxrss is in KiB on Linux. */
	fprintf(out, "wall_s=%.6f user_s=%.6f sys_s=%.6f maxrss_kb=%ld exit=%d signal=%d\n",
		ts_seconds(t1) - ts_seconds(t0), tv_seconds(ru.ru_utime), tv_seconds(ru.ru_stime),
		ru.ru_maxrss, code, sig);
	if (fclose(out) != 0) {
		fprintf(stderr, "rusage-run: %s: %s\n", argv[1], strerror(errno));
		return 125;
	}
	return code;
}
