/* disco: XEP-0030 service discovery for every address at the transport.
 *
 * The transport's own JID (its domain, and any full JID of it) answers
 * with the identities and features modules add at wiring time, and with
 * the nodes they register (XEP-0050 command nodes, ...). Every other
 * address is answered by providers that modules register for the
 * addresses they own (contact JIDs, rooms to come): each is asked in turn
 * and says whether the address is its own. An address nobody claims gets
 * service-unavailable (the router's answer to an unhandled iq); a known
 * address with an unknown node gets item-not-found.
 *
 * XEP-0115: disco_info_caps_ver() hashes an answer; a disco#info at node
 * DISCO_CAPS_NODE#VER is answered as the address's plain disco#info when
 * that hashes to VER (clients check it), and with item-not-found when not.
 */
#ifndef FERRY_DISCO_H
#define FERRY_DISCO_H

#include <glib.h>

#include "ferry/jid.h"
#include "ferry/router.h"
#include "ferry/stanza.h"

struct disco;

/* The node of the <c/> ferry puts in presence (XEP-0115 §4: a URI naming
 * the software). */
#define DISCO_CAPS_NODE "urn:x-ferry:caps"

/* An answer being built: what a provider fills in. */
struct disco_info;
struct disco_items;

enum disco_answer {
	DISCO_PASS,      /* not this provider's address: ask the next */
	DISCO_ANSWER,    /* the address is known: send what was filled in */
	DISCO_NOT_FOUND, /* the address (or the node at it) does not exist: item-not-found */
	DISCO_REFUSED,   /* the provider answered the request with an error itself */
};

struct disco_provider {
	/* A disco#info get to TO, parsed (NODE: NULL for none), in request IQ
	 * (borrowed, for the sender and for answering errors). NULL: the
	 * provider answers no disco#info. */
	enum disco_answer (*info)(void *data, const struct stanza *iq, const struct jid *to,
	                          const char *node, struct disco_info *info);
	/* The same for disco#items. */
	enum disco_answer (*items)(void *data, const struct stanza *iq, const struct jid *to,
	                           const char *node, struct disco_items *items);
};

/* Registers the disco#info and disco#items handlers on ROUTER. */
struct disco *disco_new(struct router *router);
void disco_free(struct disco *disco);

/* ---- the transport's own JID --------------------------------------------- */

/* Adds an identity (NAME may be NULL). Strings are copied. */
void disco_add_identity(struct disco *disco, const char *category, const char *type,
                        const char *name);
/* Adds a feature var (duplicates are ignored). */
void disco_add_feature(struct disco *disco, const char *var);
/* The transport's features, sorted, for tests and caps. Borrowed. */
const GPtrArray *disco_features(const struct disco *disco);
/* The XEP-0115 ver of the transport's own disco#info: computed once, again
 * only after an identity or feature is added. Borrowed. */
const char *disco_caps_ver(struct disco *disco);

/* Registers NODE of the transport's JID, answered by PROVIDER (borrowed,
 * with DATA; TO is the transport's JID). A node registered twice is a
 * programming error. A NODE ending in '/' also answers the nodes that
 * start with it and are not registered themselves ("prompt/" for
 * "prompt/7"): its provider sees the full node. */
void disco_add_node(struct disco *disco, const char *node, const struct disco_provider *provider,
                    void *data);

/* ---- other addresses ------------------------------------------------------- */

/* Adds PROVIDER (borrowed, with DATA) for addresses other than the
 * transport's own; providers are asked in the order they were added. */
void disco_add_provider(struct disco *disco, const struct disco_provider *provider, void *data);

/* PROVIDER's items callback answers disco#items of the transport's own JID
 * (no node), e.g. a room list; DISCO_PASS there: the empty list. */
void disco_set_self_items(struct disco *disco, const struct disco_provider *provider, void *data);

/* ---- building answers -------------------------------------------------------- */

void disco_info_add_identity(struct disco_info *info, const char *category, const char *type,
                             const char *name);
/* Duplicates are ignored; features are sent sorted. */
void disco_info_add_feature(struct disco_info *info, const char *var);
/* An empty answer, for modules that announce caps of addresses they own. */
/* Appends FORM (taken), an XEP-0128 data form, to the answer. Not part of
 * the caps hash (disco_info_caps_ver): rooms' forms change. */
void disco_info_add_form(struct disco_info *info, struct stanza *form);
struct disco_info *disco_info_new(void);
void disco_info_free(struct disco_info *info);
/* The XEP-0115 §5.1 ver of INFO: SHA-1 over its identities and features,
 * base64. Caller frees. */
char *disco_info_caps_ver(const struct disco_info *info);
/* Adds the XEP-0115 <c hash='sha-1' node=DISCO_CAPS_NODE ver=VER/> to
 * PRESENCE. */
void disco_add_caps(struct stanza *presence, const char *ver);

/* An item: JID, with NODE and NAME (both may be NULL). */
void disco_items_add(struct disco_items *items, const char *jid, const char *node,
                     const char *name);

#endif
