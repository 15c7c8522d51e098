/* room_helpers: what the group-chat unit tests (test_rooms, test_muc)
 * share: the room's addresses, a join and its legacy answer, the state
 * "ALICE in #c". */
#ifndef FERRY_TEST_ROOM_HELPERS_H
#define FERRY_TEST_ROOM_HELPERS_H

#include <string.h>

#include "gateway_fixture.h"
#include "ferry/ns.h"
#include "ferry/stanza.h"

#define ROOM "#c@" GW_JID
#define ALICE_PHONE "alice@example.org/phone"
#define MUC_X "<x xmlns='http://jabber.org/protocol/muc'/>"
#define MUC_USER "http://jabber.org/protocol/muc#user"

/* A join presence from FULL to #c as NICK with ID (and extra XML in <x/>). */
static inline void join(struct gw *gw, const char *full, const char *nick, const char *id,
                        const char *inner)
{
	gw_injectf(gw,
	           "<presence from='%s' to='" ROOM "/%s' id='%s'>"
	           "<x xmlns='http://jabber.org/protocol/muc'>%s</x></presence>",
	           full, nick, id, inner != NULL ? inner : "");
}

/* Takes the JOIN_CHAT, asserting its room, key and nick. */
static inline void expect_join_chat(struct gw *gw, const char *room, const char *key,
                                    const char *nick)
{
	struct fake_command *c = gw_take_command(gw, WORKER_JOIN_CHAT);
	struct worker_msg_join_chat m;
	g_assert_true(worker_msg_join_chat_read(c->payload, c->account, &m));
	g_assert_cmpstr(m.room, ==, room);
	g_assert_cmpstr(m.key, ==, key);
	g_assert_cmpstr(m.nick, ==, nick);
	worker_msg_join_chat_clear(&m);
	fake_command_free(c);
}

/* The worker's answer to a join of #c: bob (op), alice (us, as NICK), then
 * CHAT_JOINED with TOPIC. */
static inline void answer_join(struct gw *gw, guint32 account, const char *nick, const char *topic)
{
	FAKE_EMIT(gw->fake, chat_occupant, .account = account, .room = "#c", .nick = "bob",
	          .flags = WORKER_CHAT_FLAG_OP, .real = "", .pm = "bob");
	FAKE_EMIT(gw->fake, chat_occupant, .account = account, .room = "#c", .nick = nick,
	          .flags = 0, .real = "", .pm = nick);
	FAKE_EMIT(gw->fake, chat_joined, .account = account, .room = "#c", .asked = "#c",
	          .nick = nick, .topic = topic, .topic_by = "");
}

/* ALICE online as "alice" and in #c from ALICE_PC; what was sent is cleared. */
static inline guint32 in_room(struct gw *gw)
{
	guint32 account = gw_online(gw, "alice");
	join(gw, ALICE_PC, "alice", "j1", NULL);
	expect_join_chat(gw, "#c", "", "alice");
	answer_join(gw, account, "alice", "");
	gw_clear(gw);
	return account;
}

#define BOB_TO(to)                                                                                 \
	"<presence from='" ROOM "/bob' to='" to "'><x xmlns='" MUC_USER "'>"                       \
	"<item affiliation='admin' role='moderator'/></x></presence>"
#define SUBJECT_TO(to, text)                                                                       \
	"<message from='" ROOM "' to='" to "' type='groupchat'><subject>" text                     \
	"</subject></message>"
#define NO_SUBJECT_TO(to)                                                                          \
	"<message from='" ROOM "' to='" to "' type='groupchat'><subject/></message>"

static inline guint32 expect_send_chat(struct gw *gw, const char *text)
{
	struct fake_command *c = gw_take_command(gw, WORKER_SEND_CHAT);
	struct worker_msg_send_chat m;
	g_assert_true(worker_msg_send_chat_read(c->payload, c->account, &m));
	g_assert_cmpstr(m.room, ==, "#c");
	g_assert_cmpstr(m.text, ==, text);
	guint32 seq = m.seq;
	worker_msg_send_chat_clear(&m);
	fake_command_free(c);
	return seq;
}

/* The condition of error E (its <error/>'s first child). */
static inline const char *error_condition(const struct stanza *e)
{
	const struct stanza *err = stanza_find_child(e, "error", NULL);
	g_assert_nonnull(err);
	const struct stanza *c = stanza_next_child(err, NULL);
	g_assert_nonnull(c);
	return stanza_name(c);
}

#endif
