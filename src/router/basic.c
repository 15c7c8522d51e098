/* basic: jabber:iq:version (XEP-0092) and urn:xmpp:ping (XEP-0199) for the
 * transport domain. */
#include "config.h"
#include "ferry/basic.h"

#include "ferry/ns.h"

static enum router_result on_version(struct router *r, const struct stanza *iq, void *data)
{
	if (!router_to_transport(r, iq))
		return ROUTER_PASS;
	if (g_strcmp0(stanza_get_type(iq), "get") != 0) {
		router_send_error(r, iq, "bad-request", "the version can only be read");
		return ROUTER_HANDLED;
	}
	struct stanza *reply = stanza_new_reply(iq, "result");
	struct stanza *q = stanza_add_child(reply, "query", NS_VERSION);
	/* No <os/>: the host's OS is nobody's business. */
	stanza_add_text_child(q, "name", PACKAGE_NAME);
	stanza_add_text_child(q, "version", PACKAGE_VERSION);
	router_send(r, reply);
	return ROUTER_HANDLED;
}

static enum router_result on_ping(struct router *r, const struct stanza *iq, void *data)
{
	if (!router_to_transport(r, iq) || g_strcmp0(stanza_get_type(iq), "get") != 0)
		return ROUTER_PASS;
	router_send_result(r, iq);
	return ROUTER_HANDLED;
}

void basic_handlers_register(struct router *router, struct disco *disco)
{
	router_add_iq_handler(router, NS_VERSION, on_version, NULL);
	router_add_iq_handler(router, NS_PING, on_ping, NULL);
	disco_add_feature(disco, NS_VERSION);
	disco_add_feature(disco, NS_PING);
}
