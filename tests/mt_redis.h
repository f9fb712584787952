/* mt_redis.h - throwaway redis-server instances on free loopback ports for the Redis tests. */
#ifndef MT_REDIS_H
#define MT_REDIS_H

#include <check.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MT_REDIS_SERVER "/usr/bin/redis-server"

typedef struct mt_rsrv {
	pid_t pid;
	int port;
	char dir[256];
	int aof, cluster;
} mt_rsrv;

static inline int mt_rsrv_have(void)
{
	return access(MT_REDIS_SERVER, X_OK) == 0;
}

/* Exits 77 (meson: skipped) when redis-server is not installed. */
static inline void mt_rsrv_require(void)
{
	if (!mt_rsrv_have()) {
		printf("redis-server not installed: skipped\n");
		exit(77);
	}
}

static inline int mt_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	int p = ntohs(a.sin_port);
	/* cluster bus = port + 10000 must fit too */
	return p < 55000 ? p : mt_free_port();
}

static inline int mt_rsrv_ping(int port)
{
	struct timeval tv = { 0, 300000 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
	int ok = 0;
	if (c && !c->err) {
		redisSetTimeout(c, tv);
		const char *a[1] = { "PING" };
		redisReply *r = redisCommandArgv(c, 1, a, NULL);
		ok = r && r->type == REDIS_REPLY_STATUS;
		if (r)
			freeReplyObject(r);
	}
	redisFree(c);
	return ok;
}

/* Starts (or restarts, same port and folder) a server; waits until it answers PING. */
static inline void mt_rsrv_start(mt_rsrv *s)
{
	char port[16];
	if (!s->port)
		s->port = mt_free_port();
	if (!s->dir[0]) {
		snprintf(s->dir, sizeof(s->dir), "/tmp/mt-redis-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(s->dir));
	}
	snprintf(port, sizeof(port), "%d", s->port);
	s->pid = fork();
	if (s->pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execl(MT_REDIS_SERVER, "redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", s->dir,
		      "--save", "", "--appendonly", s->aof ? "yes" : "no", "--appendfsync", "always",
		      "--cluster-enabled", s->cluster ? "yes" : "no", "--cluster-config-file", "nodes.conf",
		      "--daemonize", "no", "--loglevel", "warning", "--protected-mode", "no", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if (mt_rsrv_ping(s->port))
			return;
		usleep(10000);
	}
	ck_abort_msg("redis-server on port %d did not start", s->port);
}

/* Stops the server: sig SIGKILL (crash) or SIGTERM (clean shutdown). */
static inline void mt_rsrv_stop(mt_rsrv *s, int sig)
{
	if (s->pid > 0) {
		kill(s->pid, SIGCONT);
		kill(s->pid, sig);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

static inline void mt_rsrv_cleanup(mt_rsrv *s)
{
	char cmd[300];
	mt_rsrv_stop(s, SIGKILL);
	if (s->dir[0] && strncmp(s->dir, "/tmp/mt-redis-", 14) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0) {
			/* left behind in /tmp */
		}
	}
}

/* One command (argv) on port; the reply (caller frees) or NULL. */
static inline redisReply *mt_rq(int port, int argc, const char **argv)
{
	redisContext *c = redisConnect("127.0.0.1", port);
	redisReply *r = NULL;
	if (c && !c->err)
		r = redisCommandArgv(c, argc, argv, NULL);
	redisFree(c);
	return r;
}

/* Integer result of a command (strings are parsed), -1 on error or nil. */
static inline long long mt_rqi(int port, const char *a0, const char *a1, const char *a2)
{
	const char *argv[3] = { a0, a1, a2 };
	redisReply *r = mt_rq(port, a1 ? (a2 ? 3 : 2) : 1, argv);
	long long v = -1;
	if (r && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r && r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	if (r)
		freeReplyObject(r);
	return v;
}

/* String result (copied into out), "" on nil or error. */
static inline const char *mt_rqs(int port, const char *a0, const char *a1, const char *a2, char *out, size_t n)
{
	const char *argv[3] = { a0, a1, a2 };
	redisReply *r = mt_rq(port, a2 ? 3 : 2, argv);
	out[0] = '\0';
	if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
		snprintf(out, n, "%s", r->str);
	if (r)
		freeReplyObject(r);
	return out;
}

#endif
