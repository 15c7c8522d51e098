/* dns: libpurple's host, SRV and TXT lookups done by GResolver, and the
 * legacy address policy (ferry/netpolicy.h) on every resolve and connect.
 *
 * Without these ui ops libpurple forks resolver children on Linux: copies
 * of the whole worker that inherit every descriptor, including the socket
 * to ferry (docs/libpurple-headless.md §3, gotcha 9). GResolver answers on
 * the main loop instead, from its own thread pool. */
#include "config.h"
#include "worker.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ferry/netpolicy.h"

/* ---- the address policy --------------------------------------------------- */

/* NULL: no policy (a worker run by hand or by the protocol tools); ferry
 * always gives one. */
static struct netpolicy *policy;
/* Addresses that listed host names resolved to (text form -> itself):
 * connect() lets them through though they are internal. */
static GHashTable *resolved_listed;
G_LOCK_DEFINE_STATIC(resolved_listed);

bool dns_set_policy(char **allowed, GError **error)
{
	struct netpolicy *p = netpolicy_new((const char *const *)allowed, error);
	if (p == NULL) {
		g_prefix_error(error, "--allow-server: ");
		return false;
	}
	netpolicy_free(policy);
	policy = p;
	if (resolved_listed == NULL)
		resolved_listed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return true;
}

static const char ADVICE[] = "ferry connects to internal addresses only when the admin lists "
                             "them in [legacy] ferry.allowed_servers";

/* Whether the worker may connect to SA (IPv4 and IPv6 only; other
 * families pass). Logs a refusal. */
static bool connect_allowed(const struct sockaddr *sa, socklen_t len)
{
	if (policy == NULL || sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return true;
	g_autoptr(GSocketAddress) gsa = g_socket_address_new_from_native((gpointer)sa, len);
	if (gsa == NULL || !G_IS_INET_SOCKET_ADDRESS(gsa))
		return true;
	GInetAddress *a = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(gsa));
	const char *kind = netpolicy_internal_kind(a);
	if (kind == NULL || netpolicy_address_listed(policy, a))
		return true;
	g_autofree char *text = g_inet_address_to_string(a);
	G_LOCK(resolved_listed);
	bool resolved = g_hash_table_contains(resolved_listed, text);
	G_UNLOCK(resolved_listed);
	if (resolved)
		return true;
	g_message("policy: connect to %s port %u refused: a %s address; %s", text,
	          g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(gsa)), kind, ADVICE);
	return false;
}

/* Every connect() of the worker's libraries (libpurple's proxy code,
 * the plugins) resolves to this one (the executable's symbols come first;
 * see Makefile.am), which also sees address literals, which libpurple
 * never hands to the resolver. libc's own (the stub resolver's) does not
 * come here. */
int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
#if defined(__USE_GNU) && !defined(__cplusplus)
	const struct sockaddr *sa = addr.__sockaddr__;
#else
	const struct sockaddr *sa = addr;
#endif
	if (!connect_allowed(sa, len)) {
		errno = EACCES;
		return -1;
	}
	return (int)syscall(SYS_connect, fd, sa, len);
}

/* One lookup in flight. It belongs to the GResolver callback; libpurple
 * can cancel it meanwhile (destroy op), which clears QUERY. */
struct lookup {
	void *query; /* PurpleDnsQueryData or PurpleSrvTxtQueryData; NULL once cancelled */
	GCancellable *cancellable;
	PurpleDnsQueryResolvedCallback host_resolved;
	PurpleDnsQueryFailedCallback host_failed;
	PurpleSrvTxtQueryResolvedCallback records_resolved;
	PurpleSrvTxtQueryFailedCallback records_failed;
	int type; /* PurpleDnsTypeSrv or PurpleDnsTypeTxt for record lookups */
};

static GHashTable *lookups; /* query -> struct lookup (not owned) */

static struct lookup *lookup_new(void *query)
{
	struct lookup *lookup = g_new0(struct lookup, 1);
	lookup->query = query;
	lookup->cancellable = g_cancellable_new();
	g_hash_table_insert(lookups, query, lookup);
	return lookup;
}

static void lookup_free(struct lookup *lookup)
{
	g_object_unref(lookup->cancellable);
	g_free(lookup);
}

/* Detaches LOOKUP from its query before the callback into libpurple, which
 * destroys the query (and calls cancel() on it). Returns the query, or
 * NULL if libpurple cancelled it already. */
static void *lookup_take_query(struct lookup *lookup)
{
	void *query = lookup->query;
	if (query != NULL)
		g_hash_table_remove(lookups, query);
	lookup->query = NULL;
	return query;
}

static void cancel(void *query)
{
	struct lookup *lookup = g_hash_table_lookup(lookups, query);
	if (lookup == NULL)
		return;
	g_hash_table_remove(lookups, query);
	lookup->query = NULL;
	g_cancellable_cancel(lookup->cancellable);
}

/* ---- A / AAAA ------------------------------------------------------------ */

/* libpurple's address list: pairs of (GINT_TO_POINTER(length), g_malloc'd
 * struct sockaddr), in the resolver's preference order. */
static GSList *native_addresses(GList *addresses, guint16 port)
{
	GSList *hosts = NULL;
	for (GList *l = addresses; l != NULL; l = l->next) {
		GSocketAddress *sa = g_inet_socket_address_new(l->data, port);
		gssize len = g_socket_address_get_native_size(sa);
		gpointer native = len > 0 ? g_malloc0((gsize)len) : NULL;
		if (native != NULL && g_socket_address_to_native(sa, native, (gsize)len, NULL)) {
			hosts = g_slist_append(hosts, GINT_TO_POINTER((int)len));
			hosts = g_slist_append(hosts, native);
		} else {
			g_free(native);
		}
		g_object_unref(sa);
	}
	return hosts;
}

/* The addresses of ADDRESSES (GInetAddress *, not owned) HOST may be
 * reached at: all of them for a listed host (remembered for connect()),
 * else the public ones and the listed internal ones. The others are
 * logged and named in *REFUSED (NULL when none). */
static GList *allowed_addresses(const char *host, GList *addresses, char **refused)
{
	*refused = NULL;
	if (policy == NULL)
		return g_list_copy(addresses);
	bool listed = netpolicy_host_listed(policy, host);
	GList *out = NULL;
	GString *no = NULL;
	for (GList *l = addresses; l != NULL; l = l->next) {
		const char *kind = netpolicy_internal_kind(l->data);
		if (listed || kind == NULL || netpolicy_address_listed(policy, l->data)) {
			if (listed && kind != NULL) {
				G_LOCK(resolved_listed);
				g_hash_table_add(resolved_listed,
				                 g_inet_address_to_string(l->data));
				G_UNLOCK(resolved_listed);
			}
			out = g_list_append(out, l->data);
			continue;
		}
		g_autofree char *text = g_inet_address_to_string(l->data);
		g_message("policy: %s resolves to %s, a %s address: refused; %s", host, text, kind,
		          ADVICE);
		if (no == NULL)
			no = g_string_new(NULL);
		g_string_append_printf(no, "%s%s", no->len > 0 ? ", " : "", text);
	}
	if (no != NULL)
		*refused = g_string_free(no, FALSE);
	return out;
}

static void host_done(GObject *source, GAsyncResult *result, gpointer data)
{
	struct lookup *lookup = data;
	g_autoptr(GError) error = NULL;
	GList *addresses = g_resolver_lookup_by_name_finish(G_RESOLVER(source), result, &error);
	PurpleDnsQueryData *query = lookup_take_query(lookup);
	if (query != NULL) {
		g_autofree char *refused = NULL;
		GList *usable =
		    allowed_addresses(purple_dnsquery_get_host(query), addresses, &refused);
		GSList *hosts = native_addresses(usable, purple_dnsquery_get_port(query));
		g_list_free(usable);
		if (hosts != NULL) {
			lookup->host_resolved(query, hosts);
		} else if (refused != NULL) {
			g_autofree char *msg =
			    g_strdup_printf("%s resolves only to internal addresses (%s); %s",
			                    purple_dnsquery_get_host(query), refused, ADVICE);
			lookup->host_failed(query, msg);
		} else {
			/* GLib's message names the host already */
			g_autofree char *msg =
			    error != NULL ? g_strdup(error->message)
			                  : g_strdup_printf("No usable address for %s",
			                                    purple_dnsquery_get_host(query));
			lookup->host_failed(query, msg);
		}
	}
	g_resolver_free_addresses(addresses);
	lookup_free(lookup);
}

static gboolean resolve_host(PurpleDnsQueryData *query, PurpleDnsQueryResolvedCallback resolved,
                             PurpleDnsQueryFailedCallback failed)
{
	struct lookup *lookup = lookup_new(query);
	lookup->host_resolved = resolved;
	lookup->host_failed = failed;
	g_autoptr(GResolver) resolver = g_resolver_get_default();
	g_resolver_lookup_by_name_async(resolver, purple_dnsquery_get_host(query),
	                                lookup->cancellable, host_done, lookup);
	return TRUE;
}

static void host_destroy(PurpleDnsQueryData *query)
{
	cancel(query);
}

static PurpleDnsQueryUiOps dns_ops = {
    .resolve_host = resolve_host,
    .destroy = host_destroy,
};

/* ---- SRV / TXT ----------------------------------------------------------- */

/* The records as libpurple wants them: a GList of g_malloc'd
 * PurpleSrvResponse or PurpleTxtResponse, which it frees. */
static GList *purple_records(GList *records, int type)
{
	GList *out = NULL;
	for (GList *l = records; l != NULL; l = l->next) {
		if (type == PurpleDnsTypeSrv) {
			guint16 priority, weight, port;
			const char *target;
			g_variant_get(l->data, "(qqq&s)", &priority, &weight, &port, &target);
			PurpleSrvResponse *srv = g_new0(PurpleSrvResponse, 1);
			g_strlcpy(srv->hostname, target, sizeof srv->hostname);
			srv->port = port;
			srv->weight = weight;
			srv->pref = priority;
			out = g_list_prepend(out, srv);
		} else {
			g_autofree const char **strings = NULL;
			g_variant_get(l->data, "(^a&s)", &strings);
			PurpleTxtResponse *txt = g_new0(PurpleTxtResponse, 1);
			txt->content = g_strjoinv("", (char **)strings);
			out = g_list_prepend(out, txt);
		}
	}
	return g_list_reverse(out);
}

static void records_done(GObject *source, GAsyncResult *result, gpointer data)
{
	struct lookup *lookup = data;
	g_autoptr(GError) error = NULL;
	GList *records = g_resolver_lookup_records_finish(G_RESOLVER(source), result, &error);
	PurpleSrvTxtQueryData *query = lookup_take_query(lookup);
	if (query != NULL) {
		GList *list = purple_records(records, lookup->type);
		if (list != NULL) {
			lookup->records_resolved(query, list);
		} else {
			/* libpurple's resolved callbacks insist on a non-empty list */
			g_autofree char *msg =
			    error != NULL ? g_strdup(error->message)
			                  : g_strdup_printf("No records for %s",
			                                    purple_srv_txt_query_get_query(query));
			lookup->records_failed(query, msg);
		}
	}
	g_list_free_full(records, (GDestroyNotify)g_variant_unref);
	lookup_free(lookup);
}

static gboolean resolve_records(PurpleSrvTxtQueryData *query,
                                PurpleSrvTxtQueryResolvedCallback resolved,
                                PurpleSrvTxtQueryFailedCallback failed)
{
	int type = purple_srv_txt_query_get_type(query);
	if (type != PurpleDnsTypeSrv && type != PurpleDnsTypeTxt)
		return FALSE;
	struct lookup *lookup = lookup_new(query);
	lookup->records_resolved = resolved;
	lookup->records_failed = failed;
	lookup->type = type;
	g_autoptr(GResolver) resolver = g_resolver_get_default();
	g_resolver_lookup_records_async(resolver, purple_srv_txt_query_get_query(query),
	                                type == PurpleDnsTypeSrv ? G_RESOLVER_RECORD_SRV
	                                                         : G_RESOLVER_RECORD_TXT,
	                                lookup->cancellable, records_done, lookup);
	return TRUE;
}

static void records_destroy(PurpleSrvTxtQueryData *query)
{
	cancel(query);
}

static PurpleSrvTxtQueryUiOps srv_txt_ops = {
    .resolve = resolve_records,
    .destroy = records_destroy,
};

void dns_install(void)
{
	if (lookups == NULL)
		lookups = g_hash_table_new(g_direct_hash, g_direct_equal);
	purple_dnsquery_set_ui_ops(&dns_ops);
	purple_srv_txt_query_set_ui_ops(&srv_txt_ops);
}
