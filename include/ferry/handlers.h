/* handlers: the small iq handlers of the transport domain — service
 * discovery (XEP-0030), software version (XEP-0092) and ping (XEP-0199).
 *
 * disco keeps the transport's identities and features; other modules add
 * theirs (registration adds jabber:iq:register, ...) at wiring time.
 */
#ifndef FERRY_HANDLERS_H
#define FERRY_HANDLERS_H

#include "ferry/router.h"

struct disco;

/* Registers the disco#info and disco#items handlers for the transport
 * domain on ROUTER. The disco must outlive the router's use of it. */
struct disco *disco_new(struct router *router);
void disco_free(struct disco *disco);

/* Adds an identity (NAME may be NULL). Strings are copied. */
void disco_add_identity(struct disco *disco, const char *category, const char *type,
                        const char *name);

/* Adds a feature var (duplicates are ignored). */
void disco_add_feature(struct disco *disco, const char *var);

/* The features, sorted, for tests and caps. Borrowed. */
const GPtrArray *disco_features(const struct disco *disco);

/* Registers jabber:iq:version and urn:xmpp:ping for the transport domain
 * and adds their features to DISCO. */
void basic_handlers_register(struct router *router, struct disco *disco);

#endif
