/* Unit tests for jid: RFC 7622 structure and XEP-0106 escaping.
 *
 * Expected values are written out by hand from RFC 7622 and from the
 * XEP-0106 text (v1.1, §3.2, §4.3 and the §5 examples).
 */
#include "config.h"
#include "ferry/jid.h"

#include <string.h>

/* ---- parsing ------------------------------------------------------------ */

struct parse_case {
	const char *path;     /* test path suffix */
	const char *input;    /* text given to jid_parse() */
	const char *local;    /* expected parts; NULL = absent */
	const char *domain;   /* NULL: the input must be rejected */
	const char *resource; /* expected resource */
	const char *bare;     /* expected jid_bare() */
	const char *full;     /* expected jid_full() */
};

static const struct parse_case parse_cases[] = {
    {"/jid/parse/domain", "example.com", NULL, "example.com", NULL, "example.com", "example.com"},
    {"/jid/parse/bare", "juliet@example.com", "juliet", "example.com", NULL, "juliet@example.com",
     "juliet@example.com"},
    {"/jid/parse/full", "juliet@example.com/balcony", "juliet", "example.com", "balcony",
     "juliet@example.com", "juliet@example.com/balcony"},
    {"/jid/parse/domain-resource", "example.com/foo", NULL, "example.com", "foo", "example.com",
     "example.com/foo"},
    {"/jid/parse/resource-with-slash-and-at", "juliet@example.com/foo/bar@baz", "juliet",
     "example.com", "foo/bar@baz", "juliet@example.com", "juliet@example.com/foo/bar@baz"},
    {"/jid/parse/resource-with-space", "juliet@example.com/foo bar", "juliet", "example.com",
     "foo bar", "juliet@example.com", "juliet@example.com/foo bar"},
    {"/jid/parse/domain-lowercased", "Juliet@EXAMPLE.Com/Balcony", "Juliet", "example.com",
     "Balcony", "Juliet@example.com", "Juliet@example.com/Balcony"},
    {"/jid/parse/trailing-dot", "juliet@example.com./balcony", "juliet", "example.com", "balcony",
     "juliet@example.com", "juliet@example.com/balcony"},
    {"/jid/parse/non-ascii", "\xce\xb4\xce\xbf\xce\xba@\xce\xa0\xce\xb1.example/\xe2\x99\x9e",
     "\xce\xb4\xce\xbf\xce\xba", "\xce\xa0\xce\xb1.example", "\xe2\x99\x9e",
     "\xce\xb4\xce\xbf\xce\xba@\xce\xa0\xce\xb1.example",
     "\xce\xb4\xce\xbf\xce\xba@\xce\xa0\xce\xb1.example/\xe2\x99\x9e"},
    {"/jid/parse/ipv6-literal", "[::1]", NULL, "[::1]", NULL, "[::1]", "[::1]"},
    {"/jid/parse/escaped-local", "d\\27artagnan@musketeers.lit", "d\\27artagnan", "musketeers.lit",
     NULL, "d\\27artagnan@musketeers.lit", "d\\27artagnan@musketeers.lit"},
    {"/jid/parse/gateway-local", "#chan%irc.example.net@transport.localhost/nick",
     "#chan%irc.example.net", "transport.localhost", "nick",
     "#chan%irc.example.net@transport.localhost", "#chan%irc.example.net@transport.localhost/nick"},
    /* Invalid. */
    {"/jid/parse/invalid/empty", "", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/empty-local", "@example.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/empty-domain", "juliet@", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/empty-domain-resource", "juliet@/foo", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/only-resource", "/foo", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/empty-resource", "juliet@example.com/", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/only-dot", ".", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/two-dots", "..", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/two-dots-local", "a@../r", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/leading-dot", ".example.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/inner-empty-label", "a@example..com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/two-trailing-dots", "example.com..", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/two-at", "a@b@example.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/space-local", "jul iet@example.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/quote-local", "jul\"iet@example.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/amp-local", "at&t@example.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/apos-local", "d'artagnan@example.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/colon-local", "a:b@example.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/lt-local", "<foo@example.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/gt-local", "foo>@example.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/space-domain", "juliet@exa mple.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/control-domain", "exa\x01mple.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/del-local", "ju\x7fliet@example.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/c1-local", "ju\xc2\x85liet@example.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/control-resource", "juliet@example.com/a\tb", NULL, NULL, NULL, NULL,
     NULL},
    {"/jid/parse/invalid/bad-utf8-local", "\xff@example.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/bad-utf8-domain", "juliet@\xc3\x28.com", NULL, NULL, NULL, NULL, NULL},
    {"/jid/parse/invalid/overlong-utf8", "\xc0\xaf@example.com", NULL, NULL, NULL, NULL, NULL},
};

static void test_parse(gconstpointer data)
{
	const struct parse_case *c = data;
	GError *error = NULL;
	struct jid *jid = jid_parse(c->input, &error);
	if (c->domain == NULL) {
		g_assert_null(jid);
		g_assert_error(error, JID_ERROR, JID_ERROR_MALFORMED);
		g_error_free(error);
		return;
	}
	g_assert_no_error(error);
	g_assert_nonnull(jid);
	g_assert_cmpstr(jid_local(jid), ==, c->local);
	g_assert_cmpstr(jid_domain(jid), ==, c->domain);
	g_assert_cmpstr(jid_resource(jid), ==, c->resource);
	g_assert_cmpstr(jid_bare(jid), ==, c->bare);
	g_assert_cmpstr(jid_full(jid), ==, c->full);
	jid_free(jid);
}

static void test_parse_lengths(void)
{
	char *local = g_strnfill(1023, 'a');
	char *text = g_strconcat(local, "@example.com", NULL);
	struct jid *jid = jid_parse(text, NULL);
	g_assert_nonnull(jid);
	g_assert_cmpuint(strlen(jid_local(jid)), ==, 1023);
	jid_free(jid);
	g_free(text);
	g_free(local);

	local = g_strnfill(1024, 'a');
	text = g_strconcat(local, "@example.com", NULL);
	GError *error = NULL;
	g_assert_null(jid_parse(text, &error));
	g_assert_error(error, JID_ERROR, JID_ERROR_MALFORMED);
	g_clear_error(&error);
	g_free(text);
	g_free(local);

	char *resource = g_strnfill(1024, 'r');
	text = g_strconcat("example.com/", resource, NULL);
	g_assert_null(jid_parse(text, NULL));
	g_free(text);
	g_free(resource);
}

static void test_new(void)
{
	GError *error = NULL;
	struct jid *jid = jid_new("alice", "Transport.LOCALHOST", "r1", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(jid_full(jid), ==, "alice@transport.localhost/r1");
	g_assert_cmpstr(jid_bare(jid), ==, "alice@transport.localhost");
	jid_free(jid);

	jid = jid_new(NULL, "transport.localhost", NULL, &error);
	g_assert_no_error(error);
	g_assert_null(jid_local(jid));
	g_assert_null(jid_resource(jid));
	g_assert_cmpstr(jid_full(jid), ==, "transport.localhost");
	jid_free(jid);

	g_assert_null(jid_new("a b", "example.com", NULL, &error));
	g_assert_error(error, JID_ERROR, JID_ERROR_MALFORMED);
	g_clear_error(&error);
	g_assert_null(jid_new("", "example.com", NULL, &error));
	g_assert_error(error, JID_ERROR, JID_ERROR_MALFORMED);
	g_clear_error(&error);
	g_assert_null(jid_new("a", "example.com", "", &error));
	g_assert_error(error, JID_ERROR, JID_ERROR_MALFORMED);
	g_clear_error(&error);
	g_assert_null(jid_new("a", "ex@mple.com", NULL, NULL));
	/* The resource may hold what the localpart may not. */
	jid = jid_new("a", "example.com", "x@y/z 'q'", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(jid_full(jid), ==, "a@example.com/x@y/z 'q'");
	jid_free(jid);
}

static void test_copy_and_compare(void)
{
	struct jid *a = jid_parse("alice@Example.com/one", NULL);
	struct jid *b = jid_parse("alice@example.COM/two", NULL);
	struct jid *c = jid_parse("Alice@example.com/one", NULL);
	struct jid *d = jid_parse("example.com", NULL);
	g_assert_true(jid_bare_equal(a, b));
	g_assert_false(jid_bare_equal(a, c)); /* localparts keep their case */
	g_assert_false(jid_bare_equal(a, d));

	struct jid *copy = jid_copy(a);
	jid_free(a);
	g_assert_cmpstr(jid_local(copy), ==, "alice");
	g_assert_cmpstr(jid_domain(copy), ==, "example.com");
	g_assert_cmpstr(jid_resource(copy), ==, "one");
	g_assert_cmpstr(jid_full(copy), ==, "alice@example.com/one");
	g_assert_true(jid_bare_equal(copy, b));
	jid_free(copy);
	jid_free(b);
	jid_free(c);
	jid_free(d);
}

static void test_bare_of(void)
{
	char *bare = jid_bare_of("a@B.example/c");
	g_assert_cmpstr(bare, ==, "a@b.example");
	g_free(bare);
	bare = jid_bare_of("b.example/c");
	g_assert_cmpstr(bare, ==, "b.example");
	g_free(bare);
	g_assert_null(jid_bare_of("a@"));
	g_assert_null(jid_bare_of("a b@c"));
}

/* ---- XEP-0106 ----------------------------------------------------------- */

struct escape_case {
	const char *path;    /* test path suffix */
	const char *name;    /* the unescaped (legacy) form */
	const char *escaped; /* the localpart on the wire */
};

/* Pairs that map both ways: escape(name) == escaped and
 * unescape(escaped) == name. The JID examples of §5.1 drop "@example.com". */
static const struct escape_case escape_cases[] = {
    {"/jid/escape/xep0106/concepts", "d'artagnan", "d\\27artagnan"},
    {"/jid/escape/xep0106/unescaping-example", "tr\xc3\xa9ville@musketeers.lit",
     "tr\xc3\xa9ville\\40musketeers.lit"},
    {"/jid/escape/xep0106/ex1", "space cadet", "space\\20cadet"},
    {"/jid/escape/xep0106/ex2", "call me \"ishmael\"", "call\\20me\\20\\22ishmael\\22"},
    {"/jid/escape/xep0106/ex3", "at&t guy", "at\\26t\\20guy"},
    {"/jid/escape/xep0106/ex4", "d'artagnan", "d\\27artagnan"},
    {"/jid/escape/xep0106/ex5", "/.fanboy", "\\2f.fanboy"},
    {"/jid/escape/xep0106/ex6", "::foo::", "\\3a\\3afoo\\3a\\3a"},
    {"/jid/escape/xep0106/ex7", "<foo>", "\\3cfoo\\3e"},
    {"/jid/escape/xep0106/ex8", "user@host", "user\\40host"},
    {"/jid/escape/xep0106/ex12", "c:\\5commas", "c\\3a\\5c5commas"},
    {"/jid/escape/xep0106/exception-partial", "\\2plus\\2is\\4", "\\2plus\\2is\\4"},
    {"/jid/escape/xep0106/exception-invalid1", "foo\\bar", "foo\\bar"},
    {"/jid/escape/xep0106/exception-invalid2", "foob\\41r", "foob\\41r"},
    {"/jid/escape/xep0106/email", "here's_a_wild_&_/cr%zy/_address",
     "here\\27s_a_wild_\\26_\\2fcr%zy\\2f_address"},
    {"/jid/escape/xep0106/imps", "here's_a_wild_&_/cr%zy/_address_for:<wv>(\"IMPS\")",
     "here\\27s_a_wild_\\26_\\2fcr%zy\\2f_address_for\\3a\\3cwv\\3e(\\22IMPS\\22)"},
    {"/jid/escape/xep0106/imps-backslash", "\\3and\\2is\\5cool", "\\5c3and\\2is\\5c5cool"},
    {"/jid/escape/xep0106/ldap",
     "CN=D'Artagnan Saint-Andr\\E9,O=Example & Company, Inc.,DC=example,DC=com",
     "CN=D\\27Artagnan\\20Saint-Andr\\E9,O=Example\\20\\26\\20Company,\\20Inc.,DC=example,"
     "DC=com"},
    {"/jid/escape/xep0106/irc", "somenick!user\"&'/:<>\\3address",
     "somenick!user\\22\\26\\27\\2f\\3a\\3c\\3e\\5c3address"},
    /* protocol.md §3, results of Prosody's util.jid. */
    {"/jid/escape/prosody/space", "a b", "a\\20b"},
    {"/jid/escape/prosody/at", "a@b", "a\\40b"},
    {"/jid/escape/prosody/colon", "#a:b", "#a\\3ab"},
    {"/jid/escape/prosody/amp", "#c&d", "#c\\26d"},
    {"/jid/escape/prosody/backslash-seq", "\\5c", "\\5c5c"},
    {"/jid/escape/prosody/slash", "x/y", "x\\2fy"},
    {"/jid/escape/every-sequence", "\\20\\22\\26\\27\\2f\\3a\\3c\\3e\\40\\5c",
     "\\5c20\\5c22\\5c26\\5c27\\5c2f\\5c3a\\5c3c\\5c3e\\5c40\\5c5c"},
    {"/jid/escape/uppercase-hex-is-no-sequence", "a\\2Fb\\3Ac", "a\\2Fb\\3Ac"},
    {"/jid/escape/trailing-backslash", "abc\\", "abc\\"},
    {"/jid/escape/short-sequence", "ab\\5", "ab\\5"},
    {"/jid/escape/untouched", "#chan[]|^`{}-_%!+,", "#chan[]|^`{}-_%!+,"},
};

static void test_escape_pair(gconstpointer data)
{
	const struct escape_case *c = data;
	char *escaped = jid_escape_local(c->name);
	g_assert_cmpstr(escaped, ==, c->escaped);
	char *unescaped = jid_unescape_local(c->escaped);
	g_assert_cmpstr(unescaped, ==, c->name);
	/* The result must be usable as a localpart. */
	struct jid *jid = jid_new(escaped, "example.com", NULL, NULL);
	g_assert_nonnull(jid);
	jid_free(jid);
	g_free(escaped);
	g_free(unescaped);
}

/* §5.1 examples 9-11 escape a backslash that starts none of the ten
 * sequences, which §4.1 rule 7 and §4.3 ("foo\bar is not modified") forbid.
 * ferry follows the rules: its escaped form keeps such a backslash, the
 * XEP's form still unescapes to the same name, and so does ours. */
static void test_escape_examples_9_to_11(void)
{
	static const struct {
		const char *name;
		const char *xep_escaped;
		const char *ferry_escaped;
	} cases[] = {
	    {"c:\\net", "c\\3a\\5cnet", "c\\3a\\net"},
	    {"c:\\\\net", "c\\3a\\5c\\5cnet", "c\\3a\\\\net"},
	    {"c:\\cool stuff", "c\\3a\\5ccool\\20stuff", "c\\3a\\cool\\20stuff"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *s = jid_unescape_local(cases[i].xep_escaped);
		g_assert_cmpstr(s, ==, cases[i].name);
		g_free(s);
		s = jid_escape_local(cases[i].name);
		g_assert_cmpstr(s, ==, cases[i].ferry_escaped);
		g_free(s);
		s = jid_unescape_local(cases[i].ferry_escaped);
		g_assert_cmpstr(s, ==, cases[i].name);
		g_free(s);
	}
}

static void test_escape_rejects(void)
{
	g_assert_null(jid_escape_local(""));
	g_assert_null(jid_escape_local(" "));
	g_assert_null(jid_escape_local(" leading"));
	g_assert_null(jid_escape_local("trailing "));
	g_assert_null(jid_escape_local("\xff\xfe"));
	g_assert_null(jid_escape_local("a\x01z"));
	g_assert_null(jid_escape_local("a\nz"));
	g_assert_null(jid_escape_local("a\xc2\x85z")); /* U+0085, a C1 control */

	char *s = g_strnfill(1023, 'x');
	char *e = jid_escape_local(s);
	g_assert_cmpstr(e, ==, s);
	g_free(e);
	g_free(s);
	s = g_strnfill(1024, 'x');
	g_assert_null(jid_escape_local(s));
	g_free(s);
	/* 341 '@' escape to exactly 1023 bytes, 342 to 1026. */
	s = g_strnfill(341, '@');
	e = jid_escape_local(s);
	g_assert_nonnull(e);
	g_assert_cmpuint(strlen(e), ==, 1023);
	g_assert_true(g_str_has_prefix(e, "\\40\\40"));
	g_free(e);
	g_free(s);
	s = g_strnfill(342, '@');
	g_assert_null(jid_escape_local(s));
	g_free(s);
}

static void test_unescape_only_sequences(void)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
	    {"\\20", " "},                    /* unescaping does not police placement */
	    {"\\5c5c", "\\5c"},               /* left to right, no overlap */
	    {"\\\\20", "\\ "},                /* first backslash starts no sequence */
	    {"\\2F\\3A\\5C", "\\2F\\3A\\5C"}, /* case is significant */
	    {"\\41\\7e\\00", "\\41\\7e\\00"}, /* not in the table */
	    {"\\2", "\\2"},
	    {"\\", "\\"},
	    {"plain", "plain"},
	    {"", ""},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *s = jid_unescape_local(cases[i].in);
		g_assert_cmpstr(s, ==, cases[i].out);
		g_free(s);
	}
}

/* parse -> format -> parse is the same JID, for every input that parses:
 * over 200 000 strings of up to 12 characters drawn from the ones that
 * matter to the structure (a fixed seed, so a failure repeats). */
static void test_parse_idempotent(void)
{
	static const char *const pieces[] = {
	    "a",        "B",        ".",    "@",  "/", " ", "\\",
	    "\xc3\xa9", "\xce\xa0", "\x01", ":",  "[", "]", "\xef\xbd\x81",
	    "\xff",     "\"",       "x.y",  "..", "\t"};
	GRand *rand = g_rand_new_with_seed(10);
	guint parsed = 0;
	for (guint n = 0; n < 200000; n++) {
		GString *text = g_string_new(NULL);
		gint32 len = g_rand_int_range(rand, 0, 13);
		for (gint32 i = 0; i < len; i++)
			g_string_append(
			    text, pieces[g_rand_int_range(rand, 0, (gint32)G_N_ELEMENTS(pieces))]);
		struct jid *first = jid_parse(text->str, NULL);
		if (first != NULL) {
			parsed++;
			struct jid *second = jid_parse(jid_full(first), NULL);
			if (second == NULL || strcmp(jid_full(first), jid_full(second)) != 0)
				g_error("'%s' parses as '%s', which parses as '%s'", text->str,
				        jid_full(first),
				        second != NULL ? jid_full(second) : "(error)");
			g_assert_cmpstr(jid_local(first), ==, jid_local(second));
			g_assert_cmpstr(jid_domain(first), ==, jid_domain(second));
			g_assert_cmpstr(jid_resource(first), ==, jid_resource(second));
			jid_free(second);
			jid_free(first);
		}
		g_string_free(text, TRUE);
	}
	g_test_message("%u of 200000 inputs parsed", parsed);
	g_assert_cmpuint(parsed, >, 1000);
	g_rand_free(rand);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(parse_cases); i++)
		g_test_add_data_func(parse_cases[i].path, &parse_cases[i], test_parse);
	g_test_add_func("/jid/parse/lengths", test_parse_lengths);
	g_test_add_func("/jid/parse/idempotent", test_parse_idempotent);
	g_test_add_func("/jid/new", test_new);
	g_test_add_func("/jid/copy-and-compare", test_copy_and_compare);
	g_test_add_func("/jid/bare-of", test_bare_of);
	for (size_t i = 0; i < G_N_ELEMENTS(escape_cases); i++)
		g_test_add_data_func(escape_cases[i].path, &escape_cases[i], test_escape_pair);
	g_test_add_func("/jid/escape/xep0106/ex9-11", test_escape_examples_9_to_11);
	g_test_add_func("/jid/escape/rejects", test_escape_rejects);
	g_test_add_func("/jid/unescape/only-sequences", test_unescape_only_sequences);
	return g_test_run();
}
