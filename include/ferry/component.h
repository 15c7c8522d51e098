/* component: ferry's link to the XMPP server as an XEP-0114 external
 * component.
 *
 * It owns the socket (plain TCP, or Direct TLS through OpenSSL with
 * certificate and name verification), the stream header and the SHA-1
 * handshake, a non-blocking write queue, a periodic XEP-0199 ping that
 * detects dead links, and reconnection with exponential backoff and jitter
 * (capped at 60 s) after any loss. Inbound stanzas are handed to the owner
 * through callbacks; the owner never sees the socket.
 *
 * Nothing queued is dropped. The queue reports congestion instead (the
 * congestion callback): the whole link's while it is down or holds more
 * than max_queue_bytes (until it is back under queue_low_bytes), and each
 * owner key's (component_set_key) while that key has more than
 * key_high_bytes queued (until half of it). The owner stops producing
 * meanwhile. Component links have no stream management, so what was
 * written is kept, with pings as markers, until a ping's answer shows the
 * server read it (a ping follows written stanzas, at most once a second);
 * after a lost link the unconfirmed stanzas are written again first
 * (at-least-once, same ids).
 */
#ifndef FERRY_COMPONENT_H
#define FERRY_COMPONENT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "ferry/stanza.h"

struct component;

struct component_options {
	const char *jid;             /* component domain */
	const char *host;            /* server to connect to */
	guint16 port;                /* its component port */
	const char *secret;          /* shared secret; copied, never logged */
	bool tls;                    /* Direct TLS */
	const char *tls_ca_file;     /* NULL: system trust store */
	const char *tls_server_name; /* NULL: host */
	size_t max_stanza_bytes;     /* larger inbound stanzas are skipped; 0: default */
	size_t max_token_bytes;      /* a larger XML token closes the stream; 0: twice
	                                max_stanza_bytes */
	size_t max_outbound_bytes;   /* bound on each stanza written; 0: 256 KiB */
	guint ping_interval;         /* seconds; 0: no pings */
	const char *ping_to;         /* the domain pinged (a domain the server hosts) */
	size_t max_queue_bytes;      /* the queue's high-water mark; 0: default (4 MiB) */
	guint max_backoff_ms;        /* reconnect delay cap; 0: 60 000 */
	size_t queue_low_bytes;      /* its low-water mark; 0: a quarter of the high one */
	size_t key_high_bytes;       /* one key's bound; 0: default (256 KiB) */
};

struct component_callbacks {
	/* The handshake succeeded; stanzas can flow. */
	void (*online)(void *user_data);
	/* The link went down; a reconnect is scheduled. */
	void (*offline)(void *user_data);
	/* An inbound stanza (not a handshake, stream error or own ping reply).
	 * The callee owns STANZA. */
	void (*stanza)(void *user_data, struct stanza *stanza);
	/* Optional: an inbound stanza was skipped without being built (too large
	 * or too deep). HEAD (its name, from, to, id, type) is borrowed; PROBLEM
	 * says what was wrong, for a log line and an error text. */
	void (*skipped)(void *user_data, const struct stanza *head, const char *problem);
	/* Optional: the stanzas of one read are about to be delivered / have
	 * been delivered. Lets the callee write what they cause together. */
	void (*batch_begin)(void *user_data);
	void (*batch_end)(void *user_data);
	/* Optional: KEY (0: the whole link) became congested, or no longer
	 * is (see above). Called from inside component_send() too: the callee
	 * must not free the component. */
	void (*congestion)(void *user_data, guint32 key, bool congested);
};

/* Copies OPTIONS (strings included) and CALLBACKS. Does not connect yet. */
struct component *component_new(const struct component_options *options,
                                const struct component_callbacks *callbacks, void *user_data);

/* Closes the stream (sending </stream:stream> when possible) and frees.
 * NULL is a no-op. Must not be called from inside a component callback. */
void component_free(struct component *component);

/* Starts connecting; from then on the component keeps itself connected. */
void component_start(struct component *component);

/* Queues STANZA for the server, taking ownership. A missing 'from' is set
 * to the component domain; a stanza without 'to', or with a 'from' outside
 * the component domain, is refused (logged). While the link is down,
 * stanzas wait in the queue and are sent after the next handshake. No
 * stanza over max_outbound_bytes is written: a message's body is cut to fit
 * with a note saying so (logged); anything else is refused (logged).
 * Returns false when the stanza was refused; a long queue refuses nothing
 * (it reports congestion). The stanza counts for the current key. */
bool component_send(struct component *component, struct stanza *stanza);

/* Stanzas queued from now on count for KEY (0: none; ferry uses legacy
 * account ids). Returns the previous key. */
guint32 component_set_key(struct component *component, guint32 key);

/* Bytes queued and not yet written: for KEY, or all of them for 0. */
size_t component_queued_bytes(const struct component *component, guint32 key);

/* Bytes written since the last answered ping (kept for a resend). */
size_t component_unconfirmed_bytes(const struct component *component);

/* The link's congestion as last reported (true before the first handshake). */
bool component_congested(const struct component *component);

bool component_is_online(const struct component *component);

/* The component domain. Borrowed. */
const char *component_jid(const struct component *component);

/* The XEP-0114 handshake digest: lower-case hex SHA-1 of STREAM_ID followed
 * by SECRET, 40 characters. Caller frees. */
char *component_handshake_digest(const char *stream_id, const char *secret);

/* The next reconnect delay after ATTEMPT consecutive failures (1-based):
 * base 1 s doubling, capped at CAP_MS, scaled by a jitter factor in
 * [0.5, 1.0) taken from RANDOM (a value in [0, 1)). */
guint component_backoff_ms(guint attempt, guint cap_ms, double random);

#endif
