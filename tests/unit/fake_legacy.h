/* fake_legacy: a scripted legacy side (include/ferry/legacy.h) for unit
 * tests. It records every command the transport sends, encoded and decoded
 * through the real codec, and lets the test inject events, worker losses
 * and login failures. Accounts behave as the worker pool's do: a command
 * for an account that is not logged in (never was, logged out, lost) is
 * refused. */
#ifndef FERRY_TEST_FAKE_LEGACY_H
#define FERRY_TEST_FAKE_LEGACY_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/legacy.h"

struct fake_legacy;

/* A command the transport sent (LOGIN, LOGOUT and the LEGACY_SEND ones). */
struct fake_command {
	guint32 type;
	guint32 account;
	GVariant *payload; /* decode with worker_msg_<name>_read() */
};

/* A new legacy side and, in *FAKE, its script handle (owned by the legacy
 * side: freed with legacy_free()). */
struct legacy *fake_legacy_new(struct fake_legacy **fake);

/* Commands recorded and not yet taken. */
guint fake_legacy_count(const struct fake_legacy *fake);
/* Takes the oldest recorded command, or NULL. Caller frees. */
struct fake_command *fake_legacy_take(struct fake_legacy *fake);
/* Takes the oldest recorded command of TYPE (others stay), or NULL. */
struct fake_command *fake_legacy_take_type(struct fake_legacy *fake, guint32 type);
/* How many recorded commands are of TYPE. */
guint fake_legacy_count_type(const struct fake_legacy *fake, guint32 type);
/* Forgets every recorded command. */
void fake_legacy_clear(struct fake_legacy *fake);
void fake_command_free(struct fake_command *command);

/* The next N logins fail (legacy_login returns 0 with an error). */
void fake_legacy_fail_logins(struct fake_legacy *fake, guint n);
/* true while ACCOUNT is logged in (or logging in). */
bool fake_legacy_has_account(const struct fake_legacy *fake, guint32 account);
/* The account of the newest login, 0 if none. */
guint32 fake_legacy_last_account(const struct fake_legacy *fake);

/* Delivers the event FRAME (taken; FAKE_EMIT builds it) as the legacy
 * side would: to the callbacks, decoded; dropped, as the pool drops late
 * events, when its account is not logged in. */
void fake_legacy_emit(struct fake_legacy *fake, GBytes *frame);
#define FAKE_EMIT(fake, name, ...) fake_legacy_emit((fake), WORKER_FRAME(name, __VA_ARGS__))

/* ACCOUNT's worker dies: the account is forgotten and reported lost (an
 * account not logged in is not reported, as with the pool). */
void fake_legacy_lose(struct fake_legacy *fake, guint32 account);

/* The next logout finds the (one) worker dead: instead of logging out,
 * every account is forgotten and reported lost, synchronously, inside
 * legacy_logout(), as the pool does when reading the worker's last
 * acknowledgements fails. */
void fake_legacy_die_on_logout(struct fake_legacy *fake);

/* When ON, a logout first acknowledges (IMS_SENT) every SEND_IM the
 * account was sent, as the worker pool does with the acknowledgements
 * waiting on a worker's socket. */
void fake_legacy_ack_on_logout(struct fake_legacy *fake, bool on);

/* The next command sent to ACCOUNT finds its worker dead: ACCOUNT is
 * reported lost inside the send (as the pool on EPIPE), which fails. */
void fake_legacy_lose_on_send(struct fake_legacy *fake, guint32 account);

/* While ON, a logged-out account lingers as the pool's does: its logout
 * is pending (legacy_logout_pending) and its events still come through
 * fake_legacy_emit() until its DISCONNECTED. */
void fake_legacy_linger_on_logout(struct fake_legacy *fake, bool on);

#endif
