/* test_sink_redis.c - tests of the Redis hit store sink against a redis-server started here. */
#include <check.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sink/redis.h"

static pid_t srv_pid;
static int srv_port;

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

static int have_server(void)
{
	return access("/usr/bin/redis-server", X_OK) == 0;
}

static void start_server(void)
{
	srv_port = free_port();
	char port[16];
	snprintf(port, sizeof(port), "%d", srv_port);
	srv_pid = fork();
	if (srv_pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execl("/usr/bin/redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
		      "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		redisContext *c = redisConnect("127.0.0.1", srv_port);
		int ok = c && !c->err;
		redisFree(c);
		if (ok)
			return;
		usleep(20000);
	}
	ck_abort_msg("redis-server did not start");
}

static void stop_server(void)
{
	if (srv_pid > 0) {
		kill(srv_pid, SIGKILL);
		waitpid(srv_pid, NULL, 0);
		srv_pid = 0;
	}
}

static long long qint(const char *a0, const char *a1, const char *a2)
{
	redisContext *c = redisConnect("127.0.0.1", srv_port);
	const char *argv[3] = { a0, a1, a2 };
	redisReply *r = redisCommandArgv(c, a2 ? 3 : 2, argv, NULL);
	long long v = -1;
	if (r && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r && r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	redisFree(c);
	return v;
}

static mt_sink *open_sink(void)
{
	char url[64], err[256];
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", srv_port);
	mt_redis_cfg cfg = { .url = url, .probe_id = "p1", .batch = 64 };
	mt_sink *s = mt_sink_redis_open(&cfg, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	return s;
}

static int rec(char *buf, size_t cap, int ip, int seq)
{
	return snprintf(buf, cap,
			"{\"src_ip\":\"10.0.0.%d\",\"community_id\":\"1:abc%d\",\"flow\":{\"start\":%d},"
			"\"hit\":{\"seq\":%d},\"event_type\":\"hit\",\"mining\":{\"protocol\":\"stratum\","
			"\"coin\":\"xmr\",\"pool_host\":\"pool.example\",\"wallet\":\"W%d\",\"worker\":\"w\","
			"\"agent\":\"xmrig\"},\"miner\":{\"geo\":{\"country\":\"CN\",\"subdivision\":\"BJ\","
			"\"city\":\"Beijing\"},\"asn\":{\"number\":4134,\"org\":\"X\"},\"enterprise\":{"
			"\"company\":\"C\",\"credit_code\":\"CC%d\",\"site_address\":\"A\",\"kind\":\"k\"},"
			"\"verdict\":\"confirmed\"}}",
			ip, ip, 1000 + seq, seq, ip, ip);
}

static void write_n(mt_sink *s, int nip, int nseq)
{
	char b[1024];
	for (int i = 0; i < nip; i++)
		for (int q = 0; q < nseq; q++) {
			int n = rec(b, sizeof(b), i, q);
			ck_assert_int_eq(s->write(s, b, (size_t)n), 0);
		}
}

START_TEST(t_store)
{
	if (!have_server()) {
		printf("redis-server not installed: skipped\n");
		return;
	}
	start_server();
	mt_sink *s = open_sink();
	write_n(s, 10, 20);
	ck_assert_int_eq(s->flush(s), 0);
	mt_redis_stats st;
	mt_sink_redis_get_stats(s, &st);
	ck_assert_uint_eq(st.sent, 200);
	ck_assert_uint_eq(st.duplicates, 0);
	ck_assert_int_eq(qint("XLEN", "mt:hits", NULL), 200);
	ck_assert_int_eq(qint("HGET", "mt:site:{10.0.0.3}", "hits"), 20);
	ck_assert_int_eq(qint("HGET", "mt:site:{10.0.0.3}", "first_seen"), 1000);
	ck_assert_int_eq(qint("HGET", "mt:site:{10.0.0.3}", "last_seen"), 1019);
	ck_assert_int_eq(qint("ZCARD", "mt:sites", NULL), 10);
	ck_assert_int_eq(qint("SCARD", "mt:idx:pool:pool.example", NULL), 10);
	ck_assert_int_eq(qint("SCARD", "mt:idx:wallet:W3", NULL), 1);
	ck_assert_int_eq(qint("SCARD", "mt:idx:company:CC3", NULL), 1);
	ck_assert_int_eq(qint("SCARD", "mt:idx:region:CN:BJ", NULL), 10);
	ck_assert_int_eq(qint("SCARD", "mt:idx:asn:4134", NULL), 10);
	ck_assert_int_eq(qint("SCARD", "mt:idx:probe:p1", NULL), 10);
	ck_assert_int_eq(qint("SCARD", "mt:site:{10.0.0.3}:protocols", NULL), 1);
	/* the same records again: nothing changes */
	write_n(s, 10, 20);
	ck_assert_int_eq(s->flush(s), 0);
	mt_sink_redis_get_stats(s, &st);
	ck_assert_uint_eq(st.duplicates, 200);
	ck_assert_int_eq(qint("XLEN", "mt:hits", NULL), 200);
	ck_assert_int_eq(qint("HGET", "mt:site:{10.0.0.3}", "hits"), 20);
	ck_assert_int_eq(s->close(s), 0);
	stop_server();
}
END_TEST

START_TEST(t_two_procs)
{
	if (!have_server())
		return;
	start_server();
	pid_t k[2];
	for (int i = 0; i < 2; i++) {
		k[i] = fork();
		if (k[i] == 0) {
			mt_sink *s = open_sink();
			write_n(s, 20, 50);
			_exit(s->close(s) == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < 2; i++) {
		int stt;
		waitpid(k[i], &stt, 0);
		ck_assert(WIFEXITED(stt) && WEXITSTATUS(stt) == 0);
	}
	ck_assert_int_eq(qint("XLEN", "mt:hits", NULL), 1000);
	ck_assert_int_eq(qint("HGET", "mt:site:{10.0.0.7}", "hits"), 50);
	stop_server();
}
END_TEST

START_TEST(t_bench)
{
	if (!have_server())
		return;
	start_server();
	mt_sink *s = open_sink();
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	write_n(s, 100, 500);
	ck_assert_int_eq(s->flush(s), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double dt = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("bench: 50000 hits in %.3f s = %.0f hits/s\n", dt, 50000 / dt);
	ck_assert_int_eq(qint("XLEN", "mt:hits", NULL), 50000);
	s->close(s);
	stop_server();
}
END_TEST

START_TEST(t_url)
{
	mt_redis_url u;
	ck_assert_int_eq(mt_redis_url_parse("redis://h:1/2", &u), 0);
	ck_assert_str_eq(u.host, "h");
	ck_assert_int_eq(u.port, 1);
	ck_assert_int_eq(u.db, 2);
	ck_assert_int_eq(mt_redis_url_parse("redis://u:p@h:6380/0", &u), 0);
	ck_assert_str_eq(u.user, "u");
	ck_assert_str_eq(u.pass, "p");
	ck_assert_int_eq(mt_redis_url_parse("redis://pw@h", &u), 0);
	ck_assert_str_eq(u.pass, "pw");
	ck_assert_str_eq(u.user, "");
	ck_assert_int_eq(u.port, 6379);
	ck_assert_int_eq(mt_redis_url_parse("redis://[::1]:7000", &u), 0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(mt_redis_url_parse("unix:///tmp/r.sock?db=3", &u), 0);
	ck_assert_str_eq(u.path, "/tmp/r.sock");
	ck_assert_int_eq(u.db, 3);
	const char *bad[] = { NULL, "", "http://h", "redis://", "redis://h:", "redis://h:0",
			      "redis://h:65536", "redis://h:1x", "redis://h/x", "redis://h/16",
			      "unix://", "unix://rel", "unix:///p?x=1", "unix:///p?db=",
			      "redis://@h", "redis://u:@h", "redis://[::1", "redis://h:-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(mt_redis_url_parse(bad[i], &u) == -EINVAL, "%s", bad[i] ? bad[i] : "NULL");
	/* every truncation of a good URL: no crash */
	const char *g = "redis://user:pass@host.example:6380/5";
	char t[64];
	for (size_t n = 0; n <= strlen(g); n++) {
		memcpy(t, g, n);
		t[n] = '\0';
		(void)mt_redis_url_parse(t, &u);
	}
}
END_TEST

START_TEST(t_no_format_commands)
{
	FILE *f = fopen(SRCDIR "/src/sink/redis.c", "r");
	ck_assert_ptr_nonnull(f);
	char line[1024];
	int bad = 0;
	while (fgets(line, sizeof(line), f)) {
		for (char *p = line; (p = strstr(p, "redis")) != NULL; p++) {
			if (!strncmp(p, "redisCommand(", 13) || !strncmp(p, "redisAppendCommand(", 19) ||
			    !strncmp(p, "redisvCommand", 13) || !strncmp(p, "redisvAppendCommand", 19))
				bad++;
		}
	}
	fclose(f);
	ck_assert_int_eq(bad, 0);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("sink_redis");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t_url);
	tcase_add_test(tc, t_no_format_commands);
	tcase_add_test(tc, t_store);
	tcase_add_test(tc, t_two_procs);
	tcase_add_test(tc, t_bench);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
