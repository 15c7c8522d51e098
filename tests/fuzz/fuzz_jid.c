/* libFuzzer target for jid.c: JID parsing and the XEP-0106 escaping of
 * legacy names (every from/to ferry reads, every contact it makes).
 *
 * The input, up to its first NUL, is used three ways:
 *  - as a JID: when jid_parse() takes it, its parts keep the promises of
 *    jid.h (lengths, UTF-8, no forbidden character, domain lower case),
 *    and formatting then parsing again gives the same JID (parse . format
 *    is idempotent), as do jid_new() on its parts, jid_copy() and
 *    jid_bare_of(); when it refuses, the error is a JID_ERROR;
 *  - as a legacy name: jid_escape_local() gives a valid localpart that
 *    jid_unescape_local() turns back into the name (unescape . escape =
 *    id), and refuses only the names jid.h says it refuses;
 *  - as a localpart: escaping what unescaping gave round-trips too.
 * Any broken promise aborts.
 */
#include "config.h"
#include "ferry/jid.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define JID_PART_MAX 1023
/* The longest name whose escaped form certainly fits a localpart: each
 * byte grows to at most three. */
#define NAME_SURELY_FITS (JID_PART_MAX / 3)

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static bool is_control(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/* PART (NULL: absent) is a valid JID part without any of FORBIDDEN. */
static void check_part(const char *part, const char *forbidden)
{
	if (part == NULL)
		return;
	size_t len = strlen(part);
	check(len >= 1 && len <= JID_PART_MAX);
	check(g_utf8_validate(part, (gssize)len, NULL));
	for (const char *p = part; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		check(!is_control(c));
		check(c >= 0x80 || strchr(forbidden, (int)c) == NULL);
	}
}

static bool same_str(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static bool same_jid(const struct jid *a, const struct jid *b)
{
	return same_str(jid_local(a), jid_local(b)) && same_str(jid_domain(a), jid_domain(b)) &&
	       same_str(jid_resource(a), jid_resource(b)) && same_str(jid_bare(a), jid_bare(b)) &&
	       same_str(jid_full(a), jid_full(b));
}

static void fuzz_parse(const char *text)
{
	GError *error = NULL;
	struct jid *jid = jid_parse(text, &error);
	char *bare_of = jid_bare_of(text);
	if (jid == NULL) {
		check(error != NULL && error->domain == JID_ERROR);
		check(g_utf8_validate(error->message, -1, NULL));
		g_error_free(error);
		check(bare_of == NULL);
		return;
	}
	check(error == NULL);
	check_part(jid_local(jid), "\"&'/:<>@ ");
	check_part(jid_domain(jid), "@ ");
	check_part(jid_resource(jid), "");
	for (const char *p = jid_domain(jid); *p != '\0'; p++)
		check(!g_ascii_isupper(*p));
	check(same_str(bare_of, jid_bare(jid)));
	g_free(bare_of);

	struct jid *copy = jid_copy(jid);
	check(same_jid(jid, copy) && jid_bare_equal(jid, copy));
	jid_free(copy);

	/* parse . format is idempotent */
	struct jid *again = jid_parse(jid_full(jid), NULL);
	check(again != NULL && same_jid(jid, again));
	jid_free(again);
	struct jid *bare = jid_parse(jid_bare(jid), NULL);
	check(bare != NULL && jid_resource(bare) == NULL && jid_bare_equal(jid, bare));
	jid_free(bare);
	struct jid *built = jid_new(jid_local(jid), jid_domain(jid), jid_resource(jid), NULL);
	check(built != NULL && same_jid(jid, built));
	jid_free(built);
	jid_free(jid);
}

/* NAME is one jid_escape_local() must take (jid.h: not empty, no leading
 * or trailing space, no control character, valid UTF-8), short enough to
 * fit escaped. */
static bool name_surely_escapes(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > NAME_SURELY_FITS || name[0] == ' ' || name[len - 1] == ' ')
		return false;
	if (!g_utf8_validate(name, (gssize)len, NULL))
		return false;
	for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
		if (is_control(g_utf8_get_char(p)))
			return false;
	}
	return true;
}

/* unescape . escape = id, and the escaped name is a localpart. */
static void fuzz_escape(const char *name)
{
	char *escaped = jid_escape_local(name);
	if (escaped == NULL) {
		check(!name_surely_escapes(name));
		return;
	}
	check_part(escaped, "\"&'/:<>@ ");
	struct jid *jid = jid_new(escaped, "example.org", NULL, NULL);
	check(jid != NULL && strcmp(jid_local(jid), escaped) == 0);
	jid_free(jid);
	char *back = jid_unescape_local(escaped);
	check(strcmp(back, name) == 0);
	g_free(back);
	g_free(escaped);
}

static void fuzz_unescape(const char *local)
{
	char *name = jid_unescape_local(local);
	check(strlen(name) <= strlen(local));
	fuzz_escape(name);
	g_free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = g_strndup((const char *)data, size);
	fuzz_parse(text);
	fuzz_escape(text);
	fuzz_unescape(text);
	g_free(text);
	return 0;
}
