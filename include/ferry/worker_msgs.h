/* worker_msgs: the typed codec of the worker protocol, generated from the
 * catalogue in worker_protocol.h (WORKER_MESSAGES) and shared by ferry and
 * ferry-worker. Nothing outside src/common/ writes a payload format string.
 *
 * For each message NAME (lower case, e.g. send_im) there is:
 *
 *   struct worker_msg_NAME      its account id and payload members, typed
 *                               by kind: STR and SECRET const char *, U32
 *                               guint32, BOOL bool, I64 gint64, DICT
 *                               GHashTable * (char * -> char *), FORM
 *                               GPtrArray * of such GHashTable *
 *   worker_msg_NAME_frame(m)    the encoded frame (GBytes, caller unrefs);
 *                               NULL strings are sent as "", a NULL DICT or
 *                               FORM as empty; SECRET text is copied only into
 *                               memory that is wiped when freed
 *   worker_msg_NAME_read(p,a,m) fills M from payload P (already checked
 *                               against the catalogue, as
 *                               worker_frame_decode() returns it) and
 *                               account A: strings are borrowed from P, a
 *                               DICT is a new table of borrowed strings, a
 *                               FORM a new array of such tables;
 *                               release with worker_msg_NAME_clear(m).
 *                               false (a programming error, logged; M
 *                               holds only A) when P has another type
 *
 * and, for receivers, struct worker_msg_handlers: one callback per message
 * (NULL: not handled here), run by worker_msg_dispatch() with the decoded
 * message, which is valid for the call only.
 */
#ifndef FERRY_WORKER_MSGS_H
#define FERRY_WORKER_MSGS_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/worker_protocol.h"

#define WORKER_CTYPE_STR const char *
#define WORKER_CTYPE_SECRET const char *
#define WORKER_CTYPE_U32 guint32
#define WORKER_CTYPE_BOOL bool
#define WORKER_CTYPE_I64 gint64
#define WORKER_CTYPE_DICT GHashTable *
#define WORKER_CTYPE_FORM GPtrArray *

#define WORKER_MEMBER_(kind, member) WORKER_CTYPE_##kind member;
#define WORKER_STRUCT_(NAME, number, name, fields)                                                 \
	struct worker_msg_##name {                                                                 \
		guint32 account; /* ferry's account id; 0: the worker itself */                    \
		fields                                                                             \
	};
WORKER_MESSAGES(WORKER_STRUCT_, WORKER_MEMBER_)

#define WORKER_PROTOTYPES_(NAME, number, name, fields)                                             \
	GBytes *worker_msg_##name##_frame(const struct worker_msg_##name *msg);                    \
	bool worker_msg_##name##_read(GVariant *payload, guint32 account,                          \
	                              struct worker_msg_##name *msg);                              \
	void worker_msg_##name##_clear(struct worker_msg_##name *msg);
WORKER_MESSAGES(WORKER_PROTOTYPES_, WORKER_NO_FIELD_)

/* The frame of message NAME built from designated initializers:
 * WORKER_FRAME(send_im, .account = id, .seq = 7, .name = "bob", .text = t).
 * The compiler checks every member against the catalogue. */
#define WORKER_FRAME(name, ...)                                                                    \
	worker_msg_##name##_frame(&(const struct worker_msg_##name){__VA_ARGS__})

#define WORKER_HANDLER_(NAME, number, name, fields)                                                \
	void (*name)(void *data, const struct worker_msg_##name *msg);
struct worker_msg_handlers {
	WORKER_MESSAGES(WORKER_HANDLER_, WORKER_NO_FIELD_)
};

/* Decodes PAYLOAD (of TYPE, already checked against the catalogue) for
 * ACCOUNT and calls HANDLERS' callback for TYPE with DATA. false, calling
 * nothing, when HANDLERS has no callback for TYPE, TYPE is unknown, or
 * PAYLOAD is not of TYPE's payload type (a programming error, logged). */
bool worker_msg_dispatch(const struct worker_msg_handlers *handlers, void *data, guint32 type,
                         guint32 account, GVariant *payload);

#endif
