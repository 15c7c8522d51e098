/* inflight (internal to src/legacy/): the pool's book of what each hosted
 * account has in flight, and of the suspects -- the legacy logins whose
 * worker died while they had messages in flight (workers.c decides what
 * to do with them).
 *
 * Only SEND_IM is answered by the worker (IMS_SENT, IM_RESULT), so only
 * messages count: a message is in flight from the moment it is queued for
 * the worker until one of those answers passes over its sequence number,
 * or the account's DISCONNECTED (which the worker sends after answering
 * everything). */
#ifndef FERRY_LEGACY_INFLIGHT_H
#define FERRY_LEGACY_INFLIGHT_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/worker_msgs.h"

struct inflight_book;

struct inflight_book *inflight_book_new(void);
void inflight_book_free(struct inflight_book *book);

/* ACCOUNT is now hosted for LOGIN (its protocol and username name the
 * legacy login across logins); forgotten by inflight_book_remove(). */
void inflight_book_add(struct inflight_book *book, guint32 account,
                       const struct worker_msg_login *login);
void inflight_book_remove(struct inflight_book *book, guint32 account);

/* FRAME (not taken) is being queued for its account's worker. */
void inflight_book_on_command(struct inflight_book *book, GBytes *frame);

/* An event for ACCOUNT from its worker: true when it answered the last
 * message ACCOUNT had in flight (none is left). */
bool inflight_book_on_event(struct inflight_book *book, guint32 account, guint32 type,
                            GVariant *payload);

/* How many messages ACCOUNT has in flight. */
guint inflight_book_count(const struct inflight_book *book, guint32 account);

/* ACCOUNT's legacy username, for logs ("?" when unknown). */
const char *inflight_book_user(const struct inflight_book *book, guint32 account);

/* Remembers ACCOUNT's login as a suspect for a while (SUSPECT_SECONDS). */
void inflight_book_suspect(struct inflight_book *book, guint32 account);

/* True, and forgotten, when LOGIN was made a suspect not long ago. */
bool inflight_book_take_suspect(struct inflight_book *book, const struct worker_msg_login *login);

/* True when ACCOUNT's DISCONNECTED has come (or ACCOUNT is unknown): the
 * worker will say nothing more of it. */
bool inflight_book_ended(const struct inflight_book *book, guint32 account);

/* ACCOUNT was logged out: it waits for its DISCONNECTED until DEADLINE
 * (monotonic µs). */
void inflight_book_leave(struct inflight_book *book, guint32 account, gint64 deadline);
bool inflight_book_leaving(const struct inflight_book *book, guint32 account);

/* The accounts still leaving at NOW past their deadline (caller frees). */
GArray *inflight_book_overdue(const struct inflight_book *book, gint64 now);

#endif
