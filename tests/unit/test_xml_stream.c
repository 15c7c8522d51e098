/* Unit tests for xml_stream: stanza delivery however the bytes are split,
 * keepalives, every limit, restricted XML, bad input, stop and reset.
 * Expected events are written out by hand.
 */
#include "config.h"
#include "ferry/xml_stream.h"

#include <string.h>

/* Records callbacks as text: "S name k=v ...", each stanza serialized,
 * "E" for the stream end; one per line. */
struct recorder {
	GString *log;
	struct xml_stream *stream;
	int stop_after; /* stop after this many stanzas; 0: never */
	int stanzas;    /* stanzas seen */
	bool stop_on_start;
};

static void rec_start(void *data, const char *name, const char **attrs)
{
	struct recorder *r = data;
	g_string_append_printf(r->log, "S %s", name);
	for (int i = 0; attrs[i] != NULL; i += 2)
		g_string_append_printf(r->log, " %s=%s", attrs[i], attrs[i + 1]);
	g_string_append_c(r->log, '\n');
	if (r->stop_on_start)
		xml_stream_stop(r->stream);
}

static void rec_stanza(void *data, struct stanza *stanza)
{
	struct recorder *r = data;
	stanza_serialize(stanza, r->log);
	g_string_append_c(r->log, '\n');
	stanza_free(stanza);
	if (++r->stanzas == r->stop_after)
		xml_stream_stop(r->stream);
}

static void rec_end(void *data)
{
	struct recorder *r = data;
	g_string_append(r->log, "E\n");
}

/* "K <head/> big|deep BYTES" */
static void rec_skipped(void *data, const struct stanza *head, int why, guint64 bytes)
{
	struct recorder *r = data;
	g_string_append(r->log, "K ");
	stanza_serialize(head, r->log);
	const char *what = why == XML_STREAM_ERROR_TOO_BIG    ? "big"
	                   : why == XML_STREAM_ERROR_TOO_DEEP ? "deep"
	                   : why == XML_STREAM_ERROR_TOO_MANY ? "many"
	                                                      : NULL;
	g_assert_nonnull(what);
	g_string_append_printf(r->log, " %s %" G_GUINT64_FORMAT "\n", what, bytes);
}

static const struct xml_stream_callbacks rec_callbacks = {
    .stream_start = rec_start,
    .stanza = rec_stanza,
    .stream_end = rec_end,
    .skipped = rec_skipped,
};

static void rec_init(struct recorder *r, size_t max_bytes, unsigned max_depth)
{
	memset(r, 0, sizeof(*r));
	r->log = g_string_new(NULL);
	r->stream = xml_stream_new(max_bytes, max_depth, &rec_callbacks, r);
}

static void rec_clear(struct recorder *r)
{
	xml_stream_free(r->stream);
	g_string_free(r->log, TRUE);
}

static bool feed_str(struct recorder *r, const char *s, GError **error)
{
	return xml_stream_feed(r->stream, s, strlen(s), error);
}

/* ---- a realistic component stream (XEP-0114, protocol.md §1) ------------ */

#define HEADER                                                                                     \
	"<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xml:lang='en' "       \
	"xmlns:stream='http://etherx.jabber.org/streams' "                                         \
	"id='a37421ab-5be1-4ab3-8b5e-6ee061ddac8c' from='transport.localhost'>"

static const char stream_bytes[] =
    HEADER "<handshake/> "
           "<iq type='get' to='transport.localhost' id='r1' from='alice@localhost/test' "
           "xml:lang='en'><query xmlns='jabber:iq:register'/></iq>\n"
           "<message from=\"alice@localhost/test\" to=\"bob%irc.example.net@transport.localhost\" "
           "type=\"chat\" xml:lang=\"en\"><body>Hi &amp; bye &lt;3 \xe2\x80\x94 \xc3\xbcn\xc3\xaf"
           "c"
           "\xc3\xb6"
           "d\xc3\xa9 \xf0\x9f\x98\x80</body><active "
           "xmlns='http://jabber.org/protocol/chatstates'/></message>\r\n\t"
           "<presence from='alice@localhost/test' to='transport.localhost'><show>away</show>"
           "<status>line1\r\nline2</status><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
           "node='http://gajim.org' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/></presence> "
           "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
           "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Given token does not match "
           "calculated token</text></stream:error></stream:stream>";

static const char stream_events[] =
    "S stream:stream xmlns=jabber:component:accept xml:lang=en "
    "xmlns:stream=http://etherx.jabber.org/streams id=a37421ab-5be1-4ab3-8b5e-6ee061ddac8c "
    "from=transport.localhost\n"
    "<handshake/>\n"
    "<iq type='get' to='transport.localhost' id='r1' from='alice@localhost/test' "
    "xml:lang='en'><query xmlns='jabber:iq:register'/></iq>\n"
    "<message from='alice@localhost/test' to='bob%irc.example.net@transport.localhost' "
    "type='chat' xml:lang='en'><body>Hi &amp; bye &lt;3 \xe2\x80\x94 \xc3\xbcn\xc3\xaf"
    "c"
    "\xc3\xb6"
    "d\xc3\xa9 \xf0\x9f\x98\x80</body><active "
    "xmlns='http://jabber.org/protocol/chatstates'/></message>\n"
    "<presence from='alice@localhost/test' to='transport.localhost'><show>away</show>"
    "<status>line1\nline2</status><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
    "node='http://gajim.org' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/></presence>\n"
    "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
    "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Given token does not match "
    "calculated token</text></stream:error>\n"
    "E\n";

/* Feeds stream_bytes in the chunk sizes SIZES (cycled) and checks the
 * events. */
static void check_chunked(const size_t *sizes, size_t n_sizes)
{
	struct recorder r;
	rec_init(&r, 0, 0);
	size_t len = sizeof(stream_bytes) - 1, pos = 0, i = 0;
	while (pos < len) {
		size_t want = sizes[i++ % n_sizes];
		size_t n = MIN(want, len - pos);
		GError *error = NULL;
		g_assert_true(xml_stream_feed(r.stream, stream_bytes + pos, n, &error));
		g_assert_no_error(error);
		pos += n;
	}
	g_assert_cmpstr(r.log->str, ==, stream_events);
	rec_clear(&r);
}

static void test_stream_whole(void)
{
	size_t all = sizeof(stream_bytes);
	check_chunked(&all, 1);
}

static void test_stream_every_offset(void)
{
	size_t len = sizeof(stream_bytes) - 1;
	for (size_t k = 0; k <= len; k++) {
		size_t sizes[2] = {k, len};
		if (k == 0)
			sizes[0] = len;
		check_chunked(sizes, 2);
	}
}

static void test_stream_byte_at_a_time(void)
{
	size_t one = 1;
	check_chunked(&one, 1);
}

static void test_stream_random_chunks(void)
{
	for (int round = 0; round < 200; round++) {
		size_t sizes[16];
		for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++)
			sizes[i] = (size_t)g_test_rand_int_range(1, 40);
		check_chunked(sizes, G_N_ELEMENTS(sizes));
	}
}

static void test_xml_declarations(void)
{
	static const char *const decls[] = {
	    "",
	    "<?xml version='1.0'?>",
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
	    "<?xml version='1.0' encoding='utf-8' standalone='yes'?>",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(decls); i++) {
		struct recorder r;
		rec_init(&r, 0, 0);
		char *s = g_strconcat(decls[i], "<stream:stream to='t'><a/></stream:stream>", NULL);
		g_assert_true(feed_str(&r, s, NULL));
		g_assert_cmpstr(r.log->str, ==, "S stream:stream to=t\n<a/>\nE\n");
		g_free(s);
		rec_clear(&r);
	}
}

static void test_empty_root(void)
{
	struct recorder r;
	rec_init(&r, 0, 0);
	g_assert_true(feed_str(&r, "<stream:stream/>", NULL));
	g_assert_cmpstr(r.log->str, ==, "S stream:stream\nE\n");
	rec_clear(&r);
}

static void test_keepalives(void)
{
	/* Whitespace between stanzas is consumed: far more of it than the
	 * stanza limit, one byte per feed, must not trip the limit. */
	struct recorder r;
	rec_init(&r, 64, 0);
	g_assert_true(feed_str(&r, "<s>", NULL));
	static const char *const ws[] = {" ", "\n", "\r\n", "\t"};
	for (int i = 0; i < 5000; i++) {
		GError *error = NULL;
		g_assert_true(feed_str(&r, ws[i % 4], &error));
		g_assert_no_error(error);
	}
	g_assert_true(feed_str(&r, "<presence/>  <message><body>x</body></message>", NULL));
	g_assert_true(feed_str(&r, " ", NULL));
	g_assert_cmpstr(r.log->str, ==, "S s\n<presence/>\n<message><body>x</body></message>\n");
	rec_clear(&r);
}

/* ---- limits ------------------------------------------------------------- */

static void test_size_boundary(void)
{
	/* The limit counts a stanza's own bytes: exactly 100 pass, 101 are
	 * skipped and the stream goes on. */
	static const char ok100[] =
	    "<message><body>"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "</body></message>";
	static const char bad101[] =
	    "<message><body>"
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	    "b</body></message>";
	g_assert_cmpuint(strlen(ok100), ==, 100);
	g_assert_cmpuint(strlen(bad101), ==, 101);
	struct recorder r;
	rec_init(&r, 100, 0);
	g_assert_true(feed_str(&r, "<s>", NULL));
	g_assert_true(feed_str(&r, ok100, NULL));
	g_assert_true(feed_str(&r, "\n \n", NULL));
	g_assert_true(feed_str(&r, ok100, NULL));
	g_assert_cmpuint(r.stanzas, ==, 2);
	GError *error = NULL;
	g_assert_true(feed_str(&r, bad101, &error));
	g_assert_no_error(error);
	g_assert_true(feed_str(&r, ok100, NULL));
	g_assert_cmpuint(r.stanzas, ==, 3);
	g_assert_true(g_str_has_suffix(r.log->str, "</message>\nK <message/> big 101\n<message>"
	                                           "<body>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</body>"
	                                           "</message>\n"));

	/* The same within one feed. */
	rec_clear(&r);
	rec_init(&r, 100, 0);
	char *all = g_strconcat("<s>", ok100, ok100, bad101, ok100, NULL);
	g_assert_true(feed_str(&r, all, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(r.stanzas, ==, 3);
	g_assert_nonnull(strstr(r.log->str, "K <message/> big 101\n"));
	g_free(all);
	rec_clear(&r);
}

/* What Prosody forwards from a user's message of quotes: each '"' as
 * &quot; (issue 10 item 1). The head keeps from, to, id and type only. */
static void test_oversized_head(void)
{
	struct recorder r;
	rec_init(&r, 200, 0);
	GString *in = g_string_new("<s><message from='eve@localhost/x' to='bob@t.localhost' "
	                           "id='m1' type='chat' xml:lang='en'><body>");
	for (int i = 0; i < 300; i++)
		g_string_append(in, "&quot;");
	g_string_append(in, "</body><x xmlns='y'/></message><presence id='p'/>");
	g_assert_true(xml_stream_feed(r.stream, in->str, in->len, NULL));
	g_assert_cmpstr(r.log->str, ==,
	                "S s\nK <message from='eve@localhost/x' to='bob@t.localhost' id='m1' "
	                "type='chat'/> big 1924\n<presence id='p'/>\n");
	g_string_free(in, TRUE);
	rec_clear(&r);

	/* A start tag over the stanza limit (under the token limit) is skipped
	 * from the start; a value no address or id can be long is left out. */
	rec_init(&r, 100, 0);
	xml_stream_set_max_token_bytes(r.stream, 100000);
	char *id = g_strnfill(4000, 'i');
	char *big =
	    g_strdup_printf("<s><iq from='a@b' id='%s' type='result' pad='%0200d'/><iq/>", id, 0);
	g_assert_true(feed_str(&r, big, NULL));
	g_assert_cmpstr(r.log->str, ==, "S s\nK <iq from='a@b' type='result'/> big 4243\n<iq/>\n");
	g_free(big);
	g_free(id);
	rec_clear(&r);
}

/* A small stream with a tiny limit, split at every offset: the skip does
 * not depend on where reads end. */
static void test_oversized_every_split(void)
{
	static const char in[] = "<s><a id='1'>short</a><m from='u@d' id='2'><b>0123456789"
	                         "0123456789012345678901234567890123456789</b><c/></m>"
	                         "<p id='3'/><m id='4'><b>&amp;&amp;&amp;&amp;&amp;&amp;&amp;"
	                         "&amp;&amp;&amp;&amp;&amp;&amp;</b></m><a id='5'/>";
	static const char want[] = "S s\n<a id='1'>short</a>\nK <m from='u@d' id='2'/> big 86\n"
	                           "<p id='3'/>\nK <m id='4'/> big 86\n<a id='5'/>\n";
	size_t len = sizeof(in) - 1;
	for (size_t k = 1; k <= len; k++) {
		struct recorder r;
		rec_init(&r, 64, 0);
		xml_stream_set_max_token_bytes(r.stream, 64);
		g_assert_true(xml_stream_feed(r.stream, in, k, NULL));
		g_assert_true(xml_stream_feed(r.stream, in + k, len - k, NULL));
		g_assert_cmpstr(r.log->str, ==, want);
		rec_clear(&r);
	}
	struct recorder r;
	rec_init(&r, 64, 0);
	xml_stream_set_max_token_bytes(r.stream, 64);
	for (size_t i = 0; i < len; i++)
		g_assert_true(xml_stream_feed(r.stream, in + i, 1, NULL));
	g_assert_cmpstr(r.log->str, ==, want);
	rec_clear(&r);
}

/* Feeds PREFIX, then FILL in 16-byte chunks until the feed fails; returns
 * how many chunks were accepted. */
static int feed_until_failure(struct recorder *r, const char *prefix, char fill)
{
	char chunk[16];
	memset(chunk, fill, sizeof(chunk));
	g_assert_true(feed_str(r, "<s>", NULL));
	g_assert_true(feed_str(r, prefix, NULL));
	for (int i = 0; i < 100000; i++) {
		GError *error = NULL;
		if (!xml_stream_feed(r->stream, chunk, sizeof(chunk), &error)) {
			g_assert_error(error, XML_STREAM_ERROR, XML_STREAM_ERROR_TOO_BIG);
			g_error_free(error);
			return i;
		}
	}
	g_assert_not_reached();
}

static void test_endless_attribute(void)
{
	/* Expat buffers the unfinished value without calling any handler: the
	 * token limit (twice 4096 by default) closes the stream. 13 prefix
	 * bytes + 16 * 511 = 8189 <= 8192; the 512th chunk fails. */
	struct recorder r;
	rec_init(&r, 4096, 0);
	g_assert_cmpint(feed_until_failure(&r, "<message to='", 'a'), ==, 511);
	g_assert_cmpuint(r.stanzas, ==, 0);
	rec_clear(&r);

	/* The same token in one feed. */
	rec_init(&r, 100, 0);
	char *tag = g_strdup_printf("<s><message to='%0300d'/>", 0);
	GError *error = NULL;
	g_assert_false(feed_str(&r, tag, &error));
	g_assert_error(error, XML_STREAM_ERROR, XML_STREAM_ERROR_TOO_BIG);
	g_assert_cmpstr(error->message, ==, "an XML token is larger than 200 bytes");
	g_clear_error(&error);
	g_free(tag);
	rec_clear(&r);
}

static void test_endless_text(void)
{
	/* Text reaches the handler as it arrives and a skipped stanza keeps
	 * none of it: 1.6 MB of it against a 4096-byte limit costs only that
	 * stanza. */
	struct recorder r;
	rec_init(&r, 4096, 0);
	char chunk[16];
	memset(chunk, 'a', sizeof(chunk));
	g_assert_true(feed_str(&r, "<s><message><body>", NULL));
	for (int i = 0; i < 100000; i++)
		g_assert_true(xml_stream_feed(r.stream, chunk, sizeof(chunk), NULL));
	g_assert_true(feed_str(&r, "</body></message><presence/>", NULL));
	g_assert_cmpstr(r.log->str, ==, "S s\nK <message/> big 1600032\n<presence/>\n");
	rec_clear(&r);
}

static void test_endless_attribute_list(void)
{
	/* "<message" then " a" forever: an unfinished start tag. */
	struct recorder r;
	rec_init(&r, 1000, 0);
	g_assert_true(feed_str(&r, "<s><message", NULL));
	GError *error = NULL;
	int i = 0;
	while (xml_stream_feed(r.stream, " x='1' ", 7, &error))
		i++;
	g_assert_error(error, XML_STREAM_ERROR, XML_STREAM_ERROR_TOO_BIG);
	g_clear_error(&error);
	/* 8 + 7 * 284 = 1996 <= 2000 < 2003; the 285th feed fails. */
	g_assert_cmpint(i, ==, 284);
	rec_clear(&r);
}

/* 4 MB of "<a/>" built an 80 MB tree: a stanza of more elements than
 * XML_STREAM_MAX_ELEMENTS is skipped whatever its size. */
static void test_many_elements(void)
{
	struct recorder r;
	rec_init(&r, 4 * 1024 * 1024, 0);
	for (unsigned n = XML_STREAM_MAX_ELEMENTS; n <= XML_STREAM_MAX_ELEMENTS + 1; n++) {
		GString *in = g_string_new(n == XML_STREAM_MAX_ELEMENTS ? "<s>" : "");
		g_string_append_printf(in, "<iq id='%u'>", n);
		for (unsigned i = 1; i < n; i++)
			g_string_append(in, "<a/>");
		g_string_append(in, "</iq><p/>");
		g_assert_true(xml_stream_feed(r.stream, in->str, in->len, NULL));
		g_string_free(in, TRUE);
	}
	g_assert_cmpint(r.stanzas, ==, 3);
	g_autofree char *skipped =
	    g_strdup_printf("\nK <iq id='%u'/> many %u\n<p/>\n", XML_STREAM_MAX_ELEMENTS + 1,
	                    15 + 4 * XML_STREAM_MAX_ELEMENTS + 5);
	g_assert_true(g_str_has_suffix(r.log->str, skipped));
	rec_clear(&r);
}

static void test_many_stanzas_one_feed(void)
{
	/* The limit is per stanza, not per feed. */
	struct recorder r;
	rec_init(&r, 64, 0);
	GString *s = g_string_new("<s>");
	for (int i = 0; i < 500; i++)
		g_string_append(s, "<message><body>hello</body></message> ");
	g_assert_true(xml_stream_feed(r.stream, s->str, s->len, NULL));
	g_assert_cmpint(r.stanzas, ==, 500);
	g_string_free(s, TRUE);
	rec_clear(&r);
}

static void test_depth(void)
{
	/* The root is level 0, a stanza level 1: with max_depth 4, <d/> at
	 * level 4 passes and <e/> at level 5 makes its stanza skipped. */
	struct recorder r;
	rec_init(&r, 0, 4);
	g_assert_true(feed_str(&r, "<s><a><b><c><d/></c></b></a>", NULL));
	g_assert_cmpstr(r.log->str, ==, "S s\n<a><b><c><d/></c></b></a>\n");
	GError *error = NULL;
	g_assert_true(feed_str(&r, "<a id='x'><b><c><d><e/></d></c></b></a><f/>", &error));
	g_assert_no_error(error);
	g_assert_cmpstr(r.log->str, ==,
	                "S s\n<a><b><c><d/></c></b></a>\nK <a id='x'/> deep 39\n<f/>\n");
	rec_clear(&r);

	/* 100000 levels against the hard depth (16 x 64). */
	rec_init(&r, 0, 0);
	GString *deep = g_string_new("<s>");
	for (int i = 0; i < 100000; i++)
		g_string_append(deep, "<a>");
	g_assert_false(xml_stream_feed(r.stream, deep->str, deep->len, &error));
	g_assert_error(error, XML_STREAM_ERROR, XML_STREAM_ERROR_TOO_DEEP);
	g_assert_cmpstr(error->message, ==, "elements are nested deeper than 1024");
	g_clear_error(&error);
	g_string_free(deep, TRUE);
	rec_clear(&r);
}

/* ---- restricted and broken XML ------------------------------------------ */

/* Feeds TEXT whole into a new default stream; expects failure with CODE
 * and (when not NULL) a message containing MESSAGE; returns the log. */
static char *expect_failure(const char *text, int code, const char *message)
{
	struct recorder r;
	rec_init(&r, 0, 0);
	GError *error = NULL;
	g_assert_false(feed_str(&r, text, &error));
	g_assert_error(error, XML_STREAM_ERROR, code);
	if (message != NULL && strstr(error->message, message) == NULL)
		g_error("error message \"%s\" lacks \"%s\"", error->message, message);
	g_clear_error(&error);
	/* Nothing more is accepted. */
	g_assert_false(feed_str(&r, "<s>", &error));
	g_assert_error(error, XML_STREAM_ERROR, XML_STREAM_ERROR_CLOSED);
	g_clear_error(&error);
	char *log = g_strdup(r.log->str);
	rec_clear(&r);
	return log;
}

static void test_doctype(void)
{
	char *log = expect_failure("<?xml version='1.0'?><!DOCTYPE stream:stream>"
	                           "<stream:stream><a/></stream:stream>",
	                           XML_STREAM_ERROR_RESTRICTED, "DOCTYPE");
	g_assert_cmpstr(log, ==, "");
	g_free(log);
	g_assert_cmpstr(xml_stream_error_condition(XML_STREAM_ERROR_RESTRICTED), ==,
	                "restricted-xml");
}

static void test_billion_laughs(void)
{
	char *log = expect_failure(
	    "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
	    "<!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
	    "<!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>"
	    "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>"
	    "<!ENTITY lol4 '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'>]>"
	    "<lolz><a>&lol4;</a></lolz>",
	    XML_STREAM_ERROR_RESTRICTED, NULL);
	g_assert_cmpstr(log, ==, "");
	g_free(log);
}

static void test_entity_reference(void)
{
	/* Without a DTD every entity but the five predefined ones is undefined. */
	char *log = expect_failure("<s><message><body>&lol;</body></message>",
	                           XML_STREAM_ERROR_NOT_WELL_FORMED, "undefined entity");
	g_assert_cmpstr(log, ==, "S s\n");
	g_free(log);
}

static void test_comments_and_pis(void)
{
	g_free(expect_failure("<!-- c --><s>", XML_STREAM_ERROR_RESTRICTED, "comment"));
	g_free(expect_failure("<s><!-- c -->", XML_STREAM_ERROR_RESTRICTED, "comment"));
	char *log =
	    expect_failure("<s><a/><b><!-- c --></b>", XML_STREAM_ERROR_RESTRICTED, "comment");
	g_assert_cmpstr(log, ==, "S s\n<a/>\n");
	g_free(log);
	g_free(expect_failure("<?xml version='1.0'?><?php x?><s>", XML_STREAM_ERROR_RESTRICTED,
	                      "processing instruction"));
	g_free(expect_failure("<s><a><?target data?></a>", XML_STREAM_ERROR_RESTRICTED,
	                      "processing instruction"));
}

static void test_bad_utf8(void)
{
	static const char *const bodies[] = {
	    "\xff",         /* never valid */
	    "\xc0\xaf",     /* overlong '/' */
	    "\xed\xa0\x80", /* a surrogate */
	    "\xc3\x28",     /* bad continuation */
	    "\x01",         /* not an XML Char */
	    "\xef\xbf\xbe", /* U+FFFE, not an XML Char */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bodies); i++) {
		char *s = g_strconcat("<s><ok/><m><body>", bodies[i], "</body></m>", NULL);
		char *log = expect_failure(s, XML_STREAM_ERROR_NOT_WELL_FORMED, "line 1");
		g_assert_cmpstr(log, ==, "S s\n<ok/>\n");
		g_free(log);
		g_free(s);
	}
	char *log = expect_failure("<s><a>\xff</a>", XML_STREAM_ERROR_NOT_WELL_FORMED,
	                           "not well-formed (invalid token)");
	g_free(log);
	g_assert_cmpstr(xml_stream_error_condition(XML_STREAM_ERROR_NOT_WELL_FORMED), ==,
	                "not-well-formed");
}

static void test_text_at_depth_1(void)
{
	char *log = expect_failure("<s>hello<a/>", XML_STREAM_ERROR_NOT_WELL_FORMED,
	                           "text outside a stanza");
	g_assert_cmpstr(log, ==, "S s\n");
	g_free(log);
	log = expect_failure("<s><a/> \n x", XML_STREAM_ERROR_NOT_WELL_FORMED, "text outside");
	g_assert_cmpstr(log, ==, "S s\n<a/>\n");
	g_free(log);
	log = expect_failure("<s><a/>&amp;", XML_STREAM_ERROR_NOT_WELL_FORMED, "text outside");
	g_free(log);
}

static void test_malformed(void)
{
	char *log =
	    expect_failure("<s><a></b>", XML_STREAM_ERROR_NOT_WELL_FORMED, "mismatched tag");
	g_assert_cmpstr(log, ==, "S s\n");
	g_free(log);
	g_free(expect_failure("<s><a x='1' x='2'/>", XML_STREAM_ERROR_NOT_WELL_FORMED,
	                      "duplicate attribute"));
	g_free(expect_failure("just text", XML_STREAM_ERROR_NOT_WELL_FORMED, NULL));
}

/* ---- control: stop, end, reset ------------------------------------------ */

static void test_stop_from_callback(void)
{
	struct recorder r;
	rec_init(&r, 0, 0);
	r.stop_after = 1;
	GError *error = NULL;
	g_assert_true(feed_str(&r, "<s><a/><b/><c/></s>", &error));
	g_assert_no_error(error);
	g_assert_cmpstr(r.log->str, ==, "S s\n<a/>\n");
	g_assert_false(feed_str(&r, "<d/>", &error));
	g_assert_error(error, XML_STREAM_ERROR, XML_STREAM_ERROR_CLOSED);
	g_clear_error(&error);
	rec_clear(&r);

	rec_init(&r, 0, 0);
	r.stop_on_start = true;
	g_assert_true(feed_str(&r, "<s><a/></s>", NULL));
	g_assert_cmpstr(r.log->str, ==, "S s\n");
	rec_clear(&r);
}

static void test_end_then_closed(void)
{
	struct recorder r;
	rec_init(&r, 0, 0);
	GError *error = NULL;
	g_assert_true(feed_str(&r, "<s><a/></s><junk/> trailing", &error));
	g_assert_no_error(error);
	g_assert_cmpstr(r.log->str, ==, "S s\n<a/>\nE\n");
	g_assert_false(feed_str(&r, " ", &error));
	g_assert_error(error, XML_STREAM_ERROR, XML_STREAM_ERROR_CLOSED);
	g_clear_error(&error);
	rec_clear(&r);
}

static void test_reset(void)
{
	struct recorder r;
	rec_init(&r, 0, 0);
	GError *error = NULL;
	/* After an error. */
	g_assert_false(feed_str(&r, "<s><a>\xff", &error));
	g_clear_error(&error);
	xml_stream_reset(r.stream);
	g_string_truncate(r.log, 0);
	g_assert_true(feed_str(&r, "<?xml version='1.0'?><t x='1'><b>y</b>", &error));
	g_assert_no_error(error);
	g_assert_cmpstr(r.log->str, ==, "S t x=1\n<b>y</b>\n");

	/* In the middle of a stanza (the partial tree must be freed). */
	g_assert_true(feed_str(&r, "<c><d>partial", NULL));
	xml_stream_reset(r.stream);
	g_string_truncate(r.log, 0);
	g_assert_true(feed_str(&r, "<u><e/></u>", NULL));
	g_assert_cmpstr(r.log->str, ==, "S u\n<e/>\nE\n");

	/* After the end and after a stop; limits start afresh. */
	xml_stream_reset(r.stream);
	r.stop_after = r.stanzas + 1;
	g_assert_true(feed_str(&r, "<v><f/><g/>", NULL));
	xml_stream_reset(r.stream);
	g_string_truncate(r.log, 0);
	r.stop_after = 0;
	g_assert_true(feed_str(&r, "<w><h/></w>", NULL));
	g_assert_cmpstr(r.log->str, ==, "S w\n<h/>\nE\n");
	rec_clear(&r);
}

static void test_no_callbacks(void)
{
	struct xml_stream *s = xml_stream_new(0, 0, NULL, NULL);
	g_assert_true(xml_stream_feed(s, "<s><a><b/></a><c>partial", 24, NULL));
	xml_stream_free(s);
	xml_stream_free(NULL);
}

static void test_error_conditions(void)
{
	g_assert_cmpstr(xml_stream_error_condition(XML_STREAM_ERROR_NOT_WELL_FORMED), ==,
	                "not-well-formed");
	g_assert_cmpstr(xml_stream_error_condition(XML_STREAM_ERROR_TOO_BIG), ==,
	                "policy-violation");
	g_assert_cmpstr(xml_stream_error_condition(XML_STREAM_ERROR_TOO_DEEP), ==,
	                "policy-violation");
	g_assert_cmpstr(xml_stream_error_condition(XML_STREAM_ERROR_RESTRICTED), ==,
	                "restricted-xml");
	g_assert_cmpstr(xml_stream_error_condition(XML_STREAM_ERROR_CLOSED), ==,
	                "undefined-condition");
	g_assert_cmpstr(xml_stream_error_condition(1000), ==, "undefined-condition");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/xml_stream/stream/whole", test_stream_whole);
	g_test_add_func("/xml_stream/stream/split-every-offset", test_stream_every_offset);
	g_test_add_func("/xml_stream/stream/byte-at-a-time", test_stream_byte_at_a_time);
	g_test_add_func("/xml_stream/stream/random-chunks", test_stream_random_chunks);
	g_test_add_func("/xml_stream/stream/xml-declaration", test_xml_declarations);
	g_test_add_func("/xml_stream/stream/empty-root", test_empty_root);
	g_test_add_func("/xml_stream/stream/keepalives", test_keepalives);
	g_test_add_func("/xml_stream/limits/size-boundary", test_size_boundary);
	g_test_add_func("/xml_stream/limits/oversized-head", test_oversized_head);
	g_test_add_func("/xml_stream/limits/oversized-every-split", test_oversized_every_split);
	g_test_add_func("/xml_stream/limits/endless-attribute", test_endless_attribute);
	g_test_add_func("/xml_stream/limits/endless-text", test_endless_text);
	g_test_add_func("/xml_stream/limits/endless-attribute-list", test_endless_attribute_list);
	g_test_add_func("/xml_stream/limits/many-stanzas-one-feed", test_many_stanzas_one_feed);
	g_test_add_func("/xml_stream/limits/many-elements", test_many_elements);
	g_test_add_func("/xml_stream/limits/depth", test_depth);
	g_test_add_func("/xml_stream/restricted/doctype", test_doctype);
	g_test_add_func("/xml_stream/restricted/billion-laughs", test_billion_laughs);
	g_test_add_func("/xml_stream/restricted/entity-reference", test_entity_reference);
	g_test_add_func("/xml_stream/restricted/comments-and-pis", test_comments_and_pis);
	g_test_add_func("/xml_stream/invalid/bad-utf8", test_bad_utf8);
	g_test_add_func("/xml_stream/invalid/text-at-depth-1", test_text_at_depth_1);
	g_test_add_func("/xml_stream/invalid/malformed", test_malformed);
	g_test_add_func("/xml_stream/control/stop-from-callback", test_stop_from_callback);
	g_test_add_func("/xml_stream/control/end-then-closed", test_end_then_closed);
	g_test_add_func("/xml_stream/control/reset", test_reset);
	g_test_add_func("/xml_stream/control/no-callbacks", test_no_callbacks);
	g_test_add_func("/xml_stream/error-conditions", test_error_conditions);
	return g_test_run();
}
