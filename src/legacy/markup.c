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

/* What a numeric character reference to C stands for: C itself, or U+FFFD
 * for a control character (a terminal escape such as &#x1b; must not reach
 * a client; TAB, LF and CR stay) and for what XML cannot carry. */
static gunichar numeric_char(guint64 c)
{
	if (c == '\t' || c == '\n' || c == '\r')
		return (gunichar)c;
	if (c > 0x10FFFF || c < 0x20 || (c >= 0x7F && c <= 0x9F) || !xml_char((gunichar)c))
		return 0xFFFD;
	return (gunichar)c;
}

/* Decodes the entity at P ('&', before END); on success appends it and
 * returns the length consumed, else 0. Looks at most 13 bytes ahead, so a
 * long run of '&' costs linear time. */
static size_t decode_entity(const char *p, const char *end, GString *out)
{
	const char *semi = memchr(p, ';', MIN((size_t)(end - p), 13));
	if (semi == NULL)
		return 0;
	size_t len = (size_t)(semi - p) + 1;
	if (p[1] == '#') {
		bool hex = p[2] == 'x' || p[2] == 'X';
		const char *digits = hex ? p + 3 : p + 2;
		if (digits == semi || !(hex ? g_ascii_isxdigit(*digits) : g_ascii_isdigit(*digits)))
			return 0;
		char *stop = NULL;
		guint64 c = g_ascii_strtoull(digits, &stop, hex ? 16 : 10);
		if (stop != semi)
			return 0;
		g_string_append_unichar(out, numeric_char(c));
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

/* The end of the first MAX bytes of TEXT (LEN bytes) on a character
 * boundary. */
static size_t utf8_cut(const char *text, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
		n--;
	return n;
}

char *markup_to_text(const char *html)
{
	return markup_to_text_max(html, MARKUP_MAX_BYTES);
}

char *markup_to_text_max(const char *html, size_t max_bytes)
{
	size_t total = strlen(html);
	size_t len = max_bytes != 0 ? utf8_cut(html, total, max_bytes) : total;
	GString *out = g_string_sized_new(len);
	const char *p = html;
	const char *end = html + len;
	/* The next '>' at or after p, found once and reused: searching again
	 * from every '<' made 1 MB of '<' take 10 s. */
	const char *gt = NULL;
	bool no_gt = false;
	while (p < end) {
		if (*p == '<') {
			if (!no_gt && (gt == NULL || gt < p)) {
				gt = memchr(p, '>', (size_t)(end - p));
				no_gt = gt == NULL;
			}
			/* Only something shaped like a tag is one: "a < b" stays. */
			if (!no_gt && (g_ascii_isalpha(p[1]) || p[1] == '/' || p[1] == '!')) {
				if (is_break(p, (size_t)(gt - p) + 1))
					g_string_append_c(out, '\n');
				p = gt + 1;
				continue;
			}
		} else if (*p == '&') {
			size_t n = decode_entity(p, end, out);
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
		if (c == 0xEF && end - p >= 3 && (unsigned char)p[1] == 0xBF &&
		    ((unsigned char)p[2] == 0xBE || (unsigned char)p[2] == 0xBF)) {
			p += 3;
			continue;
		}
		if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
			g_string_append_c(out, *p);
		p++;
	}
	if (len < total)
		g_string_append_printf(
		    out, "\n[message truncated by the transport: %zu bytes not shown]",
		    total - len);
	return g_string_free(out, FALSE);
}
