/* basic: jabber:iq:version (XEP-0092), urn:xmpp:ping (XEP-0199) and the
 * transport's own vCard (XEP-0054) for the transport domain. */
#include "config.h"
#include "ferry/basic.h"

#include "ferry/ns.h"

#define NS_VCARD "vcard-temp" /* XEP-0054 */

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

/* The transport's vCard names the service (DATA: its name, borrowed);
 * contacts' vCards are the gateway's, for their own JIDs. */
static enum router_result on_vcard(struct router *r, const struct stanza *iq, void *data)
{
	const char *name = data;
	if (!router_to_transport(r, iq) || stanza_find_child(iq, "vCard", NS_VCARD) == NULL)
		return ROUTER_PASS;
	if (g_strcmp0(stanza_get_type(iq), "get") != 0) {
		router_send_error(r, iq, "not-allowed", "the transport's vCard cannot be changed");
		return ROUTER_HANDLED;
	}
	struct stanza *reply = stanza_new_reply(iq, "result");
	struct stanza *v = stanza_add_child(reply, "vCard", NS_VCARD);
	stanza_add_text_child(v, "FN", name);
	stanza_add_text_child(v, "NICKNAME", name);
	g_autofree char *desc = g_strdup_printf(
	    "%s: an XMPP transport (%s %s). To register, send help to this address in a chat, "
	    "or use its commands.",
	    name, PACKAGE_NAME, PACKAGE_VERSION);
	stanza_add_text_child(v, "DESC", desc);
	router_send(r, reply);
	return ROUTER_HANDLED;
}

void basic_handlers_register(struct router *router, struct disco *disco, const char *name)
{
	router_add_iq_handler(router, NS_VERSION, on_version, NULL);
	router_add_iq_handler(router, NS_PING, on_ping, NULL);
	router_add_iq_handler(router, NS_VCARD, on_vcard, (void *)name);
	disco_add_feature(disco, NS_VERSION);
	disco_add_feature(disco, NS_PING);
	disco_add_feature(disco, NS_VCARD);
}
