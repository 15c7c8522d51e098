/* component_int: what component.c (the link: sockets, TLS, the write
 * queue, connect and reconnect) and component_stream.c (what is said on
 * it: the stream header and handshake, the server's stanzas, the pings)
 * share. Internal to src/xmpp/; the rest of ferry sees
 * include/ferry/component.h. */
#ifndef FERRY_XMPP_COMPONENT_INT_H
#define FERRY_XMPP_COMPONENT_INT_H

#include <gio/gio.h>
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "ferry/component.h"
#include "ferry/xml_stream.h"
#include "outq.h"
#include "tls.h"

enum state {
	ST_IDLE,       /* no connection; a reconnect may be scheduled */
	ST_CONNECTING, /* TCP connect under way */
	ST_TLS,        /* TLS handshake under way */
	ST_STREAM,     /* our header sent, waiting for the server's */
	ST_HANDSHAKE,  /* <handshake> sent, waiting for the answer */
	ST_ONLINE,     /* stanzas flow */
};

struct component {
	struct component_options opt; /* strings owned (copied in component_new) */
	struct component_callbacks cb;
	void *user_data;

	enum state state;
	GCancellable *cancel;    /* the pending connect */
	GSocketConnection *conn; /* owns the fd */
	int fd;                  /* -1 when unconnected */
	struct tls *tls;         /* NULL for plain TCP */
	bool tls_wants_write;    /* a TLS read needs the socket writable */
	guint watch;             /* fd watch source id, 0 if none */
	GIOCondition watch_cond; /* the condition it watches */
	struct xml_stream *xs;

	GString *ctl;        /* stream-level bytes (header, handshake, close) */
	size_t ctl_off;      /* bytes of ctl already written */
	struct outq *out;    /* stanzas waiting, and written but unconfirmed */
	size_t out_head_off; /* bytes of the head stanza already written */
	guint32 cur_key;     /* tag of what is queued now */
	guint confirm_timer; /* the next confirming ping (outq_confirm_ping_due) */

	guint reconnect_timer;
	guint handshake_timer;
	guint ping_timer;
	guint attempts;        /* consecutive failed connections */
	gint64 online_since;   /* monotonic time of the last handshake */
	bool ping_outstanding; /* a ping is unanswered, and nothing came since */
	bool ping_stale;       /* ... and it was so at the last tick already */

	guint pending_idle; /* reads decrypted bytes OpenSSL still holds */
	bool in_read;       /* inside the read loop: defer teardown */
	char *down_reason;  /* a deferred component_link_down() */
};

/* Reports the queue's congestion if it changed (always while not online). */
#define update_congestion(c) outq_update((c)->out, (c)->state == ST_ONLINE)

/* ---- component.c ------------------------------------------------------------ */

/* Ends the connection with REASON (logged) and schedules a reconnect. */
void component_link_down(struct component *c, const char *reason);
/* Writes what it can of the stream-level bytes, then of the queue. */
void component_flush(struct component *c);
/* Watches the socket for what is wanted now (input, and output when
 * something waits to be written). */
void component_update_watch(struct component *c);

/* ---- component_stream.c ----------------------------------------------------- */

/* The parser's callbacks (DATA: the component). */
extern const struct xml_stream_callbacks component_stream_callbacks;
/* Sends our stream header (state stream) on a fresh parser. */
void component_start_stream(struct component *c);
/* Sends a stream error of CONDITION and closes our stream. */
void component_send_stream_error(struct component *c, const char *condition);
/* After stanzas were written, a ping whose answer confirms them. */
void component_maybe_confirm_ping(struct component *c);

#endif
