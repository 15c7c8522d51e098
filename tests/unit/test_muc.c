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
 * fallback body) and taking a reaction back are answered with their id,
 * nothing is said on the legacy side; OTR text is text, and so is a
 * reaction ("Reacted: +1"). */
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
	/* taking a reaction back cannot cross */
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='r1'>"
	              "<reactions xmlns='urn:xmpp:reactions:0' id='x'/></message>");
	e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "r1");
	stanza_free(e);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_CHAT), ==, 0);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='t1'>"
	              "<body>?OTR:AAMG</body></message>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_CHAT), ==, 1);
	/* a reaction is said as text, marked */
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='r2'>"
	              "<reactions xmlns='urn:xmpp:reactions:0' id='x'><reaction>+1</reaction>"
	              "</reactions></message>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_CHAT), ==, 2);
}

/* A channel's NOTICE (the worker titles it with the room) is a chat from
 * the transport naming the room, never an occupant's message (a line
 * from the bare room JID is not drawn by Gajim 1.7.3). */
static void test_channel_notice(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	FAKE_EMIT(gw->fake, notice, .account = account, .title = "#C", .text = "bob: hi all");
	struct stanza *m = gw_expect(gw, "message", "chat", ALICE);
	g_assert_cmpstr(stanza_get_from(m), ==, GW_JID);
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_cmpstr(body, ==, "#C: bob: hi all");
	stanza_free(m);
	g_assert_null(gw_take_match(gw, "message", "groupchat", NULL));
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
	g_assert_nonnull(
	    stanza_find_child(stanza_find_child(e, "error", NULL), "not-acceptable", NULL));
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
	/* every groupchat message carries a stanza-id by the room: said, so
	 * that Conversations and Dino use it (they read it only then) */
	g_assert_nonnull(strstr(info, "<feature var='urn:xmpp:sid:0'/>"));
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

/* Asks the transport's room list from FROM: the result (caller frees). */
static char *list_from(struct gw *gw, const char *from)
{
	gw_injectf(gw,
	           "<iq from='%s' to='" GW_JID "' type='get' id='l'>"
	           "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
	           from);
	struct stanza *r = gw_take_match(gw, "iq", "*", from);
	char *xml = r != NULL ? stanza_to_string(r) : NULL;
	stanza_free(r);
	return xml;
}

/* A listing of ROOM alone, for ACCOUNT. */
static void emit_list(struct gw *gw, guint32 account, const char *room)
{
	g_autoptr(GHashTable) batch =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_insert(batch, g_strdup(room), g_strdup("2\t"));
	FAKE_EMIT(gw->fake, room_list, .account = account, .rooms = batch, .done = true,
	          .complete = true);
}

/* The room list is each user's own: what the network lists to alice (a
 * secret channel she is in) is never shown to bob nor to a stranger, and
 * it goes with her session. */
static void test_room_list_per_user(struct gw *gw, gconstpointer unused)
{
	guint32 alice = gw_online(gw, "alice");
	g_assert_null(list_from(gw, ALICE_PC)); /* waits for the listing */
	fake_command_free(gw_take_command(gw, WORKER_LIST_ROOMS));
	emit_list(gw, alice, "#secret");
	struct stanza *r = gw_expect(gw, "iq", "result", ALICE_PC);
	g_autofree char *mine = stanza_to_string(r);
	stanza_free(r);
	g_assert_nonnull(strstr(mine, "#secret@"));
	/* bob: his own listing, asked of his account */
	gw_register_user(gw, "bob@example.org", "bob", "pw");
	gw_inject(gw, "<presence from='bob@example.org/pc' to='" GW_JID "'/>");
	struct fake_command *login = gw_take_command(gw, WORKER_LOGIN);
	guint32 bob = login->account;
	fake_command_free(login);
	FAKE_EMIT(gw->fake, connected, .account = bob, .nick = "bob");
	gw_clear(gw);
	g_autofree char *early = list_from(gw, "bob@example.org/pc");
	g_assert_true(early == NULL || strstr(early, "#secret") == NULL);
	struct fake_command *c = gw_take_command(gw, WORKER_LIST_ROOMS);
	g_assert_cmpuint(c->account, ==, bob);
	fake_command_free(c);
	emit_list(gw, bob, "#public");
	if (early == NULL) {
		r = gw_expect(gw, "iq", "result", "bob@example.org/pc");
		stanza_free(r);
	}
	g_autofree char *his = list_from(gw, "bob@example.org/pc");
	g_assert_nonnull(his);
	g_assert_null(strstr(his, "#secret"));
	g_assert_nonnull(strstr(his, "#public@"));
	/* strangers: an empty list, nobody's */
	static const char *const strangers[] = {"carol@example.org/pc", "eve@evil.example/pc"};
	for (size_t i = 0; i < G_N_ELEMENTS(strangers); i++) {
		g_autofree char *xml = list_from(gw, strangers[i]);
		g_assert_nonnull(xml);
		g_assert_nonnull(strstr(xml, "type='result'"));
		g_assert_null(strstr(xml, "<item"));
	}
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LIST_ROOMS), ==, 0);
	/* alice logs out: her list goes; back online, it is asked again */
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	gw_clear(gw);
	fake_legacy_clear(gw->fake);
	gw_online(gw, "alice");
	g_autofree char *after = list_from(gw, ALICE_PC);
	g_assert_true(after == NULL || strstr(after, "#secret") == NULL);
	fake_command_free(gw_take_command(gw, WORKER_LIST_ROOMS));
}

/* A listing never done (its worker lost, or a logout) does not block the
 * list: the next login's request asks again. */
static void test_room_list_stuck(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	g_assert_null(list_from(gw, ALICE_PC));
	fake_command_free(gw_take_command(gw, WORKER_LIST_ROOMS));
	/* the waiting request is answered when the account goes */
	fake_legacy_lose(gw->fake, account);
	struct stanza *r = gw_take_match(gw, "iq", "result", ALICE_PC);
	g_assert_nonnull(r);
	stanza_free(r);
	guint32 again = gw_relogin(gw, "alice");
	gw_clear(gw);
	fake_legacy_clear(gw->fake);
	g_assert_null(list_from(gw, ALICE_PC));
	struct fake_command *c = gw_take_command(gw, WORKER_LIST_ROOMS);
	g_assert_cmpuint(c->account, ==, again);
	fake_command_free(c);
	emit_list(gw, again, "#a");
	r = gw_expect(gw, "iq", "result", ALICE_PC);
	g_autofree char *xml = stanza_to_string(r);
	g_assert_nonnull(strstr(xml, "#a@"));
	stanza_free(r);
}

/* Brings BARE (registered now) online as NICK: its account. */
static guint32 other_online(struct gw *gw, const char *bare, const char *nick)
{
	gw_register_user(gw, bare, nick, "pw");
	gw_injectf(gw, "<presence from='%s/pc' to='" GW_JID "'/>", bare);
	struct fake_command *login = gw_take_command(gw, WORKER_LOGIN);
	guint32 account = login->account;
	fake_command_free(login);
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = nick);
	gw_clear(gw);
	return account;
}

/* FULL's room list: one listing of N names "rI-TAG@conf.example.net". */
static void big_list(struct gw *gw, const char *full, guint32 account, const char *tag, guint n)
{
	g_assert_null(list_from(gw, full));
	fake_command_free(gw_take_command(gw, WORKER_LIST_ROOMS));
	g_autoptr(GHashTable) batch =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; i < n; i++)
		g_hash_table_insert(batch, g_strdup_printf("r%u-%s@conf.example.net", i, tag),
		                    g_strdup(""));
	FAKE_EMIT(gw->fake, room_list, .account = account, .rooms = batch, .done = true,
	          .complete = true);
	gw_clear(gw);
}

#define XROOM "x\\40conf.example.net@" GW_JID

/* Which names are rooms (prpl-jabber): the rooms the user is in stay
 * rooms however many names others' lists bring (the bound is each user's),
 * and a legacy invitation (anyone may send one) makes no contact a room. */
static void test_seen_rooms(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	gw_inject(gw,
	          "<presence from='" ALICE_PC "' to='" XROOM "/al' id='j1'>" MUC_X "</presence>");
	fake_command_free(gw_take_command(gw, WORKER_JOIN_CHAT));
	FAKE_EMIT(gw->fake, chat_joined, .account = account, .room = "x@conf.example.net",
	          .asked = "x@conf.example.net", .nick = "al", .topic = "", .topic_by = "");
	gw_clear(gw);
	/* a stranger's invitation to a contact's name */
	FAKE_EMIT(gw->fake, chat_invited, .account = account, .room = "bob@example.net",
	          .inviter = "eve@evil.example", .message = "", .key = "");
	gw_clear(gw);
	gw_inject(gw, "<message from='" ALICE_PC "' to='bob\\40example.net@" GW_JID "' "
	              "type='chat' id='c1'><body>hi</body></message>");
	g_assert_null(gw_take_match(gw, "message", "error", ALICE_PC));
	fake_command_free(gw_take_command(gw, WORKER_SEND_IM));
	/* 4 × 20000 names seen by four users */
	big_list(gw, ALICE_PC, account, "a", WORKER_ROOM_LIST_MAX);
	static const char *const others[] = {"bob", "carol", "dave"};
	for (size_t i = 0; i < G_N_ELEMENTS(others); i++) {
		g_autofree char *bare = g_strdup_printf("%s@example.org", others[i]);
		g_autofree char *full = g_strdup_printf("%s/pc", bare);
		guint32 other = other_online(gw, bare, others[i]);
		big_list(gw, full, other, others[i], WORKER_ROOM_LIST_MAX);
	}
	gw_inject(gw, "<message from='" ALICE_PC "' to='" XROOM "' type='groupchat' id='g1'>"
	              "<body>still here</body></message>");
	g_assert_null(gw_take_match(gw, "message", "error", ALICE_PC));
	fake_command_free(gw_take_command(gw, WORKER_SEND_CHAT));
}

/* A nick change or subject change the network never answers is answered
 * after room_join_ms (remote-server-timeout, with its id); one answered
 * in time is not. */
static void test_change_timeout(struct gw *gw, gconstpointer unused)
{
	gw->settings->room_join_ms = 100;
	guint32 account = in_room(gw);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" ROOM "/al2' id='n1'/>");
	fake_command_free(gw_take_command(gw, WORKER_SET_CHAT_NICK));
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='s1'>"
	              "<subject>new</subject></message>");
	fake_command_free(gw_take_command(gw, WORKER_SET_CHAT_TOPIC));
	gw_expect_nothing(gw);
	gw_run_for(300);
	struct stanza *p = gw_expect(gw, "presence", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(p), ==, "n1");
	g_assert_cmpstr(error_condition(p), ==, "remote-server-timeout");
	stanza_free(p);
	struct stanza *e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "s1");
	g_assert_cmpstr(error_condition(e), ==, "remote-server-timeout");
	stanza_free(e);
	gw_expect_nothing(gw);
	/* answered: no timeout later */
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='s2'>"
	              "<subject>newer</subject></message>");
	fake_command_free(gw_take_command(gw, WORKER_SET_CHAT_TOPIC));
	FAKE_EMIT(gw->fake, chat_topic, .account = account, .room = "#c", .topic = "newer",
	          .who = "alice");
	gw_clear(gw);
	gw_run_for(300);
	gw_expect_nothing(gw);
}

/* Private messages found by the occupant's pm name (an index, not a scan
 * of every occupant): the right room, the nick after a rename, nothing
 * once the occupant left. */
static void test_pm_index(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	gw_inject(gw,
	          "<presence from='" ALICE_PC "' to='" XROOM "/al' id='j1'>" MUC_X "</presence>");
	fake_command_free(gw_take_command(gw, WORKER_JOIN_CHAT));
	FAKE_EMIT(gw->fake, chat_occupant, .account = account, .room = "x@conf.example.net",
	          .nick = "zed", .flags = 0, .real = "", .pm = "x@conf.example.net/zed");
	FAKE_EMIT(gw->fake, chat_joined, .account = account, .room = "x@conf.example.net",
	          .asked = "x@conf.example.net", .nick = "al", .topic = "", .topic_by = "");
	FAKE_EMIT(gw->fake, chat_renamed, .account = account, .room = "x@conf.example.net",
	          .old = "zed", .nick = "zoe");
	gw_clear(gw);
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "x@conf.example.net/zed",
	          .text = "hello", .when = 0);
	struct stanza *pm = gw_expect(gw, "message", "chat", ALICE);
	g_assert_cmpstr(stanza_get_from(pm), ==, XROOM "/zoe");
	stanza_free(pm);
	FAKE_EMIT(gw->fake, chat_occupant_left, .account = account, .room = "x@conf.example.net",
	          .nick = "zoe", .how = WORKER_CHAT_LEFT_PART, .actor = "", .reason = "");
	gw_clear(gw);
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "x@conf.example.net/zed",
	          .text = "again", .when = 0);
	pm = gw_take_match(gw, "message", "chat", ALICE);
	g_assert_nonnull(pm);
	g_assert_null(stanza_find_child(pm, "x", MUC_USER)); /* from the contact now */
	stanza_free(pm);
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
	guint32 account = in_room(gw);
	/* before any PM through the room, bob's IMs come from his contact JID */
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "bob", .text = "hello",
	          .when = 0);
	struct stanza *in = gw_expect(gw, "message", "chat", ALICE);
	g_assert_true(g_str_has_prefix(stanza_get_from(in), "bob@" GW_JID));
	stanza_free(in);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "/bob' type='chat' id='p1'>"
	              "<body>psst</body></message>");
	struct fake_command *c = gw_take_command(gw, WORKER_SEND_IM);
	struct worker_msg_send_im m;
	g_assert_true(worker_msg_send_im_read(c->payload, c->account, &m));
	g_assert_cmpstr(m.name, ==, "bob");
	worker_msg_send_im_clear(&m);
	fake_command_free(c);
	/* bob's reply has no channel on IRC: it comes back where the user
	 * wrote, the occupant JID, not a second conversation (seen in Gajim) */
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "Bob", .text = "yes?",
	          .when = 0);
	in = gw_expect(gw, "message", "chat", ALICE);
	g_assert_cmpstr(stanza_get_from(in), ==, ROOM "/bob");
	g_assert_nonnull(stanza_find_child(in, "x", MUC_USER));
	stanza_free(in);
	/* the user writes to bob@ itself: his replies go there again */
	gw_inject(gw, "<message from='" ALICE_PC "' to='bob@" GW_JID "' type='chat' id='p9'>"
	              "<body>direct</body></message>");
	fake_command_free(gw_take_command(gw, WORKER_SEND_IM));
	FAKE_EMIT(gw->fake, im_received, .account = account, .name = "bob", .text = "ok",
	          .when = 0);
	in = gw_expect(gw, "message", "chat", ALICE);
	g_assert_true(g_str_has_prefix(stanza_get_from(in), "bob@" GW_JID));
	stanza_free(in);
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

/* IRC command injection: a key, a room name, an invitation's reason or a
 * subject that would end the IRC command and start another is refused (or
 * made one line) before anything goes down. */
static void test_injection(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	join(gw, ALICE_PC, "alice", "j1", "<password>k&#13;&#10;JOIN #evil</password>");
	struct stanza *e = gw_expect(gw, "presence", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "j1");
	g_assert_cmpstr(error_condition(e), ==, "not-acceptable");
	stanza_free(e);
	static const char *const names[] = {"#c\\20d", "#c,#d", "#c&#10;QUIT"};
	guint refused = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		gw_injectf(gw,
		           "<presence from='" ALICE_PC "' to='%s@" GW_JID "/alice' id='n%zu'>" MUC_X
		           "</presence>",
		           names[i], i);
		e = gw_take_match(gw, "presence", "error", ALICE_PC);
		if (e == NULL)
			continue; /* the JID itself was refused: nothing went down either */
		g_autofree char *xml = stanza_to_string(e);
		g_assert_nonnull(strstr(xml, "<jid-malformed"));
		g_assert_nonnull(strstr(xml, "is not a channel name"));
		stanza_free(e);
		refused++;
	}
	g_assert_cmpuint(refused, >=, 2);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_JOIN_CHAT), ==, 0);
	gw_clear(gw);
	/* in the room: a subject's line breaks are spaces, DEL is refused */
	join(gw, ALICE_PC, "alice", "j2", NULL);
	expect_join_chat(gw, "#c", "", "alice");
	answer_join(gw, account, "alice", "");
	gw_clear(gw);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='s1'>"
	              "<subject>a&#13;&#10;TOPIC #c :b&#9;c</subject></message>");
	struct fake_command *c = gw_take_command(gw, WORKER_SET_CHAT_TOPIC);
	struct worker_msg_set_chat_topic t;
	g_assert_true(worker_msg_set_chat_topic_read(c->payload, c->account, &t));
	g_assert_cmpstr(t.topic, ==, "a  TOPIC #c :b c");
	worker_msg_set_chat_topic_clear(&t);
	fake_command_free(c);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='s2'>"
	              "<subject>a&#127;b</subject></message>");
	e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "s2");
	g_assert_cmpstr(error_condition(e), ==, "not-acceptable");
	stanza_free(e);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SET_CHAT_TOPIC), ==, 0);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' id='i1'><x xmlns='" MUC_USER "'>"
	              "<invite to='carol@" GW_JID "'><reason>come&#10;QUIT</reason></invite></x>"
	              "</message>");
	e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "i1");
	g_assert_cmpstr(error_condition(e), ==, "bad-request");
	stanza_free(e);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_CHAT_INVITE), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, NULL, gw_test_setup, fn, gw_test_teardown)
#define ADD_WITH(path, extra, fn)                                                                  \
	g_test_add(path, struct gw, extra, gw_test_setup, fn, gw_test_teardown)
	ADD("/muc/nick-change", test_nick_change);
	ADD("/muc/injection", test_injection);
	ADD("/muc/change-timeout", test_change_timeout);
	ADD("/muc/stray-presence", test_stray_presence);
	ADD("/muc/encrypted", test_encrypted);
	ADD("/muc/channel-notice", test_channel_notice);
	ADD("/muc/self-ping", test_self_ping);
	ADD("/muc/disco", test_disco);
	ADD("/muc/list", test_room_list);
	ADD("/muc/list/per-user", test_room_list_per_user);
	ADD("/muc/list/stuck", test_room_list_stuck);
	ADD("/muc/invitations", test_invitations);
	ADD("/muc/private-messages", test_private_messages);
	ADD_WITH("/muc/jabber/probe", "[legacy]\nprotocol = prpl-jabber\n", test_jabber_probe);
	ADD_WITH("/muc/jabber/pm-index", "[legacy]\nprotocol = prpl-jabber\n", test_pm_index);
	ADD_WITH("/muc/jabber/seen-rooms", "[legacy]\nprotocol = prpl-jabber\n", test_seen_rooms);
	return g_test_run();
}
