/* stanza: the XML element tree that every XMPP stanza is held in.
 *
 * A stanza is an element with attributes (kept in insertion order) and an
 * ordered list of children, each an element or a text run. Namespaces are
 * plain `xmlns` attributes: the parser does no namespace processing, and
 * stanza_ns() resolves the effective namespace by walking up to the nearest
 * ancestor that declares one. Prefixed names such as "stream:error" are kept
 * as written.
 *
 * Ownership: functions returning `struct stanza *` from a lookup return a
 * borrowed pointer into the tree; `_new`/`_copy`/`_take` say who owns what.
 */
#ifndef FERRY_STANZA_H
#define FERRY_STANZA_H

#include <glib.h>
#include <stdbool.h>

struct stanza;

/* A new element with no attributes and no children. Caller owns it. */
struct stanza *stanza_new(const char *name);

/* A new element carrying xmlns=NS (NS may be NULL). Caller owns it. */
struct stanza *stanza_new_ns(const char *name, const char *ns);

/* A new element with the attributes of ATTRS, a NULL-terminated name/value
 * array such as expat passes (names must not repeat). The element, its name
 * and its attributes share one allocation: this is the parser's hot path.
 * Caller owns it. */
struct stanza *stanza_new_with_attrs(const char *name, const char *const *attrs);

/* Frees the element and all its children. NULL is a no-op. Must not be
 * called on a child still attached to a parent. */
void stanza_free(struct stanza *stanza);

/* A deep copy, detached from any parent. Caller owns it. */
struct stanza *stanza_copy(const struct stanza *stanza);

/* The element name as written ("iq", "stream:error"). */
const char *stanza_name(const struct stanza *stanza);

/* true when the element's name is NAME and its effective namespace is NS
 * (NS NULL: any namespace). */
bool stanza_is(const struct stanza *stanza, const char *name, const char *ns);

/* The effective namespace: this element's xmlns, else the nearest
 * ancestor's; NULL if none declares one. Borrowed. */
const char *stanza_ns(const struct stanza *stanza);

/* The parent element, or NULL for a root. Borrowed. */
struct stanza *stanza_parent(const struct stanza *stanza);

/* Attribute lookup; NULL when absent. Borrowed. */
const char *stanza_get_attr(const struct stanza *stanza, const char *name);

/* Sets (or replaces) an attribute; VALUE NULL removes it. Both are copied. */
void stanza_set_attr(struct stanza *stanza, const char *name, const char *value);

/* Iterates attributes: *INDEX starts at 0; returns false when done. */
bool stanza_next_attr(const struct stanza *stanza, guint *index, const char **name,
                      const char **value);

/* Shorthands for the common stanza attributes. */
const char *stanza_get_from(const struct stanza *stanza);
const char *stanza_get_to(const struct stanza *stanza);
const char *stanza_get_id(const struct stanza *stanza);
const char *stanza_get_type(const struct stanza *stanza);

/* Appends a new child element (optionally with xmlns=NS); returns it,
 * borrowed (the parent owns it). */
struct stanza *stanza_add_child(struct stanza *parent, const char *name, const char *ns);

/* Appends CHILD, taking ownership. CHILD must have no parent. Returns CHILD. */
struct stanza *stanza_add_child_take(struct stanza *parent, struct stanza *child);

/* Detaches CHILD from its parent; the caller then owns it. */
void stanza_unlink(struct stanza *child);

/* Appends a text run (LEN -1: NUL-terminated). The text must be valid
 * UTF-8; it is escaped on serialization, never interpreted as markup. */
void stanza_add_text(struct stanza *parent, const char *text, gssize len);

/* Appends a child element NAME containing TEXT; returns the child, borrowed. */
/* Replaces all of STANZA's children (text and elements) with TEXT (LEN
 * bytes, or up to its NUL when LEN < 0). */
void stanza_set_text(struct stanza *stanza, const char *text, gssize len);

struct stanza *stanza_add_text_child(struct stanza *parent, const char *name, const char *text);

/* The first child element named NAME (NULL: any name) in namespace NS
 * (NULL: any namespace). Borrowed; NULL if none. */
struct stanza *stanza_find_child(const struct stanza *stanza, const char *name, const char *ns);

/* Child element iteration: pass NULL for the first child element. Text
 * runs are skipped. Borrowed. */
struct stanza *stanza_next_child(const struct stanza *stanza, const struct stanza *prev);

/* Number of child elements (text runs not counted). */
guint stanza_child_count(const struct stanza *stanza);

/* The concatenated text of the direct text children; "" if none. Caller
 * frees. */
char *stanza_get_text(const struct stanza *stanza);

/* Text of the first child element NAME in NS, or NULL if there is no such
 * child. Caller frees. */
char *stanza_get_child_text(const struct stanza *stanza, const char *name, const char *ns);

/* A child of an element in document order: an element or a text run.
 * Serializers walk these; everything else uses the element helpers above. */
struct stanza_node;

/* The first child (element or text run), or NULL. Borrowed. */
const struct stanza_node *stanza_first_node(const struct stanza *stanza);
/* The next sibling of NODE, or NULL. Borrowed. */
const struct stanza_node *stanza_node_next(const struct stanza_node *node);
/* NODE as an element, or NULL when it is a text run. Borrowed. */
const struct stanza *stanza_node_element(const struct stanza_node *node);
/* NODE's text (NUL-terminated, *LEN bytes), or NULL when it is an element.
 * Borrowed. */
const char *stanza_node_text(const struct stanza_node *node, size_t *len);

/* Serializes the element and its subtree to OUT (appending). Attribute
 * values and text are escaped (&amp; &lt; &gt; &quot; &apos; as needed);
 * so that the output is well-formed and parses back to the same tree, CR
 * (and TAB, LF in attributes) become character references, and bytes that
 * XML cannot carry (invalid UTF-8, control characters, U+FFFE/U+FFFF)
 * become U+FFFD. Attribute values are quoted with '. */
void stanza_serialize(const struct stanza *stanza, GString *out);

/* Serializes to a new string. Caller frees. */
char *stanza_to_string(const struct stanza *stanza);

/* What stanza_serialize_within() did. */
enum stanza_fit {
	STANZA_FITS,      /* written whole */
	STANZA_TRUNCATED, /* a message's body was cut to fit, with a note */
	STANZA_TOO_BIG,   /* nothing written: over the bound, and no body to cut */
};

/* Serializes STANZA into OUT (appending) so that it takes at most MAX_BYTES.
 * A message over the bound has its <body> cut on a character boundary,
 * measured as escaped, and "[message truncated by the transport: N bytes
 * not shown]" appended on a line of its own (N: the UTF-8 bytes cut); the
 * stanza is changed to match. Anything else over the bound, or a message
 * that does not fit even with an empty body, is not written. *CUT (may be
 * NULL) gets the bytes cut. */
enum stanza_fit stanza_serialize_within(struct stanza *stanza, size_t max_bytes, GString *out,
                                        size_t *cut);

/* ---- stanza construction helpers --------------------------------------- */

/* A reply skeleton for REQUEST: same element name, from/to swapped, same id,
 * type TYPE (NULL: none). Caller owns it. */
struct stanza *stanza_new_reply(const struct stanza *request, const char *type);

/* An error reply to REQUEST: from/to swapped, type='error', a copy of the
 * request's children when COPY_PAYLOAD, then
 * <error type=ERROR_TYPE><CONDITION xmlns=stanzas/><text xmlns=stanzas>TEXT</text></error>.
 * ERROR_TYPE is one of cancel, continue, modify, auth, wait, or NULL for
 * stanza_error_type_for(CONDITION); TEXT may be NULL. Caller owns it. */
struct stanza *stanza_new_error(const struct stanza *request, const char *error_type,
                                const char *condition, const char *text, bool copy_payload);

/* Appends <error type=ERROR_TYPE><CONDITION/><text>TEXT</text></error> (as
 * in stanza_new_error) to STANZA, for errors that answer no request: a
 * bounced message, a failed login reported as presence. Returns the
 * <error/>, borrowed. */
struct stanza *stanza_add_error(struct stanza *stanza, const char *error_type,
                                const char *condition, const char *text);

/* The default error type for a defined condition (RFC 6120 §8.3.3); "cancel"
 * for undefined-condition and for names RFC 6120 does not define. Static. */
const char *stanza_error_type_for(const char *condition);

#define STANZA_NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define STANZA_NS_STREAMS "urn:ietf:params:xml:ns:xmpp-streams"
#define STANZA_NS_COMPONENT "jabber:component:accept"
#define STANZA_NS_CLIENT "jabber:client"

#endif
