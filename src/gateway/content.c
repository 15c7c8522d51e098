/* content: what a user's message holds, judged before it goes to the
 * legacy network. (Chat sent to the transport itself is the chat bot's,
 * chatbot.c.)
 *
 * The legacy networks carry plain text. A message whose text is only a
 * fallback for something else (an end-to-end encrypted payload, a
 * retraction) would reach the contact as if it were what the user meant,
 * so it is refused with an error and nothing is sent; a payload without
 * text that the network cannot carry (taking a reaction back) is refused
 * the same way. A reaction goes as text ("Reacted: 👍"), a correction as a
 * new message, each marked, the user told once per contact. Metadata that needs no legacy counterpart (receipts, chat markers,
 * hints, ids) is dropped without an answer: those are the client's own
 * automatic stanzas, and an error for each would be noise. Chat states go
 * on (messages.c relays them as typing). See ARCHITECTURE.md. */
#include "config.h"
#include "internal.h"

#include <string.h>

#define NS_EME "urn:xmpp:eme:0"                          /* XEP-0380 */
#define NS_OMEMO_LEGACY "eu.siacs.conversations.axolotl" /* XEP-0384 before 0.4 */
#define NS_OMEMO_2 "urn:xmpp:omemo:2"                    /* XEP-0384 */
#define NS_OPENPGP "urn:xmpp:openpgp:0"                  /* XEP-0373 */
#define NS_PGP_LEGACY "jabber:x:encrypted"               /* XEP-0027 */
#define NS_OTR "urn:xmpp:otr:0"                          /* XEP-0364, as XEP-0380 names it */
#define NS_REACTIONS "urn:xmpp:reactions:0"              /* XEP-0444 */
#define NS_RETRACT_0 "urn:xmpp:message-retract:0"        /* XEP-0424 0.3 (in XEP-0422) */
#define NS_RETRACT_1 "urn:xmpp:message-retract:1"        /* XEP-0424 */
#define NS_FASTEN "urn:xmpp:fasten:0"                    /* XEP-0422 */
#define NS_CORRECT "urn:xmpp:message-correct:0"          /* XEP-0308 */
#define NS_ATTENTION "urn:xmpp:attention:0"              /* XEP-0224 */
/* What starts a corrected message on the legacy side. */
#define CONTENT_CORRECTION_MARK "Correction: "
/* What starts a reaction sent as text, and how many emoji of one go. */
#define CONTENT_REACTION_MARK "Reacted: "
#define CONTENT_REACTIONS_MAX 8

/* Users told that their corrections or attention requests do not cross,
 * by "kind\nuser\ncontact"; past this many the book starts again (a user
 * may be told twice). */
#define CONTENT_TOLD_MAX 10000

struct content {
	const struct gateway_ctx *ctx;
	GHashTable *told; /* "kind\nuser\ncontact" keys: tell_once() */
};

struct content *content_new(const struct gateway_ctx *ctx)
{
	struct content *c = g_new0(struct content, 1);
	c->ctx = ctx;
	c->told = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return c;
}

void content_free(struct content *c)
{
	if (c == NULL)
		return;
	g_hash_table_unref(c->told);
	g_free(c);
}

/* ---- what a message holds ---------------------------------------------------------- */

/* The encryption schemes of XEP-0380 by namespace, and the elements that
 * carry them when a client sends no marker. */
static const struct {
	const char *element; /* the payload element, NULL for a marker-only namespace */
	const char *ns;
	const char *name;
} encryptions[] = {
    {"encrypted", NS_OMEMO_2, "OMEMO"},         /* XEP-0384 */
    {"encrypted", NS_OMEMO_LEGACY, "OMEMO"},    /* what clients deploy today */
    {"openpgp", NS_OPENPGP, "OpenPGP"},         /* XEP-0373 */
    {"x", NS_PGP_LEGACY, "OpenPGP (XEP-0027)"}, /* XEP-0027 */
    {NULL, "urn:xmpp:omemo:1", "OMEMO"},        /* XEP-0380's list */
};

static const char *encryption_name(const char *ns)
{
	for (gsize i = 0; i < G_N_ELEMENTS(encryptions); i++)
		if (g_strcmp0(encryptions[i].ns, ns) == 0)
			return encryptions[i].name;
	return NULL;
}

/* The name of the end-to-end encryption M uses and the legacy network
 * cannot carry, or NULL. OTR is no such encryption: its messages are text
 * in the body, which crosses as it is and is decrypted by the contact's
 * client (an XEP-0380 marker naming OTR changes nothing). */
static const char *encryption_of(const struct stanza *m)
{
	const struct stanza *eme = stanza_find_child(m, "encryption", NS_EME);
	if (eme != NULL) {
		const char *ns = stanza_get_attr(eme, "namespace");
		if (g_strcmp0(ns, NS_OTR) != 0) {
			const char *name = encryption_name(ns);
			if (name == NULL)
				name = stanza_get_attr(eme, "name");
			return name != NULL ? name : "end-to-end";
		}
	}
	for (gsize i = 0; i < G_N_ELEMENTS(encryptions); i++)
		if (encryptions[i].element != NULL &&
		    stanza_find_child(m, encryptions[i].element, encryptions[i].ns) != NULL)
			return encryptions[i].name;
	return NULL;
}

/* true when M retracts an earlier message (XEP-0424, either version):
 * its body is only a fallback for clients that do not know retraction. */
static bool is_retraction(const struct stanza *m)
{
	if (stanza_find_child(m, "retract", NS_RETRACT_1) != NULL)
		return true;
	const struct stanza *fasten = stanza_find_child(m, "apply-to", NS_FASTEN);
	return fasten != NULL && stanza_find_child(fasten, "retract", NS_RETRACT_0) != NULL;
}

/* Namespaces of payloads that are metadata about the conversation, never
 * content the contact should see. */
static const char *const metadata_namespaces[] = {
    NS_CHATSTATES,                        /* XEP-0085: relayed as typing */
    "urn:xmpp:receipts",                  /* XEP-0184 */
    "urn:xmpp:chat-markers:0",            /* XEP-0333 */
    "urn:xmpp:hints",                     /* XEP-0334 */
    "urn:xmpp:sid:0",                     /* XEP-0359 */
    "jabber:x:event",                     /* XEP-0022 */
    NS_DELAY,                             /* XEP-0203 */
    "urn:xmpp:carbons:2",                 /* XEP-0280 <private/> */
    "urn:xmpp:styling:0",                 /* XEP-0393 <unstyled/> */
    NS_NICK,                              /* XEP-0172 */
    "http://jabber.org/protocol/address", /* XEP-0033 */
};

static bool is_metadata(const struct stanza *child)
{
	const char *ns = stanza_ns(child);
	/* <thread/> is in the stanza's own namespace. */
	if (strcmp(stanza_name(child), "thread") == 0 &&
	    g_strcmp0(ns, stanza_ns(stanza_parent(child))) == 0)
		return true;
	for (gsize i = 0; i < G_N_ELEMENTS(metadata_namespaces); i++)
		if (g_strcmp0(ns, metadata_namespaces[i]) == 0)
			return true;
	/* An empty muc#user <x/>: Gajim marks private messages through a room
	 * occupant so, typing notices included (an <invite/> inside is no
	 * metadata). */
	return strcmp(stanza_name(child), "x") == 0 && g_strcmp0(ns, NS_MUC_USER) == 0 &&
	       stanza_next_child(child, NULL) == NULL;
}

/* The emoji of the XEP-0444 <reactions/> R, space-separated (at most
 * CONTENT_REACTIONS_MAX, control characters dropped), or NULL when it
 * holds none (it takes reactions back). Caller frees. */
static char *reaction_emoji(const struct stanza *r)
{
	GString *out = g_string_new(NULL);
	guint n = 0;
	for (const struct stanza *e = stanza_next_child(r, NULL);
	     e != NULL && n < CONTENT_REACTIONS_MAX; e = stanza_next_child(r, e)) {
		if (strcmp(stanza_name(e), "reaction") != 0)
			continue;
		g_autofree char *t = stanza_get_text(e);
		g_strstrip(t);
		if (*t == '\0')
			continue;
		for (char *p = t; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		if (out->len > 0)
			g_string_append_c(out, ' ');
		g_string_append(out, t);
		n++;
	}
	if (out->len == 0) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

/* What a body-less payload is, for the user; NULL when M holds only
 * metadata. Caller frees. */
static char *uncarried_payload(const struct stanza *m)
{
	for (const struct stanza *c = stanza_next_child(m, NULL); c != NULL;
	     c = stanza_next_child(m, c)) {
		if (is_metadata(c))
			continue;
		if (g_strcmp0(stanza_ns(c), NS_REACTIONS) == 0) {
			/* A reaction goes as text (content_reaction_text); an empty
			 * <reactions/> takes the user's reactions back, which no
			 * text can do. */
			g_autofree char *text = reaction_emoji(c);
			if (text != NULL)
				continue;
			return g_strdup("taking a reaction back");
		}
		if (is_retraction(m))
			return g_strdup("a retraction");
		const char *ns = stanza_ns(c);
		/* An element of the stanza's own namespace (<subject/>) is named
		 * alone. */
		return ns != NULL && g_strcmp0(ns, stanza_ns(m)) != 0
		           ? g_strdup_printf("<%s xmlns='%s'/>", stanza_name(c), ns)
		           : g_strdup_printf("<%s/>", stanza_name(c));
	}
	return NULL;
}

bool content_may_relay(struct session *s, const struct stanza *m)
{
	const struct gateway_ctx *ctx = session_ctx(s);
	const char *network = regform_protocol_name(ctx->form);
	const char *encryption = encryption_of(m);
	if (encryption != NULL) {
		g_autofree char *why = g_strdup_printf(
		    "this message is end-to-end encrypted (%s), and that cannot cross to %s, which "
		    "carries plain text only: it was not sent; turn encryption off for this "
		    "contact to write to them",
		    encryption, network);
		g_info("content: %s: refused a %s encrypted message", session_jid(s), encryption);
		router_send_error(ctx->router, m, "not-acceptable", why);
		return false;
	}
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	if (body != NULL) {
		if (is_retraction(m)) {
			g_autofree char *why =
			    g_strdup_printf("%s cannot take back a message already sent: the "
			                    "retraction was not sent",
			                    network);
			router_send_error(ctx->router, m, "feature-not-implemented", why);
			return false;
		}
		return true;
	}
	g_autofree char *what = uncarried_payload(m);
	if (what == NULL)
		return true; /* metadata only: chat states go on as typing, the rest ends here */
	g_autofree char *why = g_strdup_printf(
	    "%s carries text only: %s cannot cross to it and was not sent", network, what);
	router_send_error(ctx->router, m, "feature-not-implemented", why);
	return false;
}

/* Tells S's user NOTE once per contact TO and KIND ('c' corrections, 'a'
 * attention, 'r' reactions). */
static void tell_once(struct session *s, char kind, const char *to, const char *note)
{
	struct content *c = session_ctx(s)->content;
	if (c == NULL)
		return;
	char *key = g_strdup_printf("%c\n%s\n%s", kind, session_jid(s), to);
	if (g_hash_table_contains(c->told, key)) {
		g_free(key);
		return;
	}
	if (g_hash_table_size(c->told) >= CONTENT_TOLD_MAX)
		g_hash_table_remove_all(c->told);
	g_hash_table_add(c->told, key);
	out_tell_user(session_ctx(s)->router, session_jid(s), note);
}

char *content_text_to_send(struct session *s, const char *to, const struct stanza *m,
                           const char *body)
{
	bool attention = stanza_find_child(m, "attention", NS_ATTENTION) != NULL;
	if (!attention && stanza_find_child(m, "replace", NS_CORRECT) == NULL)
		return NULL; /* every other message: nothing to do on this path */
	const struct gateway_ctx *ctx = session_ctx(s);
	const char *network = regform_protocol_name(ctx->form);
	g_autofree char *bare = to != NULL ? g_strdup(to) : g_strdup("");
	char *slash = strchr(bare, '/');
	if (slash != NULL)
		*slash = '\0';
	if (attention) {
		/* the body goes; the attention cannot (a body-less one is refused
		 * by content_may_relay) */
		g_autofree char *note = g_strdup_printf(
		    "%s has no attention requests (buzz): your message to %s was sent without it. "
		    "(Said once per contact.)",
		    network, bare);
		tell_once(s, 'a', bare, note);
	}
	if (stanza_find_child(m, "replace", NS_CORRECT) == NULL)
		return NULL;
	/* libpurple 2.x edits nothing on any protocol: the corrected text goes
	 * as a new message, marked so the contact sees what it is */
	g_autofree char *note = g_strdup_printf(
	    "%s cannot edit a message already sent: your correction to %s went as a new "
	    "message starting with \"%s\". (Said once per contact.)",
	    network, bare, CONTENT_CORRECTION_MARK);
	tell_once(s, 'c', bare, note);
	return g_strconcat(CONTENT_CORRECTION_MARK, body, NULL);
}

char *content_reaction_text(struct session *s, const char *to, const struct stanza *m)
{
	const struct stanza *r = stanza_find_child(m, "reactions", NS_REACTIONS);
	g_autofree char *emoji = r != NULL ? reaction_emoji(r) : NULL;
	if (emoji == NULL)
		return NULL;
	const char *network = regform_protocol_name(session_ctx(s)->form);
	g_autofree char *bare = to != NULL ? g_strdup(to) : g_strdup("");
	char *slash = strchr(bare, '/');
	if (slash != NULL)
		*slash = '\0';
	/* the contact cannot see what was reacted to: the text says only that
	 * it is a reaction */
	g_autofree char *note = g_strdup_printf(
	    "%s has no reactions: your reaction to %s went as a message starting with \"%s\". "
	    "(Said once per contact.)",
	    network, bare, CONTENT_REACTION_MARK);
	tell_once(s, 'r', bare, note);
	return g_strconcat(CONTENT_REACTION_MARK, emoji, NULL);
}

/* ---- files offered on the legacy side -------------------------------------------- */

void content_on_file_offered(void *session, const struct worker_msg_file_offered *m)
{
	struct session *s = session;
	const struct gateway_ctx *ctx = session_ctx(s);
	const struct contact *c = contact_get(s, m->name, false);
	const char *jid = c != NULL ? contact_jid(c) : NULL;
	g_autofree char *who = jid != NULL ? g_strdup_printf("%s (%s)", m->name, jid)
	                                   : g_strdup(*m->name != '\0' ? m->name : "someone");
	g_autofree char *size = m->size > 0 ? g_format_size((guint64)m->size) : NULL;
	g_autofree char *what =
	    *m->filename != '\0'
	        ? g_strdup_printf("a file, \"%s\"%s%s%s", m->filename, size != NULL ? " (" : "",
	                          size != NULL ? size : "", size != NULL ? ")" : "")
	        : g_strdup("a file");
	g_autofree char *text = g_strdup_printf(
	    "%s offered you %s over %s. Files cannot cross this transport, so it was declined. "
	    "Ask them to send a link instead: links arrive as text (and so does a file you "
	    "share from your client, as its upload link).",
	    who, what, regform_protocol_name(ctx->form));
	g_info("content: %s: a file offered on %s was declined", session_jid(s),
	       regform_protocol_name(ctx->form));
	out_tell_user(ctx->router, session_jid(s), text);
}

/* ---- how to register ---------------------------------------------------------------- */

char *content_how_to_register(const struct gateway_ctx *ctx)
{
	return g_strdup_printf("to register, use your client's \"Register\" command on %s (find "
	                       "%s in your client's service discovery)",
	                       ctx->jid, ctx->jid);
}
