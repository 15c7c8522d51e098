/* outq: the component's write queue (internal to src/xmpp/, used by
 * component.c and component_stream.c). Serialized stanzas wait in order;
 * one written in full moves to the unconfirmed list, where it stays until
 * the server answers a ping written after it (XEP-0114 has no stream
 * management: only that answer shows the server read it). Every byte is
 * counted for the whole queue and for the owner's key of the stanza, and
 * crossing a bound is reported to the owner instead of dropping anything
 * (see include/ferry/component.h).
 */
#ifndef FERRY_XMPP_OUTQ_H
#define FERRY_XMPP_OUTQ_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

struct outq_item {
	GString *s;
	guint32 key;  /* the owner's tag, 0: none */
	guint32 ping; /* N for our ping N: a marker once written, never sent again */
};

/* 0: the default (4 MiB, a quarter of HIGH, 256 KiB). */
struct outq_limits {
	size_t high;     /* the whole queue is congested above it ... */
	size_t low;      /* ... until back at or under it */
	size_t key_high; /* one key is congested above it, until half of it */
};

/* CONGESTION(DATA, key, on): KEY (0: the whole queue) crossed its bound. */
typedef void (*outq_congestion_fn)(void *data, guint32 key, bool congested);

struct outq *outq_new(const struct outq_limits *limits, outq_congestion_fn congestion, void *data);
/* Frees what is left (logged: nothing is lost quietly). NULL is a no-op. */
void outq_free(struct outq *q);

/* Appends S (taken) for KEY; PING != 0 marks one of our pings. */
void outq_push(struct outq *q, GString *s, guint32 key, guint32 ping);
/* The oldest waiting stanza, or NULL. Borrowed. */
struct outq_item *outq_head(struct outq *q);
/* The head was written in full: it moves to the unconfirmed list. */
void outq_head_written(struct outq *q);

/* Queues our next ping, an iq get FROM -> TO (past every bound: a ping
 * must go out even behind a long queue, or a stuck link would never be
 * detected). */
void outq_push_ping(struct outq *q, const char *from, const char *to);
/* When a ping should confirm what was written: -1 not needed (nothing new
 * written, or one is awaited already), else in how many microseconds (0:
 * now). At most one a second: confirming costs one small iq per second of
 * traffic and the unconfirmed list holds about a second of it. */
gint64 outq_confirm_ping_due(const struct outq *q);
/* True, with *N, when ID is one of Q's pings' ids (they carry a random
 * token of Q's, so nobody else can make one up). */
bool outq_ping_number(const struct outq *q, const char *id, guint32 *n);

/* The server answered ping N: what was written before it is forgotten.
 * False (nothing changes) when ping N is not in the unconfirmed list. */
bool outq_confirm(struct outq *q, guint32 n);
/* The link is gone: unconfirmed stanzas go back to the head, oldest first
 * (logged), and our pings anywhere are dropped. */
void outq_requeue(struct outq *q);

/* Reports the whole queue's congestion if it changed: always congested
 * while not ONLINE. */
void outq_update(struct outq *q, bool online);
bool outq_congested(const struct outq *q);

/* Bytes waiting: for KEY, or all for 0. */
size_t outq_bytes(const struct outq *q, guint32 key);
size_t outq_unconfirmed_bytes(const struct outq *q);
bool outq_is_empty(const struct outq *q);

#endif
