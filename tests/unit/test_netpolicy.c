/* Unit tests for netpolicy: every internal range in IPv4 and IPv6 and in
 * IPv6's IPv4 forms, public addresses, and listed names, addresses and
 * CIDRs. */
#include "config.h"

#include <gio/gio.h>

#include "ferry/netpolicy.h"

static const char *kind_of(const char *text)
{
	g_autoptr(GInetAddress) a = g_inet_address_new_from_string(text);
	g_assert_nonnull(a);
	return netpolicy_internal_kind(a);
}

static void test_internal(void)
{
	const char *const internal[] = {
	    "127.0.0.1",
	    "127.255.0.2",
	    "10.0.0.1",
	    "10.255.255.255",
	    "172.16.0.1",
	    "172.31.255.1",
	    "192.168.1.1",
	    "169.254.169.254",
	    "100.64.0.1",
	    "100.127.255.1",
	    "0.0.0.0",
	    "0.1.2.3",
	    "224.0.0.1",
	    "255.255.255.255",
	    "::1",
	    "::",
	    "fe80::1",
	    "febf::1",
	    "fc00::1",
	    "fdff::1",
	    "::ffff:127.0.0.1",
	    "::ffff:10.1.2.3",
	    "::ffff:169.254.169.254",
	    "64:ff9b::10.0.0.1",
	    "::127.0.0.1",
	    "ff02::1",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(internal); i++)
		if (kind_of(internal[i]) == NULL)
			g_error("%s is internal, netpolicy says public", internal[i]);
	g_assert_cmpstr(kind_of("127.0.0.2"), ==, "loopback");
	g_assert_cmpstr(kind_of("::ffff:192.168.0.1"), ==, "private");
	g_assert_cmpstr(kind_of("fe80::2"), ==, "link-local");
	const char *const public[] = {
	    "1.1.1.1",      "8.8.8.8",        "172.32.0.1",       "172.15.255.255",
	    "100.128.0.1",  "192.169.0.1",    "11.0.0.1",         "2001:db8::1",
	    "2a00:1450::1", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "fbff::1",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(public); i++)
		if (kind_of(public[i]) != NULL)
			g_error("%s is public, netpolicy says %s", public[i], kind_of(public[i]));
}

static void test_listed(void)
{
	const char *const entries[] = {"IRC.Example.NET.", "127.0.0.1", "10.1.0.0/16", "fd00::/8",
	                               NULL};
	g_autoptr(GError) err = NULL;
	struct netpolicy *p = netpolicy_new(entries, &err);
	g_assert_no_error(err);
	g_assert_true(netpolicy_host_listed(p, "irc.example.net"));
	g_assert_true(netpolicy_host_listed(p, "IRC.EXAMPLE.NET."));
	g_assert_false(netpolicy_host_listed(p, "example.net"));
	g_assert_false(netpolicy_host_listed(p, "irc.example.net.evil"));
	g_assert_true(netpolicy_host_listed(p, "127.0.0.1"));
	g_assert_false(netpolicy_host_listed(p, "127.0.0.2"));
	g_assert_true(netpolicy_host_listed(p, "10.1.200.3"));
	g_assert_false(netpolicy_host_listed(p, "10.2.0.1"));
	g_assert_true(netpolicy_host_listed(p, "[fd00::5]"));
	g_assert_true(netpolicy_host_listed(p, "fd12::1"));
	g_assert_false(netpolicy_host_listed(p, "fc00::1"));
	g_assert_false(netpolicy_host_listed(p, ""));
	g_assert_false(netpolicy_host_listed(p, NULL));
	/* the mapped form of a listed IPv4 address is listed */
	g_autoptr(GInetAddress) mapped = g_inet_address_new_from_string("::ffff:127.0.0.1");
	g_assert_true(netpolicy_address_listed(p, mapped));
	g_assert_cmpstr(netpolicy_describe(p), ==,
	                "IRC.Example.NET., 127.0.0.1, 10.1.0.0/16, fd00::/8");
	netpolicy_free(p);

	/* "*": any name or public address may be chosen, and lists nothing */
	const char *const any[] = {"*", "127.0.0.1", NULL};
	p = netpolicy_new(any, &err);
	g_assert_no_error(err);
	g_assert_true(netpolicy_server_allowed(p, "irc.example.net"));
	g_assert_true(netpolicy_server_allowed(p, "8.8.8.8"));
	g_assert_true(netpolicy_server_allowed(p, "127.0.0.1"));
	g_assert_false(netpolicy_server_allowed(p, "127.0.0.2"));
	g_assert_false(netpolicy_server_allowed(p, "10.0.0.1"));
	g_assert_false(netpolicy_host_listed(p, "irc.example.net"));
	netpolicy_free(p);

	/* nothing listed */
	p = netpolicy_new(NULL, &err);
	g_assert_no_error(err);
	g_assert_false(netpolicy_host_listed(p, "127.0.0.1"));
	g_assert_cmpstr(netpolicy_describe(p), ==, "");
	netpolicy_free(p);
}

static void test_bad_entries(void)
{
	const char *const bad[] = {"10.0.0.0/33", "irc example", "a..b",
	                           "host/24",     "::1/200",     "irc.example.net:6667"};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		const char *entries[] = {"ok.example", bad[i], NULL};
		g_autoptr(GError) err = NULL;
		g_assert_null(netpolicy_new(entries, &err));
		g_assert_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
		g_autofree char *expected = g_strdup_printf(
		    "'%s' is not a host name, an address, a CIDR or * (e.g. irc.example.net, "
		    "192.0.2.7, 10.1.0.0/16)",
		    bad[i]);
		g_assert_cmpstr(err->message, ==, expected);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/netpolicy/internal", test_internal);
	g_test_add_func("/netpolicy/listed", test_listed);
	g_test_add_func("/netpolicy/bad-entries", test_bad_entries);
	return g_test_run();
}
