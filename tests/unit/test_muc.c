/* Unit tests for group chats, continued (src/gateway/muc.c,
 * muc_disco.c): nick changes, stray presence, self-ping, disco of rooms
 * and the transport, the paged room list, invitations, private messages
 * and prpl-jabber's PROBE_ROOM. */
#include "config.h"

#include "room_helpers.h"

static void test_nick_change(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	/* a status update to the current occupant JID is no nick change */
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" ROOM "/alice'><show>away</show>"
	              "</presence>");
	gw_expect_nothing(gw);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SET_CHAT_NICK), ==, 0);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" ROOM "/bob' id='n1'/>");
	struct fake_command *c = gw_take_command(gw, WORKER_SET_CHAT_NICK);
	struct worker_msg_set_chat_nick n;
	g_assert_true(worker_msg_set_chat_nick_read(c->payload, c->account, &n));
	g_assert_cmpstr(n.nick, ==, "bob");
	worker_msg_set_chat_nick_clear(&n);
	fake_command_free(c);
	FAKE_EMIT(gw->fake, chat_error, .account = account, .room = "", .op = WORKER_CHAT_OP_NICK,
	          .text = "Nickname is already in use");
	struct stanza *e = gw_expect(gw, "presence", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "n1");
	g_assert_cmpstr(stanza_get_from(e), ==, ROOM "/bob");
	g_autofree char *xml = stanza_to_string(e);
	g_assert_nonnull(strstr(xml, "<error type='cancel'><conflict"));
	stanza_free(e);
	gw_expect_nothing(gw);
}

/* What cannot cross in 1:1 cannot in a room: an OMEMO message (with its
 * fallback body) and a reaction are answered with their id, nothing is
 * said on the legacy side; OTR text is text. */
static void test_encrypted(struct gw *gw, gconstpointer unused)
{
	in_room(gw);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='o1'>"
	              "<body>I sent you an OMEMO encrypted message</body>"
	              "<encrypted xmlns='eu.siacs.conversations.axolotl'/></message>");
	struct stanza *e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "o1");
	g_autofree char *xml = stanza_to_string(e);
	g_assert_nonnull(strstr(xml, "<not-acceptable"));
	stanza_free(e);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='r1'>"
	              "<reactions xmlns='urn:xmpp:reactions:0' id='x'><reaction>+1</reaction>"
	              "</reactions></message>");
	e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "r1");
	stanza_free(e);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_CHAT), ==, 0);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='t1'>"
	              "<body>?OTR:AAMG</body></message>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_CHAT), ==, 1);
}

static void test_stray_presence(struct gw *gw, gconstpointer unused)
{
	gw_online(gw, "alice");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" ROOM "/alice'/>");
	gw_expect_next(gw, "<presence from='" ROOM "/alice' to='" ALICE_PC "' type='unavailable'>"
	                   "<x xmlns='" MUC_USER "'><item affiliation='none' role='none'>"
	                   "<reason>you are not in this room (the transport may have restarted); "
	                   "join it again</reason></item><status code='110'/><status code='307'/>"
	                   "<status code='333'/></x></presence>");
}

static void ping(struct gw *gw, const char *from, const char *to)
{
	gw_injectf(gw,
	           "<iq from='%s' to='%s' type='get' id='ping'><ping xmlns='urn:xmpp:ping'/></iq>",
	           from, to);
}

static void test_self_ping(struct gw *gw, gconstpointer unused)
{
	in_room(gw);
	ping(gw, ALICE_PC, ROOM "/alice");
	gw_expect_next(gw, "<iq from='" ROOM "/alice' to='" ALICE_PC "' id='ping' type='result'/>");
	ping(gw, ALICE_PHONE, ROOM "/alice");
	struct stanza *e = gw_expect(gw, "iq", "error", ALICE_PHONE);
	g_assert_nonnull(
	    stanza_find_child(stanza_find_child(e, "error", NULL), "not-acceptable", NULL));
	stanza_free(e);
	/* after a restart nothing is known */
	gw_restart(gw);
	gw_online(gw, "alice");
	ping(gw, ALICE_PC, ROOM "/alice");
	e = gw_expect(gw, "iq", "error", ALICE_PC);
	g_assert_nonnull(
	    stanza_find_child(stanza_find_child(e, "error", NULL), "not-acceptable", NULL));
	stanza_free(e);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='m1'>"
	              "<body>x</body></message>");
	e = gw_expect(gw, "message", "error", ALICE_PC);
	stanza_free(e);
}

static char *disco(struct gw *gw, const char *to, const char *ns, const char *inner)
{
	gw_injectf(gw,
	           "<iq from='" ALICE_PC "' to='%s' type='get' id='d'><query xmlns='%s'>%s"
	           "</query></iq>",
	           to, ns, inner != NULL ? inner : "");
	struct stanza *r = gw_take_match(gw, "iq", "*", ALICE_PC);
	g_assert_nonnull(r);
	char *xml = stanza_to_string(r);
	stanza_free(r);
	return xml;
}

static void test_disco(struct gw *gw, gconstpointer unused)
{
	/* before any join (and before the login) */
	g_autofree char *info = disco(gw, ROOM, NS_DISCO_INFO, NULL);
	g_assert_nonnull(strstr(info, "<identity category='conference' type='irc' name='#c'/>"));
	g_assert_nonnull(strstr(info, "<feature var='http://jabber.org/protocol/muc'/>"));
	g_assert_nonnull(strstr(info, "<feature var='http://jabber.org/protocol/muc#self-ping-"
	                              "optimization'/>"));
	g_assert_nonnull(strstr(info, "<feature var='muc_semianonymous'/>"));
	g_assert_null(strstr(info, "muc_membersonly"));
	g_assert_null(strstr(info, "muc_passwordprotected"));
	/* a contact is not a room */
	g_autofree char *contact = disco(gw, "bob@" GW_JID, NS_DISCO_INFO, NULL);
	g_assert_null(strstr(contact, "conference"));
	/* the transport: conference added, jabber:iq:gateway kept (its gateway
	 * identity is main.c's) */
	g_autofree char *self = disco(gw, GW_JID, NS_DISCO_INFO, NULL);
	g_assert_nonnull(strstr(self, "category='conference' type='irc'"));
	g_assert_nonnull(strstr(self, "jabber:iq:gateway"));
	/* a room's items: none disclosed */
	g_autofree char *items = disco(gw, ROOM, NS_DISCO_ITEMS, NULL);
	g_assert_cmpstr(items, ==,
	                "<iq from='" ROOM "' to='" ALICE_PC "' id='d' type='result'>"
	                "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
	/* an occupant, from a non-occupant: bad-request */
	g_autofree char *occ = disco(gw, ROOM "/bob", NS_DISCO_INFO, NULL);
	g_assert_nonnull(strstr(occ, "<bad-request"));
	/* affiliation lists: always an answer */
	gw_online(gw, "alice");
	gw_inject(gw, "<iq from='" ALICE_PC "' to='" ROOM "' type='get' id='a1'>"
	              "<query xmlns='http://jabber.org/protocol/muc#admin'>"
	              "<item affiliation='member'/></query></iq>");
	struct stanza *e = gw_expect(gw, "iq", "error", ALICE_PC);
	g_assert_nonnull(stanza_find_child(stanza_find_child(e, "error", NULL), "forbidden", NULL));
	stanza_free(e);
}

static void test_room_list(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	gw_inject(gw,
	          "<iq from='" ALICE_PC "' to='" GW_JID "' type='get' id='l1'>"
	          "<query xmlns='http://jabber.org/protocol/disco#items'>"
	          "<set xmlns='http://jabber.org/protocol/rsm'><max>2</max></set></query></iq>");
	struct fake_command *c = gw_take_command(gw, WORKER_LIST_ROOMS);
	fake_command_free(c);
	gw_expect_nothing(gw); /* waits for the listing */
	g_autoptr(GHashTable) batch =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_insert(batch, g_strdup("#b"), g_strdup("3\tbee"));
	g_hash_table_insert(batch, g_strdup("#a"), g_strdup("10\t"));
	FAKE_EMIT(gw->fake, room_list, .account = account, .rooms = batch, .done = false,
	          .complete = true);
	gw_expect_nothing(gw);
	g_hash_table_remove_all(batch);
	g_hash_table_insert(batch, g_strdup("#D"), g_strdup(""));
	g_hash_table_insert(batch, g_strdup("#c"), g_strdup("1\tsea"));
	/* no room JID can carry it: left out */
	g_hash_table_insert(batch, g_strdup("#\001"), g_strdup("1\t"));
	FAKE_EMIT(gw->fake, room_list, .account = account, .rooms = batch, .done = true,
	          .complete = true);
	gw_expect_next(gw, "<iq from='" GW_JID "' to='" ALICE_PC "' id='l1' type='result'>"
	                   "<query xmlns='http://jabber.org/protocol/disco#items'>"
	                   "<item jid='#a@" GW_JID "' name='#a (10)'/>"
	                   "<item jid='#b@" GW_JID "' name='#b (3): bee'/>"
	                   "<set xmlns='http://jabber.org/protocol/rsm'>"
	                   "<first index='0'>#a</first><last>#b</last><count>4</count></set>"
	                   "</query></iq>");
	/* the next page, from the cache */
	g_autofree char *next = disco(gw, GW_JID, NS_DISCO_ITEMS,
	                              "<set xmlns='http://jabber.org/protocol/rsm'><max>2</max>"
	                              "<after>#b</after></set>");
	g_assert_nonnull(strstr(next, "<item jid='#c@" GW_JID "' name='#c (1): sea'/>"
	                              "<item jid='#D@" GW_JID "' name='#D'/>"));
	g_assert_nonnull(strstr(next, "<first index='2'>#c</first><last>#D</last>"));
	/* the last page */
	g_autofree char *last = disco(gw, GW_JID, NS_DISCO_ITEMS,
	                              "<set xmlns='http://jabber.org/protocol/rsm'><max>1</max>"
	                              "<before/></set>");
	g_assert_nonnull(strstr(last, "<first index='3'>#D</first>"));
	/* by index */
	g_autofree char *idx = disco(gw, GW_JID, NS_DISCO_ITEMS,
	                             "<set xmlns='http://jabber.org/protocol/rsm'><max>1</max>"
	                             "<index>1</index></set>");
	g_assert_nonnull(strstr(idx, "<first index='1'>#b</first>"));
	/* before an item */
	g_autofree char *before = disco(gw, GW_JID, NS_DISCO_ITEMS,
	                                "<set xmlns='http://jabber.org/protocol/rsm'><max>5</max>"
	                                "<before>#c</before></set>");
	g_assert_nonnull(strstr(before, "<first index='0'>#a</first><last>#b</last>"));
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LIST_ROOMS), ==, 0);
}

static void test_invitations(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	FAKE_EMIT(gw->fake, chat_invited, .account = account, .room = "#x", .inviter = "bob",
	          .message = "", .key = "k");
	gw_expect_next(gw, "<message from='bob@" GW_JID "' to='" ALICE "'>"
	                   "<x xmlns='jabber:x:conference' jid='#x@" GW_JID "' reason='from bob' "
	                   "password='k'/></message>");
	/* a name no room JID can carry: told, not sent as an address */
	FAKE_EMIT(gw->fake, chat_invited, .account = account, .room = "#\001", .inviter = "bob",
	          .message = "", .key = "");
	struct stanza *told = gw_expect(gw, "message", "chat", ALICE);
	g_autofree char *body = stanza_get_child_text(told, "body", NULL);
	g_assert_nonnull(strstr(body, "cannot be reached"));
	stanza_free(told);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "'><x xmlns='" MUC_USER "'>"
	              "<invite to='carol@" GW_JID "'><reason>come</reason></invite></x></message>");
	struct fake_command *c = gw_take_command(gw, WORKER_CHAT_INVITE);
	struct worker_msg_chat_invite m;
	g_assert_true(worker_msg_chat_invite_read(c->payload, c->account, &m));
	g_assert_cmpstr(m.room, ==, "#c");
	g_assert_cmpstr(m.name, ==, "carol");
	g_assert_cmpstr(m.reason, ==, "come");
	worker_msg_chat_invite_clear(&m);
	fake_command_free(c);
}

static void test_private_messages(struct gw *gw, gconstpointer unused)
{
	in_room(gw);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "/bob' type='chat' id='p1'>"
	              "<body>psst</body></message>");
	struct fake_command *c = gw_take_command(gw, WORKER_SEND_IM);
	struct worker_msg_send_im m;
	g_assert_true(worker_msg_send_im_read(c->payload, c->account, &m));
	g_assert_cmpstr(m.name, ==, "bob");
	worker_msg_send_im_clear(&m);
	fake_command_free(c);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "/nobody' type='chat' id='p2'>"
	              "<body>psst</body></message>");
	struct stanza *e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_nonnull(
	    stanza_find_child(stanza_find_child(e, "error", NULL), "item-not-found", NULL));
	stanza_free(e);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "/bob' type='groupchat' id='p3'>"
	              "<body>psst</body></message>");
	e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_nonnull(
	    stanza_find_child(stanza_find_child(e, "error", NULL), "bad-request", NULL));
	stanza_free(e);
}

#define JROOM "room\\40conf.example.net@" GW_JID

static void test_jabber_probe(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	gw_inject(gw, "<iq from='" ALICE_PC "' to='" JROOM "' type='get' id='d1'>"
	              "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
	struct fake_command *c = gw_take_command(gw, WORKER_PROBE_ROOM);
	struct worker_msg_probe_room pr;
	g_assert_true(worker_msg_probe_room_read(c->payload, c->account, &pr));
	g_assert_cmpstr(pr.room, ==, "room@conf.example.net");
	worker_msg_probe_room_clear(&pr);
	fake_command_free(c);
	gw_expect_nothing(gw); /* held for the answer */
	FAKE_EMIT(gw->fake, room_info, .account = account, .room = "room@conf.example.net",
	          .kind = WORKER_ROOM_ROOM, .name = "Room", .password = false);
	struct stanza *r = gw_expect(gw, "iq", "result", ALICE_PC);
	g_autofree char *xml = stanza_to_string(r);
	g_assert_nonnull(strstr(xml, "<identity category='conference' type='text'"));
	g_assert_cmpstr(stanza_get_id(r), ==, "d1");
	stanza_free(r);
	/* known now: answered at once, no second probe */
	g_autofree char *again = disco(gw, JROOM, NS_DISCO_INFO, NULL);
	g_assert_nonnull(strstr(again, "category='conference'"));
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_PROBE_ROOM), ==, 0);
	/* a contact: answered as one */
	gw_inject(gw, "<iq from='" ALICE_PC "' to='bob\\40example.net@" GW_JID "' type='get' "
	              "id='d2'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
	c = gw_take_command(gw, WORKER_PROBE_ROOM);
	fake_command_free(c);
	FAKE_EMIT(gw->fake, room_info, .account = account, .room = "bob@example.net",
	          .kind = WORKER_ROOM_NOT_ROOM, .name = "", .password = false);
	r = gw_expect(gw, "iq", "result", ALICE_PC);
	g_autofree char *contact = stanza_to_string(r);
	g_assert_null(strstr(contact, "conference"));
	stanza_free(r);
	/* a MUC join is a room join whatever the address looks like */
	gw_inject(gw, "<presence from='" ALICE_PC "' to='x\\40conf.example.net@" GW_JID "/al' "
	              "id='j1'>" MUC_X "</presence>");
	c = gw_take_command(gw, WORKER_JOIN_CHAT);
	struct worker_msg_join_chat jc;
	g_assert_true(worker_msg_join_chat_read(c->payload, c->account, &jc));
	g_assert_cmpstr(jc.room, ==, "x@conf.example.net");
	g_assert_cmpstr(jc.nick, ==, "al");
	worker_msg_join_chat_clear(&jc);
	fake_command_free(c);
	/* an occupant's PM comes from its occupant JID */
	FAKE_EMIT(gw->fake, chat_occupant, .account = account, .room = "x@conf.example.net",
	          .nick = "zed", .flags = 0, .real = "", .pm = "x@conf.example.net/zed");
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "x@conf.example.net/zed",
	          .text = "hello", .when = 0);
	struct stanza *pm = gw_expect(gw, "message", "chat", ALICE);
	g_assert_cmpstr(stanza_get_from(pm), ==, "x\\40conf.example.net@" GW_JID "/zed");
	g_assert_nonnull(stanza_find_child(pm, "x", MUC_USER));
	stanza_free(pm);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, NULL, gw_test_setup, fn, gw_test_teardown)
#define ADD_WITH(path, extra, fn)                                                                  \
	g_test_add(path, struct gw, extra, gw_test_setup, fn, gw_test_teardown)
	ADD("/muc/nick-change", test_nick_change);
	ADD("/muc/stray-presence", test_stray_presence);
	ADD("/muc/encrypted", test_encrypted);
	ADD("/muc/self-ping", test_self_ping);
	ADD("/muc/disco", test_disco);
	ADD("/muc/list", test_room_list);
	ADD("/muc/invitations", test_invitations);
	ADD("/muc/private-messages", test_private_messages);
	ADD_WITH("/muc/jabber/probe", "[legacy]\nprotocol = prpl-jabber\n", test_jabber_probe);
	return g_test_run();
}
