/* test_detect_detect.c - the detector registry: built-in table, API versions, names, plugin folders. */
#include <errno.h>
#include <unistd.h>

#include "detect/detect.h"
#include "mt_test.h"

static int nop_packet(void *g, void *st, const mt_flow_view *fv, const mt_pkt_view *pv, mt_evidence *ev)
{
	(void)g, (void)st, (void)fv, (void)pv, (void)ev;
	return MT_UNDECIDED;
}

static int inits, finis;

static int count_init(void **g, const mt_detector_env *env)
{
	(void)env;
	*g = &inits;
	inits++;
	return 0;
}

static void count_fini(void *g)
{
	ck_assert_ptr_eq(g, &inits);
	finis++;
}

START_TEST(test_builtins)
{
	mt_detect_reg r;
	uint32_t i;
	int found = 0;

	ck_assert_int_eq(mt_detect_reg_init(&r, 1, NULL, NULL), 0);
	ck_assert_uint_ge(r.n, 1);
	for (i = 0; i < r.n; i++) {
		ck_assert_uint_eq(r.det[i]->api_version, MT_DETECTOR_API_VERSION);
		ck_assert_str_eq(r.origin[i], "builtin");
		if (strcmp(r.det[i]->name, "stratum") == 0) {
			found = 1;
			ck_assert(r.tcp_mask & (1u << i));
		}
		ck_assert_uint_eq(r.state_off[i] % 16, 0);
	}
	ck_assert(found);
	mt_detect_reg_fini(&r);
	ck_assert_uint_eq(r.n, 0);
}
END_TEST

START_TEST(test_add_rules)
{
	mt_detect_reg r;
	mt_detector_env env = {MT_DETECTOR_API_VERSION, NULL, NULL};
	mt_detector a = {MT_DETECTOR_API_VERSION, "a", "test", MT_WANT_UDP, 0, 24, count_init, count_fini, nop_packet, NULL, NULL, NULL};
	mt_detector old = a, dup = a, noname = a;

	old.api_version = MT_DETECTOR_API_VERSION + 7;
	old.name = "old";
	noname.name = NULL;
	inits = finis = 0;
	ck_assert_int_eq(mt_detect_reg_init(&r, 0, NULL, NULL), 0);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_int_eq(mt_detect_reg_add(&r, &a, "test", NULL, &env), 0);
	ck_assert_int_eq(inits, 1);
	ck_assert_uint_eq(r.udp_mask, 1);
	ck_assert_uint_eq(r.tcp_mask, 0);
	ck_assert_uint_eq(r.state_total, 32);
	ck_assert_int_eq(mt_detect_reg_add(&r, &old, "test", NULL, &env), -EINVAL);
	ck_assert_int_eq(mt_detect_reg_add(&r, &dup, "test", NULL, &env), -EEXIST);
	ck_assert_int_eq(mt_detect_reg_add(&r, &noname, "test", NULL, &env), -EINVAL);
	ck_assert_uint_eq(r.n, 1);
	mt_detect_reg_fini(&r);
	ck_assert_int_eq(finis, 1);
}
END_TEST

START_TEST(test_full)
{
	static char names[MT_DETECT_MAX + 1][8];
	static mt_detector d[MT_DETECT_MAX + 1];
	mt_detect_reg r;
	int i;

	ck_assert_int_eq(mt_detect_reg_init(&r, 0, NULL, NULL), 0);
	for (i = 0; i <= MT_DETECT_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "d%d", i);
		d[i] = (mt_detector){MT_DETECTOR_API_VERSION, names[i], "", MT_WANT_TCP, 0, 0, NULL, NULL, nop_packet, NULL, NULL, NULL};
		ck_assert_int_eq(mt_detect_reg_add(&r, &d[i], "t", NULL, NULL), i < MT_DETECT_MAX ? 0 : -ENOSPC);
	}
	mt_detect_reg_fini(&r);
}
END_TEST

START_TEST(test_plugin_dirs)
{
	mt_detect_reg r;
	char dir[64], path[128];
	FILE *fp;

	/* A folder that does not exist means no plugins, not an error. */
	ck_assert_int_eq(mt_detect_reg_init(&r, 1, "/nonexistent/minetrace/plugins", NULL), 0);
	mt_detect_reg_fini(&r);
	/* A .so that is not a shared object is refused with an error. */
	snprintf(dir, sizeof(dir), "/tmp/mt_plugins_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/broken.so", dir);
	fp = fopen(path, "w");
	fputs("not an ELF file", fp);
	fclose(fp);
	ck_assert_int_lt(mt_detect_reg_init(&r, 1, dir, NULL), 0);
	ck_assert_uint_eq(r.n, 0);
	unlink(path);
	/* Files that are not *.so are ignored. */
	snprintf(path, sizeof(path), "%s/README", dir);
	fp = fopen(path, "w");
	fclose(fp);
	ck_assert_int_eq(mt_detect_reg_init(&r, 1, dir, NULL), 0);
	mt_detect_reg_fini(&r);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("detect_detect");
	TCase *tc = tcase_create("registry");

	tcase_add_test(tc, test_builtins);
	tcase_add_test(tc, test_add_rules);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_plugin_dirs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mt_test_run(suite());
}
