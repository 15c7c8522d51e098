/* irc_bytes: nicks that are not UTF-8 as %XX on the way in, their bytes
 * again on the way out; valid UTF-8 and the text untouched. */
#include "config.h"

#include <string.h>

#include "ferry/irc_bytes.h"

static void in(const char *line, const char *expected)
{
	g_autofree char *got = irc_bytes_escape(line);
	g_assert_cmpstr(got, ==, expected);
}

static void out(const char *line, const char *expected)
{
	g_autofree char *got = irc_bytes_unescape(line);
	g_assert_cmpstr(got, ==, expected);
}

static void test_prefix(void)
{
	in(":b\xff"
	   "b!u@h PRIVMSG alice :hi",
	   ":b%FFb!u@h PRIVMSG alice :hi");
	/* the UTF-8 of "bÿb" is a nick of its own, left alone */
	in(":b\xc3\xbf"
	   "b!u@h PRIVMSG alice :hi",
	   NULL);
	/* a cut UTF-8 sequence: each of its bytes */
	in(":b\xc3!u@h NOTICE alice :x", ":b%C3!u@h NOTICE alice :x");
	in(":\xe2\x82!u@h QUIT :bye", ":%E2%82!u@h QUIT :bye");
	/* the text is prpl-irc's to convert (Latin-1), not a nick */
	in(":bob!u@h PRIVMSG alice :caf\xe9", NULL);
	in(":b\xff"
	   "b!u@h PRIVMSG alice :caf\xe9",
	   ":b%FFb!u@h PRIVMSG alice :caf\xe9");
}

static void test_nick_lists(void)
{
	in(":fake 303 alice :bob b\xff"
	   "b c\xfe",
	   ":fake 303 alice :bob b%FFb c%FE");
	in(":fake 353 alice = #c :@b\xff"
	   "b +bob",
	   ":fake 353 alice = #c :@b%FFb +bob");
	in(":old!u@h NICK :n\x80w", ":old!u@h NICK :n%80w");
	in(":old!u@h NICK n\x80w", ":old!u@h NICK n%80w");
	in(":fake 401 alice b\xff"
	   "b :No such nick",
	   ":fake 401 alice b%FFb :No such nick");
	in(":fake 311 alice b\xff"
	   "b u h * :real \xff",
	   ":fake 311 alice b%FFb u h * :real \xff");
	in(":op!u@h MODE #c +ov b\xff"
	   "b c\xfe",
	   ":op!u@h MODE #c +ov b%FFb c%FE");
	in(":op!u@h MODE #c +o :b\xff"
	   "b",
	   ":op!u@h MODE #c +o :b%FFb");
	in(":srv MODE alice :+i\xff", NULL);
	/* a channel's name and a topic are not nicks */
	in(":fake 332 alice #\xff :t\xff", NULL);
	in("PING :\xff", NULL);
	in("", NULL);
}

static void test_back(void)
{
	out("PRIVMSG b%FFb :hi\r\n", "PRIVMSG b\xff"
	                             "b :hi\r\n");
	/* a JID's localpart may come back lower-cased */
	out("PRIVMSG b%ffb :hi\r\n", "PRIVMSG b\xff"
	                             "b :hi\r\n");
	out("NOTICE b%C3 :\001VERSION x\001\r\n", "NOTICE b\xc3 :\001VERSION x\001\r\n");
	out("ISON bob b%FFb\r\n", "ISON bob b\xff"
	                          "b\r\n");
	out("ISON :bob b%FFb c%fe\r\n", "ISON :bob b\xff"
	                                "b c\xfe\r\n");
	out("WHOIS b%FFb\r\n", "WHOIS b\xff"
	                       "b\r\n");
	out("MODE b%FFb +i\r\n", "MODE b\xff"
	                         "b +i\r\n");
	/* the text keeps its percent signs; ASCII escapes are never ours */
	out("PRIVMSG bob :100%FF\r\n", NULL);
	out("PRIVMSG a%41b :x\r\n", NULL);
	out("PRIVMSG b%F :x\r\n", NULL);
	out("PRIVMSG b% :x\r\n", NULL);
	out("JOIN #a%FF\r\n", NULL);
	out("MODE #c +o b%FFb\r\n", "MODE #c +o b\xff"
	                            "b\r\n");
	/* '%' may be part of a channel's name */
	out("PRIVMSG #a%FF :x\r\n", NULL);
	out("MODE #a%FF +o bob\r\n", NULL);
	out("ISON :b%FFb &x%FF\r\n", "ISON :b\xff"
	                             "b &x%FF\r\n");
	out("PRIVMSG bob :hi\r\n", NULL);
}

static void test_round_trip(void)
{
	static const char *const nicks[] = {"b\xff"
	                                    "b",
	                                    "\x80", "a\xc3", "\xf0\x9f\x98", "x\xfe\xff"};
	for (gsize i = 0; i < G_N_ELEMENTS(nicks); i++) {
		g_autofree char *line = g_strdup_printf(":%s!u@h PRIVMSG alice :x", nicks[i]);
		g_autofree char *escaped = irc_bytes_escape(line);
		g_assert_nonnull(escaped);
		g_assert_true(g_utf8_validate(escaped, -1, NULL));
		const char *nick = escaped + 1;
		g_autofree char *name = g_strndup(nick, strcspn(nick, "!"));
		g_autofree char *reply = g_strdup_printf("PRIVMSG %s :y\r\n", name);
		g_autofree char *sent = irc_bytes_unescape(reply);
		g_autofree char *expected = g_strdup_printf("PRIVMSG %s :y\r\n", nicks[i]);
		g_assert_cmpstr(sent, ==, expected);
	}
}

static void test_bounded(void)
{
	/* a line over the limit is left as it came */
	GString *line = g_string_new(":b\xff"
	                             "b!u@h PRIVMSG alice :");
	while (line->len <= IRC_BYTES_LINE_MAX)
		g_string_append_c(line, 'x');
	in(line->str, NULL);
	g_string_free(line, TRUE);
	/* at the limit, every byte escaped: three times as long */
	char *full = g_malloc(IRC_BYTES_LINE_MAX + 1);
	memset(full, 0xff, IRC_BYTES_LINE_MAX);
	full[0] = ':';
	full[IRC_BYTES_LINE_MAX] = '\0';
	g_autofree char *escaped = irc_bytes_escape(full);
	g_assert_cmpuint(strlen(escaped), ==, 1 + 3 * (IRC_BYTES_LINE_MAX - 1));
	g_free(full);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/irc_bytes/prefix", test_prefix);
	g_test_add_func("/irc_bytes/nick_lists", test_nick_lists);
	g_test_add_func("/irc_bytes/back", test_back);
	g_test_add_func("/irc_bytes/round_trip", test_round_trip);
	g_test_add_func("/irc_bytes/bounded", test_bounded);
	return g_test_run();
}
