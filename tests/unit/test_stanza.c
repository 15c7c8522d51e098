/* Unit tests for stanza: tree building, attributes, namespaces,
 * serialization and escaping, round trips through xml_stream, and the
 * reply/error builders. Expected XML is written out by hand.
 */
#include "config.h"
#include "ferry/stanza.h"
#include "ferry/xml_stream.h"

#include <string.h>

#define NS_STREAM_HEADER                                                                           \
	"<stream:stream xmlns='jabber:component:accept' "                                          \
	"xmlns:stream='http://etherx.jabber.org/streams'>"

/* Asserts that ST serializes to exactly EXPECTED. */
#define assert_xml(st, expected)                                                                   \
	do {                                                                                       \
		char *xml_ = stanza_to_string(st);                                                 \
		g_assert_cmpstr(xml_, ==, (expected));                                             \
		g_free(xml_);                                                                      \
	} while (0)

static void test_build(void)
{
	struct stanza *msg = stanza_new("message");
	stanza_set_attr(msg, "to", "romeo@example.net");
	stanza_set_attr(msg, "from", "juliet@example.com/balcony");
	stanza_set_attr(msg, "type", "chat");
	stanza_set_attr(msg, "id", "m1");
	struct stanza *body = stanza_add_text_child(msg, "body", "Art thou not Romeo?");
	stanza_add_child(msg, "active", "http://jabber.org/protocol/chatstates");

	g_assert_cmpstr(stanza_name(msg), ==, "message");
	g_assert_cmpstr(stanza_get_to(msg), ==, "romeo@example.net");
	g_assert_cmpstr(stanza_get_from(msg), ==, "juliet@example.com/balcony");
	g_assert_cmpstr(stanza_get_type(msg), ==, "chat");
	g_assert_cmpstr(stanza_get_id(msg), ==, "m1");
	g_assert_null(stanza_get_attr(msg, "xml:lang"));
	g_assert_true(stanza_parent(body) == msg);
	g_assert_null(stanza_parent(msg));
	g_assert_cmpuint(stanza_child_count(msg), ==, 2);
	assert_xml(msg, "<message to='romeo@example.net' from='juliet@example.com/balcony' "
	                "type='chat' id='m1'><body>Art thou not Romeo?</body>"
	                "<active xmlns='http://jabber.org/protocol/chatstates'/></message>");
	stanza_free(msg);
	stanza_free(NULL);
}

static void assert_attrs(const struct stanza *st, const char *const *expected)
{
	guint i = 0, n = 0;
	const char *name, *value;
	while (stanza_next_attr(st, &i, &name, &value)) {
		g_assert_nonnull(expected[2 * n]);
		g_assert_cmpstr(name, ==, expected[2 * n]);
		g_assert_cmpstr(value, ==, expected[2 * n + 1]);
		n++;
	}
	g_assert_null(expected[2 * n]);
}

static void test_attrs(void)
{
	struct stanza *st = stanza_new("x");
	stanza_set_attr(st, "a", "1");
	stanza_set_attr(st, "b", "2");
	stanza_set_attr(st, "c", "3");
	assert_attrs(st, (const char *const[]){"a", "1", "b", "2", "c", "3", NULL});
	stanza_set_attr(st, "b", "two"); /* replacing keeps the position */
	assert_attrs(st, (const char *const[]){"a", "1", "b", "two", "c", "3", NULL});
	stanza_set_attr(st, "a", NULL);
	assert_attrs(st, (const char *const[]){"b", "two", "c", "3", NULL});
	stanza_set_attr(st, "missing", NULL);
	stanza_set_attr(st, "d", "");
	for (int i = 0; i < 20; i++) {
		char name[8];
		g_snprintf(name, sizeof(name), "n%d", i);
		stanza_set_attr(st, name, name);
	}
	g_assert_cmpstr(stanza_get_attr(st, "d"), ==, "");
	g_assert_cmpstr(stanza_get_attr(st, "n19"), ==, "n19");
	/* A value taken from the element itself. */
	stanza_set_attr(st, "c", stanza_get_attr(st, "b"));
	g_assert_cmpstr(stanza_get_attr(st, "c"), ==, "two");
	stanza_free(st);
}

static void test_attrs_inline(void)
{
	/* Attributes living in the element's own allocation. */
	struct stanza *st = stanza_new_with_attrs(
	    "iq", (const char *const[]){"type", "get", "id", "i1", "to", "t", NULL});
	assert_attrs(st, (const char *const[]){"type", "get", "id", "i1", "to", "t", NULL});
	stanza_set_attr(st, "id", "i2");
	stanza_set_attr(st, "type", NULL);
	stanza_set_attr(st, "from", "f");
	stanza_set_attr(st, "type", "set");
	assert_attrs(
	    st, (const char *const[]){"id", "i2", "to", "t", "from", "f", "type", "set", NULL});
	assert_xml(st, "<iq id='i2' to='t' from='f' type='set'/>");
	stanza_free(st);

	st = stanza_new_with_attrs("presence", NULL);
	assert_xml(st, "<presence/>");
	stanza_free(st);
	st = stanza_new_with_attrs("presence", (const char *const[]){NULL});
	g_assert_null(stanza_get_attr(st, "type"));
	stanza_free(st);
}

static struct stanza *build_iq(void)
{
	struct stanza *iq = stanza_new_ns("iq", STANZA_NS_COMPONENT);
	stanza_set_attr(iq, "type", "get");
	struct stanza *reg = stanza_add_child(iq, "query", "jabber:iq:register");
	stanza_add_child(reg, "username", NULL);
	stanza_add_child(iq, "query", "http://jabber.org/protocol/disco#info");
	stanza_add_child(iq, "ping", "urn:xmpp:ping");
	stanza_add_child(iq, "plain", NULL);
	return iq;
}

static void test_namespaces(void)
{
	struct stanza *iq = build_iq();
	struct stanza *reg = stanza_find_child(iq, "query", NULL);
	struct stanza *disco =
	    stanza_find_child(iq, "query", "http://jabber.org/protocol/disco#info");
	struct stanza *ping = stanza_find_child(iq, NULL, "urn:xmpp:ping");
	struct stanza *plain = stanza_find_child(iq, "plain", STANZA_NS_COMPONENT);
	g_assert_nonnull(reg);
	g_assert_nonnull(disco);
	g_assert_true(reg != disco);
	g_assert_cmpstr(stanza_name(ping), ==, "ping");
	g_assert_nonnull(plain); /* inherits the iq's namespace */
	g_assert_true(stanza_find_child(iq, "query", "jabber:iq:register") == reg);
	g_assert_null(stanza_find_child(iq, "query", "jabber:iq:version"));
	g_assert_null(stanza_find_child(iq, "username", NULL)); /* not a direct child */
	g_assert_null(stanza_find_child(iq, "nothing", NULL));

	struct stanza *user = stanza_find_child(reg, "username", "jabber:iq:register");
	g_assert_nonnull(user);
	g_assert_cmpstr(stanza_ns(user), ==, "jabber:iq:register");
	g_assert_cmpstr(stanza_ns(iq), ==, STANZA_NS_COMPONENT);
	g_assert_cmpstr(stanza_ns(plain), ==, STANZA_NS_COMPONENT);
	g_assert_true(stanza_is(iq, "iq", STANZA_NS_COMPONENT));
	g_assert_true(stanza_is(iq, "iq", NULL));
	g_assert_false(stanza_is(iq, "iq", STANZA_NS_CLIENT));
	g_assert_false(stanza_is(iq, "message", NULL));
	g_assert_true(stanza_is(user, "username", "jabber:iq:register"));

	struct stanza *lone = stanza_new("x");
	g_assert_null(stanza_ns(lone));
	g_assert_false(stanza_is(lone, "x", "any"));
	g_assert_null(stanza_find_child(lone, NULL, NULL));
	stanza_free(lone);
	stanza_free(iq);
}

static void test_children(void)
{
	struct stanza *p = stanza_new("p");
	stanza_add_text(p, "one ", -1);
	struct stanza *a = stanza_add_child(p, "a", NULL);
	stanza_add_text(p, "two three", 3);
	struct stanza *b = stanza_add_child(p, "b", NULL);
	struct stanza *c = stanza_add_child(p, "c", NULL);
	stanza_add_text(p, "", -1); /* adds nothing */
	stanza_add_text(c, "inner", -1);

	g_assert_cmpuint(stanza_child_count(p), ==, 3);
	g_assert_true(stanza_next_child(p, NULL) == a);
	g_assert_true(stanza_next_child(p, a) == b);
	g_assert_true(stanza_next_child(p, b) == c);
	g_assert_null(stanza_next_child(p, c));
	char *text = stanza_get_text(p);
	g_assert_cmpstr(text, ==, "one two");
	g_free(text);
	text = stanza_get_text(a);
	g_assert_cmpstr(text, ==, "");
	g_free(text);
	text = stanza_get_child_text(p, "c", NULL);
	g_assert_cmpstr(text, ==, "inner");
	g_free(text);
	g_assert_null(stanza_get_child_text(p, "d", NULL));
	assert_xml(p, "<p>one <a/>two<b/><c>inner</c></p>");

	/* Unlink the middle, the last, then the first child. */
	stanza_unlink(b);
	g_assert_null(stanza_parent(b));
	assert_xml(p, "<p>one <a/>two<c>inner</c></p>");
	stanza_unlink(c);
	assert_xml(p, "<p>one <a/>two</p>");
	stanza_add_child_take(p, b); /* the tail pointer must be right */
	assert_xml(p, "<p>one <a/>two<b/></p>");
	stanza_unlink(a);
	assert_xml(p, "<p>one two<b/></p>");
	stanza_add_child_take(c, a);
	assert_xml(c, "<c>inner<a/></c>");
	stanza_unlink(b);
	stanza_free(b);
	stanza_free(c);
	stanza_free(p);
}

static void test_nodes(void)
{
	struct stanza *p = stanza_new("p");
	stanza_add_text(p, "x<y", -1);
	stanza_add_child(p, "e", NULL);
	const struct stanza_node *n = stanza_first_node(p);
	size_t len = 0;
	g_assert_cmpstr(stanza_node_text(n, &len), ==, "x<y");
	g_assert_cmpuint(len, ==, 3);
	g_assert_null(stanza_node_element(n));
	n = stanza_node_next(n);
	g_assert_cmpstr(stanza_name(stanza_node_element(n)), ==, "e");
	g_assert_null(stanza_node_text(n, &len));
	g_assert_null(stanza_node_next(n));
	g_assert_null(stanza_first_node(stanza_node_element(n)));
	stanza_free(p);
}

static void test_copy(void)
{
	struct stanza *iq = build_iq();
	stanza_add_text(stanza_find_child(iq, "plain", NULL), "t&t", -1);
	struct stanza *copy = stanza_copy(iq);
	char *a = stanza_to_string(iq), *b = stanza_to_string(copy);
	g_assert_cmpstr(a, ==, b);
	g_free(a);
	g_free(b);
	stanza_set_attr(copy, "type", "set");
	stanza_add_child(stanza_find_child(copy, "plain", NULL), "new", NULL);
	assert_xml(iq, "<iq xmlns='jabber:component:accept' type='get'><query "
	               "xmlns='jabber:iq:register'><username/></query><query "
	               "xmlns='http://jabber.org/protocol/disco#info'/><ping "
	               "xmlns='urn:xmpp:ping'/><plain>t&amp;t</plain></iq>");
	/* A copy of a child is detached. */
	struct stanza *sub = stanza_copy(stanza_find_child(iq, "query", NULL));
	g_assert_null(stanza_parent(sub));
	assert_xml(sub, "<query xmlns='jabber:iq:register'><username/></query>");
	stanza_free(sub);
	stanza_free(copy);
	stanza_free(iq);
}

static void test_deep_tree(void)
{
	/* Free and copy walk iteratively, whatever the depth. */
	struct stanza *root = stanza_new("d");
	struct stanza *cur = root;
	for (int i = 0; i < 200000; i++) {
		cur = stanza_add_child(cur, "d", NULL);
		stanza_add_text(cur, "t", 1);
	}
	struct stanza *copy = stanza_copy(root);
	struct stanza *leaf = copy;
	guint depth = 0;
	while (stanza_next_child(leaf, NULL) != NULL) {
		leaf = stanza_next_child(leaf, NULL);
		depth++;
	}
	g_assert_cmpuint(depth, ==, 200000);
	stanza_free(copy);
	stanza_free(root);
}

static void test_escape_text(void)
{
	struct stanza *body = stanza_new("body");
	stanza_add_text(body, "a&b<c>d\"e'f]]>g", -1);
	assert_xml(body, "<body>a&amp;b&lt;c&gt;d\"e'f]]&gt;g</body>");
	stanza_free(body);

	body = stanza_new("body");
	stanza_add_text(body, "tab\tlf\ncr\rcrlf\r\n", -1);
	assert_xml(body, "<body>tab\tlf\ncr&#13;crlf&#13;\n</body>");
	stanza_free(body);

	body = stanza_new("body");
	stanza_add_text(body, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", -1); /* é € 😀 */
	assert_xml(body, "<body>\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80</body>");
	stanza_free(body);
}

static void test_escape_attr(void)
{
	struct stanza *x = stanza_new("x");
	stanza_set_attr(x, "v", "a&b<c>d\"e'f");
	stanza_set_attr(x, "w", "tab\tlf\ncr\r");
	assert_xml(x, "<x v='a&amp;b&lt;c&gt;d&quot;e&apos;f' w='tab&#9;lf&#10;cr&#13;'/>");
	stanza_free(x);
}

static void test_escape_invalid(void)
{
	/* Bytes XML cannot carry become U+FFFD (EF BF BD). */
	struct stanza *x = stanza_new("x");
	static const char text[] = "a\x01"
	                           "b\x00"
	                           "c\xff"
	                           "d\xef\xbf\xbe"
	                           "e\xed\xa0\x80"
	                           "f\xc3";
	stanza_add_text(x, text, sizeof(text) - 1);
	stanza_set_attr(x, "v", "\x1b[0m");
	assert_xml(x, "<x v='\xef\xbf\xbd[0m'>a\xef\xbf\xbd"
	              "b\xef\xbf\xbd"
	              "c\xef\xbf\xbd"
	              "d\xef\xbf\xbd"
	              "e\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	              "f\xef\xbf\xbd</x>");
	stanza_free(x);
}

static void on_stanza_keep(void *user_data, struct stanza *stanza)
{
	GPtrArray *got = user_data;
	g_ptr_array_add(got, stanza);
}

/* Parses XML (one stanza) inside a component stream header. */
static struct stanza *parse_one(const char *xml)
{
	GPtrArray *got = g_ptr_array_new();
	struct xml_stream_callbacks cb = {.stanza = on_stanza_keep};
	struct xml_stream *s = xml_stream_new(0, 0, &cb, got);
	GError *error = NULL;
	g_assert_true(xml_stream_feed(s, NS_STREAM_HEADER, strlen(NS_STREAM_HEADER), &error));
	g_assert_true(xml_stream_feed(s, xml, strlen(xml), &error));
	g_assert_no_error(error);
	xml_stream_free(s);
	g_assert_cmpuint(got->len, ==, 1);
	struct stanza *st = got->pdata[0];
	g_ptr_array_free(got, TRUE);
	return st;
}

static void test_round_trip(void)
{
	static const char text[] = "<&>\"' \t\n\r ]]> \xc3\xa9 &amp; &#13;";
	static const char value[] = "<&>\"' \t\n\r x";
	struct stanza *msg = stanza_new("message");
	stanza_set_attr(msg, "to", value);
	stanza_set_attr(msg, "xml:lang", "en");
	struct stanza *body = stanza_add_text_child(msg, "body", text);
	stanza_add_child(body, "br", NULL);
	stanza_add_text(body, "tail", -1);
	stanza_add_child(msg, "x", "jabber:x:data");

	char *xml = stanza_to_string(msg);
	struct stanza *parsed = parse_one(xml);
	g_assert_cmpstr(stanza_get_to(parsed), ==, value);
	g_assert_cmpstr(stanza_get_attr(parsed, "xml:lang"), ==, "en");
	char *got = stanza_get_child_text(parsed, "body", NULL);
	char *want = g_strconcat(text, "tail", NULL);
	g_assert_cmpstr(got, ==, want);
	g_free(got);
	g_free(want);
	g_assert_nonnull(stanza_find_child(parsed, "x", "jabber:x:data"));
	char *again = stanza_to_string(parsed);
	g_assert_cmpstr(again, ==, xml);
	g_free(again);
	g_free(xml);
	stanza_free(parsed);
	stanza_free(msg);
}

static void test_round_trip_parsed(void)
{
	/* Parsed, then serialized: the canonical form written by hand. */
	struct stanza *st =
	    parse_one("<message from=\"a@b/c\" to='d@e' type=\"chat\">"
	              "<body>it&apos;s &lt;b&gt; &#x41;&#66; &quot;q&quot;</body>"
	              "<x xmlns=\"jabber:x:oob\"><url>http://e/?a=1&amp;b=2</url></x>"
	              "<e a=\"&apos;&quot;\" b='&#9;'/><![CDATA[<raw & data>]]>"
	              "</message>");
	assert_xml(st, "<message from='a@b/c' to='d@e' type='chat'><body>it's &lt;b&gt; AB "
	               "\"q\"</body><x xmlns='jabber:x:oob'><url>http://e/?a=1&amp;b=2</url></x>"
	               "<e a='&apos;&quot;' b='&#9;'/>&lt;raw &amp; data&gt;</message>");
	stanza_free(st);
}

static struct stanza *build_request(void)
{
	struct stanza *iq = stanza_new("iq");
	stanza_set_attr(iq, "type", "get");
	stanza_set_attr(iq, "from", "alice@localhost/test");
	stanza_set_attr(iq, "to", "transport.localhost");
	stanza_set_attr(iq, "id", "r1");
	stanza_add_child(iq, "query", "jabber:iq:register");
	return iq;
}

static void test_reply(void)
{
	struct stanza *req = build_request();
	struct stanza *reply = stanza_new_reply(req, "result");
	assert_xml(reply, "<iq from='transport.localhost' to='alice@localhost/test' id='r1' "
	                  "type='result'/>");
	stanza_free(reply);

	struct stanza *msg = stanza_new("message");
	stanza_set_attr(msg, "from", "a@b");
	reply = stanza_new_reply(msg, NULL);
	assert_xml(reply, "<message to='a@b'/>");
	stanza_free(reply);
	stanza_free(msg);
	stanza_free(req);
}

static void test_error(void)
{
	struct stanza *req = build_request();
	struct stanza *err = stanza_new_error(req, "modify", "not-acceptable", "Bad <nick>", true);
	assert_xml(err, "<iq from='transport.localhost' to='alice@localhost/test' id='r1' "
	                "type='error'><query xmlns='jabber:iq:register'/><error type='modify'>"
	                "<not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
	                "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Bad &lt;nick&gt;</text>"
	                "</error></iq>");
	stanza_free(err);

	err = stanza_new_error(req, NULL, "service-unavailable", NULL, false);
	assert_xml(err, "<iq from='transport.localhost' to='alice@localhost/test' id='r1' "
	                "type='error'><error type='cancel'><service-unavailable "
	                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
	struct stanza *e = stanza_find_child(err, "error", NULL);
	g_assert_nonnull(
	    stanza_find_child(e, "service-unavailable", "urn:ietf:params:xml:ns:xmpp-stanzas"));
	stanza_free(err);
	stanza_free(req);
}

static void test_error_type_for(void)
{
	/* Spot checks against RFC 6120 §8.3.3 (each type the RFC gives, read
	 * from the RFC's examples); unknown names fall back to cancel. */
	static const struct {
		const char *condition;
		const char *type;
	} table[] = {
	    {"bad-request", "modify"},         {"forbidden", "auth"},
	    {"recipient-unavailable", "wait"}, {"service-unavailable", "cancel"},
	    {"registration-required", "auth"}, {"remote-server-timeout", "wait"},
	    {"not-acceptable", "modify"},      {"no-such-condition", "cancel"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
		g_assert_cmpstr(stanza_error_type_for(table[i].condition), ==, table[i].type);
	g_assert_cmpstr(stanza_error_type_for(NULL), ==, "cancel");
}

/* A message over the outbound bound (issue 10 item 1): its body is cut on
 * a character boundary, measured escaped, with the note; & takes 5 bytes
 * written, < and > 4. */
static void test_serialize_within(void)
{
	struct stanza *m = stanza_new("message");
	stanza_set_attr(m, "to", "alice@localhost");
	stanza_set_attr(m, "from", "bob@irc.localhost");
	stanza_set_attr(m, "id", "m1");
	GString *text = g_string_new(NULL);
	for (int i = 0; i < 400; i++)
		g_string_append(text, i % 3 == 0 ? "&" : i % 3 == 1 ? "<" : "\xc3\xa9>");
	stanza_add_text_child(m, "body", text->str);
	stanza_add_child(m, "active", "http://jabber.org/protocol/chatstates");
	char *whole = stanza_to_string(m);
	g_assert_cmpuint(strlen(whole), >, 1024);

	/* Within the bound: written whole, unchanged. */
	GString *out = g_string_new("prefix");
	g_assert_cmpint(stanza_serialize_within(m, strlen(whole), out, NULL), ==, STANZA_FITS);
	g_assert_cmpstr(out->str + 6, ==, whole);

	g_string_assign(out, "prefix");
	size_t cut = 0;
	g_assert_cmpint(stanza_serialize_within(m, 1024, out, &cut), ==, STANZA_TRUNCATED);
	g_assert_cmpuint(out->len - 6, <=, 1024);
	/* Nearly all of the room is used: at most the widest character (5
	 * bytes) and the note's unused digits are left. */
	g_assert_cmpuint(out->len - 6, >, 1024 - 5 - 20);
	g_assert_true(g_utf8_validate(out->str, -1, NULL));
	struct stanza *back = parse_one(out->str + 6);
	g_autofree char *body = stanza_get_child_text(back, "body", NULL);
	g_autofree char *note =
	    g_strdup_printf("\n[message truncated by the transport: %zu bytes not shown]", cut);
	g_assert_true(g_str_has_suffix(body, note));
	size_t kept = strlen(body) - strlen(note);
	g_assert_cmpuint(kept + cut, ==, text->len);
	g_assert_true(strncmp(body, text->str, kept) == 0);
	g_assert_nonnull(stanza_find_child(back, "active", NULL));
	g_assert_cmpstr(stanza_get_id(back), ==, "m1");
	stanza_free(back);
	/* The stanza itself now holds the cut body. */
	char *now = stanza_to_string(m);
	g_assert_cmpstr(now, ==, out->str + 6);
	g_free(now);

	/* Too small for even the note: not written. */
	g_string_assign(out, "prefix");
	g_assert_cmpint(stanza_serialize_within(m, 100, out, NULL), ==, STANZA_TOO_BIG);
	g_assert_cmpstr(out->str, ==, "prefix");
	stanza_free(m);

	/* Anything but a message's body is never cut. */
	struct stanza *p = stanza_new("presence");
	stanza_set_attr(p, "to", "alice@localhost");
	stanza_add_text_child(p, "status", text->str);
	g_string_assign(out, "");
	g_assert_cmpint(stanza_serialize_within(p, 1024, out, NULL), ==, STANZA_TOO_BIG);
	g_assert_cmpuint(out->len, ==, 0);
	stanza_free(p);
	g_free(whole);
	g_string_free(out, TRUE);
	g_string_free(text, TRUE);
}

static void test_set_text(void)
{
	struct stanza *b = stanza_new("body");
	stanza_add_text(b, "one", -1);
	stanza_add_child(b, "x", NULL);
	stanza_add_text(b, "two", -1);
	stanza_set_text(b, "three", -1);
	assert_xml(b, "<body>three</body>");
	stanza_add_text(b, "+four", -1);
	assert_xml(b, "<body>three+four</body>");
	stanza_free(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/stanza/build", test_build);
	g_test_add_func("/stanza/attrs/order", test_attrs);
	g_test_add_func("/stanza/attrs/inline", test_attrs_inline);
	g_test_add_func("/stanza/namespaces", test_namespaces);
	g_test_add_func("/stanza/children", test_children);
	g_test_add_func("/stanza/nodes", test_nodes);
	g_test_add_func("/stanza/copy", test_copy);
	g_test_add_func("/stanza/deep-tree", test_deep_tree);
	g_test_add_func("/stanza/serialize/escape-text", test_escape_text);
	g_test_add_func("/stanza/serialize/escape-attr", test_escape_attr);
	g_test_add_func("/stanza/serialize/invalid-chars", test_escape_invalid);
	g_test_add_func("/stanza/serialize/round-trip", test_round_trip);
	g_test_add_func("/stanza/serialize/round-trip-parsed", test_round_trip_parsed);
	g_test_add_func("/stanza/serialize/within", test_serialize_within);
	g_test_add_func("/stanza/set-text", test_set_text);
	g_test_add_func("/stanza/reply", test_reply);
	g_test_add_func("/stanza/error", test_error);
	g_test_add_func("/stanza/error-type-for", test_error_type_for);
	return g_test_run();
}
