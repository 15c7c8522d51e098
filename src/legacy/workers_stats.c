/* workers_stats: what the admins see of the worker pool (the stats
 * command): the running processes with their accounts and resident
 * memory, how many died, and crash loops (WORKERS_CRASH_LOOP_DEATHS deaths
 * within WORKERS_CRASH_LOOP_SECONDS) told through the pool's callbacks. */
#include "config.h"

#include <unistd.h>

#include "workers_internal.h"

/* PID's resident memory in KiB from /proc/PID/statm (its second field is
 * the resident pages), 0 when unknown. */
static guint64 rss_kb(int pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/statm", pid);
	g_autofree char *text = NULL;
	if (pid <= 0 || !g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	g_auto(GStrv) fields = g_strsplit(text, " ", 3);
	guint64 pages = 0;
	if (g_strv_length(fields) < 2 ||
	    !g_ascii_string_to_unsigned(fields[1], 10, 0, G_MAXUINT64 / 1024, &pages, NULL))
		return 0;
	long page = sysconf(_SC_PAGESIZE);
	return pages * (guint64)(page > 0 ? page : 4096) / 1024;
}

GArray *workers_stats(const struct workers *pool, guint *deaths)
{
	GArray *out = g_array_new(FALSE, TRUE, sizeof(struct workers_process));
	for (guint i = 0; i < pool->list->len; i++) {
		const struct worker *w = g_ptr_array_index(pool->list, i);
		gint64 pid = 0;
		if (w->dead || w->pid == NULL ||
		    !g_ascii_string_to_signed(w->pid, 10, 1, G_MAXINT, &pid, NULL))
			continue;
		struct workers_process p = {
		    .pid = (int)pid,
		    .accounts = g_hash_table_size(w->accounts),
		    .rss_kb = rss_kb((int)pid),
		};
		g_array_append_val(out, p);
	}
	*deaths = pool->deaths;
	return out;
}

void workers_note_death(struct workers *pool)
{
	gint64 now = g_get_monotonic_time();
	gint64 window = (gint64)WORKERS_CRASH_LOOP_SECONDS * G_USEC_PER_SEC;
	pool->deaths++;
	gint64 *t = g_new(gint64, 1);
	*t = now;
	g_queue_push_tail(&pool->death_times, t);
	while (!g_queue_is_empty(&pool->death_times) &&
	       now - *(gint64 *)g_queue_peek_head(&pool->death_times) > window)
		g_free(g_queue_pop_head(&pool->death_times));
	guint recent = g_queue_get_length(&pool->death_times);
	if (recent < WORKERS_CRASH_LOOP_DEATHS)
		return;
	/* once per loop: a loop that goes on is told again a window later */
	if (pool->loop_told_us != 0 && now - pool->loop_told_us < window)
		return;
	pool->loop_told_us = now;
	g_warning("workers: %u workers died within %u minutes: a crash loop", recent,
	          WORKERS_CRASH_LOOP_SECONDS / 60);
	if (pool->cb.crash_loop != NULL)
		pool->cb.crash_loop(pool->user_data, recent, WORKERS_CRASH_LOOP_SECONDS);
}

void workers_stats_clear(struct workers *pool)
{
	g_queue_clear_full(&pool->death_times, g_free);
}
