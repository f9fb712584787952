/* fuzz_sigs.c - fuzz target: the signature folder loader (mt_sigs_load, mt_sigs_check) and its lookups. */
/*
 * Input: records until the end, each
 *   file u8   index into files[] (mod 6)
 *   len  u16  bytes (fewer if the input ends), appended to that file
 * written into a private temporary folder (files an input does not name are
 * absent, which the loader treats as empty). Checks: load and check agree on
 * validity; a loaded set finds each plain entry of its own files (a domain,
 * an address of a network, a port, a magic, a method, an agent prefix as
 * signatures/README.md defines them: PREFIX is all before the last field);
 * lookups with arbitrary bytes never misbehave.
 */
#include "fuzz.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "detect/sigs.h"
#include "util/log.h"

static const char *const files[6] = {
	"pool-domains.txt", "pool-ips.txt", "miner-agents.txt",
	"methods.txt",      "p2p-magics.txt", "ports.txt",
};

static char g_dir[256];
static FILE *g_null;

static void cleanup(void)
{
	char p[512];
	int i;

	for (i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "%s/%s", g_dir, files[i]);
		unlink(p);
	}
	rmdir(g_dir);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	if (g_dir[0])
		return;
	mt_log_set_level(-1);
	snprintf(g_dir, sizeof(g_dir), "%s/mt-fuzz-sigs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(g_dir)) {
		perror("mkdtemp");
		abort();
	}
	atexit(cleanup);
	g_null = fopen("/dev/null", "w");
	if (!g_null)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup();
	return 0;
}

/* The files' contents, kept to derive expected lookups from. */
typedef struct content {
	uint8_t *b[6];
	size_t n[6];
} content;

static void append(content *c, int f, const uint8_t *p, size_t n)
{
	uint8_t *nb = realloc(c->b[f], c->n[f] + n + 1);

	if (!nb)
		abort();
	memcpy(nb + c->n[f], p, n);
	c->n[f] += n;
	nb[c->n[f]] = '\0';
	c->b[f] = nb;
}

static void write_files(const content *c)
{
	char p[512];
	int i;

	for (i = 0; i < 6; i++) {
		int fd;
		size_t off = 0;

		snprintf(p, sizeof(p), "%s/%s", g_dir, files[i]);
		unlink(p);
		if (!c->b[i])
			continue;
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			abort();
		while (off < c->n[i]) {
			ssize_t w = write(fd, c->b[i] + off, c->n[i] - off);
			if (w <= 0)
				abort();
			off += (size_t)w;
		}
		close(fd);
	}
}

static int plain(const char *s, const char *allowed)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!strchr(allowed, *s))
			return 0;
	return 1;
}

/* The next white-space separated field of *p (NUL-terminated in place), or NULL. */
static char *field(char **p)
{
	char *s = *p, *b;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	if (!*s)
		return NULL;
	b = s;
	while (*s && *s != ' ' && *s != '\t' && *s != '\r')
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return b;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* Each line of file f split into its first two white-space separated fields (comment-free lines only). */
static void expect(const mt_sigs *s, const content *c, int f)
{
	char line[MT_SIGS_MAX_LINE + 1];
	const char *p, *end;

	if (!c->b[f])
		return;
	p = (const char *)c->b[f];
	end = p + c->n[f];
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		char *a, *b, *cur = line;

		if (n < sizeof(line) && !memchr(p, '#', n) && !memchr(p, '\0', n)) {
			memcpy(line, p, n);
			line[n] = '\0';
			a = field(&cur);
			b = a ? field(&cur) : NULL;
			if (a) {
				switch (f) {
				case 0:
					if (plain(a, ALNUM ".-"))
						MT_FUZZ_CHECK(mt_sigs_pool_domain(s, a, strlen(a), NULL) != NULL);
					break;
				case 1: {
					uint8_t addr[16];
					char *slash = strchr(a, '/');
					if (slash)
						*slash = '\0';
					if (inet_pton(AF_INET, a, addr) == 1)
						MT_FUZZ_CHECK(mt_sigs_pool_ip(s, 4, addr, NULL) == 1);
					else if (inet_pton(AF_INET6, a, addr) == 1)
						MT_FUZZ_CHECK(mt_sigs_pool_ip(s, 6, addr, NULL) == 1);
					break;
				}
				case 2: {
					/* PREFIX is everything before the last field (it may hold single spaces) */
					char *last = NULL, *f2;
					size_t pl;
					memcpy(line, p, n);
					line[n] = '\0';
					cur = line;
					while ((f2 = field(&cur)) != NULL)
						last = f2;
					pl = last ? (size_t)(last - line) : 0;
					memcpy(line, p, n);
					while (pl > 0 && (line[pl - 1] == ' ' || line[pl - 1] == '\t' ||
							  line[pl - 1] == '\0'))
						pl--;
					a = line;
					while (pl > 0 && (*a == ' ' || *a == '\t')) {
						a++;
						pl--;
					}
					if (pl > 0)
						MT_FUZZ_CHECK(mt_sigs_agent(s, a, pl) != NULL);
					break;
				}
				case 3:
					if (b && plain(b, ALNUM "._-"))
						MT_FUZZ_CHECK(mt_sigs_method(s, a, b, strlen(b)) == 1);
					break;
				case 4:
					if (strlen(a) == 8 && plain(a, "0123456789abcdefABCDEF"))
						MT_FUZZ_CHECK(mt_sigs_p2p_magic(s, (uint32_t)strtoul(a, NULL, 16)) != NULL);
					break;
				case 5:
					if (plain(a, "0123456789") && strlen(a) <= 5 && strtoul(a, NULL, 10) <= 65535)
						MT_FUZZ_CHECK(mt_sigs_port(s, (uint16_t)strtoul(a, NULL, 10)) != NULL);
					break;
				}
			}
		}
		p += n + 1;
	}
}

/* Arbitrary bytes (the input itself) as a host, an agent, a method: never out of bounds. */
static void probe(const mt_sigs *s, const uint8_t *data, size_t size)
{
	static const uint8_t zero[16];
	const char *coin = NULL;
	size_t n = size < 300 ? size : 300;
	char *q = (char *)mt_fuzz_dup(data, n);
	const char *m;

	m = mt_sigs_pool_domain(s, q, n, &coin);
	if (m)
		MT_FUZZ_CHECK(coin != NULL);
	mt_sigs_agent(s, q, n);
	mt_sigs_method(s, "stratum-client", q, n);
	mt_sigs_pool_ip(s, 4, n >= 4 ? (const uint8_t *)q : zero, NULL);
	mt_sigs_pool_ip(s, 6, n >= 16 ? (const uint8_t *)q : zero, NULL);
	if (n >= 4)
		mt_sigs_p2p_magic(s, (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
					     (uint32_t)data[2] << 8 | data[3]);
	mt_sigs_port(s, n >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0);
	free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_fuzz_in in;
	content c;
	mt_sigs *s;
	char err[512];
	int problems, i;

	setup();
	if (size > 1u << 20)
		return 0;
	memset(&c, 0, sizeof(c));
	mt_fuzz_in_init(&in, data, size);
	while (mt_fuzz_left(&in) >= 3) {
		int f = mt_fuzz_u8(&in) % 6;
		size_t want = mt_fuzz_u16(&in), got;
		const uint8_t *p = mt_fuzz_bytes(&in, want, &got);
		append(&c, f, p, got);
	}
	write_files(&c);

	memset(err, 'x', sizeof(err));
	s = mt_sigs_load(g_dir, err, sizeof(err));
	problems = mt_sigs_check(g_dir, g_null);
	MT_FUZZ_CHECK(problems >= 0);
	/* the same rules decide both */
	MT_FUZZ_CHECK((s != NULL) == (problems == 0));
	if (!s) {
		MT_FUZZ_CHECK(mt_fuzz_cstr_ok(err, sizeof(err)) && err[0] != '\0');
	} else {
		for (i = 0; i < 6; i++)
			expect(s, &c, i);
		probe(s, data, size);
		mt_sigs_free(s);
	}
	for (i = 0; i < 6; i++)
		free(c.b[i]);
	return 0;
}
