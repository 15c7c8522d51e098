/* router: dispatches inbound stanzas to handlers and tracks ferry's own iq
 * requests until their answer or timeout.
 *
 * An iq get/set goes to the handlers registered for its payload namespace
 * (the namespace of its first child element); messages and presences go to
 * their handler chains. Handlers run in registration order; each returns
 * ROUTER_HANDLED (it took care of the stanza, replies and errors included)
 * or ROUTER_PASS. An iq get/set nobody handles gets service-unavailable; an
 * iq result/error is matched to the pending request with its id and sender.
 * The router never answers a stanza of type error.
 */
#ifndef FERRY_ROUTER_H
#define FERRY_ROUTER_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/stanza.h"

struct router;

enum router_result {
	ROUTER_PASS,    /* not mine: try the next handler */
	ROUTER_HANDLED, /* done; the stanza was answered if it needed an answer */
};

/* STANZA is borrowed for the call; copy what you keep. */
typedef enum router_result (*router_handler)(struct router *router, const struct stanza *stanza,
                                             void *user_data);

/* Where outbound stanzas go (the component link); takes ownership. */
typedef void (*router_send_fn)(void *user_data, struct stanza *stanza);

/* The answer to a request: REPLY is the iq result or error, or NULL when the
 * request timed out or was cancelled. REPLY is borrowed for the call. */
typedef void (*router_iq_callback)(struct router *router, const struct stanza *reply,
                                   void *user_data);

/* JID is the component domain; SEND receives every stanza ferry sends. */
struct router *router_new(const char *jid, router_send_fn send, void *send_data);

/* Frees the router. Pending requests are cancelled: their callbacks run
 * with a NULL reply. NULL is a no-op. */
void router_free(struct router *router);

/* The component domain. Borrowed. */
const char *router_jid(const struct router *router);

/* true when STANZA is addressed to the transport itself, its domain or a
 * full JID of it (domain/resource), not to a contact at it. */
bool router_to_transport(const struct router *router, const struct stanza *stanza);

/* Handlers for iq get/set whose payload is in namespace NS. */
void router_add_iq_handler(struct router *router, const char *ns, router_handler handler,
                           void *user_data);
/* A handler asked about every well-formed iq get/set before the chain of
 * its namespace, e.g. a check by the address it is sent to: ROUTER_HANDLED
 * stops it there (answered), ROUTER_PASS lets it go on. */
void router_add_iq_filter(struct router *router, router_handler handler, void *user_data);
void router_add_message_handler(struct router *router, router_handler handler, void *user_data);
void router_add_presence_handler(struct router *router, router_handler handler, void *user_data);

/* Routes an inbound stanza, taking ownership. */
void router_dispatch(struct router *router, struct stanza *stanza);

/* Answers a stanza the parser skipped without building it (over the size
 * or depth limit; see xml_stream.h), so that it costs only itself. HEAD is
 * what was kept of it: its name, from, to, id and type. PROBLEM says what
 * was wrong, e.g. "1228827 bytes, over the limit of 4194304", for the log
 * and the error text. A message, presence or iq get/set with a sender gets
 * a policy-violation error (modify) with the text; an iq result or error
 * that answers a pending request fails that request: its callback gets a
 * policy-violation error in place of the answer, at once rather than at
 * the timeout. Errors are never answered. Logs one line either way. */
void router_dispatch_skipped(struct router *router, const struct stanza *head, const char *problem);

/* Sends a stanza, taking ownership. */
void router_send(struct router *router, struct stanza *stanza);

/* Sends an error reply to REQUEST (never to an error). TEXT may be NULL. */
void router_send_error(struct router *router, const struct stanza *request, const char *condition,
                       const char *text);

/* Sends an empty iq result for REQUEST. */
void router_send_result(struct router *router, const struct stanza *request);

/* Sends IQ (type get or set), taking ownership, and calls CALLBACK once with
 * the answer or, after TIMEOUT_MS, with NULL. An id is assigned when the iq
 * has none. */
void router_send_iq(struct router *router, struct stanza *iq, guint timeout_ms,
                    router_iq_callback callback, void *user_data);

/* Cancels every pending request whose user_data is USER_DATA; their
 * callbacks do not run. Call it before freeing USER_DATA. */
void router_cancel_requests(struct router *router, void *user_data);

/* Number of requests waiting for an answer. */
guint router_pending_count(const struct router *router);

#endif
