/* linesplit: lines for IRC, cut between words and never inside a UTF-8
 * character; blank lines left out; END says how much of the text went. */
#include "config.h"

#include <string.h>

#include "ferry/linesplit.h"

/* TEXT split at MAX, as "line|line|..." */
static char *split_joined(const char *text, gsize max)
{
	g_autoptr(GArray) lines = linesplit(text, max);
	GString *out = g_string_new(NULL);
	for (guint i = 0; i < lines->len; i++) {
		const struct linesplit_line *l = &g_array_index(lines, struct linesplit_line, i);
		g_assert_cmpuint(l->len, <=, max);
		g_assert_cmpuint(l->start + l->len, <=, l->end);
		if (i > 0)
			g_string_append_c(out, '|');
		g_string_append_len(out, text + l->start, (gssize)l->len);
	}
	return g_string_free(out, FALSE);
}

static void check(const char *text, gsize max, const char *expected)
{
	g_autofree char *got = split_joined(text, max);
	g_assert_cmpstr(got, ==, expected);
}

static void test_short(void)
{
	check("hello", 10, "hello");
	check("", 10, "");
	check("hello world", 11, "hello world");
}

static void test_words(void)
{
	/* the space at the cut is the line break: no word loses a letter */
	check("hello world again", 11, "hello world|again");
	check("aaaa bbbb cccc dddd", 9, "aaaa bbbb|cccc dddd");
	check("aaaa bbbb cccc dddd", 10, "aaaa bbbb|cccc dddd");
	/* two spaces: the second one starts the next line */
	check("aaaa  bbbb", 5, "aaaa |bbbb");
	/* a word longer than a line is cut where it must */
	check("abcdefghij", 4, "abcd|efgh|ij");
	check("ab abcdefghij", 4, "ab|abcd|efgh|ij");
}

static void test_utf8(void)
{
	/* "é" is 2 bytes, "€" 3: never cut inside one */
	check("\xc3\xa9\xc3\xa9\xc3\xa9", 5, "\xc3\xa9\xc3\xa9|\xc3\xa9");
	check("\xe2\x82\xac\xe2\x82\xac", 5, "\xe2\x82\xac|\xe2\x82\xac");
	check("a\xe2\x82\xac\xe2\x82\xac", 6, "a\xe2\x82\xac|\xe2\x82\xac");
	/* every line is valid UTF-8 on a long mixed text */
	GString *t = g_string_new(NULL);
	for (int i = 0; i < 200; i++)
		g_string_append(t, i % 7 == 0 ? "caf\xc3\xa9 " : "\xe2\x82\xac\xf0\x9f\x98\x80x");
	g_autoptr(GArray) lines = linesplit(t->str, 37);
	for (guint i = 0; i < lines->len; i++) {
		const struct linesplit_line *l = &g_array_index(lines, struct linesplit_line, i);
		g_assert_true(g_utf8_validate(t->str + l->start, (gssize)l->len, NULL));
	}
	g_string_free(t, TRUE);
}

static void test_newlines_and_blanks(void)
{
	check("one\ntwo", 10, "one|two");
	check("one\r\ntwo\r\n", 10, "one|two");
	/* blank lines are not sent */
	check("one\n\n\ntwo\n  \n\t\nthree", 10, "one|two|three");
	check("\n\n", 10, "");
	check("   ", 10, "");
	/* trailing spaces after a cut make no line of their own */
	check("aaaa     ", 4, "aaaa");
}

static void test_end_offsets(void)
{
	const char *text = "one\n\ntwo three\n";
	g_autoptr(GArray) lines = linesplit(text, 5);
	g_assert_cmpuint(lines->len, ==, 3);
	const struct linesplit_line *l = (const struct linesplit_line *)lines->data;
	/* "one" ends past the blank line after it: what is left starts at "two" */
	g_assert_cmpuint(l[0].end, ==, 5);
	g_assert_cmpuint(l[1].start, ==, 5);
	g_assert_cmpuint(l[1].end, ==, 9);
	g_assert_cmpuint(l[2].end, ==, strlen(text));
}

static void test_irc_budget(void)
{
	/* 512 - (1 + 30 + 1 + 11 + 1 + 63 + 9 + 3 + 2 + 2) = 389 for "bob" */
	g_assert_cmpuint(linesplit_irc_budget(4, "bob", 0), ==, 389);
	/* a longer nick than assumed takes its own length */
	g_assert_cmpuint(linesplit_irc_budget(40, "bob", 0), ==, 379);
	/* CTCP ACTION framing */
	g_assert_cmpuint(linesplit_irc_budget(4, "bob", 9), ==, 380);
	/* an absurd target still leaves some room */
	g_autofree char *huge = g_strnfill(600, 'x');
	g_assert_cmpuint(linesplit_irc_budget(4, huge, 0), ==, 64);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/linesplit/short", test_short);
	g_test_add_func("/linesplit/words", test_words);
	g_test_add_func("/linesplit/utf8", test_utf8);
	g_test_add_func("/linesplit/newlines-and-blanks", test_newlines_and_blanks);
	g_test_add_func("/linesplit/end-offsets", test_end_offsets);
	g_test_add_func("/linesplit/irc-budget", test_irc_budget);
	return g_test_run();
}
