/* jid: XMPP address parsing and structural validation (RFC 7622), and the
 * XEP-0106 escaping that carries legacy names in localparts.
 *
 * The validation is what a transport needs to avoid emitting addresses a
 * server rejects or misroutes; full PRECIS profiles are the server's job.
 */
#include "config.h"
#include "ferry/jid.h"

#include <string.h>

#define JID_PART_MAX 1023 /* bytes, RFC 7622 §3.1 */

struct jid {
	char *local;    /* NULL when absent */
	char *domain;   /* ASCII-lower-cased, no trailing dot */
	char *resource; /* NULL when absent */
	char *bare;     /* "local@domain" or "domain" */
	char *full;     /* bare, or "bare/resource" */
};

G_DEFINE_QUARK(ferry-jid-error-quark, jid_error);

/* true for code points PRECIS puts in the Controls category (Cc). */
static bool is_control(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/* Checks one part: valid UTF-8, 1..1023 bytes, no controls, none of the
 * ASCII characters in FORBIDDEN. Returns an error message or NULL. */
static const char *check_part(const char *part, size_t len, const char *forbidden)
{
	if (len == 0)
		return "is empty";
	if (len > JID_PART_MAX)
		return "is longer than 1023 bytes";
	const char *end;
	if (!g_utf8_validate(part, len, &end))
		return "is not valid UTF-8";
	for (const char *p = part; p < part + len; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (is_control(c))
			return "contains a control character";
		if (c < 0x80 && strchr(forbidden, (int)c) != NULL)
			return "contains a forbidden character";
	}
	return NULL;
}

static const char local_forbidden[] = "\"&'/:<>@ ";
static const char domain_forbidden[] = "@ ";
static const char resource_forbidden[] = "";

/* true when the LEN bytes of DOMAIN (its one trailing dot dropped) have
 * an empty label: a leading or trailing dot, or two in a row. Otherwise
 * ".." would parse as "." and that would not parse again (RFC 7622 §3.2:
 * a domainpart is labels, each of at least one character). */
static bool has_empty_label(const char *domain, size_t len)
{
	if (len > 0 && (domain[0] == '.' || domain[len - 1] == '.'))
		return true;
	for (size_t i = 1; i < len; i++) {
		if (domain[i] == '.' && domain[i - 1] == '.')
			return true;
	}
	return false;
}

/* Validates the parts (LOCAL and RESOURCE may be NULL; lengths in bytes)
 * and builds the JID, lower-casing the domain and dropping one final dot. */
static struct jid *build(const char *local, size_t local_len, const char *domain, size_t domain_len,
                         const char *resource, size_t resource_len, GError **error)
{
	/* RFC 7622 §3.2: a trailing label separator is not part of the domain. */
	if (domain_len > 0 && domain[domain_len - 1] == '.')
		domain_len--;
	const char *what = "domainpart";
	const char *why = check_part(domain, domain_len, domain_forbidden);
	if (why == NULL && has_empty_label(domain, domain_len))
		why = "has an empty label";
	if (why == NULL && local != NULL) {
		what = "localpart";
		why = check_part(local, local_len, local_forbidden);
	}
	if (why == NULL && resource != NULL) {
		what = "resourcepart";
		why = check_part(resource, resource_len, resource_forbidden);
	}
	if (why != NULL) {
		g_set_error(error, JID_ERROR, JID_ERROR_MALFORMED, "the %s %s", what, why);
		return NULL;
	}
	struct jid *jid = g_new0(struct jid, 1);
	jid->local = local != NULL ? g_strndup(local, local_len) : NULL;
	jid->domain = g_ascii_strdown(domain, domain_len);
	jid->resource = resource != NULL ? g_strndup(resource, resource_len) : NULL;
	jid->bare = jid->local != NULL ? g_strconcat(jid->local, "@", jid->domain, NULL)
	                               : g_strdup(jid->domain);
	jid->full = jid->resource != NULL ? g_strconcat(jid->bare, "/", jid->resource, NULL) : NULL;
	return jid;
}

struct jid *jid_parse(const char *text, GError **error)
{
	g_return_val_if_fail(text != NULL, NULL);
	/* RFC 7622 §3.2: the resource starts at the first '/', then the
	 * localpart ends at the first '@' before it. */
	const char *slash = strchr(text, '/');
	size_t head_len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	const char *at = memchr(text, '@', head_len);
	const char *domain = at != NULL ? at + 1 : text;
	size_t domain_len = head_len - (size_t)(domain - text);
	return build(at != NULL ? text : NULL, at != NULL ? (size_t)(at - text) : 0, domain,
	             domain_len, slash != NULL ? slash + 1 : NULL,
	             slash != NULL ? strlen(slash + 1) : 0, error);
}

struct jid *jid_new(const char *local, const char *domain, const char *resource, GError **error)
{
	g_return_val_if_fail(domain != NULL, NULL);
	return build(local, local != NULL ? strlen(local) : 0, domain, strlen(domain), resource,
	             resource != NULL ? strlen(resource) : 0, error);
}

void jid_free(struct jid *jid)
{
	if (jid == NULL)
		return;
	g_free(jid->local);
	g_free(jid->domain);
	g_free(jid->resource);
	g_free(jid->bare);
	g_free(jid->full);
	g_free(jid);
}

struct jid *jid_copy(const struct jid *jid)
{
	g_return_val_if_fail(jid != NULL, NULL);
	struct jid *copy = g_new0(struct jid, 1);
	copy->local = g_strdup(jid->local);
	copy->domain = g_strdup(jid->domain);
	copy->resource = g_strdup(jid->resource);
	copy->bare = g_strdup(jid->bare);
	copy->full = g_strdup(jid->full);
	return copy;
}

const char *jid_local(const struct jid *jid)
{
	g_return_val_if_fail(jid != NULL, NULL);
	return jid->local;
}

const char *jid_domain(const struct jid *jid)
{
	g_return_val_if_fail(jid != NULL, NULL);
	return jid->domain;
}

const char *jid_resource(const struct jid *jid)
{
	g_return_val_if_fail(jid != NULL, NULL);
	return jid->resource;
}

const char *jid_bare(const struct jid *jid)
{
	g_return_val_if_fail(jid != NULL, NULL);
	return jid->bare;
}

const char *jid_full(const struct jid *jid)
{
	g_return_val_if_fail(jid != NULL, NULL);
	return jid->full != NULL ? jid->full : jid->bare;
}

bool jid_bare_equal(const struct jid *a, const struct jid *b)
{
	g_return_val_if_fail(a != NULL && b != NULL, false);
	return strcmp(a->bare, b->bare) == 0;
}

char *jid_bare_of(const char *text)
{
	g_return_val_if_fail(text != NULL, NULL);
	struct jid *jid = jid_parse(text, NULL);
	if (jid == NULL)
		return NULL;
	char *bare = g_steal_pointer(&jid->bare);
	jid_free(jid);
	return bare;
}

/* ---- XEP-0106 ----------------------------------------------------------- */

/* The §3.2 table: each character and its two escape digits (lower case:
 * "CASE IS SIGNIFICANT"). */
static const struct {
	char c;
	char hex[3];
} escapes[] = {
    {' ', "20"}, {'"', "22"}, {'&', "26"}, {'\'', "27"}, {'/', "2f"},
    {':', "3a"}, {'<', "3c"}, {'>', "3e"}, {'@', "40"},  {'\\', "5c"},
};

/* The character P's escape sequence "\xx" stands for, or 0 when P does not
 * start one of the ten sequences. P must have two more readable bytes or a
 * NUL before them. */
static char escaped_char_at(const char *p)
{
	if (p[0] != '\\' || p[1] == '\0' || p[2] == '\0')
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(escapes); i++) {
		if (p[1] == escapes[i].hex[0] && p[2] == escapes[i].hex[1])
			return escapes[i].c;
	}
	return 0;
}

char *jid_escape_local(const char *name)
{
	g_return_val_if_fail(name != NULL, NULL);
	size_t len = strlen(name);
	/* §3.2: \20 must not begin or end the localpart. */
	if (len == 0 || name[0] == ' ' || name[len - 1] == ' ')
		return NULL;
	if (!g_utf8_validate(name, len, NULL))
		return NULL;
	GString *out = g_string_sized_new(len + 8);
	for (const char *p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f) {
			g_string_free(out, TRUE);
			return NULL;
		}
		/* §4.1 rule 7, §4.3: a backslash is escaped only when it starts
		 * one of the ten sequences; "foo\bar" stays as it is. */
		if (c == '\\') {
			g_string_append(out, escaped_char_at(p) != 0 ? "\\5c" : "\\");
			continue;
		}
		size_t i;
		for (i = 0; i < G_N_ELEMENTS(escapes) - 1; i++) {
			if (escapes[i].c == (char)c)
				break;
		}
		if (i < G_N_ELEMENTS(escapes) - 1) {
			g_string_append_c(out, '\\');
			g_string_append(out, escapes[i].hex);
		} else {
			g_string_append_c(out, (char)c);
		}
	}
	/* The remaining checks of a localpart (C1 controls, length). */
	if (check_part(out->str, out->len, local_forbidden) != NULL) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

char *jid_unescape_local(const char *local)
{
	g_return_val_if_fail(local != NULL, NULL);
	GString *out = g_string_sized_new(strlen(local));
	for (const char *p = local; *p != '\0'; p++) {
		char c = escaped_char_at(p);
		if (c != 0) {
			g_string_append_c(out, c);
			p += 2;
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}
