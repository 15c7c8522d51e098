/* gateway: the transport itself — registration (XEP-0077, XEP-0100),
 * per-user sessions on the legacy network, contacts in the roster,
 * presence and messages both ways.
 *
 * main.c opens what it stands on (storage, the legacy side, the protocol's
 * registration form) and passes them in as ports; the gateway registers
 * its handlers on the router and its entries on disco, and main.c tells it
 * when the component link comes up (to probe registered users and restore
 * their sessions). Unit tests pass a fake legacy side instead.
 */
#ifndef FERRY_GATEWAY_H
#define FERRY_GATEWAY_H

#include <glib.h>

#include "ferry/disco.h"
#include "ferry/legacy.h"
#include "ferry/regform.h"
#include "ferry/router.h"
#include "ferry/settings.h"
#include "ferry/storage.h"

struct gateway;

/* What the gateway stands on; all borrowed, and all must outlive it. */
struct gateway_ports {
	const struct settings *settings;
	struct router *router;
	struct disco *disco;
	struct storage *storage;
	struct legacy *legacy;
	const struct regform *form;
};

/* Registers the handlers and takes the legacy side's events. */
struct gateway *gateway_new(const struct gateway_ports *ports);

/* Logs every session out through the legacy side and lets go of it. NULL
 * is a no-op. The router keeps the gateway's handlers and disco its
 * entries (neither can remove them): free both after the gateway, and do
 * not build a second gateway on them. */
void gateway_free(struct gateway *gateway);

/* The component link is up (again): announce the transport and probe every
 * registered user, whose answer restores their session. */
void gateway_link_up(struct gateway *gateway);

#endif
