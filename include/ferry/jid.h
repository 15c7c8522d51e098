/* jid: parsing and validation of XMPP addresses (RFC 7622), and the
 * XEP-0106 escaping that maps legacy names into localparts.
 *
 * Validation is structural, not full PRECIS: valid UTF-8, no control
 * characters, each part 1..1023 bytes, the localpart free of the characters
 * RFC 7622 forbids ("&'/:<>@ and space), the domain free of spaces, '@'
 * and empty labels (one trailing dot is dropped), so that parsing what
 * jid_full() gives returns the same JID.
 * Domains are lower-cased (ASCII). Localparts keep their case: servers
 * case-fold them, so ferry stores the legacy spelling separately.
 */
#ifndef FERRY_JID_H
#define FERRY_JID_H

#include <glib.h>
#include <stdbool.h>

struct jid;

#define JID_ERROR (jid_error_quark())
GQuark jid_error_quark(void);

enum jid_error_code {
	JID_ERROR_MALFORMED, /* the address is not a valid JID */
};

/* Parses TEXT. Returns NULL and sets ERROR when it is not a valid JID.
 * Caller frees with jid_free(). */
struct jid *jid_parse(const char *text, GError **error);

/* Builds a JID from parts (LOCAL, RESOURCE may be NULL) and validates it. */
struct jid *jid_new(const char *local, const char *domain, const char *resource, GError **error);

void jid_free(struct jid *jid);
struct jid *jid_copy(const struct jid *jid);

/* Parts; borrowed; local and resource are NULL when absent. */
const char *jid_local(const struct jid *jid);
const char *jid_domain(const struct jid *jid);
const char *jid_resource(const struct jid *jid);

/* "local@domain" or "domain". Borrowed, valid while JID lives. */
const char *jid_bare(const struct jid *jid);
/* The full form (bare + "/resource" when there is one). Borrowed. */
const char *jid_full(const struct jid *jid);

/* true when A and B have the same bare JID. */
bool jid_bare_equal(const struct jid *a, const struct jid *b);

/* A newly allocated bare form of TEXT ("a@b/c" -> "a@b"), or NULL if TEXT
 * is not a valid JID. Caller frees. */
char *jid_bare_of(const char *text);

/* XEP-0106: escapes a legacy name for use as a localpart. A backslash is
 * escaped only when it starts one of the ten sequences (§4.1 rule 7, §4.3).
 * Returns NULL when the result cannot be a localpart (empty, leading/trailing
 * space, a control character, over 1023 bytes, or invalid UTF-8). Caller
 * frees. */
char *jid_escape_local(const char *name);

/* XEP-0106: reverses jid_escape_local(). Only the ten escape sequences of
 * §3.2 are decoded. Caller frees. */
char *jid_unescape_local(const char *local);

#endif
