/* chat_numerics: the IRC numerics that answer a JOIN_CHAT or a nick change
 * (worker_protocol.h's worker_chat_failure; groupchat.md §3). */
#include "config.h"

#include "chat_numerics.h"
#include "ferry/worker_protocol.h"

static void test_join_failures(void)
{
	static const struct {
		const char *numeric;
		int reason;
	} cases[] = {
	    {"471", WORKER_CHAT_FAIL_FULL},        {"473", WORKER_CHAT_FAIL_INVITE_ONLY},
	    {"474", WORKER_CHAT_FAIL_BANNED},      {"475", WORKER_CHAT_FAIL_KEY},
	    {"477", WORKER_CHAT_FAIL_INVITE_ONLY}, {"403", WORKER_CHAT_FAIL_NO_ROOM},
	    {"476", WORKER_CHAT_FAIL_NO_ROOM},     {"405", WORKER_CHAT_FAIL_FULL},
	    {"437", WORKER_CHAT_FAIL_OTHER},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpint(chat_numeric_join_failure(cases[i].numeric), ==, cases[i].reason);
	/* not join refusals: welcome, topic, names, nick in use, not op, no such nick */
	static const char *const others[] = {"001", "332", "353", "433", "482", "401", "", "47"};
	for (gsize i = 0; i < G_N_ELEMENTS(others); i++)
		g_assert_cmpint(chat_numeric_join_failure(others[i]), ==, -1);
	g_assert_cmpint(chat_numeric_join_failure(NULL), ==, -1);
}

static void test_nick_refusals(void)
{
	g_assert_true(chat_numeric_refuses_nick("433"));
	g_assert_true(chat_numeric_refuses_nick("432"));
	g_assert_true(chat_numeric_refuses_nick("437"));
	g_assert_true(chat_numeric_refuses_nick("484"));
	g_assert_true(chat_numeric_refuses_nick("435")); /* banned on a channel */
	g_assert_true(chat_numeric_refuses_nick("438")); /* too fast */
	g_assert_true(chat_numeric_refuses_nick("447")); /* +N */
	g_assert_false(chat_numeric_refuses_nick("475"));
	g_assert_false(chat_numeric_refuses_nick("4330"));
	g_assert_false(chat_numeric_refuses_nick(NULL));
}

static void test_topic_refusals(void)
{
	g_assert_true(chat_numeric_refuses_topic("482"));
	g_assert_true(chat_numeric_refuses_topic("442"));
	g_assert_true(chat_numeric_refuses_topic("477"));
	g_assert_true(chat_numeric_refuses_topic("489"));
	g_assert_false(chat_numeric_refuses_topic("332"));
	g_assert_false(chat_numeric_refuses_topic("433"));
	g_assert_false(chat_numeric_refuses_topic(NULL));
}

static void test_channels(void)
{
	g_assert_true(chat_numeric_is_channel("#ferry"));
	g_assert_true(chat_numeric_is_channel("&local"));
	g_assert_true(chat_numeric_is_channel("+modeless"));
	g_assert_true(chat_numeric_is_channel("!12345safe"));
	g_assert_false(chat_numeric_is_channel("bob"));
	g_assert_false(chat_numeric_is_channel(""));
	g_assert_false(chat_numeric_is_channel(NULL));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/chat_numerics/join_failures", test_join_failures);
	g_test_add_func("/chat_numerics/nick_refusals", test_nick_refusals);
	g_test_add_func("/chat_numerics/topic_refusals", test_topic_refusals);
	g_test_add_func("/chat_numerics/channels", test_channels);
	return g_test_run();
}
