/* address: where things are at the transport's domain — legacy names as
 * contact JIDs (XEP-0106 escaping), the kind of an address, and who may
 * use the transport ([access] allowed_domains). */
#include "config.h"
#include "internal.h"

#include <string.h>

#include "ferry/pacer.h"

/* The error replies to strangers (other domains, unregistered users) are
 * rate-limited, per sender and in all: each is an answer anyone on the
 * network can make ferry send, to an address they choose. A client's
 * first steps (disco, vCard, presence: about ten stanzas) fit the burst. */
#define STRANGER_BURST 20       /* replies to one sender at once */
#define STRANGER_RATE 0.5       /* ... then one every 2 s */
#define STRANGER_KEYS 4096      /* senders remembered at once */
#define STRANGERS_BURST 100     /* replies to all strangers at once */
#define STRANGERS_RATE 20       /* ... then per second */
#define STRANGER_LOG_SECONDS 10 /* one log line per this, at most */

struct stranger_replies {
	struct ratelimit *each; /* by bare JID */
	struct ratelimit *all;  /* one key */
	guint dropped;          /* since the last log line */
	gint64 logged_us;
};

struct address {
	const struct settings *settings; /* allowed domains */
	char *jid;                       /* the transport domain */
	char *full;                      /* its full JID, domain/GATEWAY_RESOURCE */
	struct stranger_replies *strangers;
};

struct address *address_new(const struct settings *settings)
{
	struct address *a = g_new0(struct address, 1);
	a->settings = settings;
	a->jid = g_strdup(settings->component_jid);
	a->full = address_full(a->jid);
	a->strangers = g_new0(struct stranger_replies, 1);
	a->strangers->each = ratelimit_new(STRANGER_BURST, STRANGER_RATE, STRANGER_KEYS);
	a->strangers->all = ratelimit_new(STRANGERS_BURST, STRANGERS_RATE, 1);
	return a;
}

void address_free(struct address *a)
{
	if (a == NULL)
		return;
	g_free(a->jid);
	g_free(a->full);
	ratelimit_free(a->strangers->each);
	ratelimit_free(a->strangers->all);
	g_free(a->strangers);
	g_free(a);
}

bool address_may_answer_stranger(const struct address *a, const char *bare)
{
	struct stranger_replies *r = a->strangers;
	gint64 now = g_get_monotonic_time();
	if (ratelimit_take(r->each, bare, now) && ratelimit_take(r->all, "", now))
		return true;
	r->dropped++;
	if (now - r->logged_us >= (gint64)STRANGER_LOG_SECONDS * G_USEC_PER_SEC) {
		g_info("gateway: not answering %s: over the rate of error replies to strangers "
		       "(%u not answered in the last %d s)",
		       bare, r->dropped, STRANGER_LOG_SECONDS);
		r->dropped = 0;
		r->logged_us = now;
	}
	return false;
}

enum address_kind address_classify(const struct address *a, const struct jid *to)
{
	if (g_ascii_strcasecmp(jid_domain(to), a->jid) != 0)
		return ADDRESS_OTHER;
	bool resource = jid_resource(to) != NULL;
	if (jid_local(to) == NULL)
		return resource ? ADDRESS_TRANSPORT_RESOURCE : ADDRESS_TRANSPORT;
	return resource ? ADDRESS_CONTACT_RESOURCE : ADDRESS_CONTACT;
}

char *address_contact_jid(const struct address *a, const char *name)
{
	g_autofree char *local = jid_escape_local(name);
	return local != NULL ? g_strdup_printf("%s@%s", local, a->jid) : NULL;
}

const char *address_transport_full(const struct address *a)
{
	return a->full;
}

char *address_full(const char *bare)
{
	return g_strconcat(bare, "/" GATEWAY_RESOURCE, NULL);
}

char *address_legacy_name(const char *localpart)
{
	char *name = jid_unescape_local(localpart);
	if (name != NULL && *name == '\0')
		g_clear_pointer(&name, g_free);
	return name;
}

char *address_local_key(const char *localpart)
{
	return g_utf8_casefold(localpart, -1);
}

bool address_may_use(const struct address *a, const struct jid *user)
{
	return jid_local(user) != NULL && settings_domain_allowed(a->settings, jid_domain(user));
}

struct jid *address_sender(const struct stanza *stanza)
{
	const char *from = stanza_get_from(stanza);
	struct jid *j = from != NULL ? jid_parse(from, NULL) : NULL;
	if (j == NULL)
		g_debug("gateway: ignoring <%s> with an invalid sender", stanza_name(stanza));
	return j;
}

bool address_admit(const struct address *a, struct router *router, const struct stanza *stanza,
                   const struct jid *from)
{
	if (address_may_use(a, from))
		return true;
	if (!address_may_answer_stranger(a, jid_bare(from)))
		return false;
	g_info("gateway: refusing <%s> from %s: domain not allowed", stanza_name(stanza),
	       jid_bare(from));
	g_autofree char *text =
	    g_strdup_printf("%s serves users of %s only", a->jid, a->settings->allowed_domains[0]);
	router_send_error(router, stanza, "forbidden", text);
	return false;
}

struct jid *address_check_sender(const struct address *a, struct router *router,
                                 const struct stanza *stanza)
{
	struct jid *j = address_sender(stanza);
	if (j != NULL && !address_admit(a, router, stanza, j))
		g_clear_pointer(&j, jid_free);
	return j;
}

bool address_name_shortened(const char *wanted, const char *given)
{
	gsize n = strlen(given);
	return n > 0 && n < strlen(wanted) && g_ascii_strncasecmp(wanted, given, n) == 0;
}
