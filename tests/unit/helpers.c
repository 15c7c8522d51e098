/* helpers: small shared pieces of the unit tests. */
#include "config.h"
#include "helpers.h"

#include <string.h>

#include "ferry/xml_stream.h"

static void on_parsed(void *data, struct stanza *s)
{
	struct stanza **out = data;
	g_assert_null(*out);
	*out = s;
}

struct stanza *test_parse_stanza(const char *xml)
{
	struct stanza *out = NULL;
	const struct xml_stream_callbacks cb = {.stanza = on_parsed};
	struct xml_stream *xs = xml_stream_new(0, 0, &cb, &out);
	g_autofree char *doc = g_strdup_printf("<stream:stream xmlns='jabber:component:accept' "
	                                       "xmlns:stream='http://etherx.jabber.org/streams'>%s",
	                                       xml);
	g_autoptr(GError) err = NULL;
	g_assert_true(xml_stream_feed(xs, doc, strlen(doc), &err));
	g_assert_no_error(err);
	xml_stream_free(xs);
	g_assert_nonnull(out);
	return out;
}

char *test_error_text(const struct stanza *stanza, const char *condition)
{
	g_assert_cmpstr(stanza_get_type(stanza), ==, "error");
	const struct stanza *e = stanza_find_child(stanza, "error", NULL);
	g_assert_nonnull(e);
	if (stanza_find_child(e, condition, STANZA_NS_STANZAS) == NULL)
		g_error("<%s> error without <%s/>", stanza_name(stanza), condition);
	char *text = stanza_get_child_text(e, "text", STANZA_NS_STANZAS);
	return text != NULL ? text : g_strdup("");
}
