/* Unit tests for the worker protocol: frames round-trip; truncated, oversized
 * and malicious frames (wrong payload type, unknown message, not normal
 * form) are rejected. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry/worker_protocol.h"

/* Feeds FRAME to a reader in chunks of CHUNK bytes and returns the body. */
static GBytes *reassemble(GBytes *frame, gsize chunk)
{
	struct worker_reader *r = worker_reader_new();
	gsize len = 0;
	const guint8 *p = g_bytes_get_data(frame, &len);
	GBytes *body = NULL;
	for (gsize off = 0; off < len; off += chunk) {
		g_autoptr(GError) err = NULL;
		g_assert_null(body);
		worker_reader_feed(r, p + off, MIN(chunk, len - off));
		body = worker_reader_next(r, &err);
		g_assert_no_error(err);
	}
	worker_reader_free(r);
	return body;
}

static void test_round_trip(void)
{
	GVariantBuilder opts;
	g_variant_builder_init(&opts, G_VARIANT_TYPE("a{ss}"));
	g_variant_builder_add(&opts, "{ss}", "port", "6697");
	g_variant_builder_add(&opts, "{ss}", "ssl", "true");
	GBytes *frame =
	    worker_frame_encode(WORKER_LOGIN, 42,
	                        g_variant_new("(sssa{ss}u)", "prpl-irc", "alice@irc.example.org",
	                                      "pw <&>", &opts, (guint32)WORKER_LOGIN_TEST));
	g_assert_nonnull(frame);
	gsize len = 0;
	const guint8 *p = g_bytes_get_data(frame, &len);
	guint32 n = ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
	g_assert_cmpuint(n + 4, ==, len);

	for (gsize chunk = 1; chunk <= len; chunk++) {
		GBytes *body = reassemble(frame, chunk);
		g_assert_nonnull(body);
		guint32 type = 0, account = 0;
		GVariant *payload = NULL;
		g_autoptr(GError) err = NULL;
		g_assert_true(worker_frame_decode(body, &type, &account, &payload, &err));
		g_assert_no_error(err);
		g_assert_cmpuint(type, ==, WORKER_LOGIN);
		g_assert_cmpuint(account, ==, 42);
		const char *proto, *user, *pass;
		GVariant *settings = NULL;
		guint32 flags = 0;
		g_variant_get(payload, "(&s&s&s@a{ss}u)", &proto, &user, &pass, &settings, &flags);
		g_assert_cmpstr(proto, ==, "prpl-irc");
		g_assert_cmpstr(user, ==, "alice@irc.example.org");
		g_assert_cmpstr(pass, ==, "pw <&>");
		g_assert_cmpuint(flags, ==, WORKER_LOGIN_TEST);
		const char *port = NULL;
		g_assert_true(g_variant_lookup(settings, "port", "&s", &port));
		g_assert_cmpstr(port, ==, "6697");
		g_variant_unref(settings);
		g_variant_unref(payload);
		g_bytes_unref(body);
	}
	g_bytes_unref(frame);
}

static void test_several_frames_in_one_read(void)
{
	GByteArray *all = g_byte_array_new();
	for (guint32 i = 1; i <= 3; i++) {
		g_autoptr(GBytes) f = worker_frame_encode(
		    WORKER_IM_RECEIVED, i, g_variant_new("(ssx)", "bob", "hi", (gint64)i));
		gsize len;
		const guint8 *p = g_bytes_get_data(f, &len);
		g_byte_array_append(all, p, (guint)len);
	}
	struct worker_reader *r = worker_reader_new();
	worker_reader_feed(r, all->data, all->len);
	for (guint32 i = 1; i <= 3; i++) {
		g_autoptr(GError) err = NULL;
		g_autoptr(GBytes) body = worker_reader_next(r, &err);
		g_assert_nonnull(body);
		guint32 type, account;
		GVariant *payload;
		g_assert_true(worker_frame_decode(body, &type, &account, &payload, &err));
		g_assert_cmpuint(account, ==, i);
		g_variant_unref(payload);
	}
	g_autoptr(GError) err = NULL;
	g_assert_null(worker_reader_next(r, &err));
	g_assert_no_error(err);
	worker_reader_free(r);
	g_byte_array_unref(all);
}

static void test_truncated(void)
{
	g_autoptr(GBytes) f =
	    worker_frame_encode(WORKER_CONNECTED, 7, g_variant_new("(s)", "alice1"));
	gsize len;
	const guint8 *p = g_bytes_get_data(f, &len);
	/* Any strict prefix is "not yet", never a frame. */
	for (gsize cut = 0; cut < len; cut++) {
		struct worker_reader *r = worker_reader_new();
		worker_reader_feed(r, p, cut);
		g_autoptr(GError) err = NULL;
		g_assert_null(worker_reader_next(r, &err));
		g_assert_no_error(err);
		worker_reader_free(r);
	}
	/* A body cut short (a length prefix lying about it) does not decode. */
	for (gsize cut = 0; cut < len - 4; cut++) {
		g_autoptr(GBytes) body = g_bytes_new(p + 4, cut);
		guint32 type, account;
		GVariant *payload = NULL;
		g_autoptr(GError) err = NULL;
		g_assert_false(worker_frame_decode(body, &type, &account, &payload, &err));
		g_assert_nonnull(err);
		g_assert_null(payload);
	}
}

static void test_bad_length(void)
{
	const guint8 zero[] = {0, 0, 0, 0, 1, 2, 3};
	const guint8 huge[] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
	const guint8 *cases[] = {zero, huge};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct worker_reader *r = worker_reader_new();
		worker_reader_feed(r, cases[i], 7);
		g_autoptr(GError) err = NULL;
		g_assert_null(worker_reader_next(r, &err));
		g_assert_error(err, WORKER_PROTOCOL_ERROR, WORKER_PROTOCOL_ERROR_FRAME);
		worker_reader_free(r);
	}
}

/* Serializes an arbitrary (uuv) as a body, as a malicious worker could. */
static GBytes *raw_body(guint32 type, guint32 account, GVariant *payload)
{
	GVariant *v = g_variant_ref_sink(g_variant_new("(uuv)", type, account, payload));
	GBytes *b = g_variant_get_data_as_bytes(v);
	g_variant_unref(v);
	return b;
}

/* The hand-made frame body is exactly GVariant's own serialization of the
 * (uuv) in normal form, and GVariant's is decoded: for payloads of every
 * shape in the catalogue (unit, strings with and without zero-size parts,
 * numbers, booleans, a dictionary, an int64). */
static void test_same_bytes_as_gvariant(void)
{
	GVariantBuilder opts;
	g_variant_builder_init(&opts, G_VARIANT_TYPE("a{ss}"));
	g_variant_builder_add(&opts, "{ss}", "port", "6697");
	struct {
		guint32 type;
		GVariant *payload;
	} cases[] = {
	    {WORKER_LOGOUT, g_variant_new("()")},
	    {WORKER_SEND_IM, g_variant_new("(ussu)", 7, "bob", "h\xc3\xa9llo <b>", 20)},
	    {WORKER_SEND_IM, g_variant_new("(ussu)", 0, "", "", 0)},
	    {WORKER_LOGIN, g_variant_new("(sssa{ss}u)", "prpl-irc", "a@b", "", &opts, 1)},
	    {WORKER_IM_RECEIVED, g_variant_new("(ssx)", "bob", "hi", (gint64)-1)},
	    {WORKER_IM_RESULT, g_variant_new("(ubusuuu)", 3, FALSE, 3, "not connected", 0, 1, 0)},
	    {WORKER_IM_QUEUED, g_variant_new("(uuu)", 3, 230, 460)},
	    {WORKER_IM_PROGRESS, g_variant_new("(uuuu)", 3, 55, 230, 20000)},
	    {WORKER_IMS_SENT, g_variant_new("(u)", G_MAXUINT32)},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		GVariant *payload = g_variant_ref_sink(cases[i].payload);
		g_autoptr(GBytes) want = raw_body(cases[i].type, 77, payload);
		g_autoptr(GBytes) frame =
		    worker_frame_encode(cases[i].type, 77, g_variant_ref(payload));
		g_assert_nonnull(frame);
		g_autoptr(GBytes) body =
		    g_bytes_new_from_bytes(frame, 4, g_bytes_get_size(frame) - 4);
		g_assert_true(g_bytes_equal(body, want));

		guint32 type = 0, account = 0;
		g_autoptr(GVariant) got = NULL;
		g_autoptr(GError) err = NULL;
		g_assert_true(worker_frame_decode(want, &type, &account, &got, &err));
		g_assert_no_error(err);
		g_assert_cmpuint(type, ==, cases[i].type);
		g_assert_cmpuint(account, ==, 77);
		g_assert_true(g_variant_equal(got, payload));
		g_variant_unref(payload);
	}
}

/* A frame queue written through a socket that takes a little at a time
 * (partial writes in the middle of frames) delivers every frame whole and
 * in order. */
static void test_frame_queue_partial_writes(void)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
	int small = 4096;
	g_assert_cmpint(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), ==, 0);
	g_assert_cmpint(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small), ==, 0);
	struct frame_queue q = FRAME_QUEUE_INIT;
	g_autofree char *text = g_strnfill(3000, 'x');
	for (guint32 i = 1; i <= 200; i++)
		frame_queue_push(&q,
		                 worker_frame_encode(WORKER_SEND_IM, i,
		                                     g_variant_new("(ussu)", i, "bob", text, 0)));
	gsize queued = q.bytes;
	struct worker_reader *r = worker_reader_new();
	guint32 next = 1;
	gsize sent = 0;
	guint8 buf[1500]; /* reads smaller than a frame */
	for (int round = 0; round < 100000 && next <= 200; round++) {
		gssize n = frame_queue_send(&q, sv[0]);
		if (n < 0)
			g_assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		else
			sent += (gsize)n;
		ssize_t got = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
		if (got > 0)
			worker_reader_feed(r, buf, (size_t)got);
		for (;;) {
			g_autoptr(GError) err = NULL;
			g_autoptr(GBytes) body = worker_reader_next(r, &err);
			g_assert_no_error(err);
			if (body == NULL)
				break;
			guint32 type = 0, account = 0;
			g_autoptr(GVariant) payload = NULL;
			g_assert_true(worker_frame_decode(body, &type, &account, &payload, &err));
			g_assert_cmpuint(account, ==, next);
			next++;
		}
	}
	g_assert_cmpuint(next, ==, 201);
	g_assert_cmpuint(sent, ==, queued);
	g_assert_true(frame_queue_is_empty(&q));
	g_assert_cmpuint(q.bytes, ==, 0);
	worker_reader_free(r);
	frame_queue_clear(&q);
	close(sv[0]);
	close(sv[1]);
}

static void test_malicious(void)
{
	struct {
		GBytes *body;
		int code;
	} cases[] = {
	    /* A connected event carrying a number instead of a name. */
	    {raw_body(WORKER_CONNECTED, 1, g_variant_new("(u)", 5)), WORKER_PROTOCOL_ERROR_PAYLOAD},
	    /* A bare string where a tuple is expected. */
	    {raw_body(WORKER_IM_RECEIVED, 1, g_variant_new_string("x")),
	     WORKER_PROTOCOL_ERROR_PAYLOAD},
	    /* An unknown message type. */
	    {raw_body(9999, 1, g_variant_new("()")), WORKER_PROTOCOL_ERROR_TYPE},
	    /* The right type string after a payload that is not in normal form
	     * (a string without its terminating zero byte). */
	    {g_bytes_new("\x65\0\0\0\1\0\0\0abc\0(s)", 16), WORKER_PROTOCOL_ERROR_FRAME},
	    /* A type string that is no type at all. */
	    {g_bytes_new("\x65\0\0\0\1\0\0\0abc\0\0((", 15), WORKER_PROTOCOL_ERROR_FRAME},
	    /* Not a (uuv) at all: garbage bytes that are not in normal form. */
	    {g_bytes_new("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x09", 12),
	     WORKER_PROTOCOL_ERROR_FRAME},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		guint32 type, account;
		GVariant *payload = NULL;
		g_autoptr(GError) err = NULL;
		g_assert_false(worker_frame_decode(cases[i].body, &type, &account, &payload, &err));
		g_assert_error(err, WORKER_PROTOCOL_ERROR, cases[i].code);
		g_assert_null(payload);
		g_bytes_unref(cases[i].body);
	}
}

static void test_encode_refuses_wrong_payload(void)
{
	if (g_test_subprocess()) {
		GBytes *f = worker_frame_encode(WORKER_LOGOUT, 1, g_variant_new("(s)", "x"));
		g_assert_null(f);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_failed(); /* g_critical is fatal in tests */
	g_test_trap_assert_stderr("*does not fit message*");
}

/* Every message's number, name and payload type, written out by hand
 * from the protocol as ferry-worker and ferry speak it (version 4: prompts
 * and LINK_INFO; 3: group
 * chats; 2: SEND_IM took max_lines, IM_RESULT the reason and how much went): a change to the
 * catalogue that breaks the wire fails here. */
static void test_catalogue(void)
{
	const struct {
		guint32 type;
		guint32 number;
		const char *name;
		const char *payload;
	} cases[] = {
	    {WORKER_LOGIN, 1, "login", "(sssa{ss}u)"},
	    {WORKER_LOGOUT, 2, "logout", "()"},
	    {WORKER_SEND_IM, 3, "send_im", "(ussu)"},
	    {WORKER_SET_STATUS, 4, "set_status", "(us)"},
	    {WORKER_ADD_BUDDY, 5, "add_buddy", "(ss)"},
	    {WORKER_REMOVE_BUDDY, 6, "remove_buddy", "(s)"},
	    {WORKER_SEND_TYPING, 7, "send_typing", "(su)"},
	    {WORKER_AUTH_REPLY, 8, "auth_reply", "(ub)"},
	    {WORKER_SHUTDOWN, 9, "shutdown", "()"},
	    {WORKER_KEEP, 10, "keep", "()"},
	    {WORKER_CANCEL_IMS, 30, "cancel_ims", "()"},
	    {WORKER_PAUSE_READ, 40, "pause_read", "(b)"},
	    {WORKER_READY, 100, "ready", "(us)"},
	    {WORKER_CONNECTED, 101, "connected", "(s)"},
	    {WORKER_DISCONNECTED, 102, "disconnected", "(usb)"},
	    {WORKER_BUDDY_STATUS, 103, "buddy_status", "(ssus)"},
	    {WORKER_BUDDY_REMOVED, 104, "buddy_removed", "(s)"},
	    {WORKER_IM_RECEIVED, 105, "im_received", "(ssx)"},
	    {WORKER_IM_RESULT, 106, "im_result", "(ubusuuu)"},
	    {WORKER_TYPING, 107, "typing", "(su)"},
	    {WORKER_AUTH_REQUEST, 108, "auth_request", "(usss)"},
	    {WORKER_NOTICE, 109, "notice", "(ss)"},
	    {WORKER_IMS_SENT, 110, "ims_sent", "(u)"},
	    {WORKER_BUDDY_AWAY, 120, "buddy_away", "(ss)"},
	    {WORKER_IM_QUEUED, 130, "im_queued", "(uuu)"},
	    {WORKER_IM_PROGRESS, 131, "im_progress", "(uuuu)"},
	    {WORKER_NAME_FALLBACK, 150, "name_fallback", "(ss)"},
	    {WORKER_JOIN_CHAT, 50, "join_chat", "(sss)"},
	    {WORKER_LEAVE_CHAT, 51, "leave_chat", "(s)"},
	    {WORKER_SEND_CHAT, 52, "send_chat", "(ussu)"},
	    {WORKER_SET_CHAT_TOPIC, 53, "set_chat_topic", "(ss)"},
	    {WORKER_CHAT_INVITE, 54, "chat_invite", "(sss)"},
	    {WORKER_SET_CHAT_NICK, 55, "set_chat_nick", "(ss)"},
	    {WORKER_LIST_ROOMS, 56, "list_rooms", "()"},
	    {WORKER_PROBE_ROOM, 57, "probe_room", "(s)"},
	    {WORKER_ANSWER_PROMPT, 60, "answer_prompt", "(uua{ss})"},
	    {WORKER_CHAT_JOINED, 160, "chat_joined", "(sssss)"},
	    {WORKER_CHAT_JOIN_FAILED, 161, "chat_join_failed", "(sus)"},
	    {WORKER_CHAT_OCCUPANT, 162, "chat_occupant", "(ssuss)"},
	    {WORKER_CHAT_OCCUPANT_LEFT, 163, "chat_occupant_left", "(ssuss)"},
	    {WORKER_CHAT_RENAMED, 164, "chat_renamed", "(sss)"},
	    {WORKER_CHAT_MESSAGE, 165, "chat_message", "(sssxuu)"},
	    {WORKER_CHAT_TOPIC, 166, "chat_topic", "(sss)"},
	    {WORKER_CHAT_LEFT, 167, "chat_left", "(suss)"},
	    {WORKER_CHAT_INVITED, 168, "chat_invited", "(ssss)"},
	    {WORKER_CHAT_ERROR, 169, "chat_error", "(sus)"},
	    {WORKER_ROOM_LIST, 170, "room_list", "(a{ss}bb)"},
	    {WORKER_ROOM_INFO, 171, "room_info", "(susb)"},
	    {WORKER_PROMPT, 180, "prompt", "(uusssaa{ss})"},
	    {WORKER_PROMPT_CLOSED, 181, "prompt_closed", "(uus)"},
	    {WORKER_PROMPT_ERROR, 182, "prompt_error", "(us)"},
	    {WORKER_LINK_INFO, 183, "link_info", "(bsssu)"},
	    {WORKER_FILE_OFFERED, 220, "file_offered", "(ssx)"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_assert_cmpuint(cases[i].type, ==, cases[i].number);
		g_assert_cmpstr(worker_msg_name(cases[i].type), ==, cases[i].name);
		g_assert_cmpstr(worker_msg_payload_type(cases[i].type), ==, cases[i].payload);
	}
	/* and nothing else: every other number is unknown */
	guint known = 0;
	for (guint32 t = 0; t < 300; t++)
		if (worker_msg_payload_type(t) != NULL)
			known++;
	g_assert_cmpuint(known, ==, G_N_ELEMENTS(cases));
	g_assert_null(worker_msg_payload_type(0));
	g_assert_cmpstr(worker_msg_name(0), ==, "unknown");
}

/* A SEND_IM of WORKER_MAX_IM_BYTES of name and text fits in a frame the
 * reader takes; a frame over WORKER_MAX_FRAME is never encoded (a worker
 * would quit on it: issue 10, item 2). */
static GBytes *send_im_of(gsize name_len, gsize text_len)
{
	g_autofree char *name = g_strnfill(name_len, 'n');
	g_autofree char *text = g_strnfill(text_len, 't');
	return worker_frame_encode(WORKER_SEND_IM, 7,
	                           g_variant_new("(ussu)", (guint32)1, name, text, (guint32)0));
}

static void test_size_limit(void)
{
	/* the bound ferry checks before framing a message */
	g_autoptr(GBytes) fits = send_im_of(30, WORKER_MAX_IM_BYTES - 30);
	g_assert_nonnull(fits);
	g_assert_cmpuint(g_bytes_get_size(fits) - 4, <=, WORKER_MAX_FRAME);
	g_autoptr(GBytes) body = reassemble(fits, 65536);
	g_assert_nonnull(body);

	/* the largest text that still frames, and the next size up */
	gsize text = WORKER_MAX_IM_BYTES - 30;
	for (gsize t = text + 1; t < WORKER_MAX_FRAME; t++) {
		g_autofree char *name = g_strnfill(30, 'n');
		g_autofree char *txt = g_strnfill(t, 't');
		g_autoptr(GVariant) v =
		    g_variant_ref_sink(g_variant_new("(ussu)", (guint32)1, name, txt, (guint32)0));
		/* the body: type and account, the payload, a zero, "(ussu)" */
		if (8 + g_variant_get_size(v) + 1 + 6 > WORKER_MAX_FRAME)
			break;
		text = t;
	}
	g_autoptr(GBytes) last = send_im_of(30, text);
	g_assert_nonnull(last);
	g_assert_cmpuint(g_bytes_get_size(last) - 4, <=, WORKER_MAX_FRAME);
	g_assert_cmpuint(g_bytes_get_size(last) - 4, >, WORKER_MAX_FRAME - 8);
	g_autoptr(GBytes) whole = reassemble(last, 65536);
	g_assert_nonnull(whole);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
	                      "*send_im for account 7 would be a frame of * bytes, over the "
	                      "limit of 1048576: not sent");
	g_assert_null(send_im_of(30, text + 1));
	g_test_assert_expected_messages();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/worker-protocol/round-trip", test_round_trip);
	g_test_add_func("/worker-protocol/several-frames", test_several_frames_in_one_read);
	g_test_add_func("/worker-protocol/truncated", test_truncated);
	g_test_add_func("/worker-protocol/bad-length", test_bad_length);
	g_test_add_func("/worker-protocol/malicious", test_malicious);
	g_test_add_func("/worker-protocol/encode-refuses-wrong-payload",
	                test_encode_refuses_wrong_payload);
	g_test_add_func("/worker-protocol/catalogue", test_catalogue);
	g_test_add_func("/worker-protocol/size-limit", test_size_limit);
	g_test_add_func("/worker-protocol/same-bytes-as-gvariant", test_same_bytes_as_gvariant);
	g_test_add_func("/worker-protocol/frame-queue-partial-writes",
	                test_frame_queue_partial_writes);
	return g_test_run();
}
