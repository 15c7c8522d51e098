/* stanza_serialize: writes a stanza tree as XML.
 *
 * Whatever the tree holds, the output must be well-formed and parse back to
 * the same tree: one malformed byte on a component connection makes the
 * server drop the whole stream. So besides the markup characters we escape
 * the whitespace an XML parser would normalize (CR anywhere; TAB and LF in
 * attribute values) and replace what XML 1.0 cannot carry at all with
 * U+FFFD.
 */
#include "config.h"
#include "ferry/stanza.h"

#include <stdint.h>
#include <string.h>

#define REPLACEMENT_CHAR "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

/* The replacement for ASCII byte C, or NULL when it is copied as is. */
static const char *ascii_escape(unsigned char c, bool attr)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return attr ? "&quot;" : NULL;
	case '\'':
		return attr ? "&apos;" : NULL;
	case '\t':
		return attr ? "&#9;" : NULL;
	case '\n':
		return attr ? "&#10;" : NULL;
	case '\r':
		return "&#13;";
	default:
		return c < 0x20 ? REPLACEMENT_CHAR : NULL;
	}
}

/* Appends S (LEN bytes) escaped for text content or, when ATTR, for an
 * attribute value quoted with either quote character. Unchanged stretches
 * are copied in one go. */
static void append_escaped(GString *out, const char *s, size_t len, bool attr)
{
	const char *p = s;
	const char *end = s + len;
	const char *run = s;
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		const char *rep;
		const char *next = p + 1;
		if (c < 0x80) {
			rep = ascii_escape(c, attr);
			if (rep == NULL) {
				p = next;
				continue;
			}
		} else {
			gunichar ch = g_utf8_get_char_validated(p, end - p);
			if (ch == (gunichar)-1 || ch == (gunichar)-2) {
				/* Invalid UTF-8: replace one byte, resynchronize. */
				rep = REPLACEMENT_CHAR;
			} else {
				next = g_utf8_next_char(p);
				if (ch != 0xFFFE && ch != 0xFFFF) {
					p = next;
					continue;
				}
				rep = REPLACEMENT_CHAR; /* not an XML Char */
			}
		}
		g_string_append_len(out, run, p - run);
		g_string_append(out, rep);
		p = next;
		run = p;
	}
	g_string_append_len(out, run, p - run);
}

/* The bytes text content TEXT (LEN bytes) takes once escaped; with
 * FIT_WITHIN not SIZE_MAX, stops before the first character that would take
 * it over that and stores where in *FIT_END. Mirrors append_escaped. */
static size_t escaped_len(const char *text, size_t len, size_t fit_within, size_t *fit_end)
{
	const char *p = text;
	const char *end = text + len;
	size_t total = 0;
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		const char *next = p + 1;
		size_t n = 1;
		if (c < 0x80) {
			const char *rep = ascii_escape(c, false);
			if (rep != NULL)
				n = strlen(rep);
		} else {
			gunichar ch = g_utf8_get_char_validated(p, end - p);
			if (ch == (gunichar)-1 || ch == (gunichar)-2) {
				n = sizeof REPLACEMENT_CHAR - 1;
			} else {
				next = g_utf8_next_char(p);
				n = ch == 0xFFFE || ch == 0xFFFF ? sizeof REPLACEMENT_CHAR - 1
				                                 : (size_t)(next - p);
			}
		}
		if (total + n > fit_within)
			break;
		total += n;
		p = next;
	}
	if (fit_end != NULL)
		*fit_end = (size_t)(p - text);
	return total;
}

static void serialize_element(const struct stanza *st, GString *out)
{
	g_string_append_c(out, '<');
	g_string_append(out, stanza_name(st));
	guint i = 0;
	const char *name, *value;
	while (stanza_next_attr(st, &i, &name, &value)) {
		g_string_append_c(out, ' ');
		g_string_append(out, name);
		g_string_append(out, "='");
		append_escaped(out, value, strlen(value), true);
		g_string_append_c(out, '\'');
	}
	const struct stanza_node *n = stanza_first_node(st);
	if (n == NULL) {
		g_string_append(out, "/>");
		return;
	}
	g_string_append_c(out, '>');
	/* Recursion depth is the tree depth, which the parser caps (max_depth)
	 * and code-built trees keep small. */
	for (; n != NULL; n = stanza_node_next(n)) {
		const struct stanza *child = stanza_node_element(n);
		if (child != NULL) {
			serialize_element(child, out);
		} else {
			size_t len = 0;
			const char *text = stanza_node_text(n, &len);
			append_escaped(out, text, len, false);
		}
	}
	g_string_append(out, "</");
	g_string_append(out, stanza_name(st));
	g_string_append_c(out, '>');
}

void stanza_serialize(const struct stanza *stanza, GString *out)
{
	g_return_if_fail(stanza != NULL && out != NULL);
	serialize_element(stanza, out);
}

char *stanza_to_string(const struct stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	GString *out = g_string_sized_new(256);
	serialize_element(stanza, out);
	return g_string_free(out, FALSE);
}

enum stanza_fit stanza_serialize_within(struct stanza *stanza, size_t max_bytes, GString *out,
                                        size_t *cut)
{
	g_return_val_if_fail(stanza != NULL && out != NULL, STANZA_TOO_BIG);
	if (cut != NULL)
		*cut = 0;
	size_t base = out->len;
	serialize_element(stanza, out);
	size_t whole = out->len - base;
	if (whole <= max_bytes)
		return STANZA_FITS;
	g_string_truncate(out, base);
	struct stanza *body = strcmp(stanza_name(stanza), "message") == 0
	                          ? stanza_find_child(stanza, "body", NULL)
	                          : NULL;
	if (body == NULL)
		return STANZA_TOO_BIG;
	g_autofree char *text = stanza_get_text(body);
	size_t len = strlen(text);
	size_t rest = whole - escaped_len(text, len, SIZE_MAX, NULL);
	/* The note with room for the largest count: plain ASCII, so escaped
	 * it is the same length. */
	size_t note_room = strlen("\n[message truncated by the transport: 18446744073709551615 "
	                          "bytes not shown]");
	if (rest + note_room >= max_bytes)
		return STANZA_TOO_BIG;
	size_t keep = 0;
	(void)escaped_len(text, len, max_bytes - rest - note_room, &keep);
	g_autoptr(GString) cut_text = g_string_new_len(text, (gssize)keep);
	g_string_append_printf(
	    cut_text, "\n[message truncated by the transport: %zu bytes not shown]", len - keep);
	stanza_set_text(body, cut_text->str, (gssize)cut_text->len);
	serialize_element(stanza, out);
	g_assert(out->len - base <= max_bytes);
	if (cut != NULL)
		*cut = len - keep;
	return STANZA_TRUNCATED;
}
