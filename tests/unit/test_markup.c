/* Unit tests for markup: plain text <-> libpurple HTML, with the cases that
 * must survive byte for byte (OTR, whitespace tags, typed markup). */
#include "config.h"

#include "ferry/markup.h"

#include <glib.h>

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
	    {"&#0;&#xD800;", "&#0;&#xD800;"},
	    {"\x1ditalic\x1d \x16rev\x0f\ttab", "italic rev\ttab"},
	    {"bell\x07 esc\x1b nonchars\xEF\xBF\xBE\xEF\xBF\xBF end\xEF\xBF\xBD",
	     "bell esc nonchars end\xEF\xBF\xBD"},
	    {"&#7;&#xFFFE;&#xffff;&#9;&#xFFFD;", "&#7;&#xFFFE;&#xffff;\t\xEF\xBF\xBD"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *out = markup_to_text(cases[i].in);
		g_assert_cmpstr(out, ==, cases[i].out);
	}
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
	g_test_add_func("/markup/round-trip", test_round_trip);
	return g_test_run();
}
