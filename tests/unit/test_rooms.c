/* Unit tests for group chats (src/gateway/rooms.c, muc.c, muc_out.c)
 * through the fake legacy side: the join answer and its order, join
 * errors and refusals, several resources on one legacy join, resyncs,
 * leaving, messages and their reflection, occupants' changes, kicks,
 * rejoins after a loss, 332 at shutdown and 333 when the legacy side is
 * gone. Disco, self-ping, the room list and the rest: test_muc.c. */
#include "config.h"

#include "room_helpers.h"

static void test_join_order(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice1");
	join(gw, ALICE_PC, "alice", "j1", NULL);
	expect_join_chat(gw, "#c", "", "alice");
	gw_expect_nothing(gw); /* nothing before the occupant list is complete */
	answer_join(gw, account, "alice1", "");
	gw_expect_next(gw, BOB_TO(ALICE_PC));
	/* ourselves last, echoing the join id, 210: the nick is not the one asked */
	gw_expect_next(gw, "<presence from='" ROOM "/alice1' to='" ALICE_PC "' id='j1'>"
	                   "<x xmlns='" MUC_USER "'><item affiliation='none' role='participant'/>"
	                   "<status code='110'/><status code='210'/></x></presence>");
	gw_expect_next(gw, NO_SUBJECT_TO(ALICE_PC));
	gw_expect_nothing(gw);
}

static void test_join_key_and_topic(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	join(gw, ALICE_PC, "alice", "j1", "<password>s3cret</password>");
	expect_join_chat(gw, "#c", "s3cret", "alice");
	answer_join(gw, account, "alice", "the topic");
	gw_expect_next(gw, BOB_TO(ALICE_PC));
	gw_expect_next(gw, "<presence from='" ROOM "/alice' to='" ALICE_PC "' id='j1'>"
	                   "<x xmlns='" MUC_USER "'><item affiliation='none' role='participant'/>"
	                   "<status code='110'/></x></presence>");
	gw_expect_next(gw, SUBJECT_TO(ALICE_PC, "the topic"));
	/* the key is known: the room says so */
	gw_inject(gw, "<iq from='" ALICE_PC "' to='" ROOM "' type='get' id='d1'>"
	              "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
	struct stanza *r = gw_expect(gw, "iq", "result", ALICE_PC);
	g_autofree char *xml = stanza_to_string(r);
	g_assert_nonnull(strstr(xml, "<feature var='muc_passwordprotected'/>"));
	g_assert_nonnull(strstr(xml, "<value>the topic</value>"));
	stanza_free(r);
}

/* The join's subject comes from who set the topic (IRC 333's
 * nick!user@host: the nick), so clients show "changed by bob", not
 * "unknown"; an empty topic is nobody's. */
static void test_join_topic_setter(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	join(gw, ALICE_PC, "alice", "j1", NULL);
	expect_join_chat(gw, "#c", "", "alice");
	FAKE_EMIT(gw->fake, chat_occupant, .account = account, .room = "#c", .nick = "alice",
	          .flags = 0, .real = "", .pm = "alice");
	FAKE_EMIT(gw->fake, chat_joined, .account = account, .room = "#c", .asked = "#c",
	          .nick = "alice", .topic = "welcome", .topic_by = "bob!~bob@example.net");
	stanza_free(gw_expect(gw, "presence", NULL, ALICE_PC));
	gw_expect_next(gw, "<message from='" ROOM "/bob' to='" ALICE_PC "' type='groupchat'>"
	                   "<subject>welcome</subject></message>");
	/* a resync after the topic was cleared: from the room */
	FAKE_EMIT(gw->fake, chat_topic, .account = account, .room = "#c", .who = "carol",
	          .topic = "");
	stanza_free(gw_expect(gw, "message", "groupchat", ALICE_PC));
	join(gw, ALICE_PC, "alice", "j2", NULL);
	stanza_free(gw_expect(gw, "presence", NULL, ALICE_PC));
	gw_expect_next(gw, NO_SUBJECT_TO(ALICE_PC));
}

static void test_join_errors(struct gw *gw, gconstpointer unused)
{
	static const struct {
		guint32 reason;
		const char *error;
	} cases[] = {
	    {WORKER_CHAT_FAIL_KEY, "<error type='auth'><not-authorized"},
	    {WORKER_CHAT_FAIL_BANNED, "<error type='auth'><forbidden"},
	    {WORKER_CHAT_FAIL_INVITE_ONLY, "<error type='auth'><registration-required"},
	    {WORKER_CHAT_FAIL_FULL, "<error type='wait'><service-unavailable"},
	    {WORKER_CHAT_FAIL_NICK_IN_USE, "<error type='cancel'><conflict"},
	    {WORKER_CHAT_FAIL_NO_ROOM, "<error type='cancel'><item-not-found"},
	    {WORKER_CHAT_FAIL_NETWORK, "<error type='wait'><remote-server-timeout"},
	};
	guint32 account = gw_online(gw, "alice");
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *id = g_strdup_printf("j%zu", i);
		join(gw, ALICE_PC, "alice", id, NULL);
		expect_join_chat(gw, "#c", "", "alice");
		FAKE_EMIT(gw->fake, chat_join_failed, .account = account, .room = "#c",
		          .reason = cases[i].reason, .text = "Cannot join channel");
		struct stanza *e = gw_expect(gw, "presence", "error", ALICE_PC);
		g_autofree char *xml = stanza_to_string(e);
		g_assert_cmpstr(stanza_get_id(e), ==, id);
		g_assert_cmpstr(stanza_get_from(e), ==, ROOM "/alice");
		g_assert_nonnull(stanza_find_child(e, "x", NS_MUC));
		if (strstr(xml, cases[i].error) == NULL)
			g_error("%s lacks %s", xml, cases[i].error);
		g_assert_nonnull(strstr(xml, "Cannot join channel"));
		stanza_free(e);
		gw_expect_nothing(gw);
	}
}

static void test_join_refusals(struct gw *gw, gconstpointer unused)
{
	/* not registered */
	gw_inject(gw, "<presence from='carol@example.org/x' to='" ROOM "/carol' id='u1'>" MUC_X
	              "</presence>");
	struct stanza *e = gw_expect(gw, "presence", "error", "carol@example.org/x");
	g_assert_nonnull(
	    stanza_find_child(stanza_find_child(e, "error", NULL), "registration-required", NULL));
	stanza_free(e);
	/* not online: at once, remote-server-timeout */
	gw_inject(gw,
	          "<presence from='" ALICE_PC "' to='" ROOM "/alice' id='o1'>" MUC_X "</presence>");
	e = gw_expect(gw, "presence", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "o1");
	g_assert_nonnull(
	    stanza_find_child(stanza_find_child(e, "error", NULL), "remote-server-timeout", NULL));
	g_assert_nonnull(stanza_find_child(e, "x", NS_MUC));
	stanza_free(e);
	/* a contact's JID */
	gw_online(gw, "alice");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='bob@" GW_JID "/alice' id='k1'>" MUC_X
	              "</presence>");
	e = gw_expect(gw, "presence", "error", ALICE_PC);
	g_autofree char *xml = stanza_to_string(e);
	g_assert_nonnull(strstr(xml, "<not-acceptable"));
	g_assert_nonnull(strstr(xml, "bob is a contact, not a room"));
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_JOIN_CHAT), ==, 0);
	stanza_free(e);
}

static void test_join_max_rooms(struct gw *gw, gconstpointer unused)
{
	gw_online(gw, "alice");
	join(gw, ALICE_PC, "alice", "j1", NULL);
	expect_join_chat(gw, "#c", "", "alice");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='#d@" GW_JID "/alice' id='j2'>" MUC_X
	              "</presence>");
	struct stanza *e = gw_expect(gw, "presence", "error", ALICE_PC);
	g_autofree char *xml = stanza_to_string(e);
	g_assert_nonnull(strstr(xml, "<error type='wait'><resource-constraint"));
	g_assert_cmpstr(stanza_get_id(e), ==, "j2");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_JOIN_CHAT), ==, 0);
	stanza_free(e);
}

static void test_join_while_connecting(struct gw *gw, gconstpointer unused)
{
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "'/>");
	struct fake_command *login = gw_take_command(gw, WORKER_LOGIN);
	guint32 account = login->account;
	fake_command_free(login);
	join(gw, ALICE_PC, "alice", "j1", NULL);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_JOIN_CHAT), ==, 0);
	FAKE_EMIT(gw->fake, connected, .account = account, .nick = "alice");
	expect_join_chat(gw, "#c", "", "alice");
	gw_clear(gw);
	answer_join(gw, account, "alice", "");
	struct stanza *self = gw_take_match(gw, "presence", NULL, ALICE_PC);
	g_assert_nonnull(self);
	stanza_free(self);
	self = gw_take_match(gw, "presence", NULL, ALICE_PC);
	g_assert_cmpstr(stanza_get_id(self), ==, "j1");
	stanza_free(self);
}

/* §6: a second resource gets the whole state alone, no second legacy join;
 * a resync is the same; the PART comes with the last one to leave. */
static void test_multi_resource(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	join(gw, ALICE_PHONE, "alice", "p1", NULL);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_JOIN_CHAT), ==, 0);
	gw_expect_next(gw, BOB_TO(ALICE_PHONE));
	struct stanza *self = gw_expect(gw, "presence", NULL, ALICE_PHONE);
	g_assert_cmpstr(stanza_get_id(self), ==, "p1");
	stanza_free(self);
	gw_expect_next(gw, NO_SUBJECT_TO(ALICE_PHONE));
	gw_expect_nothing(gw); /* ALICE_PC sees no new occupant */
	/* a resync from ALICE_PC */
	join(gw, ALICE_PC, "alice", "r1", NULL);
	gw_expect_next(gw, BOB_TO(ALICE_PC));
	self = gw_expect(gw, "presence", NULL, ALICE_PC);
	g_assert_cmpstr(stanza_get_id(self), ==, "r1");
	stanza_free(self);
	gw_expect_next(gw, NO_SUBJECT_TO(ALICE_PC));
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_JOIN_CHAT), ==, 0);
	/* a message reaches both */
	FAKE_EMIT(gw->fake, chat_message, .account = account, .room = "#c", .nick = "bob",
	          .text = "hi &amp; <b>bye</b>", .when = 0, .seq = 0, .flags = 0);
	struct stanza *m = gw_expect(gw, "message", "groupchat", ALICE_PC);
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_cmpstr(body, ==, "hi & *bye*"); /* XEP-0393 styling */
	g_assert_cmpstr(stanza_get_from(m), ==, ROOM "/bob");
	stanza_free(m);
	m = gw_expect(gw, "message", "groupchat", ALICE_PHONE);
	stanza_free(m);
	gw_expect_nothing(gw);
	/* the phone leaves: its own unavailable, no PART */
	gw_inject(gw, "<presence from='" ALICE_PHONE "' to='" ROOM "/alice' type='unavailable'/>");
	gw_expect_next(gw,
	               "<presence from='" ROOM "/alice' to='" ALICE_PHONE "' type='unavailable'>"
	               "<x xmlns='" MUC_USER "'><item affiliation='none' role='none'/>"
	               "<status code='110'/></x></presence>");
	gw_expect_nothing(gw);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LEAVE_CHAT), ==, 0);
	/* the last one goes offline (unavailable to the transport): PART */
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	struct fake_command *c = gw_take_command(gw, WORKER_LEAVE_CHAT);
	fake_command_free(c);
}

static void test_leave_last(struct gw *gw, gconstpointer unused)
{
	in_room(gw);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" ROOM "/alice' type='unavailable'/>");
	struct stanza *p = gw_expect(gw, "presence", "unavailable", ALICE_PC);
	stanza_free(p);
	struct fake_command *c = gw_take_command(gw, WORKER_LEAVE_CHAT);
	struct worker_msg_leave_chat m;
	g_assert_true(worker_msg_leave_chat_read(c->payload, c->account, &m));
	g_assert_cmpstr(m.room, ==, "#c");
	worker_msg_leave_chat_clear(&m);
	fake_command_free(c);
	/* not joined any more: a message is refused */
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='m1'>"
	              "<body>x</body></message>");
	struct stanza *e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_nonnull(
	    stanza_find_child(stanza_find_child(e, "error", NULL), "not-acceptable", NULL));
	stanza_free(e);
}

/* Left then joined again at once: the PART answering our LEAVE_CHAT
 * comes after the new join and is not taken for the room's end. */
static void test_leave_rejoin(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" ROOM "/alice' type='unavailable'/>");
	fake_command_free(gw_take_command(gw, WORKER_LEAVE_CHAT));
	join(gw, ALICE_PC, "alice", "j2", NULL);
	expect_join_chat(gw, "#c", "", "alice");
	gw_clear(gw);
	FAKE_EMIT(gw->fake, chat_left, .account = account, .room = "#c",
	          .how = WORKER_CHAT_LEFT_PART, .actor = "", .reason = "");
	gw_expect_nothing(gw);
	answer_join(gw, account, "alice", "");
	struct stanza *p = gw_take_match(gw, "presence", NULL, ALICE_PC);
	g_assert_nonnull(p);
	g_assert_cmpstr(stanza_get_from(p), ==, ROOM "/bob");
	stanza_free(p);
	gw_clear(gw);
	/* only that one PART: the next ends the room */
	FAKE_EMIT(gw->fake, chat_left, .account = account, .room = "#c",
	          .how = WORKER_CHAT_LEFT_PART, .actor = "", .reason = "");
	p = gw_expect(gw, "presence", "unavailable", ALICE_PC);
	stanza_free(p);
}

/* The room a SEND_CHAT went to. Caller frees. */
static char *send_chat_room(struct gw *gw)
{
	struct fake_command *c = gw_take_command(gw, WORKER_SEND_CHAT);
	struct worker_msg_send_chat m;
	g_assert_true(worker_msg_send_chat_read(c->payload, c->account, &m));
	char *room = g_strdup(m.room);
	worker_msg_send_chat_clear(&m);
	fake_command_free(c);
	return room;
}

/* A join the network answered under another name (IRC forward, +f):
 * the room stays the JID the user joined; joined into a room the user
 * is in already, the second join is refused and the first room stays. */
static void test_join_forwarded(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='#foo@" GW_JID "/alice' id='f1'>" MUC_X
	              "</presence>");
	expect_join_chat(gw, "#foo", "", "alice");
	FAKE_EMIT(gw->fake, chat_joined, .account = account, .room = "##foo-overflow",
	          .asked = "#foo", .nick = "alice", .topic = "", .topic_by = "");
	struct stanza *p = gw_take_match(gw, "presence", NULL, ALICE_PC);
	g_assert_nonnull(p);
	g_assert_cmpstr(stanza_get_from(p), ==, "#foo@" GW_JID "/alice");
	stanza_free(p);
	gw_clear(gw);
	gw_inject(gw, "<message from='" ALICE_PC "' to='#foo@" GW_JID "' type='groupchat' "
	              "id='m1'><body>hi</body></message>");
	g_assert_null(gw_take_match(gw, "message", "error", ALICE_PC));
	g_autofree char *room = send_chat_room(gw);
	g_assert_cmpstr(room, ==, "##foo-overflow");
	/* #d forwarded into #c, where alice is */
	gw_inject(gw, "<presence from='" ALICE_PC "' to='#d@" GW_JID "/alice' id='d1'>" MUC_X
	              "</presence>");
	expect_join_chat(gw, "#d", "", "alice");
	FAKE_EMIT(gw->fake, chat_joined, .account = account, .room = "#c", .asked = "#d",
	          .nick = "alice", .topic = "", .topic_by = "");
	struct stanza *e = gw_expect(gw, "presence", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "d1");
	g_autofree char *xml = stanza_to_string(e);
	g_assert_nonnull(strstr(xml, "<conflict"));
	stanza_free(e);
	gw_expect_nothing(gw);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LEAVE_CHAT), ==, 0);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='m2'>"
	              "<body>still</body></message>");
	g_assert_null(gw_take_match(gw, "message", "error", ALICE_PC));
	expect_send_chat(gw, "still");
}

/* §6: a bounced delivery from a joined resource: it is gone. */
static void test_bounce_leaves(struct gw *gw, gconstpointer unused)
{
	in_room(gw);
	/* another condition is no sign of it gone */
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "/bob' type='error'>"
	              "<error type='modify'><bad-request "
	              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LEAVE_CHAT), ==, 0);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "/bob' type='error'>"
	              "<error type='cancel'><recipient-unavailable "
	              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
	struct fake_command *c = gw_take_command(gw, WORKER_LEAVE_CHAT);
	fake_command_free(c);
	gw_expect_nothing(gw); /* never an answer to an error */
}

static void test_message_reflection(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	join(gw, ALICE_PHONE, "alice", "p1", NULL);
	gw_clear(gw);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='m1'>"
	              "<body>a &lt; b &amp; é</body>"
	              "<origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>");
	guint32 seq = expect_send_chat(gw, "a &lt; b &amp; é");
	gw_expect_nothing(gw); /* reflected on the echo only */
	/* an IM's sequence numbers and a room's are one counter */
	gw_inject(gw, "<message from='" ALICE_PC "' to='bob@" GW_JID "' type='chat' id='i1'>"
	              "<body>pm</body></message>");
	struct fake_command *im = gw_take_command(gw, WORKER_SEND_IM);
	struct worker_msg_send_im sm;
	g_assert_true(worker_msg_send_im_read(im->payload, im->account, &sm));
	g_assert_cmpuint(sm.seq, ==, seq + 1);
	worker_msg_send_im_clear(&sm);
	fake_command_free(im);
	FAKE_EMIT(gw->fake, chat_message, .account = account, .room = "#c", .nick = "alice",
	          .text = "a &lt; b &amp; é", .when = 0, .seq = seq, .flags = 0);
	const char *to[] = {ALICE_PC, ALICE_PHONE};
	for (size_t i = 0; i < G_N_ELEMENTS(to); i++) {
		struct stanza *m = gw_expect(gw, "message", "groupchat", to[i]);
		g_assert_cmpstr(stanza_get_id(m), ==, "m1");
		g_assert_cmpstr(stanza_get_from(m), ==, ROOM "/alice");
		g_autofree char *body = stanza_get_child_text(m, "body", NULL);
		g_assert_cmpstr(body, ==, "a < b & é");
		const struct stanza *o = stanza_find_child(m, "origin-id", "urn:xmpp:sid:0");
		g_assert_cmpstr(stanza_get_attr(o, "id"), ==, "o1");
		const struct stanza *sid = stanza_find_child(m, "stanza-id", "urn:xmpp:sid:0");
		g_assert_cmpstr(stanza_get_attr(sid, "by"), ==, ROOM);
		stanza_free(m);
	}
	gw_expect_nothing(gw);
	/* reflected once: an IMS_SENT covering it adds nothing */
	FAKE_EMIT(gw->fake, ims_sent, .account = account, .through = seq + 1);
	gw_expect_nothing(gw);
	/* a failure comes back to the sender with its id */
	gw_inject(gw, "<message from='" ALICE_PHONE "' to='" ROOM "' type='groupchat' id='m2'>"
	              "<body>no</body></message>");
	guint32 seq2 = expect_send_chat(gw, "no");
	FAKE_EMIT(gw->fake, im_result, .account = account, .seq = seq2, .sent = false,
	          .reason = WORKER_IM_FAILED, .error = "Cannot send to channel", .lines_sent = 0,
	          .lines = 1, .done = 0);
	struct stanza *e = gw_expect(gw, "message", "error", ALICE_PHONE);
	g_assert_cmpstr(stanza_get_id(e), ==, "m2");
	g_autofree char *xml = stanza_to_string(e);
	g_assert_nonnull(strstr(xml, "Cannot send to channel"));
	stanza_free(e);
	gw_expect_nothing(gw);
}

static void say(struct gw *gw, const char *id, const char *text)
{
	gw_injectf(gw,
	           "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='%s'>"
	           "<body>%s</body></message>",
	           id, text);
}

/* A message not taken when the worker is lost comes back (its id) and is
 * never reflected, not even when the next login's IMS_SENT covers its
 * seq. */
static void test_message_lost_worker(struct gw *gw, gconstpointer unused)
{
	gw->settings->room_echo_wait_ms = 100;
	guint32 account = in_room(gw);
	say(gw, "m1", "x");
	guint32 seq = expect_send_chat(gw, "x");
	fake_legacy_lose(gw->fake, account);
	struct stanza *e = gw_take_match(gw, "message", "error", ALICE_PC);
	g_assert_nonnull(e);
	g_assert_cmpstr(stanza_get_id(e), ==, "m1");
	g_autofree char *xml = stanza_to_string(e);
	g_assert_nonnull(strstr(xml, "<remote-server-timeout"));
	stanza_free(e);
	guint32 again = gw_relogin(gw, "alice");
	expect_join_chat(gw, "#c", "", "alice");
	answer_join(gw, again, "alice", "");
	gw_clear(gw);
	FAKE_EMIT(gw->fake, ims_sent, .account = again, .through = seq + 10);
	gw_run_for(300);
	g_assert_null(gw_take_match(gw, "message", "groupchat", ALICE_PC));
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_CHAT), ==, 0);
}

/* Going offline with a room message not yet taken: the logout waits for
 * it (a drain); cut short, it comes back from the transport (the
 * resource is gone) instead of vanishing. */
static void test_message_logout(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	say(gw, "m1", "first");
	guint32 seq = expect_send_chat(gw, "first");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	gw_run_for(20);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGOUT), ==, 0);
	FAKE_EMIT(gw->fake, ims_sent, .account = account, .through = seq);
	gw_run_for(20);
	fake_command_free(gw_take_command(gw, WORKER_LOGOUT));
	gw_clear(gw);
	/* ended otherwise (unregistration) before the network took it */
	account = gw_online(gw, "alice");
	join(gw, ALICE_PC, "alice", "j2", NULL);
	expect_join_chat(gw, "#c", "", "alice");
	answer_join(gw, account, "alice", "");
	say(gw, "m2", "second");
	expect_send_chat(gw, "second");
	gw_clear(gw);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unsubscribe'/>");
	/* the sender's resource is still there: an error to it with the
	 * message's id (never a reflection) */
	struct stanza *m = gw_take_match(gw, "message", "error", ALICE_PC);
	g_assert_nonnull(m);
	g_assert_cmpstr(stanza_get_id(m), ==, "m2");
	g_assert_nonnull(
	    stanza_find_child(stanza_find_child(m, "error", NULL), "remote-server-timeout", NULL));
	stanza_free(m);
	g_assert_null(gw_take_match(gw, "message", "groupchat", NULL));
}

/* An unavailable directed to one contact (a client's "appear offline to
 * bob") leaves no room; one to the transport (broadcast) does. */
static void test_leave_directed(struct gw *gw, gconstpointer unused)
{
	in_room(gw);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='bob@" GW_JID "' type='unavailable'/>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LEAVE_CHAT), ==, 0);
	g_assert_null(gw_take_match(gw, "presence", "unavailable", ALICE_PC));
	say(gw, "m1", "still in");
	expect_send_chat(gw, "still in");
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	fake_command_free(gw_take_command(gw, WORKER_LEAVE_CHAT));
}

/* A LEAVE_CHAT that loses the worker inside the send (the session was
 * draining: the drain is cut, the session logs out and ends its rooms)
 * must not touch the room it left afterwards (ASan). */
static void test_leave_reentrant(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	join(gw, ALICE_PHONE, "alice", "p1", NULL);
	gw_inject(gw, "<message from='" ALICE_PC "' to='bob@" GW_JID "' type='chat' id='i1'>"
	              "<body>pending</body></message>");
	fake_command_free(gw_take_command(gw, WORKER_SEND_IM));
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unavailable'/>");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_LOGOUT), ==, 0); /* draining */
	gw_clear(gw);
	fake_legacy_lose_on_send(gw->fake, account);
	gw_inject(gw, "<presence from='" ALICE_PHONE "' to='" ROOM "/alice' type='unavailable'/>");
	gw_clear(gw);
	gw_inject(gw, "<message from='" ALICE_PHONE "' to='" ROOM "' type='groupchat' id='m1'>"
	              "<body>x</body></message>");
	struct stanza *e = gw_expect(gw, "message", "error", ALICE_PHONE);
	stanza_free(e);
}

/* A room message over the worker's frame limit is refused before it goes
 * (policy-violation); past 500 messages in flight, resource-constraint. */
static void test_message_bounds(struct gw *gw, gconstpointer unused)
{
	in_room(gw);
	g_autofree char *big = g_strnfill(WORKER_MAX_IM_BYTES, 'a');
	say(gw, "b1", big);
	struct stanza *e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "b1");
	g_assert_cmpstr(error_condition(e), ==, "policy-violation");
	stanza_free(e);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_CHAT), ==, 0);
	for (guint i = 0; i < 500; i++)
		say(gw, "m", "x");
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_CHAT), ==, 500);
	gw_expect_nothing(gw);
	say(gw, "m501", "x");
	e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "m501");
	g_assert_cmpstr(error_condition(e), ==, "resource-constraint");
	stanza_free(e);
	g_assert_cmpuint(fake_legacy_count_type(gw->fake, WORKER_SEND_CHAT), ==, 500);
}

static void test_message_echo_overdue(struct gw *gw, gconstpointer unused)
{
	gw->settings->room_echo_wait_ms = 100;
	guint32 account = in_room(gw);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='m1'>"
	              "<body>x</body></message>");
	guint32 seq = expect_send_chat(gw, "x");
	gw_run_for(300);
	gw_expect_nothing(gw); /* not before the network took it */
	FAKE_EMIT(gw->fake, ims_sent, .account = account, .through = seq);
	gw_expect_nothing(gw);
	gw_run_for(300);
	struct stanza *m = gw_expect(gw, "message", "groupchat", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(m), ==, "m1");
	stanza_free(m);
	/* the echo, late: not a second copy */
	FAKE_EMIT(gw->fake, chat_message, .account = account, .room = "#c", .nick = "alice",
	          .text = "x", .when = 0, .seq = seq, .flags = 0);
	gw_expect_nothing(gw);
}

/* The gateway's own bound: no answer from the legacy side in time. */
static void test_join_timeout(struct gw *gw, gconstpointer unused)
{
	gw->settings->room_join_ms = 100;
	gw_online(gw, "alice");
	join(gw, ALICE_PC, "alice", "j1", NULL);
	expect_join_chat(gw, "#c", "", "alice");
	gw_expect_nothing(gw);
	gw_run_for(300);
	struct stanza *e = gw_expect(gw, "presence", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "j1");
	g_assert_nonnull(
	    stanza_find_child(stanza_find_child(e, "error", NULL), "remote-server-timeout", NULL));
	stanza_free(e);
	/* forgotten: a late answer shows nothing, and leaves the room */
	FAKE_EMIT(gw->fake, chat_joined, .account = fake_legacy_last_account(gw->fake),
	          .room = "#c", .asked = "#c", .nick = "alice", .topic = "", .topic_by = "");
	gw_expect_nothing(gw);
	struct fake_command *c = gw_take_command(gw, WORKER_LEAVE_CHAT);
	fake_command_free(c);
}

static void test_message_incoming(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	FAKE_EMIT(gw->fake, chat_message, .account = account, .room = "#C", .nick = "bob",
	          .text = "/me waves", .when = 1700000000, .seq = 0,
	          .flags = WORKER_CHAT_MSG_DELAYED);
	struct stanza *m = gw_expect(gw, "message", "groupchat", ALICE_PC);
	g_autofree char *body = stanza_get_child_text(m, "body", NULL);
	g_assert_cmpstr(body, ==, "/me waves");
	const struct stanza *d = stanza_find_child(m, "delay", NS_DELAY);
	g_assert_cmpstr(stanza_get_attr(d, "stamp"), ==, "2023-11-14T22:13:20Z");
	stanza_free(m);
}

static void test_subject(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='s1'>"
	              "<subject>new topic</subject></message>");
	struct fake_command *c = gw_take_command(gw, WORKER_SET_CHAT_TOPIC);
	struct worker_msg_set_chat_topic t;
	g_assert_true(worker_msg_set_chat_topic_read(c->payload, c->account, &t));
	g_assert_cmpstr(t.topic, ==, "new topic");
	worker_msg_set_chat_topic_clear(&t);
	fake_command_free(c);
	FAKE_EMIT(gw->fake, chat_error, .account = account, .room = "#c",
	          .op = WORKER_CHAT_OP_TOPIC, .text = "You're not channel operator");
	struct stanza *e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "s1");
	stanza_free(e);
	FAKE_EMIT(gw->fake, chat_topic, .account = account, .room = "#c", .who = "bob",
	          .topic = "bob's topic");
	gw_expect_next(gw, "<message from='" ROOM "/bob' to='" ALICE_PC "' type='groupchat'>"
	                   "<subject>bob's topic</subject></message>");
}

static void test_occupant_changes(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	FAKE_EMIT(gw->fake, chat_occupant, .account = account, .room = "#c", .nick = "carol",
	          .flags = WORKER_CHAT_FLAG_VOICE, .real = "", .pm = "carol");
	gw_expect_next(gw, "<presence from='" ROOM "/carol' to='" ALICE_PC "'>"
	                   "<x xmlns='" MUC_USER "'><item affiliation='member' role='participant'/>"
	                   "</x></presence>");
	FAKE_EMIT(gw->fake, chat_renamed, .account = account, .room = "#c", .old = "carol",
	          .nick = "caro");
	gw_expect_next(gw, "<presence from='" ROOM "/carol' to='" ALICE_PC "' type='unavailable'>"
	                   "<x xmlns='" MUC_USER "'><item affiliation='member' role='participant' "
	                   "nick='caro'/><status code='303'/></x></presence>");
	gw_expect_next(gw, "<presence from='" ROOM "/caro' to='" ALICE_PC "'>"
	                   "<x xmlns='" MUC_USER "'><item affiliation='member' role='participant'/>"
	                   "</x></presence>");
	FAKE_EMIT(gw->fake, chat_occupant_left, .account = account, .room = "#c", .nick = "caro",
	          .how = WORKER_CHAT_LEFT_KICK, .actor = "bob", .reason = "spam");
	gw_expect_next(gw, "<presence from='" ROOM "/caro' to='" ALICE_PC "' type='unavailable'>"
	                   "<x xmlns='" MUC_USER "'><item affiliation='member' role='none'>"
	                   "<actor nick='bob'/><reason>spam</reason></item><status code='307'/>"
	                   "</x></presence>");
	FAKE_EMIT(gw->fake, chat_occupant_left, .account = account, .room = "#c", .nick = "bob",
	          .how = WORKER_CHAT_LEFT_QUIT, .actor = "", .reason = "Quit: bye");
	gw_expect_next(gw, "<presence from='" ROOM "/bob' to='" ALICE_PC "' type='unavailable'>"
	                   "<x xmlns='" MUC_USER "'><item affiliation='admin' role='none'/></x>"
	                   "<status>Quit: bye</status></presence>");
	/* our own rename: the pair with 110 */
	FAKE_EMIT(gw->fake, chat_renamed, .account = account, .room = "#c", .old = "alice",
	          .nick = "alice_");
	gw_expect_next(gw,
	               "<presence from='" ROOM "/alice' to='" ALICE_PC "' type='unavailable'>"
	               "<x xmlns='" MUC_USER "'><item affiliation='none' role='participant' "
	               "nick='alice_'/><status code='303'/><status code='110'/></x></presence>");
	gw_expect_next(gw, "<presence from='" ROOM "/alice_' to='" ALICE_PC "'>"
	                   "<x xmlns='" MUC_USER "'><item affiliation='none' role='participant'/>"
	                   "<status code='110'/></x></presence>");
	gw_expect_nothing(gw);
}

static void test_max_occupants(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	join(gw, ALICE_PC, "alice", "j1", NULL);
	expect_join_chat(gw, "#c", "", "alice");
	answer_join(gw, account, "alice", "a\002bold\002 topic");
	stanza_free(gw_take_match(gw, "presence", NULL, ALICE_PC));
	stanza_free(gw_take_match(gw, "presence", NULL, ALICE_PC));
	/* control characters never reach XML */
	gw_expect_next(gw, SUBJECT_TO(ALICE_PC, "a bold  topic"));
	gw_expect_nothing(gw);
	/* a third occupant is over the bound: not shown */
	FAKE_EMIT(gw->fake, chat_occupant, .account = account, .room = "#c", .nick = "carol",
	          .flags = 0, .real = "", .pm = "carol");
	gw_expect_nothing(gw);
	/* the room shows what it keeps */
	g_autofree char *info = NULL;
	gw_inject(gw, "<iq from='" ALICE_PC "' to='" ROOM "' type='get' id='d'>"
	              "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
	struct stanza *r = gw_expect(gw, "iq", "result", ALICE_PC);
	info = stanza_to_string(r);
	stanza_free(r);
	g_assert_nonnull(strstr(info, "<field var='muc#roominfo_occupants'><value>2</value>"));
}

/* The session logs out (the transport left the roster): joined resources
 * are told the room is gone for them (110+333). */
static void test_logout_333(struct gw *gw, gconstpointer unused)
{
	in_room(gw);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" GW_JID "' type='unsubscribe'/>");
	struct stanza *p = gw_take_match(gw, "presence", "unavailable", ALICE_PC);
	g_assert_nonnull(p);
	g_assert_cmpstr(stanza_get_from(p), ==, ROOM "/alice");
	g_autofree char *xml = stanza_to_string(p);
	g_assert_nonnull(strstr(xml, "<status code='110'/><status code='333'/>"));
	stanza_free(p);
	/* forgotten */
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='m1'>"
	              "<body>x</body></message>");
	struct stanza *e = gw_take_match(gw, "message", "error", ALICE_PC);
	g_assert_nonnull(e);
	stanza_free(e);
}

/* The legacy side gone for good (a fatal failure, the worker's account
 * quarantined): no rejoin comes, the joined resources are told (333). */
static void test_gone_for_good_333(struct gw *gw, gconstpointer reason)
{
	guint32 account = in_room(gw);
	if (GPOINTER_TO_UINT(reason) == WORKER_REASON_CRASHED)
		g_test_expect_message("ferry", G_LOG_LEVEL_WARNING, "*quarantined*");
	else
		g_test_expect_message("ferry", G_LOG_LEVEL_WARNING, "*login failed for good*");
	FAKE_EMIT(gw->fake, disconnected, .account = account, .reason = GPOINTER_TO_UINT(reason),
	          .text = "gone", .fatal = true);
	g_test_assert_expected_messages();
	struct stanza *p = gw_take_match(gw, "presence", "unavailable", ALICE_PC);
	while (p != NULL && g_strcmp0(stanza_get_from(p), ROOM "/alice") != 0) {
		stanza_free(p);
		p = gw_take_match(gw, "presence", "unavailable", ALICE_PC);
	}
	g_assert_nonnull(p);
	g_autofree char *xml = stanza_to_string(p);
	g_assert_nonnull(strstr(xml, "<status code='110'/><status code='333'/>"));
	stanza_free(p);
}

static void test_quarantine_333(struct gw *gw, gconstpointer unused)
{
	test_gone_for_good_333(gw, GUINT_TO_POINTER(WORKER_REASON_CRASHED));
}

static void test_fatal_333(struct gw *gw, gconstpointer unused)
{
	test_gone_for_good_333(gw, GUINT_TO_POINTER(WORKER_REASON_AUTH));
}

static void test_kicked(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	join(gw, ALICE_PHONE, "alice", "p1", NULL);
	gw_clear(gw);
	FAKE_EMIT(gw->fake, chat_left, .account = account, .room = "#c",
	          .how = WORKER_CHAT_LEFT_KICK, .actor = "bob", .reason = "out");
	const char *to[] = {ALICE_PC, ALICE_PHONE};
	for (size_t i = 0; i < G_N_ELEMENTS(to); i++) {
		struct stanza *p = gw_expect(gw, "presence", "unavailable", to[i]);
		g_autofree char *xml = stanza_to_string(p);
		g_assert_nonnull(strstr(xml, "<actor nick='bob'/><reason>out</reason>"));
		g_assert_nonnull(strstr(xml, "<status code='110'/><status code='307'/>"));
		stanza_free(p);
	}
	gw_expect_nothing(gw);
	/* the room is gone: joining again is a new legacy join */
	join(gw, ALICE_PC, "alice", "j2", NULL);
	expect_join_chat(gw, "#c", "", "alice");
}

/* While the legacy login is gone (a lost worker, before the next
 * sign-on), a subject change, a nick change and an invitation go nowhere:
 * each is answered at once with its id, not after the 35 s bound. */
static void test_changes_while_lost(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	fake_legacy_lose(gw->fake, account);
	gw_clear(gw);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='s1'>"
	              "<subject>new</subject></message>");
	struct stanza *e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "s1");
	g_assert_nonnull(
	    stanza_find_child(stanza_find_child(e, "error", NULL), "remote-server-timeout", NULL));
	stanza_free(e);
	gw_inject(gw, "<presence from='" ALICE_PC "' to='" ROOM "/alicia' id='n1'/>");
	e = gw_expect(gw, "presence", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "n1");
	stanza_free(e);
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' id='i1'><x xmlns='" MUC_USER
	              "'><invite to='carol@" GW_JID "'/></x></message>");
	e = gw_expect(gw, "message", "error", ALICE_PC);
	g_assert_cmpstr(stanza_get_id(e), ==, "i1");
	stanza_free(e);
}

/* §7: a lost worker: the next CONNECTED rejoins with the key; the client
 * sees only what changed. */
static void test_rejoin_after_loss(struct gw *gw, gconstpointer unused)
{
	guint32 account = gw_online(gw, "alice");
	join(gw, ALICE_PC, "alice", "j1", "<password>k</password>");
	expect_join_chat(gw, "#c", "k", "alice");
	answer_join(gw, account, "alice", "t");
	gw_clear(gw);
	fake_legacy_lose(gw->fake, account);
	guint32 again = gw_relogin(gw, "alice");
	expect_join_chat(gw, "#c", "k", "alice");
	gw_clear(gw);
	/* bob is still there, dave is new; no topic change */
	FAKE_EMIT(gw->fake, chat_occupant, .account = again, .room = "#c", .nick = "bob",
	          .flags = WORKER_CHAT_FLAG_OP, .real = "", .pm = "bob");
	FAKE_EMIT(gw->fake, chat_occupant, .account = again, .room = "#c", .nick = "dave",
	          .flags = 0, .real = "", .pm = "dave");
	FAKE_EMIT(gw->fake, chat_occupant, .account = again, .room = "#c", .nick = "alice",
	          .flags = 0, .real = "", .pm = "alice");
	FAKE_EMIT(gw->fake, chat_joined, .account = again, .room = "#c", .asked = "#c",
	          .nick = "alice", .topic = "t", .topic_by = "");
	gw_expect_next(gw, "<presence from='" ROOM "/dave' to='" ALICE_PC "'>"
	                   "<x xmlns='" MUC_USER "'><item affiliation='none' role='participant'/>"
	                   "</x></presence>");
	gw_expect_nothing(gw);
	/* still joined: a message goes */
	gw_inject(gw, "<message from='" ALICE_PC "' to='" ROOM "' type='groupchat' id='m1'>"
	              "<body>back</body></message>");
	expect_send_chat(gw, "back");
}

static void test_rejoin_fails(struct gw *gw, gconstpointer unused)
{
	guint32 account = in_room(gw);
	fake_legacy_lose(gw->fake, account);
	guint32 again = gw_relogin(gw, "alice");
	expect_join_chat(gw, "#c", "", "alice");
	gw_clear(gw);
	FAKE_EMIT(gw->fake, chat_join_failed, .account = again, .room = "#c",
	          .reason = WORKER_CHAT_FAIL_BANNED, .text = "banned");
	struct stanza *p = gw_expect(gw, "presence", "unavailable", ALICE_PC);
	g_autofree char *xml = stanza_to_string(p);
	g_assert_nonnull(strstr(xml, "<status code='110'/><status code='333'/>"));
	stanza_free(p);
	gw_expect_nothing(gw);
}

static void test_shutdown_332(struct gw *gw, gconstpointer unused)
{
	in_room(gw);
	join(gw, ALICE_PHONE, "alice", "p1", NULL);
	gw_clear(gw);
	g_clear_pointer(&gw->gateway, gateway_free);
	const char *to[] = {ALICE_PC, ALICE_PHONE};
	for (size_t i = 0; i < G_N_ELEMENTS(to); i++) {
		struct stanza *p = gw_take_match(gw, "presence", "unavailable", to[i]);
		g_assert_nonnull(p);
		g_assert_cmpstr(stanza_get_from(p), ==, ROOM "/alice");
		g_autofree char *xml = stanza_to_string(p);
		g_assert_nonnull(strstr(xml, "<status code='110'/><status code='332'/>"));
		stanza_free(p);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct gw, NULL, gw_test_setup, fn, gw_test_teardown)
#define ADD_WITH(path, extra, fn)                                                                  \
	g_test_add(path, struct gw, extra, gw_test_setup, fn, gw_test_teardown)
	ADD("/rooms/join/order", test_join_order);
	ADD("/rooms/join/key-and-topic", test_join_key_and_topic);
	ADD("/rooms/join/topic-setter", test_join_topic_setter);
	ADD("/rooms/changes-while-lost", test_changes_while_lost);
	ADD("/rooms/join/errors", test_join_errors);
	ADD("/rooms/join/refusals", test_join_refusals);
	ADD_WITH("/rooms/join/max-rooms", "[limits]\nmax_rooms = 1\n", test_join_max_rooms);
	ADD("/rooms/join/while-connecting", test_join_while_connecting);
	ADD("/rooms/join/timeout", test_join_timeout);
	ADD("/rooms/multi-resource", test_multi_resource);
	ADD("/rooms/leave/last", test_leave_last);
	ADD("/rooms/leave/directed", test_leave_directed);
	ADD("/rooms/leave/reentrant", test_leave_reentrant);
	ADD("/rooms/join/forwarded", test_join_forwarded);
	ADD("/rooms/leave/rejoin", test_leave_rejoin);
	ADD("/rooms/leave/bounce", test_bounce_leaves);
	ADD("/rooms/message/reflection", test_message_reflection);
	ADD("/rooms/message/echo-overdue", test_message_echo_overdue);
	ADD("/rooms/message/lost-worker", test_message_lost_worker);
	ADD("/rooms/message/logout", test_message_logout);
	ADD("/rooms/message/bounds", test_message_bounds);
	ADD("/rooms/message/incoming", test_message_incoming);
	ADD("/rooms/subject", test_subject);
	ADD("/rooms/occupants/changes", test_occupant_changes);
	ADD("/rooms/kicked", test_kicked);
	ADD_WITH("/rooms/occupants/max", "[limits]\nmax_room_occupants = 2\n", test_max_occupants);
	ADD("/rooms/logout-333", test_logout_333);
	ADD("/rooms/fatal-333", test_fatal_333);
	ADD("/rooms/quarantine-333", test_quarantine_333);
	ADD("/rooms/rejoin/after-loss", test_rejoin_after_loss);
	ADD("/rooms/rejoin/fails", test_rejoin_fails);
	ADD("/rooms/shutdown-332", test_shutdown_332);
	return g_test_run();
}
