/* Unit tests for the pool's book of messages in flight and crash suspects
 * (src/legacy/inflight.c): what counts as answered, who becomes a suspect
 * and for how long, and the logouts waiting for their DISCONNECTED. */
#include "config.h"

#include "../../src/legacy/inflight.h"
#include "ferry/worker_msgs.h"

static const struct worker_msg_login alice = {.protocol = "prpl-irc",
                                              .username = "alice@irc.example.org"};
static const struct worker_msg_login bob = {.protocol = "prpl-irc",
                                            .username = "bob@irc.example.org"};

static void send_im(struct inflight_book *b, guint32 account, guint32 seq)
{
	g_autoptr(GBytes) f =
	    WORKER_FRAME(send_im, .account = account, .seq = seq, .name = "carol", .text = "hi");
	inflight_book_on_command(b, f);
}

static bool event(struct inflight_book *b, guint32 account, guint32 type, GVariant *payload)
{
	g_autoptr(GVariant) p = g_variant_ref_sink(payload);
	return inflight_book_on_event(b, account, type, p);
}

static void test_answers(void)
{
	struct inflight_book *b = inflight_book_new();
	inflight_book_add(b, 1, &alice);
	g_assert_cmpstr(inflight_book_user(b, 1), ==, "alice@irc.example.org");
	send_im(b, 1, 5);
	send_im(b, 1, 6);
	send_im(b, 1, 7);
	/* other commands are not answered: they do not count */
	g_autoptr(GBytes) typing = WORKER_FRAME(send_typing, .account = 1, .name = "carol");
	inflight_book_on_command(b, typing);
	g_assert_cmpuint(inflight_book_count(b, 1), ==, 3);
	/* a room message is in flight like an IM (its text can be the poison) */
	g_autoptr(GBytes) chat =
	    WORKER_FRAME(send_chat, .account = 1, .seq = 4, .room = "#c", .text = "hi");
	inflight_book_on_command(b, chat);
	g_assert_cmpuint(inflight_book_count(b, 1), ==, 4);
	g_assert_false(event(b, 1, WORKER_IMS_SENT, g_variant_new("(u)", 4)));
	g_assert_cmpuint(inflight_book_count(b, 1), ==, 3);
	/* a failure answers one, IMS_SENT every one up to its number */
	g_assert_false(
	    event(b, 1, WORKER_IM_RESULT, g_variant_new("(ubusuuu)", 6, FALSE, 0, "no", 0, 1, 0)));
	g_assert_cmpuint(inflight_book_count(b, 1), ==, 2);
	g_assert_false(event(b, 1, WORKER_IMS_SENT, g_variant_new("(u)", 5)));
	g_assert_cmpuint(inflight_book_count(b, 1), ==, 1);
	g_assert_false(event(b, 1, WORKER_IM_PROGRESS, g_variant_new("(uuuu)", 7, 1, 2, 10)));
	g_assert_true(event(b, 1, WORKER_IMS_SENT, g_variant_new("(u)", 7)));
	g_assert_cmpuint(inflight_book_count(b, 1), ==, 0);
	g_assert_false(inflight_book_ended(b, 1));
	/* the account's end answers everything before it */
	send_im(b, 1, 8);
	g_assert_true(event(b, 1, WORKER_DISCONNECTED, g_variant_new("(usb)", 0, "gone", FALSE)));
	g_assert_true(inflight_book_ended(b, 1));
	/* unknown accounts: nothing in flight, ended */
	g_assert_cmpuint(inflight_book_count(b, 99), ==, 0);
	g_assert_true(inflight_book_ended(b, 99));
	g_assert_cmpstr(inflight_book_user(b, 99), ==, "?");
	inflight_book_free(b);
}

static void test_suspects(void)
{
	struct inflight_book *b = inflight_book_new();
	inflight_book_add(b, 1, &alice);
	inflight_book_add(b, 2, &bob);
	inflight_book_suspect(b, 1);
	inflight_book_remove(b, 1);
	inflight_book_remove(b, 2);
	/* by login, across account ids; taken once */
	g_assert_false(inflight_book_take_suspect(b, &bob));
	g_assert_true(inflight_book_take_suspect(b, &alice));
	g_assert_false(inflight_book_take_suspect(b, &alice));
	/* the same username on another protocol is someone else */
	inflight_book_add(b, 3, &alice);
	inflight_book_suspect(b, 3);
	const struct worker_msg_login other = {.protocol = "prpl-jabber",
	                                       .username = "alice@irc.example.org"};
	g_assert_false(inflight_book_take_suspect(b, &other));
	g_assert_true(inflight_book_take_suspect(b, &alice));
	/* bounded: 5000 suspects keep at most 4096 */
	for (guint i = 0; i < 5000; i++) {
		g_autofree char *name = g_strdup_printf("u%u@irc.example.org", i);
		const struct worker_msg_login l = {.protocol = "prpl-irc", .username = name};
		inflight_book_add(b, 100 + i, &l);
		inflight_book_suspect(b, 100 + i);
		inflight_book_remove(b, 100 + i);
	}
	const struct worker_msg_login last = {.protocol = "prpl-irc",
	                                      .username = "u4999@irc.example.org"};
	g_assert_true(inflight_book_take_suspect(b, &last));
	inflight_book_free(b);
}

static void test_leaving(void)
{
	struct inflight_book *b = inflight_book_new();
	inflight_book_add(b, 1, &alice);
	inflight_book_add(b, 2, &bob);
	g_assert_false(inflight_book_leaving(b, 1));
	gint64 now = g_get_monotonic_time();
	inflight_book_leave(b, 1, now + 10 * G_USEC_PER_SEC);
	inflight_book_leave(b, 2, now - 1);
	g_assert_true(inflight_book_leaving(b, 1));
	g_autoptr(GArray) late = inflight_book_overdue(b, now);
	g_assert_cmpuint(late->len, ==, 1);
	g_assert_cmpuint(g_array_index(late, guint32, 0), ==, 2);
	inflight_book_remove(b, 1);
	g_assert_false(inflight_book_leaving(b, 1));
	inflight_book_free(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/inflight/answers", test_answers);
	g_test_add_func("/inflight/suspects", test_suspects);
	g_test_add_func("/inflight/leaving", test_leaving);
	return g_test_run();
}
