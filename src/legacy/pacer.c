/* pacer: token bucket + FIFO of keys. See include/ferry/pacer.h. */
#include "config.h"
#include "ferry/pacer.h"

struct pacer {
	double rate;       /* tokens per second */
	double burst;      /* bucket size */
	double tokens;     /* may be negative after pacer_charge() */
	gint64 last_us;    /* when TOKENS was last brought up to date */
	GQueue queue;      /* char * keys, oldest first (owned) */
	GHashTable *links; /* key -> its GList link in QUEUE */
};

struct pacer *pacer_new(double rate, double burst, gint64 now_us)
{
	g_return_val_if_fail(rate > 0 && burst >= 1, NULL);
	struct pacer *p = g_new0(struct pacer, 1);
	p->rate = rate;
	p->burst = burst;
	p->tokens = burst;
	p->last_us = now_us;
	g_queue_init(&p->queue);
	p->links = g_hash_table_new(g_str_hash, g_str_equal);
	return p;
}

void pacer_free(struct pacer *p)
{
	if (p == NULL)
		return;
	g_hash_table_unref(p->links);
	g_queue_clear_full(&p->queue, g_free);
	g_free(p);
}

static void refill(struct pacer *p, gint64 now_us)
{
	if (now_us > p->last_us) {
		p->tokens += (double)(now_us - p->last_us) * p->rate / G_USEC_PER_SEC;
		if (p->tokens > p->burst)
			p->tokens = p->burst;
	}
	p->last_us = now_us;
}

bool pacer_admit(struct pacer *p, const char *key, gint64 now_us)
{
	if (g_hash_table_contains(p->links, key))
		return false;
	refill(p, now_us);
	if (g_queue_is_empty(&p->queue) && p->tokens >= 1) {
		p->tokens -= 1;
		return true;
	}
	g_queue_push_tail(&p->queue, g_strdup(key));
	GList *link = g_queue_peek_tail_link(&p->queue);
	g_hash_table_insert(p->links, link->data, link);
	return false;
}

void pacer_charge(struct pacer *p, gint64 now_us)
{
	refill(p, now_us);
	p->tokens -= 1;
}

char *pacer_next(struct pacer *p, gint64 now_us)
{
	refill(p, now_us);
	if (g_queue_is_empty(&p->queue) || p->tokens < 1)
		return NULL;
	p->tokens -= 1;
	char *key = g_queue_pop_head(&p->queue);
	g_hash_table_remove(p->links, key);
	return key;
}

gint64 pacer_wait_us(const struct pacer *p, gint64 now_us)
{
	if (p->queue.length == 0)
		return -1;
	double tokens = p->tokens;
	if (now_us > p->last_us)
		tokens = MIN(p->burst,
		             tokens + (double)(now_us - p->last_us) * p->rate / G_USEC_PER_SEC);
	if (tokens >= 1)
		return 0;
	return (gint64)((1 - tokens) * G_USEC_PER_SEC / p->rate) + 1; /* rounded up */
}

bool pacer_remove(struct pacer *p, const char *key)
{
	GList *link = g_hash_table_lookup(p->links, key);
	if (link == NULL)
		return false;
	g_hash_table_remove(p->links, key);
	g_free(link->data);
	g_queue_delete_link(&p->queue, link);
	return true;
}

guint pacer_queued(const struct pacer *p)
{
	return p->queue.length;
}
