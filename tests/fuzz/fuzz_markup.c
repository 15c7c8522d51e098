/* libFuzzer target for markup.c: the HTML a worker sends up (any legacy
 * stranger's text) turned into the plain text of a <body/>, and its
 * inverse, plain text escaped for libpurple.
 *
 * The input, up to its first NUL, is
 *  - given to markup_to_text(): never longer than the input; from valid
 *    UTF-8 (all a worker can send: frames carry UTF-8) it makes valid
 *    UTF-8 of characters XML can carry only, which goes into a <body/>
 *    and through the serializer and the parser unchanged;
 *  - given to markup_to_styled(): the same text as markup_to_text() but
 *    for the XEP-0393 directives it adds ('*', '_', '~' removed from both,
 *    they are equal), and valid UTF-8 of XML characters likewise;
 *  - as plain text, given to markup_from_text() and back: markup_to_text
 *    . markup_from_text is the identity on text, but for the characters
 *    XML cannot carry, which markup_to_text drops (markup.h).
 * Any broken promise aborts.
 */
#include "config.h"
#include "ferry/markup.h"
#include "ferry/xml_stream.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

/* XML 1.0's Char production. */
static bool xml_char(gunichar c)
{
	return c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0xD7FF) ||
	       (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* TEXT (valid UTF-8) without the characters XML cannot carry. */
static char *xml_chars_only(const char *text)
{
	GString *out = g_string_new(NULL);
	for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (xml_char(c))
			g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

struct one {
	struct stanza *stanza;
	int count;
};

static void on_stanza(void *user_data, struct stanza *stanza)
{
	struct one *one = user_data;
	if (one->count++ == 0)
		one->stanza = stanza;
	else
		stanza_free(stanza);
}

/* TEXT as a message body survives the serializer and the parser. */
static void check_body(const char *text)
{
	struct stanza *message = stanza_new("message");
	stanza_add_text_child(message, "body", text);
	char *xml = stanza_to_string(message);
	stanza_free(message);

	struct one one = {0};
	struct xml_stream_callbacks cb = {.stanza = on_stanza};
	size_t len = strlen(xml);
	struct xml_stream *s = xml_stream_new(len + 16, 8, &cb, &one);
	bool ok = xml_stream_feed(s, "<r>", 3, NULL) && xml_stream_feed(s, xml, len, NULL);
	xml_stream_free(s);
	g_free(xml);
	check(ok && one.count == 1);
	char *back = stanza_get_child_text(one.stanza, "body", NULL);
	check(back != NULL && strcmp(back, text) == 0);
	g_free(back);
	stanza_free(one.stanza);
}

static void fuzz_to_text(const char *html)
{
	char *text = markup_to_text(html);
	check(text != NULL && strlen(text) <= strlen(html));
	if (g_utf8_validate(html, -1, NULL)) {
		check(g_utf8_validate(text, -1, NULL));
		for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p))
			check(xml_char(g_utf8_get_char(p)));
		check_body(text);
	}
	g_free(text);
}

static char *without_marks(const char *text)
{
	GString *out = g_string_new(NULL);
	for (const char *p = text; *p != '\0'; p++)
		if (*p != '*' && *p != '_' && *p != '~')
			g_string_append_c(out, *p);
	return g_string_free(out, FALSE);
}

static void fuzz_styled(const char *html)
{
	char *styled = markup_to_styled(html);
	char *text = markup_to_text(html);
	char *a = without_marks(styled);
	char *b = without_marks(text);
	check(strcmp(a, b) == 0);
	if (g_utf8_validate(html, -1, NULL)) {
		check(g_utf8_validate(styled, -1, NULL));
		for (const char *p = styled; *p != '\0'; p = g_utf8_next_char(p))
			check(xml_char(g_utf8_get_char(p)));
	}
	g_free(a);
	g_free(b);
	g_free(text);
	g_free(styled);
}

static void fuzz_from_text(const char *text)
{
	if (!g_utf8_validate(text, -1, NULL))
		return;
	char *html = markup_from_text(text);
	char *back = markup_to_text(html);
	char *want = xml_chars_only(text);
	check(strcmp(back, want) == 0);
	g_free(want);
	g_free(back);
	g_free(html);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *input = g_strndup((const char *)data, size);
	fuzz_to_text(input);
	fuzz_styled(input);
	fuzz_from_text(input);
	g_free(input);
	return 0;
}
