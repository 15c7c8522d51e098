/* Unit tests for pacer: the token bucket that spreads legacy logins. Time
 * is passed in, so every case is exact. */
#include "config.h"

#include <string.h>

#include "ferry/pacer.h"

#define S ((gint64)G_USEC_PER_SEC)

/* A full bucket lets BURST through at once, then one per 1/RATE s. */
static void test_burst_then_rate(void)
{
	struct pacer *p = pacer_new(4, 3, 0);
	g_assert_true(pacer_admit(p, "a", 0));
	g_assert_true(pacer_admit(p, "b", 0));
	g_assert_true(pacer_admit(p, "c", 0));
	g_assert_false(pacer_admit(p, "d", 0));
	g_assert_false(pacer_admit(p, "e", 0));
	g_assert_cmpuint(pacer_queued(p), ==, 2);
	g_assert_null(pacer_next(p, 0));
	/* a quarter second gives one token */
	g_assert_cmpint(pacer_wait_us(p, 0), ==, S / 4 + 1);
	g_assert_null(pacer_next(p, S / 4 - 1));
	char *k = pacer_next(p, S / 4);
	g_assert_cmpstr(k, ==, "d");
	g_free(k);
	g_assert_null(pacer_next(p, S / 4));
	k = pacer_next(p, S / 2);
	g_assert_cmpstr(k, ==, "e");
	g_free(k);
	g_assert_cmpint(pacer_wait_us(p, S / 2), ==, -1);
	pacer_free(p);
}

/* Nobody overtakes the queue, even when a token is free. */
static void test_fifo(void)
{
	struct pacer *p = pacer_new(1, 1, 0);
	g_assert_true(pacer_admit(p, "a", 0));
	g_assert_false(pacer_admit(p, "b", 0));
	/* a token is back at 1 s, but b waits first */
	g_assert_false(pacer_admit(p, "c", S));
	char *k = pacer_next(p, S);
	g_assert_cmpstr(k, ==, "b");
	g_free(k);
	k = pacer_next(p, 2 * S);
	g_assert_cmpstr(k, ==, "c");
	g_free(k);
	pacer_free(p);
}

/* A key is queued once; a removed key is never handed out. */
static void test_once_and_remove(void)
{
	struct pacer *p = pacer_new(1, 1, 0);
	g_assert_true(pacer_admit(p, "a", 0));
	g_assert_false(pacer_admit(p, "b", 0));
	g_assert_false(pacer_admit(p, "b", 0));
	g_assert_false(pacer_admit(p, "c", 0));
	g_assert_cmpuint(pacer_queued(p), ==, 2);
	g_assert_true(pacer_remove(p, "b"));
	g_assert_false(pacer_remove(p, "b"));
	g_assert_false(pacer_remove(p, "zzz"));
	char *k = pacer_next(p, 10 * S);
	g_assert_cmpstr(k, ==, "c");
	g_free(k);
	g_assert_cmpuint(pacer_queued(p), ==, 0);
	/* handed out: may be admitted again */
	g_assert_true(pacer_admit(p, "c", 20 * S));
	pacer_free(p);
}

/* The bucket never holds more than BURST, however long it was idle. */
static void test_burst_cap(void)
{
	struct pacer *p = pacer_new(10, 2, 0);
	g_assert_true(pacer_admit(p, "a", 3600 * S));
	g_assert_true(pacer_admit(p, "b", 3600 * S));
	g_assert_false(pacer_admit(p, "c", 3600 * S));
	pacer_free(p);
}

/* A charged login (a registration) delays the queue by its token. */
static void test_charge(void)
{
	struct pacer *p = pacer_new(2, 1, 0);
	pacer_charge(p, 0); /* tokens 0 */
	pacer_charge(p, 0); /* tokens -1 */
	g_assert_false(pacer_admit(p, "a", 0));
	g_assert_cmpint(pacer_wait_us(p, 0), ==, S + 1);
	g_assert_null(pacer_next(p, S / 2));
	char *k = pacer_next(p, S);
	g_assert_cmpstr(k, ==, "a");
	g_free(k);
	pacer_free(p);
}

/* 500 logins at 50/s with a burst of 10 take (500 - 10) / 50 = 9.8 s. */
static void test_storm_duration(void)
{
	struct pacer *p = pacer_new(50, 10, 0);
	guint now_ok = 0;
	for (int i = 0; i < 500; i++) {
		char key[16];
		g_snprintf(key, sizeof key, "u%03d", i);
		if (pacer_admit(p, key, 0))
			now_ok++;
	}
	g_assert_cmpuint(now_ok, ==, 10);
	gint64 t = 0;
	guint out = 0;
	for (int guard = 0; guard < 10000 && pacer_queued(p) > 0; guard++) {
		gint64 w = pacer_wait_us(p, t);
		g_assert_cmpint(w, >=, 0);
		t += w;
		char *k;
		while ((k = pacer_next(p, t)) != NULL) {
			out++;
			g_free(k);
		}
	}
	g_assert_cmpuint(out, ==, 490);
	g_assert_cmpint(t, >=, 9800000 - 10);
	g_assert_cmpint(t, <=, 9800000 + 1000);
	pacer_free(p);
}

/* The first lane (registrations' checks): after a restart 500 logins
 * wait at 5/s; a registration still goes within one token's time, before
 * all of them, and is counted: the queue behind it is delayed by it. */
static void test_first_lane(void)
{
	struct pacer *p = pacer_new(5, 10, 0);
	for (int i = 0; i < 500; i++) {
		char key[16];
		g_snprintf(key, sizeof key, "u%03d", i);
		(void)pacer_admit(p, key, 0);
	}
	g_assert_cmpuint(pacer_queued(p), ==, 490);
	/* no token now: it waits, first in line */
	g_assert_false(pacer_admit_first(p, "reg", 0));
	g_assert_false(pacer_admit_first(p, "reg", 0)); /* once */
	g_assert_cmpuint(pacer_queued(p), ==, 491);
	g_assert_cmpint(pacer_wait_us(p, 0), ==, S / 5 + 1);
	bool first = false;
	char *k = pacer_next_lane(p, S / 5, &first);
	g_assert_cmpstr(k, ==, "reg");
	g_assert_true(first);
	g_free(k);
	/* then the others, in order, one token each: the check cost one */
	k = pacer_next_lane(p, 2 * S / 5, &first);
	g_assert_cmpstr(k, ==, "u010");
	g_assert_false(first);
	g_free(k);
	g_assert_null(pacer_next(p, 2 * S / 5));
	/* with a token free, a check goes at once past the waiting queue */
	k = pacer_next(p, 3 * S / 5);
	g_free(k);
	g_assert_true(pacer_admit_first(p, "reg2", 5 * S));
	/* the rest of the burst spent, the next check waits */
	for (int i = 0; i < 20 && pacer_admit_first(p, "burn", 5 * S); i++)
		;
	g_assert_false(pacer_admit_first(p, "reg3", 5 * S));
	g_assert_true(pacer_remove_first(p, "reg3"));
	g_assert_false(pacer_remove_first(p, "reg3"));
	/* the other lane's key of the same name is another key */
	g_assert_false(pacer_remove_first(p, "u012"));
	g_assert_true(pacer_remove(p, "u012"));
	/* a normal login does not overtake a waiting check */
	struct pacer *q = pacer_new(1, 1, 0);
	g_assert_true(pacer_admit(q, "a", 0));
	g_assert_false(pacer_admit_first(q, "reg", 0));
	g_assert_false(pacer_admit(q, "b", 10 * S));
	k = pacer_next_lane(q, 10 * S, &first);
	g_assert_cmpstr(k, ==, "reg");
	g_free(k);
	pacer_free(q);
	pacer_free(p);
}

/* A flood of checks (registrations from many JIDs) while logins wait:
 * the check lane gets every other token, so the logins still go. */
static void test_first_lane_share(void)
{
	struct pacer *p = pacer_new(5, 1, 0);
	for (int i = 0; i < 20; i++) {
		char key[16];
		g_snprintf(key, sizeof key, "u%02d", i);
		(void)pacer_admit(p, key, 0);
		g_snprintf(key, sizeof key, "r%02d", i);
		(void)pacer_admit_first(p, key, 0);
	}
	g_assert_cmpuint(pacer_queued(p), ==, 39);
	guint firsts = 0, others = 0;
	bool last = false;
	gint64 t = 0;
	for (int i = 0; i < 20; i++) {
		t += pacer_wait_us(p, t);
		bool first = false;
		char *k = pacer_next_lane(p, t, &first);
		g_assert_nonnull(k);
		g_free(k);
		if (i > 0)
			g_assert_true(first != last); /* the lanes take turns */
		last = first;
		first ? firsts++ : others++;
	}
	g_assert_cmpuint(firsts, ==, 10);
	g_assert_cmpuint(others, ==, 10);
	/* a check with a token free right after a check waits its turn too */
	g_assert_true(last == false);
	t += pacer_wait_us(p, t);
	char *k = pacer_next(p, t); /* a check: the lane's turn */
	g_free(k);
	t += S;
	g_assert_false(pacer_admit_first(p, "late", t)); /* a login's turn */
	bool first = true;
	k = pacer_next_lane(p, t, &first);
	g_assert_false(first);
	g_free(k);
	pacer_free(p);
}

/* 200 checks in a burst are paced like any login: at 5/s with a burst of
 * 10, the last goes after (200 - 10) / 5 = 38 s, not at once. */
static void test_first_lane_paced(void)
{
	struct pacer *p = pacer_new(5, 10, 0);
	guint now_ok = 0;
	for (int i = 0; i < 200; i++) {
		char key[16];
		g_snprintf(key, sizeof key, "r%03d", i);
		if (pacer_admit_first(p, key, 0))
			now_ok++;
	}
	g_assert_cmpuint(now_ok, ==, 10);
	gint64 t = 0;
	guint out = 0;
	for (int guard = 0; guard < 10000 && pacer_queued(p) > 0; guard++) {
		t += pacer_wait_us(p, t);
		char *k;
		while ((k = pacer_next(p, t)) != NULL) {
			out++;
			g_free(k);
		}
	}
	g_assert_cmpuint(out, ==, 190);
	g_assert_cmpint(t, >=, 38 * S - 10);
	g_assert_cmpint(t, <=, 38 * S + 1000);
	pacer_free(p);
}

/* ratelimit: BURST at once per key, then PER_SECOND; keys apart. */
static void test_ratelimit(void)
{
	struct ratelimit *r = ratelimit_new(3, 0.5, 100);
	for (int i = 0; i < 3; i++)
		g_assert_true(ratelimit_take(r, "a", 0));
	g_assert_false(ratelimit_take(r, "a", 0));
	g_assert_true(ratelimit_take(r, "b", 0));
	g_assert_cmpint(ratelimit_wait_us(r, "a", 0), ==, 2 * S + 1);
	g_assert_cmpint(ratelimit_wait_us(r, "b", 0), ==, 0);
	g_assert_false(ratelimit_take(r, "a", 2 * S - 1));
	g_assert_true(ratelimit_take(r, "a", 2 * S));
	g_assert_false(ratelimit_take(r, "a", 2 * S));
	/* never more than BURST, however long idle */
	for (int i = 0; i < 3; i++)
		g_assert_true(ratelimit_take(r, "a", 3600 * S));
	g_assert_false(ratelimit_take(r, "a", 3600 * S));
	ratelimit_free(r);
}

/* MAX_KEYS bounds the table: keys whose bucket is full again go when room
 * is needed; while all are inside their window, new keys are refused. */
static void test_ratelimit_bounded(void)
{
	struct ratelimit *r = ratelimit_new(1, 0.1, 4);
	const char *const keys[] = {"a", "b", "c", "d"};
	for (gsize i = 0; i < G_N_ELEMENTS(keys); i++)
		g_assert_true(ratelimit_take(r, keys[i], 0));
	g_assert_false(ratelimit_take(r, "e", S)); /* all four within 10 s */
	g_assert_cmpuint(ratelimit_keys(r), ==, 4);
	g_assert_true(ratelimit_take(r, "e", 10 * S)); /* theirs are full again */
	g_assert_cmpuint(ratelimit_keys(r), ==, 1);
	for (int i = 0; i < 10000; i++) {
		char key[16];
		g_snprintf(key, sizeof key, "k%d", i);
		(void)ratelimit_take(r, key, 11 * S);
	}
	g_assert_cmpuint(ratelimit_keys(r), <=, 4);
	ratelimit_free(r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pacer/burst-then-rate", test_burst_then_rate);
	g_test_add_func("/pacer/fifo", test_fifo);
	g_test_add_func("/pacer/once-and-remove", test_once_and_remove);
	g_test_add_func("/pacer/burst-cap", test_burst_cap);
	g_test_add_func("/pacer/charge", test_charge);
	g_test_add_func("/pacer/storm-duration", test_storm_duration);
	g_test_add_func("/pacer/first-lane", test_first_lane);
	g_test_add_func("/pacer/first-lane-paced", test_first_lane_paced);
	g_test_add_func("/pacer/first-lane-share", test_first_lane_share);
	g_test_add_func("/ratelimit/per-key", test_ratelimit);
	g_test_add_func("/ratelimit/bounded", test_ratelimit_bounded);
	return g_test_run();
}
