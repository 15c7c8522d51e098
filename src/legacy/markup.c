/* markup: plain text <-> libpurple HTML. See include/ferry/markup.h. */
#include "config.h"
#include "ferry/markup.h"

#include <glib.h>
#include <stdbool.h>
#include <string.h>

char *markup_from_text(const char *text)
{
	GString *out = g_string_sized_new(strlen(text) + 16);
	for (const char *p = text; *p != '\0'; p++) {
		switch (*p) {
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '"':
			g_string_append(out, "&quot;");
			break;
		default:
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

static const struct {
	const char *name;
	const char *text;
} entities[] = {
    {"lt", "<"}, {"gt", ">"}, {"amp", "&"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "},
};

/* true when XML 1.0 can carry C (its Char production). */
static bool xml_char(gunichar c)
{
	return c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0xD7FF) ||
	       (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* Decodes the entity at P ('&'); on success appends it and returns the
 * length consumed, else 0. */
static size_t decode_entity(const char *p, GString *out)
{
	const char *semi = strchr(p, ';');
	if (semi == NULL || semi - p > 12)
		return 0;
	size_t len = (size_t)(semi - p) + 1;
	if (p[1] == '#') {
		gunichar c = 0;
		char *end = NULL;
		if (p[2] == 'x' || p[2] == 'X')
			c = (gunichar)g_ascii_strtoull(p + 3, &end, 16);
		else
			c = (gunichar)g_ascii_strtoull(p + 2, &end, 10);
		/* One XML cannot carry stays as it was written. */
		if (end != semi || !xml_char(c))
			return 0;
		g_string_append_unichar(out, c);
		return len;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(entities); i++) {
		size_t n = strlen(entities[i].name);
		if (n + 2 == len && strncmp(p + 1, entities[i].name, n) == 0) {
			g_string_append(out, entities[i].text);
			return len;
		}
	}
	return 0;
}

/* true when the tag starting at P ('<') is a line break. */
static bool is_break(const char *p, size_t len)
{
	return (len >= 4 && g_ascii_strncasecmp(p, "<br", 3) == 0 &&
	        (p[3] == '>' || p[3] == '/' || p[3] == ' '));
}

char *markup_to_text(const char *html)
{
	GString *out = g_string_sized_new(strlen(html));
	const char *p = html;
	while (*p != '\0') {
		if (*p == '<') {
			const char *end = strchr(p, '>');
			/* Only something shaped like a tag is one: "a < b" stays. */
			if (end != NULL && (g_ascii_isalpha(p[1]) || p[1] == '/' || p[1] == '!')) {
				if (is_break(p, (size_t)(end - p) + 1))
					g_string_append_c(out, '\n');
				p = end + 1;
				continue;
			}
		} else if (*p == '&') {
			size_t n = decode_entity(p, out);
			if (n > 0) {
				p += n;
				continue;
			}
		}
		/* IRC formatting codes (italic \x1d, reverse \x16, ...) that
		 * libpurple leaves raw, and any other C0 control, U+FFFE and
		 * U+FFFF: XML cannot carry them, so they are removed and the rest
		 * delivered (the serializer would make each a U+FFFD). */
		unsigned char c = (unsigned char)*p;
		if (c == 0xEF && (unsigned char)p[1] == 0xBF &&
		    ((unsigned char)p[2] == 0xBE || (unsigned char)p[2] == 0xBF)) {
			p += 3;
			continue;
		}
		if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
			g_string_append_c(out, *p);
		p++;
	}
	return g_string_free(out, FALSE);
}
