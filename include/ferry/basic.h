/* basic: the small iq handlers of the transport's JID — software version
 * (XEP-0092) and ping (XEP-0199). */
#ifndef FERRY_BASIC_H
#define FERRY_BASIC_H

#include "ferry/disco.h"
#include "ferry/router.h"

/* Registers jabber:iq:version and urn:xmpp:ping for the transport domain
 * and adds their features to DISCO. */
void basic_handlers_register(struct router *router, struct disco *disco);

#endif
