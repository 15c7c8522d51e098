/* gateway: the transport itself — registration (XEP-0077, XEP-0100),
 * per-user sessions on the legacy network through the workers, contacts in
 * the roster, presence and messages both ways.
 *
 * It registers its handlers on the router and its identity and features on
 * disco; main.c creates it after the router and tells it when the
 * component link comes up (to probe registered users and restore their
 * sessions).
 */
#ifndef FERRY_GATEWAY_H
#define FERRY_GATEWAY_H

#include <glib.h>

#include "ferry/handlers.h"
#include "ferry/router.h"
#include "ferry/settings.h"

struct gateway;

/* Loads the key and database, asks the worker program for the protocol's
 * registration needs, and registers the handlers. SETTINGS, ROUTER and DISCO
 * are borrowed and must outlive the gateway. NULL with ERROR on failure (the
 * message is meant for the admin). */
struct gateway *gateway_new(const struct settings *settings, struct router *router,
                            struct disco *disco, GError **error);

/* Logs every session out, stops the workers, closes storage. */
void gateway_free(struct gateway *gateway);

/* The component link is up (again): announce the transport and probe every
 * registered user, whose answer restores their session. */
void gateway_link_up(struct gateway *gateway);

/* While HOLD, what the gateway sends to its workers waits; releasing writes
 * it, one system call per worker (a read of several stanzas from the
 * server then costs each worker one wake-up, not one per stanza). */
void gateway_hold_writes(struct gateway *gateway, bool hold);

/* The worker program ferry uses by default: the one next to the running
 * binary when there is one (a build tree), else the installed one. Caller
 * frees. */
char *gateway_default_worker_program(void);

#endif
