/* out: the stanzas the transport sends on its own initiative, built in one
 * place: presence, notices from the transport, message bounces. */
#include "config.h"
#include "internal.h"

struct stanza *out_presence_new(struct router *router, const char *from, const char *to,
                                const char *type)
{
	struct stanza *p = stanza_new("presence");
	stanza_set_attr(p, "from", from != NULL ? from : router_jid(router));
	stanza_set_attr(p, "to", to);
	if (type != NULL)
		stanza_set_attr(p, "type", type);
	return p;
}

void out_presence(struct router *router, const char *from, const char *to, const char *type)
{
	router_send(router, out_presence_new(router, from, to, type));
}

struct stanza *out_chat_new(const char *from, const char *to)
{
	struct stanza *m = stanza_new("message");
	stanza_set_attr(m, "from", from);
	stanza_set_attr(m, "to", to);
	stanza_set_attr(m, "type", "chat");
	return m;
}

void out_tell_user(struct router *router, const char *bare_jid, const char *text)
{
	struct stanza *m = out_chat_new(router_jid(router), bare_jid);
	stanza_add_text_child(m, "body", text);
	router_send(router, m);
}

struct stanza *out_full_presence_new(struct router *router, bool *cleared, const char *bare,
                                     const char *full, const char *user, const char *to,
                                     const char *type)
{
	if (!*cleared) {
		/* Before the first presence from the full JID, one unavailable
		 * from the bare JID, which ferry used until presence moved to the
		 * full JID: clients drop what they kept of it. Never after: Dino,
		 * Conversations and Gajim apply a bare unavailable to every
		 * resource of the contact. */
		*cleared = true;
		out_presence(router, bare, user, "unavailable");
	}
	return out_presence_new(router, full, to, type);
}

void out_subscribe(struct router *router, const char *from, const char *to, const char *nick,
                   const char *status)
{
	struct stanza *p = out_presence_new(router, from, to, "subscribe");
	if (status != NULL && *status != '\0')
		stanza_add_text_child(p, "status", status);
	if (nick != NULL && *nick != '\0') {
		struct stanza *n = stanza_add_text_child(p, "nick", nick);
		stanza_set_attr(n, "xmlns", NS_NICK);
	}
	router_send(router, p);
}

void out_message_error(struct router *router, const char *from, const char *to, const char *id,
                       const char *body, const char *condition, const char *why)
{
	struct stanza *m = stanza_new("message");
	stanza_set_attr(m, "from", from != NULL ? from : router_jid(router));
	stanza_set_attr(m, "to", to);
	stanza_set_attr(m, "type", "error");
	if (id != NULL)
		stanza_set_attr(m, "id", id);
	if (body != NULL)
		stanza_add_text_child(m, "body", body);
	stanza_add_error(m, NULL, condition, why);
	router_send(router, m);
}
