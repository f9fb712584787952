/* test_capture_live.c - AF_PACKET rings: settings checked, filter, and both directions of a flow on one fanout member. */
#define _GNU_SOURCE /* unshare */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "mt_test.h"

#define NFLOWS 32
#define CLI_PORT 20000
#define SRV_PORT 20500

START_TEST(test_bad_settings)
{
	const char *lo[] = {"lo"};
	mt_live_cfg cfg;
	char err[256];

	mt_live_cfg_default(&cfg);
	ck_assert_uint_eq(cfg.ring_size % cfg.block_size, 0);
	cfg.block_size = 3000; /* not a power of two */
	ck_assert_ptr_null(mt_live_open(lo, 1, NULL, NULL, &cfg, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "power of two"));
	mt_live_cfg_default(&cfg);
	cfg.ring_size = cfg.block_size * 3 + 4096; /* not a multiple */
	ck_assert_ptr_null(mt_live_open(lo, 1, NULL, NULL, &cfg, err, sizeof(err)));
	mt_live_cfg_default(&cfg);
	cfg.block_timeout_ms = 0;
	ck_assert_ptr_null(mt_live_open(lo, 1, NULL, NULL, &cfg, err, sizeof(err)));
	mt_live_cfg_default(&cfg);
	ck_assert_ptr_null(mt_live_open(lo, 0, NULL, NULL, &cfg, err, sizeof(err)));
	ck_assert_ptr_null(mt_live_open(lo, MT_LIVE_MAX_IFACES + 1, NULL, NULL, &cfg, err, sizeof(err)));
}
END_TEST

START_TEST(test_no_such_interface)
{
	const char *bad[] = {"mt-nonexist0"};
	mt_live_cfg cfg;
	char err[256];

	mt_live_cfg_default(&cfg);
	ck_assert_ptr_null(mt_live_open(bad, 1, NULL, NULL, &cfg, err, sizeof(err)));
	/* Without root the socket itself is refused first; either way a reason is given. */
	ck_assert(strstr(err, "no such interface") || strstr(err, "CAP_NET_RAW"));
}
END_TEST

typedef struct seen {
	int worker;
	uint8_t mask[NFLOWS];   /* which workers saw the flow */
	int count[NFLOWS];      /* frames of the flow */
	int stray;              /* frames the filter should have dropped */
} seen;

static seen g_seen;

/* Ethernet (zero addresses on lo) + IPv4 + UDP: the flow is the lower port's index. */
static void on_frame(void *ctx, int linktype, uint64_t ts_us, const uint8_t *d, uint32_t cap, uint32_t wire)
{
	int w = *(int *)ctx, sp, dp, ihl, idx;

	(void)ts_us;
	(void)wire;
	ck_assert_int_eq(linktype, 1);
	if (cap < 14 + 20 + 8 || d[12] != 0x08 || d[13] != 0x00 || d[23] != 17) {
		g_seen.stray++;
		return;
	}
	ihl = (d[14] & 0x0f) * 4;
	if (cap < (uint32_t)(14 + ihl + 8)) {
		g_seen.stray++;
		return;
	}
	sp = d[14 + ihl] << 8 | d[14 + ihl + 1];
	dp = d[14 + ihl + 2] << 8 | d[14 + ihl + 3];
	idx = (sp < dp ? sp : dp) - CLI_PORT;
	if (idx < 0 || idx >= NFLOWS || (sp > dp ? sp : dp) != SRV_PORT + idx) {
		g_seen.stray++;
		return;
	}
	g_seen.mask[idx] |= (uint8_t)(1u << w);
	g_seen.count[idx]++;
}

static int udp_bound(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void udp_send(int fd, int port, const char *msg)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)strlen(msg));
}

/* In a network namespace of its own (root only): lo up, two workers in one fanout group. */
START_TEST(test_fanout_symmetric)
{
	const char *lo[] = {"lo"};
	mt_live *l[2];
	mt_live_cfg cfg;
	mt_live_stats st[2];
	struct ifreq ifr;
	char err[256];
	int cli[NFLOWS], srv[NFLOWS], ids[2] = {0, 1}, i, w, fd, total = 0, tries, other, group = -1;
	uint64_t kernel = 0;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		printf("capture_live: fanout test skipped (needs root and network namespaces)\n");
		return;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	ck_assert_int_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	ck_assert_int_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
	close(fd);

	mt_live_cfg_default(&cfg);
	cfg.ring_size = 1u << 20;
	cfg.block_size = 1u << 16;
	cfg.block_timeout_ms = 5;
	for (w = 0; w < 2; w++) {
		l[w] = mt_live_open(lo, 1, &group, "udp and portrange 20000-20999", &cfg, err, sizeof(err));
		ck_assert_msg(l[w] != NULL, "%s", err);
		ck_assert_int_ge(group, 0); /* the kernel's id, which the second worker joins */
	}
	/* Traffic before the start is not captured (the pass-nothing filter). */
	other = udp_bound(CLI_PORT - 1); /* outside the filter's port range */
	udp_send(other, SRV_PORT, "early");
	for (w = 0; w < 2; w++)
		ck_assert_int_eq(mt_live_start(l[w], err, sizeof(err)), 0);
	for (i = 0; i < NFLOWS; i++) {
		cli[i] = udp_bound(CLI_PORT + i);
		srv[i] = udp_bound(SRV_PORT + i);
	}
	for (i = 0; i < NFLOWS; i++) {
		udp_send(cli[i], SRV_PORT + i, "ping");
		udp_send(srv[i], CLI_PORT + i, "pong");
		udp_send(other, 30000, "filtered"); /* neither port in the range */
	}
	/* lo shows each packet twice (sent and received): 4 frames per flow. */
	for (tries = 0; tries < 200 && total < NFLOWS * 4; tries++) {
		for (w = 0; w < 2; w++) {
			int n = mt_live_dispatch(l[w], 10, on_frame, &ids[w], NULL, err, sizeof(err));
			ck_assert_msg(n >= 0, "%s", err);
			total += n;
		}
	}
	ck_assert_int_eq(total, NFLOWS * 4);
	ck_assert_int_eq(g_seen.stray, 0);
	for (i = 0; i < NFLOWS; i++) {
		ck_assert_int_eq(g_seen.count[i], 4);
		/* Both directions at the same worker, never split. */
		ck_assert_msg(g_seen.mask[i] == 1 || g_seen.mask[i] == 2, "flow %d at workers %d", i, g_seen.mask[i]);
	}
	for (w = 0; w < 2; w++) {
		mt_live_stats_get(l[w], &st[w]);
		ck_assert_uint_eq(st[w].drops, 0);
		kernel += st[w].packets;
	}
	ck_assert_uint_eq(kernel, NFLOWS * 4);
	/* The counters accumulate: a second read adds nothing new. */
	mt_live_stats_get(l[0], &st[1]);
	ck_assert_uint_eq(st[1].packets, st[0].packets);
	{
		int on0 = 0;
		for (i = 0; i < NFLOWS; i++)
			on0 += g_seen.mask[i] == 1;
		ck_assert_msg(on0 > 0 && on0 < NFLOWS, "all %d flows at one worker", NFLOWS);
	}
	for (i = 0; i < NFLOWS; i++) {
		close(cli[i]);
		close(srv[i]);
	}
	close(other);
	mt_live_close(l[0]);
	mt_live_close(l[1]);
	mt_live_close(NULL);
}
END_TEST

/* A bad filter is refused with libpcap's reason (no socket is needed to learn that as root). */
START_TEST(test_bad_filter)
{
	const char *lo[] = {"lo"};
	mt_live_cfg cfg;
	char err[256];

	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		printf("capture_live: filter test skipped (needs root)\n");
		return;
	}
	mt_live_cfg_default(&cfg);
	cfg.ring_size = 1u << 20;
	ck_assert_ptr_null(mt_live_open(lo, 1, NULL, "port nonsense", &cfg, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "bad filter"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("capture_live");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_bad_settings);
	tcase_add_test(tc, test_no_such_interface);
	tcase_add_test(tc, test_fanout_symmetric);
	tcase_add_test(tc, test_bad_filter);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
