/* Unit tests for workers_stats.c: deaths counted, a crash loop
 * (WORKERS_CRASH_LOOP_DEATHS within WORKERS_CRASH_LOOP_SECONDS) told once,
 * and the stats of an empty pool; RSS read for a live pid (this one). */
#include "config.h"

#include <unistd.h>

#include "../../src/legacy/workers_internal.h"

static guint loops;
static guint loop_deaths;

static void on_crash_loop(void *data, guint deaths, guint seconds)
{
	(void)data;
	g_assert_cmpuint(seconds, ==, WORKERS_CRASH_LOOP_SECONDS);
	loops++;
	loop_deaths = deaths;
}

static void test_crash_loop(void)
{
	struct workers pool = {0};
	pool.list = g_ptr_array_new();
	pool.cb.crash_loop = on_crash_loop;
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "workers: 3 workers died*");
	for (guint i = 0; i < WORKERS_CRASH_LOOP_DEATHS + 2; i++)
		workers_note_death(&pool);
	g_test_assert_expected_messages();
	g_assert_cmpuint(loops, ==, 1); /* once per loop */
	g_assert_cmpuint(loop_deaths, ==, WORKERS_CRASH_LOOP_DEATHS);
	guint deaths = 0;
	GArray *procs = workers_stats(&pool, &deaths);
	g_assert_cmpuint(procs->len, ==, 0);
	g_assert_cmpuint(deaths, ==, WORKERS_CRASH_LOOP_DEATHS + 2);
	g_array_unref(procs);
	workers_stats_clear(&pool);
	g_ptr_array_unref(pool.list);
}

/* A worker entry with a live pid (the test's own) reports its memory. */
static void test_rss(void)
{
	struct workers pool = {0};
	pool.list = g_ptr_array_new();
	struct worker w = {0};
	w.pid = g_strdup_printf("%d", (int)getpid());
	w.accounts = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_hash_table_add(w.accounts, GUINT_TO_POINTER(7));
	g_ptr_array_add(pool.list, &w);
	guint deaths = 1;
	GArray *procs = workers_stats(&pool, &deaths);
	g_assert_cmpuint(deaths, ==, 0);
	g_assert_cmpuint(procs->len, ==, 1);
	const struct workers_process *p = &g_array_index(procs, struct workers_process, 0);
	g_assert_cmpint(p->pid, ==, (int)getpid());
	g_assert_cmpuint(p->accounts, ==, 1);
	g_assert_cmpuint(p->rss_kb, >, 0);
	g_array_unref(procs);
	g_hash_table_unref(w.accounts);
	g_free(w.pid);
	g_ptr_array_unref(pool.list);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/workers/stats/crash-loop", test_crash_loop);
	g_test_add_func("/workers/stats/rss", test_rss);
	return g_test_run();
}
