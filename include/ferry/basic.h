/* basic: the small iq handlers of the transport's JID — software version
 * (XEP-0092), ping (XEP-0199) and its own vCard (XEP-0054). */
#ifndef FERRY_BASIC_H
#define FERRY_BASIC_H

#include "ferry/disco.h"
#include "ferry/router.h"

/* Registers jabber:iq:version, urn:xmpp:ping and vcard-temp for the
 * transport domain and adds their features to DISCO. NAME (the service's
 * name, for its vCard) is borrowed and must outlive ROUTER. */
void basic_handlers_register(struct router *router, struct disco *disco, const char *name);

#endif
