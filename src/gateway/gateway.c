/* gateway: wires the transport's modules to the router and the legacy
 * side, and dispatches: stanzas by the kind of address they are sent to,
 * legacy events by the owner of their account (a registration's test
 * login, a kept login, or a session). */
#include "config.h"
#include "internal.h"
#include "cmd.h"
#include "prompts.h"

#include <string.h>

struct gateway {
	struct gateway_ctx ctx; /* what the modules share (they hold &ctx) */
};

/* ---- presence ----------------------------------------------------------------------- */

/* A presence from the user FROM to the transport itself. */
static void transport_presence(struct gateway *gw, const struct stanza *p, struct jid *from)
{
	const struct gateway_ctx *ctx = &gw->ctx;
	const char *type = stanza_get_type(p);
	const char *bare = jid_bare(from);
	const char *resource = jid_resource(from) != NULL ? jid_resource(from) : "";
	struct session *s = sessions_get(ctx->sessions, bare, true);

	if (type == NULL || strcmp(type, "unavailable") == 0) {
		if (s != NULL && type != NULL)
			muc_resource_gone(s, jid_full(from)); /* it leaves its rooms */
		if (s != NULL)
			session_on_user_presence(s, resource, type == NULL, p);
		else if (type == NULL)
			g_debug("gateway: available presence from unregistered %s", bare);
	} else if (strcmp(type, "probe") == 0) {
		if (s != NULL)
			session_send_transport_presence(s, stanza_get_from(p));
		else
			out_presence(ctx->router, NULL, bare, "unavailable");
	} else if (strcmp(type, "subscribe") == 0) {
		/* Approve registered users only (XEP-0100 §4.1.1). */
		out_presence(ctx->router, NULL, bare, s != NULL ? "subscribed" : "unsubscribed");
		if (s != NULL)
			session_send_transport_presence(s, NULL);
	} else if (strcmp(type, "unsubscribe") == 0 || strcmp(type, "unsubscribed") == 0) {
		/* The user took the transport out of the roster: stop the session
		 * (the registration stays until <remove/>). */
		if (s != NULL && session_state(s) != SESSION_OFFLINE)
			session_logout(s, "the transport was removed from your contact list");
	} else if (strcmp(type, "error") == 0) {
		if (s != NULL)
			muc_resource_gone(s, jid_full(from));
		if (s != NULL)
			session_on_user_presence(s, resource, false, p);
	}
}

/* Answers STANZA, from a user who is not registered, with
 * registration-required and how to register: never silence, so that a
 * client can tell the user why nothing happens (within the rate of
 * replies to strangers: past it, a flood is dropped, logged). FROM is the
 * stanza's sender, parsed. */
static void refuse_unregistered(const struct gateway_ctx *ctx, const struct stanza *stanza,
                                const struct jid *from)
{
	if (!address_may_answer_stranger(ctx->address, jid_bare(from)))
		return;
	g_autofree char *how = content_how_to_register(ctx);
	g_autofree char *text =
	    g_strdup_printf("you are not registered with %s; %s", ctx->jid, how);
	router_send_error(ctx->router, stanza, "registration-required", text);
}

/* true for a MUC join (XEP-0045 §7.2): a presence with <x xmlns='…muc'/>. */
static bool is_muc_join(const struct stanza *p)
{
	return stanza_find_child(p, "x", NS_MUC) != NULL;
}

/* A presence from the user FROM to contact TARGET. */
static void contact_presence(struct gateway *gw, const struct stanza *p, struct jid *from,
                             const struct jid *target)
{
	const struct gateway_ctx *ctx = &gw->ctx;
	const char *type = stanza_get_type(p);
	struct session *s = sessions_get(ctx->sessions, jid_bare(from), true);
	if (s == NULL) {
		/* What asks for something is answered; leaving (unavailable,
		 * unsubscribe, unsubscribed) needs no registration and no answer. */
		if (type == NULL || strcmp(type, "probe") == 0 || strcmp(type, "subscribe") == 0 ||
		    strcmp(type, "subscribed") == 0)
			refuse_unregistered(ctx, p, from);
		return;
	}
	if (type == NULL && is_muc_join(p)) {
		g_autofree char *name = jid_unescape_local(jid_local(target));
		if (address_rooms_by_prefix(ctx->address)) {
			g_autofree char *why = g_strdup_printf("%s is a contact, not a room", name);
			struct stanza *e =
			    stanza_new_error(p, "modify", "not-acceptable", why, false);
			stanza_add_child(e, "x", NS_MUC);
			router_send(ctx->router, e);
			return;
		}
		/* a MUC join is always a room join: from now on it is a room */
		address_note_room(ctx->address, jid_bare(from), name);
		muc_on_presence(s, p, from, target);
		return;
	}
	/* an error presence: a bounce, that resource is gone; an unavailable
	 * directed to one contact is no leaving (a broadcast one reaches the
	 * transport too, which makes the resource leave its rooms) */
	if (g_strcmp0(type, "error") == 0)
		muc_resource_gone(s, jid_full(from));
	struct contact *c = contact_by_local(s, jid_local(target));
	if (c != NULL)
		contacts_on_user_presence(s, c, p);
}

/* A presence from the user FROM to room or occupant TARGET. */
static void room_presence(struct gateway *gw, const struct stanza *p, struct jid *from,
                          const struct jid *target)
{
	const struct gateway_ctx *ctx = &gw->ctx;
	const char *type = stanza_get_type(p);
	struct session *s = sessions_get(ctx->sessions, jid_bare(from), true);
	if (s == NULL) {
		if (type == NULL)
			refuse_unregistered(ctx, p, from);
		return;
	}
	muc_on_presence(s, p, from, target);
}

/* The sender of an error presence, when it may use the transport: errors
 * are never answered, not even with 'forbidden'. */
static struct jid *error_sender(const struct gateway_ctx *ctx, const struct stanza *p)
{
	struct jid *from = address_sender(p);
	if (from != NULL && !address_may_use(ctx->address, from))
		g_clear_pointer(&from, jid_free);
	return from;
}

static enum router_result on_presence(struct router *r, const struct stanza *p, void *data)
{
	struct gateway *gw = data;
	const struct gateway_ctx *ctx = &gw->ctx;
	const char *to = stanza_get_to(p);
	struct jid *target = to != NULL ? jid_parse(to, NULL) : NULL;
	if (target == NULL)
		return ROUTER_HANDLED;
	struct jid *from = g_strcmp0(stanza_get_type(p), "error") == 0
	                       ? error_sender(ctx, p)
	                       : address_check_sender(ctx->address, r, p);
	if (from != NULL) {
		switch (address_classify(ctx->address, target, jid_bare(from))) {
		case ADDRESS_TRANSPORT:
		case ADDRESS_TRANSPORT_RESOURCE:
			transport_presence(gw, p, from);
			break;
		case ADDRESS_CONTACT:
		case ADDRESS_CONTACT_RESOURCE:
			contact_presence(gw, p, from, target);
			break;
		case ADDRESS_ROOM:
		case ADDRESS_ROOM_OCCUPANT:
			room_presence(gw, p, from, target);
			break;
		case ADDRESS_OTHER:
			break;
		}
	}
	jid_free(from);
	jid_free(target);
	return ROUTER_HANDLED;
}

/* ---- messages ------------------------------------------------------------------------ */

/* groupchat.md §6: a delivery error from one of the user's resources to a
 * room (what the room sent it bounced) with one of these means that
 * resource is gone: it leaves its rooms. */
static const char *const gone_conditions[] = {
    "gone",
    "item-not-found",
    "recipient-unavailable",
    "remote-server-not-found",
    "remote-server-timeout",
    "service-unavailable",
};

static void room_bounce(struct gateway *gw, const struct stanza *m, const char *to)
{
	const struct gateway_ctx *ctx = &gw->ctx;
	struct jid *from = error_sender(ctx, m);
	struct jid *target = jid_parse(to, NULL);
	const struct stanza *error = stanza_find_child(m, "error", NULL);
	if (from != NULL && target != NULL && error != NULL && jid_resource(from) != NULL) {
		enum address_kind kind = address_classify(ctx->address, target, jid_bare(from));
		struct session *s = kind == ADDRESS_ROOM || kind == ADDRESS_ROOM_OCCUPANT
		                        ? sessions_get(ctx->sessions, jid_bare(from), false)
		                        : NULL;
		for (size_t i = 0; s != NULL && i < G_N_ELEMENTS(gone_conditions); i++) {
			if (stanza_find_child(error, gone_conditions[i], STANZA_NS_STANZAS) !=
			    NULL) {
				muc_resource_gone(s, jid_full(from));
				break;
			}
		}
	}
	jid_free(target);
	jid_free(from);
}

static enum router_result on_message(struct router *r, const struct stanza *m, void *data)
{
	struct gateway *gw = data;
	const struct gateway_ctx *ctx = &gw->ctx;
	const char *to = stanza_get_to(m);
	if (g_strcmp0(stanza_get_type(m), "error") == 0 && to != NULL) {
		room_bounce(gw, m, to);
		return ROUTER_HANDLED;
	}
	if (to == NULL)
		return ROUTER_HANDLED;
	struct jid *target = jid_parse(to, NULL);
	if (target == NULL)
		return ROUTER_HANDLED;
	g_autofree char *user = jid_bare_of(stanza_get_from(m) != NULL ? stanza_get_from(m) : "");
	enum address_kind kind = address_classify(ctx->address, target, user);
	if (kind == ADDRESS_OTHER) {
		/* A domain the server routes here that is not the transport's. */
		jid_free(target);
		router_send_error(r, m, "item-not-found", "no such address at this transport");
		return ROUTER_HANDLED;
	}
	struct jid *from = NULL;
	if (kind == ADDRESS_TRANSPORT || kind == ADDRESS_TRANSPORT_RESOURCE) {
		/* To the transport itself: privilege grants from the server;
		 * chat from users goes to the chat bot (commands). */
		jid_free(target);
		if (roster_on_privilege(ctx->roster, m))
			return ROUTER_HANDLED;
		/* Servers and other services (no localpart) are never answered
		 * (the bot logs them); users must be admitted. */
		from = address_sender(m);
		if (from != NULL &&
		    (jid_local(from) == NULL || address_admit(ctx->address, r, m, from)))
			chatbot_on_message(ctx->chatbot, m, from);
		jid_free(from);
		return ROUTER_HANDLED;
	}
	from = address_check_sender(ctx->address, r, m);
	if (from == NULL) {
		jid_free(target);
		return ROUTER_HANDLED;
	}
	struct session *s = sessions_get(ctx->sessions, jid_bare(from), true);
	if (s == NULL) {
		refuse_unregistered(ctx, m, from);
	} else if (kind == ADDRESS_ROOM || kind == ADDRESS_ROOM_OCCUPANT) {
		muc_on_message(s, m, from, target);
	} else {
		struct contact *c = contact_by_local(s, jid_local(target));
		if (c == NULL)
			router_send_error(r, m, "jid-malformed",
			                  "this address is not a valid legacy name");
		else {
			if (stanza_find_child(m, "body", NULL) != NULL)
				muc_forget_pm_route(s, contact_legacy_name(c));
			messages_from_user(s, c, m);
		}
	}
	jid_free(from);
	jid_free(target);
	return ROUTER_HANDLED;
}

/* ---- iq to contact JIDs -------------------------------------------------------------- */

/* Every iq get/set to a contact JID, before its namespace's handlers: a
 * user of another domain is refused ('forbidden'), and one who is not
 * registered gets registration-required for anything but disco#info,
 * which describes the address to anyone (clients ask it before showing a
 * contact; the contacts' disco provider answers it). */
static enum router_result on_iq(struct router *r, const struct stanza *iq, void *data)
{
	struct gateway *gw = data;
	const struct gateway_ctx *ctx = &gw->ctx;
	const char *to = stanza_get_to(iq);
	struct jid *target = to != NULL ? jid_parse(to, NULL) : NULL;
	if (target == NULL)
		return ROUTER_PASS;
	g_autofree char *user = jid_bare_of(stanza_get_from(iq) != NULL ? stanza_get_from(iq) : "");
	enum address_kind kind = address_classify(ctx->address, target, user);
	jid_free(target);
	if (kind != ADDRESS_CONTACT && kind != ADDRESS_CONTACT_RESOURCE && kind != ADDRESS_ROOM &&
	    kind != ADDRESS_ROOM_OCCUPANT)
		return ROUTER_PASS;
	struct jid *from = address_check_sender(ctx->address, r, iq);
	if (from == NULL)
		return ROUTER_HANDLED;
	/* disco#info first: it needs no session, so a stranger's costs no
	 * storage read */
	const struct stanza *payload = stanza_next_child(iq, NULL);
	bool pass = stanza_is(payload, "query", NS_DISCO_INFO) ||
	            sessions_get(ctx->sessions, jid_bare(from), true) != NULL;
	if (!pass)
		refuse_unregistered(ctx, iq, from);
	jid_free(from);
	return pass ? ROUTER_PASS : ROUTER_HANDLED;
}

/* ---- legacy events, by the owner of the account --------------------------------------- */

/* prompts.c: a PROMPT, PROMPT_CLOSED or PROMPT_ERROR of any account goes
 * to the prompts with its user; a DISCONNECTED withdraws its prompts
 * (then goes on to the owner). */
static void prompts_disconnected(void *data, const struct worker_msg_disconnected *m)
{
	const struct gateway_ctx *ctx = data;
	prompts_account_gone(ctx->prompts, m->account);
}

static bool prompts_dispatch(const struct gateway_ctx *ctx, guint32 account,
                             const struct legacy_event *event)
{
	static const struct worker_msg_handlers gone = {.disconnected = prompts_disconnected};
	if (legacy_event_dispatch(event, &gone, (void *)ctx))
		return false;
	struct session *s = sessions_by_account(ctx->sessions, account);
	const char *user = s != NULL ? session_jid(s) : NULL;
	/* a registration's check login, or the login it kept (C1) */
	if (user == NULL)
		user = registration_account_user(ctx->registration, account);
	if (user == NULL)
		user = logins_account_user(ctx->logins, account);
	return user != NULL && prompts_on_event(ctx->prompts, user, account, event);
}

/* A kept login is asked first: a registration's account becomes a kept one
 * while the registration finishes. */

static void on_legacy_event(void *data, guint32 account, const struct legacy_event *event)
{
	struct gateway *gw = data;
	const struct gateway_ctx *ctx = &gw->ctx;
	if (prompts_dispatch(ctx, account, event))
		return;
	if (logins_owns(ctx->logins, account)) {
		logins_on_event(ctx->logins, account, event);
		return;
	}
	if (registration_owns(ctx->registration, account)) {
		registration_on_event(ctx->registration, account, event);
		return;
	}
	struct session *s = sessions_by_account(ctx->sessions, account);
	if (s != NULL)
		session_on_event(s, event);
}

static void on_legacy_lost(void *data, guint32 account)
{
	struct gateway *gw = data;
	const struct gateway_ctx *ctx = &gw->ctx;
	prompts_account_gone(ctx->prompts, account);
	if (logins_owns(ctx->logins, account)) {
		logins_on_lost(ctx->logins, account);
		return;
	}
	if (registration_owns(ctx->registration, account)) {
		registration_on_lost(ctx->registration, account);
		return;
	}
	struct session *s = sessions_by_account(ctx->sessions, account);
	if (s != NULL)
		session_on_lost(s);
}

static void on_legacy_stalled(void *data, guint32 account, enum legacy_stall why)
{
	struct gateway *gw = data;
	struct session *s = sessions_by_account(gw->ctx.sessions, account);
	/* a registration's check login is short-lived: its own timeout ends it */
	if (s != NULL)
		session_on_stalled(s, why);
}

/* C2: workers dying in a loop: the admins are told. */
static void on_legacy_crash_loop(void *data, guint deaths, guint seconds)
{
	struct gateway *gw = data;
	cmds_admin_crash_loop(&gw->ctx, deaths, seconds);
}

static const struct legacy_callbacks legacy_callbacks = {
    .event = on_legacy_event,
    .lost = on_legacy_lost,
    .stalled = on_legacy_stalled,
    .crash_loop = on_legacy_crash_loop,
};

static void on_login_ready(void *data, const char *bare_jid)
{
	struct gateway *gw = data;
	sessions_login_ready(gw->ctx.sessions, bare_jid);
}

static void on_check_ready(void *data, const char *bare_jid)
{
	struct gateway *gw = data;
	registration_login_ready(gw->ctx.registration, bare_jid);
}

static void on_held_message(void *data, const char *bare_jid,
                            const struct worker_msg_im_received *m)
{
	struct gateway *gw = data;
	messages_deliver_held(&gw->ctx, bare_jid, m);
}

static void on_held_notice(void *data, const char *bare_jid, const struct worker_msg_notice *m)
{
	struct gateway *gw = data;
	messages_tell_notice(&gw->ctx, bare_jid, m);
}

static const struct logins_callbacks login_callbacks = {
    .ready = on_login_ready,
    .check_ready = on_check_ready,
    .held_message = on_held_message,
    .held_notice = on_held_notice,
};

/* ---- life cycle --------------------------------------------------------------------- */

/* address.c's check: USER's session is in room NAME now. */
static bool user_has_room(void *data, const char *user, const char *name)
{
	const struct gateway_ctx *ctx = data;
	struct session *s = ctx->sessions != NULL ? sessions_get(ctx->sessions, user, false) : NULL;
	return s != NULL && rooms_find(s, name) != NULL;
}

struct gateway *gateway_new(const struct gateway_ports *ports)
{
	struct gateway *gw = g_new0(struct gateway, 1);
	struct gateway_ctx *ctx = &gw->ctx;
	ctx->settings = ports->settings;
	ctx->router = ports->router;
	ctx->disco = ports->disco;
	ctx->storage = ports->storage;
	ctx->legacy = ports->legacy;
	ctx->form = ports->form;
	ctx->jid = ports->settings->component_jid;
	ctx->address = address_new(ports->settings, ports->storage, ports->router,
	                           regform_protocol_name(ports->form));
	ctx->logins =
	    logins_new(ctx->legacy, ports->settings->login_rate, ports->settings->login_burst,
	               ports->settings->kept_login_ms, &login_callbacks, gw);
	ctx->sessions = sessions_new(ctx);
	address_set_room_check(ctx->address, user_has_room, ctx);
	ctx->roster = roster_new(ctx);
	ctx->registration = registration_new(ctx);
	ctx->content = content_new(ctx);
	ctx->prompts = prompts_new(ctx);
	ctx->muc_list = muc_list_new(ctx); /* before the contacts' disco: rooms first */
	contacts_register_disco(ctx);
	ctx->contact_caps = contacts_caps_ver(ctx);
	/* the commands (cmd.h) */
	ctx->cmds = cmds_new(ctx);
	cmds_add_account(ctx->cmds);
	cmds_add_info(ctx->cmds);
	cmds_add_admin(ctx->cmds);
	ctx->adhoc = adhoc_new(ctx, ctx->cmds);
	ctx->chatbot = chatbot_new(ctx, ctx->cmds);
	/* the transport's and contacts' presence carries XEP-0115 caps */
	disco_add_feature(ctx->disco, NS_CAPS);
	router_add_presence_handler(ctx->router, on_presence, gw);
	router_add_message_handler(ctx->router, on_message, gw);
	router_add_iq_filter(ctx->router, on_iq, gw);
	legacy_set_callbacks(ctx->legacy, &legacy_callbacks, gw);
	return gw;
}

const struct gateway_ctx *gateway_context(const struct gateway *gw)
{
	return &gw->ctx;
}

void gateway_free(struct gateway *gw)
{
	if (gw == NULL)
		return;
	struct gateway_ctx *ctx = &gw->ctx;
	/* Registrations being checked are answered and forgotten. */
	registration_cancel_all(ctx->registration);
	/* the commands' runs end (their checks and waits stop) before the
	 * sessions they may touch */
	g_clear_pointer(&ctx->adhoc, adhoc_free);
	/* the bot lets its runs go before cmds_free would end them; prompts
	 * withdrawn later are told without it (prompts.c) */
	g_clear_pointer(&ctx->chatbot, chatbot_free);
	g_clear_pointer(&ctx->cmds, cmds_free);
	/* Sessions next: they log out through the legacy side, whose last
	 * acknowledgements still reach them through the dispatch below, so
	 * every module stays in place until they are gone. */
	sessions_free(ctx->sessions);
	ctx->sessions = NULL;
	legacy_set_callbacks(ctx->legacy, NULL, NULL);
	g_clear_pointer(&ctx->prompts, prompts_free);
	g_clear_pointer(&ctx->registration, registration_free);
	g_clear_pointer(&ctx->logins, logins_free);
	g_clear_pointer(&ctx->roster, roster_free);
	g_clear_pointer(&ctx->content, content_free);
	g_clear_pointer(&ctx->muc_list, muc_list_free);
	g_clear_pointer(&ctx->address, address_free);
	g_free(ctx->contact_caps);
	g_free(gw);
}

void gateway_link_up(struct gateway *gw)
{
	const struct gateway_ctx *ctx = &gw->ctx;
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) users = storage_user_list(ctx->storage, &err);
	if (users == NULL) {
		g_warning("gateway: cannot list registered users: %s", err->message);
		return;
	}
	/* Each online user answers the probe with their presence, which starts
	 * (or keeps) their session (XEP-0100 §8). */
	for (guint i = 0; i < users->len; i++) {
		const char *bare = g_ptr_array_index(users, i);
		out_presence(ctx->router, NULL, bare, "probe");
		struct session *s = sessions_get(ctx->sessions, bare, false);
		if (s != NULL && session_state(s) != SESSION_OFFLINE)
			session_send_transport_presence(s, NULL);
	}
	g_info("gateway: probed %u registered user(s)", users->len);
}
