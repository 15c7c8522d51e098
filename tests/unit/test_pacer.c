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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pacer/burst-then-rate", test_burst_then_rate);
	g_test_add_func("/pacer/fifo", test_fifo);
	g_test_add_func("/pacer/once-and-remove", test_once_and_remove);
	g_test_add_func("/pacer/burst-cap", test_burst_cap);
	g_test_add_func("/pacer/charge", test_charge);
	g_test_add_func("/pacer/storm-duration", test_storm_duration);
	return g_test_run();
}
