/* outq: the component's write queue. See outq.h. */
#include "config.h"
#include "outq.h"

#include <string.h>

#include "ferry/ns.h"
#include "ferry/stanza.h"

/* A ping after written stanzas, at most this often: it bounds how much is
 * written but unconfirmed. */
#define CONFIRM_PING_MIN_US (G_USEC_PER_SEC)
#define PING_PREFIX "ferry-ping-"
#define DEFAULT_HIGH (4 * 1024 * 1024)
#define DEFAULT_KEY_HIGH (256 * 1024)

struct outq {
	struct outq_limits lim;
	outq_congestion_fn congestion;
	void *data;
	GQueue out; /* struct outq_item *, waiting */
	size_t out_bytes;
	GQueue sent; /* struct outq_item *, written and unconfirmed, pings as markers */
	size_t sent_bytes;
	GHashTable *key_bytes;     /* key -> waiting bytes (GSIZE_TO_POINTER), keys > 0 */
	GHashTable *key_congested; /* keys reported congested */
	bool congested;            /* the whole queue's state as last reported */
	bool congested_online;     /* ... and whether the link was up then (its reason) */
	char ping_token[17];       /* random per queue: ping ids cannot be guessed */
	guint32 ping_seq;          /* our last ping's number */
	guint32 confirm_wait;      /* the ping whose answer is awaited, 0: none */
	bool unconfirmed;          /* stanzas written since the last ping was queued */
	gint64 last_ping_us;
};

static void item_free(gpointer data)
{
	struct outq_item *it = data;
	g_string_free(it->s, TRUE);
	g_free(it);
}

struct outq *outq_new(const struct outq_limits *limits, outq_congestion_fn congestion, void *data)
{
	struct outq *q = g_new0(struct outq, 1);
	q->lim = *limits;
	if (q->lim.high == 0)
		q->lim.high = DEFAULT_HIGH;
	if (q->lim.low == 0 || q->lim.low > q->lim.high)
		q->lim.low = q->lim.high / 4;
	if (q->lim.key_high == 0)
		q->lim.key_high = DEFAULT_KEY_HIGH;
	q->congestion = congestion;
	q->data = data;
	/* Anyone can send the transport an iq result with an id of their
	 * choosing; one that looked like our ping's answer would make the
	 * queue forget what the server may not have read. */
	g_snprintf(q->ping_token, sizeof q->ping_token, "%08x%08x", g_random_int(), g_random_int());
	g_queue_init(&q->out);
	g_queue_init(&q->sent);
	q->key_bytes = g_hash_table_new(g_direct_hash, g_direct_equal);
	q->key_congested = g_hash_table_new(g_direct_hash, g_direct_equal);
	q->congested = true; /* not online yet */
	return q;
}

void outq_free(struct outq *q)
{
	if (q == NULL)
		return;
	if (q->out.length + q->sent.length > 0)
		g_info("component: at exit, %u stanza(s) still queued and %u written but "
		       "unconfirmed are dropped",
		       q->out.length, q->sent.length);
	g_queue_clear_full(&q->out, item_free);
	g_queue_clear_full(&q->sent, item_free);
	g_hash_table_unref(q->key_bytes);
	g_hash_table_unref(q->key_congested);
	g_free(q);
}

size_t outq_bytes(const struct outq *q, guint32 key)
{
	if (key == 0)
		return q->out_bytes;
	return GPOINTER_TO_SIZE(g_hash_table_lookup(q->key_bytes, GUINT_TO_POINTER(key)));
}

size_t outq_unconfirmed_bytes(const struct outq *q)
{
	return q->sent_bytes;
}

bool outq_is_empty(const struct outq *q)
{
	return q->out.length == 0;
}

bool outq_congested(const struct outq *q)
{
	return q->congested;
}

/* Counts IT into (ADD) or out of the waiting bytes, reporting its key
 * crossing the key bound. */
static void count(struct outq *q, const struct outq_item *it, bool add)
{
	if (add)
		q->out_bytes += it->s->len;
	else
		q->out_bytes -= it->s->len;
	if (it->key == 0)
		return;
	gpointer k = GUINT_TO_POINTER(it->key);
	size_t n = outq_bytes(q, it->key);
	n = add ? n + it->s->len : n - it->s->len;
	if (n == 0)
		g_hash_table_remove(q->key_bytes, k);
	else
		g_hash_table_insert(q->key_bytes, k, GSIZE_TO_POINTER(n));
	bool was = g_hash_table_contains(q->key_congested, k);
	if (!was && n > q->lim.key_high) {
		g_hash_table_add(q->key_congested, k);
		if (q->congestion != NULL)
			q->congestion(q->data, it->key, true);
	} else if (was && n <= q->lim.key_high / 2) {
		g_hash_table_remove(q->key_congested, k);
		if (q->congestion != NULL)
			q->congestion(q->data, it->key, false);
	}
}

void outq_push(struct outq *q, GString *s, guint32 key, guint32 ping)
{
	struct outq_item *it = g_new0(struct outq_item, 1);
	it->s = s;
	it->key = key;
	it->ping = ping;
	g_queue_push_tail(&q->out, it);
	count(q, it, true);
}

struct outq_item *outq_head(struct outq *q)
{
	return g_queue_peek_head(&q->out);
}

void outq_head_written(struct outq *q)
{
	struct outq_item *it = g_queue_pop_head(&q->out);
	count(q, it, false);
	q->sent_bytes += it->s->len;
	g_queue_push_tail(&q->sent, it);
	if (it->ping == 0)
		q->unconfirmed = true;
}

void outq_push_ping(struct outq *q, const char *from, const char *to)
{
	char id[48];
	guint32 n = ++q->ping_seq;
	if (n == 0)
		n = q->ping_seq = 1;
	g_snprintf(id, sizeof id, PING_PREFIX "%s-%u", q->ping_token, n);
	struct stanza *iq = stanza_new("iq");
	stanza_set_attr(iq, "type", "get");
	stanza_set_attr(iq, "id", id);
	stanza_set_attr(iq, "from", from);
	stanza_set_attr(iq, "to", to);
	stanza_add_child(iq, "ping", NS_PING);
	GString *text = g_string_new(NULL);
	stanza_serialize(iq, text);
	stanza_free(iq);
	q->unconfirmed = false;
	q->confirm_wait = n;
	q->last_ping_us = g_get_monotonic_time();
	outq_push(q, text, 0, n);
}

gint64 outq_confirm_ping_due(const struct outq *q)
{
	if (!q->unconfirmed || q->confirm_wait != 0)
		return -1;
	gint64 wait = q->last_ping_us + CONFIRM_PING_MIN_US - g_get_monotonic_time();
	return wait > 0 ? wait : 0;
}

bool outq_ping_number(const struct outq *q, const char *id, guint32 *n)
{
	guint64 v = 0;
	size_t prefix = strlen(PING_PREFIX), token = strlen(q->ping_token);
	if (id == NULL || strncmp(id, PING_PREFIX, prefix) != 0 ||
	    strncmp(id + prefix, q->ping_token, token) != 0 || id[prefix + token] != '-' ||
	    !g_ascii_string_to_unsigned(id + prefix + token + 1, 10, 1, G_MAXUINT32, &v, NULL))
		return false;
	*n = (guint32)v;
	return true;
}

bool outq_confirm(struct outq *q, guint32 n)
{
	bool found = false;
	for (GList *l = q->sent.head; l != NULL && !found; l = l->next)
		found = ((struct outq_item *)l->data)->ping == n;
	if (!found)
		return false;
	if (q->confirm_wait == n)
		q->confirm_wait = 0;
	for (;;) {
		struct outq_item *it = g_queue_pop_head(&q->sent);
		q->sent_bytes -= it->s->len;
		bool last = it->ping == n;
		item_free(it);
		if (last)
			return true;
	}
}

void outq_requeue(struct outq *q)
{
	for (GList *l = q->out.head; l != NULL;) {
		GList *next = l->next;
		struct outq_item *it = l->data;
		if (it->ping != 0) {
			count(q, it, false);
			item_free(it);
			g_queue_delete_link(&q->out, l);
		}
		l = next;
	}
	guint again = 0;
	size_t bytes = 0;
	struct outq_item *it;
	while ((it = g_queue_pop_tail(&q->sent)) != NULL) {
		if (it->ping != 0) {
			item_free(it);
			continue;
		}
		g_queue_push_head(&q->out, it);
		count(q, it, true);
		bytes += it->s->len;
		again++;
	}
	q->sent_bytes = 0;
	q->confirm_wait = 0;
	q->unconfirmed = false;
	if (again > 0)
		g_info("component: %u stanza(s) (%zu bytes) written since the last answered ping "
		       "will be sent again after the reconnect",
		       again, bytes);
}

void outq_update(struct outq *q, bool online)
{
	bool now = q->congested;
	if (!online || q->out_bytes > q->lim.high)
		now = true;
	else if (q->out_bytes <= q->lim.low)
		now = false;
	/* a congestion going on with the link gone down or back up is
	 * reported again: its reason changed (a stall is told by it) */
	bool reason_changed = now && online != q->congested_online;
	if (now == q->congested && !reason_changed)
		return;
	bool changed = now != q->congested;
	q->congested = now;
	q->congested_online = online;
	if (changed && online)
		g_info("component: write queue %s (%zu bytes queued)",
		       now ? "over its high-water mark: the legacy side waits"
		           : "drained: the legacy side goes on",
		       q->out_bytes);
	if (q->congestion != NULL)
		q->congestion(q->data, 0, now);
}
