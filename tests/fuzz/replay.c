/* replay.c - a main() for fuzz targets built without libFuzzer: runs LLVMFuzzerTestOneInput over saved inputs (regression tests). */
/*
 * Usage: fuzz_TARGET [-flag ...] PATH...
 * Each PATH is a file or a folder; folders are walked in name order,
 * recursively. Names that start with '.' or "README" are skipped (the
 * regress/ folders hold a README and a .keep). Arguments that start with
 * '-' are ignored, so a libFuzzer command line such as `-runs=0 DIR` works
 * with either build. An input that breaks an invariant aborts the process
 * after this runner has named the file on stderr.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

/* Targets that need set-up define it; the others leave it out. */
#pragma weak LLVMFuzzerInitialize

static const char *g_current; /* the input being run, for the crash message */
static unsigned long g_inputs;
static int g_verbose;

static void on_fatal(int sig)
{
	static const char pre[] = "replay: crashed on input ";
	const char *p = g_current ? g_current : "(none)";

	/* async-signal-safe: write(2) only */
	if (write(2, pre, sizeof(pre) - 1) < 0 || write(2, p, strlen(p)) < 0 ||
	    write(2, "\n", 1) < 0) {
		/* nothing more we can do */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static int skip_name(const char *name)
{
	return name[0] == '.' || strncmp(name, "README", 6) == 0;
}

static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	if (!fp) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t r;
		if (cap - n < 65536) {
			uint8_t *nb = realloc(buf, cap + 65536);
			if (!nb) {
				fprintf(stderr, "replay: %s: out of memory\n", path);
				free(buf);
				fclose(fp);
				return -1;
			}
			buf = nb;
			cap += 65536;
		}
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(fp)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		free(buf);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	/* An exact-size copy, as libFuzzer gives: one byte past it is a redzone under ASan. */
	{
		uint8_t *exact = mt_fuzz_dup(buf, n);
		free(buf);
		if (g_verbose)
			fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
		g_current = path;
		LLVMFuzzerTestOneInput(exact, n);
		g_current = NULL;
		free(exact);
	}
	g_inputs++;
	return 0;
}

static int run_path(const char *path)
{
	struct stat st;
	struct dirent **ents;
	int n, i, rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		char sub[4096];

		if (rc == 0 && !skip_name(ents[i]->d_name)) {
			if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name) >=
			    sizeof(sub)) {
				fprintf(stderr, "replay: %s/%s: path too long\n", path, ents[i]->d_name);
				rc = -1;
			} else {
				rc = run_path(sub);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int main(int argc, char **argv)
{
	static const int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
	int i, npaths = 0;
	const char *v = getenv("MT_FUZZ_VERBOSE");

	g_verbose = v && *v && strcmp(v, "0") != 0;
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		signal(sigs[i], on_fatal);
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		npaths++;
		if (run_path(argv[i]) < 0)
			return 2;
	}
	if (npaths == 0) {
		fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n", argv[0]);
		return 2;
	}
	printf("replay: %lu inputs from %d paths ran without a finding\n", g_inputs, npaths);
	return 0;
}
