/* pacer: token bucket + two FIFOs of keys (the first lane served before
 * the other, but never two tokens in a row while the other waits), and
 * ratelimit, token buckets by key. See include/ferry/pacer.h. */
#include "config.h"
#include "ferry/pacer.h"

struct pacer {
	double rate;       /* tokens per second */
	double burst;      /* bucket size */
	double tokens;     /* may be negative after pacer_charge() */
	gint64 last_us;    /* when TOKENS was last brought up to date */
	GQueue queue;      /* char * keys, oldest first (owned) */
	GHashTable *links; /* key -> its GList link in QUEUE */
	GQueue first;      /* the first lane: served before QUEUE */
	GHashTable *first_links;
	bool last_first; /* the last token went to the first lane past a waiting login */
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
	g_queue_init(&p->first);
	p->first_links = g_hash_table_new(g_str_hash, g_str_equal);
	return p;
}

void pacer_free(struct pacer *p)
{
	if (p == NULL)
		return;
	g_hash_table_unref(p->links);
	g_queue_clear_full(&p->queue, g_free);
	g_hash_table_unref(p->first_links);
	g_queue_clear_full(&p->first, g_free);
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

static void enqueue(GQueue *queue, GHashTable *links, const char *key)
{
	g_queue_push_tail(queue, g_strdup(key));
	GList *link = g_queue_peek_tail_link(queue);
	g_hash_table_insert(links, link->data, link);
}

bool pacer_admit(struct pacer *p, const char *key, gint64 now_us)
{
	if (g_hash_table_contains(p->links, key))
		return false;
	refill(p, now_us);
	if (g_queue_is_empty(&p->queue) && g_queue_is_empty(&p->first) && p->tokens >= 1) {
		p->tokens -= 1;
		p->last_first = false;
		return true;
	}
	enqueue(&p->queue, p->links, key);
	return false;
}

bool pacer_admit_first(struct pacer *p, const char *key, gint64 now_us)
{
	if (g_hash_table_contains(p->first_links, key))
		return false;
	refill(p, now_us);
	/* a flood of checks must not starve the waiting logins: with the
	 * other lane waiting, every other token at most */
	bool turn = g_queue_is_empty(&p->queue) || !p->last_first;
	if (g_queue_is_empty(&p->first) && p->tokens >= 1 && turn) {
		p->tokens -= 1;
		p->last_first = !g_queue_is_empty(&p->queue);
		return true;
	}
	enqueue(&p->first, p->first_links, key);
	return false;
}

void pacer_charge(struct pacer *p, gint64 now_us)
{
	refill(p, now_us);
	p->tokens -= 1;
}

char *pacer_next_lane(struct pacer *p, gint64 now_us, bool *first)
{
	refill(p, now_us);
	/* the first lane first, but not twice in a row while the other waits */
	bool from_first =
	    !g_queue_is_empty(&p->first) && (g_queue_is_empty(&p->queue) || !p->last_first);
	GQueue *queue = from_first ? &p->first : &p->queue;
	if (g_queue_is_empty(queue) || p->tokens < 1)
		return NULL;
	p->tokens -= 1;
	p->last_first = from_first && !g_queue_is_empty(&p->queue);
	char *key = g_queue_pop_head(queue);
	g_hash_table_remove(from_first ? p->first_links : p->links, key);
	if (first != NULL)
		*first = from_first;
	return key;
}

char *pacer_next(struct pacer *p, gint64 now_us)
{
	return pacer_next_lane(p, now_us, NULL);
}

gint64 pacer_wait_us(const struct pacer *p, gint64 now_us)
{
	if (p->queue.length == 0 && p->first.length == 0)
		return -1;
	double tokens = p->tokens;
	if (now_us > p->last_us)
		tokens = MIN(p->burst,
		             tokens + (double)(now_us - p->last_us) * p->rate / G_USEC_PER_SEC);
	if (tokens >= 1)
		return 0;
	return (gint64)((1 - tokens) * G_USEC_PER_SEC / p->rate) + 1; /* rounded up */
}

static bool dequeue(GQueue *queue, GHashTable *links, const char *key)
{
	GList *link = g_hash_table_lookup(links, key);
	if (link == NULL)
		return false;
	g_hash_table_remove(links, key);
	g_free(link->data);
	g_queue_delete_link(queue, link);
	return true;
}

bool pacer_remove(struct pacer *p, const char *key)
{
	return dequeue(&p->queue, p->links, key);
}

bool pacer_remove_first(struct pacer *p, const char *key)
{
	return dequeue(&p->first, p->first_links, key);
}

guint pacer_queued(const struct pacer *p)
{
	return p->queue.length + p->first.length;
}

/* ---- ratelimit ------------------------------------------------------------------ */

struct bucket {
	double tokens;
	gint64 last_us;
};

struct ratelimit {
	double burst, rate;
	guint max_keys;
	GHashTable *buckets;  /* key -> struct bucket * (both owned) */
	gint64 next_sweep_us; /* while full: no bucket can be full before this */
};

struct ratelimit *ratelimit_new(double burst, double per_second, guint max_keys)
{
	g_return_val_if_fail(burst >= 1 && per_second > 0 && max_keys >= 1, NULL);
	struct ratelimit *r = g_new0(struct ratelimit, 1);
	r->burst = burst;
	r->rate = per_second;
	r->max_keys = max_keys;
	r->buckets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return r;
}

void ratelimit_free(struct ratelimit *r)
{
	if (r == NULL)
		return;
	g_hash_table_unref(r->buckets);
	g_free(r);
}

/* B's tokens at NOW, without taking any. */
static double tokens_at(const struct ratelimit *r, const struct bucket *b, gint64 now_us)
{
	double t = b->tokens;
	if (now_us > b->last_us)
		t += (double)(now_us - b->last_us) * r->rate / G_USEC_PER_SEC;
	return MIN(t, r->burst);
}

bool ratelimit_take(struct ratelimit *r, const char *key, gint64 now_us)
{
	struct bucket *b = g_hash_table_lookup(r->buckets, key);
	if (b == NULL && g_hash_table_size(r->buckets) >= r->max_keys) {
		/* still full from a sweep that freed nothing: a flood of new keys
		 * is refused without sweeping the table for each one (the time
		 * below is rounded down: a sweep may come early, never late) */
		if (now_us < r->next_sweep_us)
			return false;
		/* a full bucket says no more than no bucket: those go */
		GHashTableIter it;
		gpointer value;
		gint64 soonest = G_MAXINT64;
		g_hash_table_iter_init(&it, r->buckets);
		while (g_hash_table_iter_next(&it, NULL, &value)) {
			double t = tokens_at(r, value, now_us);
			if (t >= r->burst)
				g_hash_table_iter_remove(&it);
			else
				soonest = MIN(soonest, now_us + (gint64)((r->burst - t) *
				                                         G_USEC_PER_SEC / r->rate));
		}
		/* still full: that many keys at once is a flood, refused (the
		 * table stays bounded) */
		if (g_hash_table_size(r->buckets) >= r->max_keys) {
			r->next_sweep_us = soonest;
			return false;
		}
	}
	if (b == NULL) {
		b = g_new(struct bucket, 1);
		b->tokens = r->burst;
		b->last_us = now_us;
		g_hash_table_insert(r->buckets, g_strdup(key), b);
	}
	b->tokens = tokens_at(r, b, now_us);
	b->last_us = MAX(b->last_us, now_us);
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

gint64 ratelimit_wait_us(const struct ratelimit *r, const char *key, gint64 now_us)
{
	const struct bucket *b = g_hash_table_lookup(r->buckets, key);
	double t = b != NULL ? tokens_at(r, b, now_us) : r->burst;
	if (t >= 1)
		return 0;
	return (gint64)((1 - t) * G_USEC_PER_SEC / r->rate) + 1;
}

guint ratelimit_keys(const struct ratelimit *r)
{
	return g_hash_table_size(r->buckets);
}
