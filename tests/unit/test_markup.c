/* Unit tests for markup: plain text <-> libpurple HTML, with the cases that
 * must survive byte for byte (OTR, whitespace tags, typed markup). */
#include "config.h"

#include "ferry/markup.h"

#include <glib.h>
#include <string.h>

static void test_from_text(void)
{
	const struct {
		const char *in, *out;
	} cases[] = {
	    {"hello", "hello"},
	    {"1 < 2 & 3 > 2", "1 &lt; 2 &amp; 3 &gt; 2"},
	    {"<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;"},
	    {"say \"hi\"", "say &quot;hi&quot;"},
	    {"it's", "it's"},
	    {"été ✓", "été ✓"},
	    {"?OTR:AAMGAAAAAAAAAAEAAAABAAAAwE+/=.", "?OTR:AAMGAAAAAAAAAAEAAAABAAAAwE+/=."},
	    {"?OTRv23?", "?OTRv23?"},
	    {"", ""},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *out = markup_from_text(cases[i].in);
		g_assert_cmpstr(out, ==, cases[i].out);
	}
}

static void test_to_text(void)
{
	const struct {
		const char *in, *out;
	} cases[] = {
	    {"hello", "hello"},
	    {"hi alice: 3 &gt; 2 &amp; &lt;i&gt;x&lt;/i&gt; <B>bold-irc</B> été",
	     "hi alice: 3 > 2 & <i>x</i> bold-irc été"},
	    {"line one<br>line two<BR/>three<br />four", "line one\nline two\nthree\nfour"},
	    {"<font color=\"#ff0000\">red</font>", "red"},
	    {"&#233;&#x2713;&quot;&apos;&nbsp;", "é✓\"' "},
	    {"a < b and c > d", "a < b and c > d"},
	    {"&unknown; &amp", "&unknown; &amp"},
	    {"?OTR:AAMGAAAAAAAAAAEAAAABAAAAwE+/=.", "?OTR:AAMGAAAAAAAAAAEAAAABAAAAwE+/=."},
	    {"<a href=\"http://x\">http://x</a>", "http://x"},
	    {"&#0;&#xD800;", "\xEF\xBF\xBD\xEF\xBF\xBD"},
	    {"\x1ditalic\x1d \x16rev\x0f\ttab", "italic rev\ttab"},
	    {"bell\x07 esc\x1b nonchars\xEF\xBF\xBE\xEF\xBF\xBF end\xEF\xBF\xBD",
	     "bell esc nonchars end\xEF\xBF\xBD"},
	    {"&#7;&#xFFFE;&#xffff;&#9;&#xFFFD;",
	     "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\t\xEF\xBF\xBD"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *out = markup_to_text(cases[i].in);
		g_assert_cmpstr(out, ==, cases[i].out);
	}
}

/* IRC formatting as libpurple gives it (prpl-irc's irc_mirc2html: bold
 * <B>, underline <U>, colours <FONT>; italic \x1d and strike \x1e raw)
 * becomes XEP-0393 styling where a client reads it as such, and nothing
 * else: no control character, no directive inside a word or around
 * spaces, no span across a line. */
static void test_styled(void)
{
	const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain &lt;b&gt; 3 &gt; 2", "plain <b> 3 > 2"},
	    {"<B>bold</B> and <I>it</I> and <S>gone</S>", "*bold* and _it_ and ~gone~"},
	    {"a <B> spaced </B> b", "a  *spaced*  b"},
	    {"<B></B>empty <B> </B>x", "empty  x"},
	    {"in<B>word</B>s", "inwords"},
	    {"<B><I>both</I></B>", "*_both_*"},
	    {"<I><B>both</B></I>", "_*both*_"},
	    {"<B>x <I>y</B> z</I>", "*x _y_* _z_"},
	    {"<B>one<br>two</B>", "*one*\n*two*"},
	    {"<U>under</U> <FONT COLOR=\"#FF0000\">red</FONT>", "under red"},
	    {"\x1ditalic\x1d \x1estruck\x1e \x16rev\x0f", "_italic_ ~struck~ rev"},
	    {"\x1dopen then reset\x0f after", "_open then reset_ after"},
	    {"<B>unclosed", "*unclosed*"},
	    {"&lt;B&gt;typed&lt;/B&gt;", "<B>typed</B>"},
	    {"*typed* _as is_", "*typed* _as is_"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *out = markup_to_styled(cases[i].in);
		g_assert_cmpstr(out, ==, cases[i].out);
		for (const char *c = out; *c != '\0'; c++)
			g_assert_true((unsigned char)*c >= 0x20 || *c == '\n' || *c == '\t');
	}
}

/* Numeric references to control characters (issue 10, Low): a terminal
 * escape must not reach a client. TAB, LF and CR stay; every other control,
 * C1 (CSI is U+009B) and DEL included, and a value past U+10FFFF (which
 * used to wrap around to a small one) become U+FFFD. */
static void test_control_references(void)
{
	const struct {
		const char *in, *out;
	} cases[] = {
	    {"a&#1;b", "a\xEF\xBF\xBD"
	               "b"},
	    {"&#x1b;[31mred", "\xEF\xBF\xBD[31mred"},
	    {"&#x9b;31m &#127; &#x80;", "\xEF\xBF\xBD"
	                                "31m \xEF\xBF\xBD \xEF\xBF\xBD"},
	    {"&#4294967306;&#x10000000a;", "\xEF\xBF\xBD\xEF\xBF\xBD"},
	    {"&#10;&#9;&#13;&#xA0;", "\n\t\r\xC2\xA0"},
	    {"&#-1; &# 65; &#x; &#;", "&#-1; &# 65; &#x; &#;"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *out = markup_to_text(cases[i].in);
		g_assert_cmpstr(out, ==, cases[i].out);
	}
}

/* 1 MB of '<' (no tag in it) took 9.8 s: every '<' searched the rest of
 * the text for a '>'. Now linear; the bound here is only against a hang
 * (the figure is in tests/bench/bench_markup.c). */
static void test_linear(void)
{
	const size_t n = 1000 * 1000;
	const char fills[] = {'<', '&'};
	for (gsize f = 0; f < G_N_ELEMENTS(fills); f++) {
		char *big = g_strnfill(n, fills[f]);
		gint64 t0 = g_get_monotonic_time();
		g_autofree char *out = markup_to_text_max(big, 0);
		g_assert_cmpstr(out, ==, big);
		g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);
		g_free(big);
	}
	/* '<' all the way, then one tag at the very end. */
	GString *in = g_string_new(NULL);
	for (size_t i = 0; i < n; i++)
		g_string_append_c(in, '<');
	g_string_append(in, "b>x");
	g_autofree char *out = markup_to_text_max(in->str, 0);
	g_assert_cmpuint(strlen(out), ==, n);
	g_assert_true(out[n - 2] == '<' && out[n - 1] == 'x');
	g_string_free(in, TRUE);
}

/* Text from a worker is converted up to MARKUP_MAX_BYTES, cut on a
 * character boundary, with the note. */
static void test_bound(void)
{
	GString *in = g_string_new(NULL);
	while (in->len < MARKUP_MAX_BYTES - 1)
		g_string_append_c(in, 'a');
	while (in->len < MARKUP_MAX_BYTES + 1000)
		g_string_append(in, "\xC3\xA9"); /* é straddles the bound */
	g_autofree char *out = markup_to_text(in->str);
	g_assert_true(g_utf8_validate(out, -1, NULL));
	g_autofree char *note =
	    g_strdup_printf("\n[message truncated by the transport: %zu bytes not shown]",
	                    in->len - MARKUP_MAX_BYTES + 1);
	g_assert_true(g_str_has_suffix(out, note));
	g_assert_cmpuint(strlen(out) - strlen(note), ==, MARKUP_MAX_BYTES - 1);
	/* Within the bound, nothing is added. */
	g_string_truncate(in, MARKUP_MAX_BYTES - 1);
	g_autofree char *whole = markup_to_text(in->str);
	g_assert_cmpstr(whole, ==, in->str);
	g_string_free(in, TRUE);
}

static void test_round_trip(void)
{
	/* What the user types comes back unchanged after a trip through
	 * libpurple's markup, OTR's whitespace tag included. */
	const char *texts[] = {
	    "plain",
	    "<script>alert(1)</script> & co",
	    "tab\there  two  spaces",
	    "?OTR?v23? \t  \t\t\t\t \t \t \t    \t\t  \t \t",
	    "multi\nline",
	    "&amp; literally",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
		g_autofree char *html = markup_from_text(texts[i]);
		g_autofree char *back = markup_to_text(html);
		g_assert_cmpstr(back, ==, texts[i]);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/markup/from-text", test_from_text);
	g_test_add_func("/markup/to-text", test_to_text);
	g_test_add_func("/markup/styled", test_styled);
	g_test_add_func("/markup/round-trip", test_round_trip);
	g_test_add_func("/markup/control-references", test_control_references);
	g_test_add_func("/markup/linear", test_linear);
	g_test_add_func("/markup/bound", test_bound);
	return g_test_run();
}
