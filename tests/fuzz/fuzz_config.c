/* fuzz_config.c - fuzz target: the config file reader (mt_config_load) and its number parser. */
/*
 * The input is the file: written to a memfd and loaded by path, as
 * `minetrace --config FILE` does. On success every value must be inside the
 * range its key documents (cli/config.c's table, mirrored below); on failure
 * the message must be "PATH:LINE: reason" or "PATH: reason", inside err.
 * The input's first line also goes through mt_config_parse_u64, checked
 * against an independent reading of its documented grammar.
 */
#include "fuzz.h"

#include "cli/config.h"
#include "util/log.h"

static mt_fuzz_file g_file;

/* Decimal digits, then (size only) K/M/G with an optional "B" or "iB"; no overflow. */
static int ref_u64(const char *s, int size, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	size_t i = 0;

	if (!(s[0] >= '0' && s[0] <= '9'))
		return -1;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (__builtin_mul_overflow(v, 10u, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
			return -1;
	}
	if (s[i] && size) {
		switch (s[i] | 0x20) {
		case 'k': mul = 1ull << 10; break;
		case 'm': mul = 1ull << 20; break;
		case 'g': mul = 1ull << 30; break;
		default: return -1;
		}
		if (s[i] != 'k' && s[i] != 'K' && s[i] != 'm' && s[i] != 'M' && s[i] != 'g' && s[i] != 'G')
			return -1;
		i++;
		if (s[i] == 'i' && s[i + 1] == 'B')
			i += 2;
		else if (s[i] == 'B')
			i++;
	}
	if (s[i])
		return -1;
	if (__builtin_mul_overflow(v, mul, &v))
		return -1;
	*out = v;
	return 0;
}

static void check_u64(const uint8_t *data, size_t size)
{
	char s[80];
	size_t n = 0;
	int size_mode;

	while (n < size && n < sizeof(s) - 1 && data[n] != '\n' && data[n] != '\0')
		n++;
	memcpy(s, data, n);
	s[n] = '\0';
	for (size_mode = 0; size_mode <= 1; size_mode++) {
		uint64_t got = 0, want = 0;
		int r = mt_config_parse_u64(s, size_mode, &got);
		int w = ref_u64(s, size_mode, &want);

		MT_FUZZ_CHECK(r == 0 || r == -1);
		MT_FUZZ_CHECK(r == w);
		if (r == 0)
			MT_FUZZ_CHECK(got == want);
	}
}

static int is_bool(int v)
{
	return v == 0 || v == 1;
}

static void check_loaded(const mt_config *c)
{
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(c->output, sizeof(c->output)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(c->filter, sizeof(c->filter)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(c->plugin_dir, sizeof(c->plugin_dir)));
	MT_FUZZ_CHECK(mt_fuzz_cstr_ok(c->log_level, sizeof(c->log_level)));
	MT_FUZZ_CHECK(strcmp(c->log_level, "error") == 0 || strcmp(c->log_level, "warning") == 0 ||
		      strcmp(c->log_level, "info") == 0 || strcmp(c->log_level, "debug") == 0);
	MT_FUZZ_CHECK(is_bool(c->stats) && is_bool(c->eng.ndpi));
	MT_FUZZ_CHECK(c->eng.update_interval <= 86400);
	MT_FUZZ_CHECK(c->eng.flow.max_flows >= 16 && c->eng.flow.max_flows <= 100000000);
	MT_FUZZ_CHECK(c->eng.flow.memcap >= 1u << 20);
	MT_FUZZ_CHECK(c->eng.flow.tcp_new_timeout >= 1 && c->eng.flow.tcp_new_timeout <= 86400 * 7);
	MT_FUZZ_CHECK(c->eng.flow.tcp_est_timeout >= 1 && c->eng.flow.tcp_est_timeout <= 86400 * 7);
	MT_FUZZ_CHECK(c->eng.flow.tcp_closed_timeout <= 86400);
	MT_FUZZ_CHECK(c->eng.flow.udp_timeout >= 1 && c->eng.flow.udp_timeout <= 86400 * 7);
	MT_FUZZ_CHECK(c->eng.stream.max_bytes >= 256 && c->eng.stream.max_bytes <= MT_STREAM_HARD_MAX_BYTES);
	MT_FUZZ_CHECK(c->eng.stream.window >= 1024 && c->eng.stream.window <= 16u << 20);
	MT_FUZZ_CHECK(c->eng.stream.max_segs >= 1 && c->eng.stream.max_segs <= 4096);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mt_log_set_level(-1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_config c;
	char err[512];
	int rc;

	if (size > 1u << 20)
		return 0;
	check_u64(data, size);
	mt_fuzz_file_write(&g_file, data, size);
	mt_config_default(&c);
	memset(err, 'x', sizeof(err));
	rc = mt_config_load(&c, g_file.path, err, sizeof(err));
	MT_FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		check_loaded(&c);
	} else {
		size_t pl = strlen(g_file.path);
		MT_FUZZ_CHECK(mt_fuzz_cstr_ok(err, sizeof(err)));
		MT_FUZZ_CHECK(strncmp(err, g_file.path, pl) == 0 && err[pl] == ':');
		MT_FUZZ_CHECK(strchr(err, '\n') == NULL);
	}
	return 0;
}
