#include <string.h>

#include "ssi_error.h"
#include "ssi_plan.h"
#include "testlib.h"

/* A state that is only a directory and a network: all a plan reads. */
static SsiState *fake_state(const char *dir, SsiNetworkKind network)
{
	SsiState *state = g_new0(SsiState, 1);

	state->dir = g_strdup(dir);
	state->network = network;
	return state;
}

static void fake_state_free(SsiState *state)
{
	g_free(state->dir);
	g_free(state);
}

/* ARGV (NULL-terminated) as one line, words joined by single blanks. */
static char *joined(GPtrArray *argv)
{
	return g_strjoinv(" ", (char **)argv->pdata);
}

/* What the default CIDEV says. */
static const SsiNet default_net = { { 192, 168, 50 }, 101, 15697, 15 };

static SsiConfig *plain_config(void)
{
	SsiConfig *cfg = ssi_config_new();

	g_free(cfg->root);
	cfg->root = g_strdup("/img/root.img");
	g_free(cfg->cidev);
	cfg->cidev = g_strdup("/img/cidev.img");
	g_free(cfg->initrd);
	cfg->initrd = g_strdup("/img/initrd-ssi.img");
	g_free(cfg->initrd_memexp);
	cfg->initrd_memexp = g_strdup("/img/initrd-memexp.img");
	return cfg;
}

START_TEST(test_names_hosts_macs)
{
	g_autofree char *ls = ssi_plan_machine_name(0);
	g_autofree char *n3 = ssi_plan_machine_name(3);
	SsiNet other = { { 10, 1, 2 }, 250, 2379, 64 };
	g_autofree char *mac0 = ssi_plan_mac(&default_net, 0);
	g_autofree char *mac15 = ssi_plan_mac(&default_net, 15);
	g_autofree char *mac_other = ssi_plan_mac(&other, 0);
	g_autofree char *addr = ssi_plan_address(&other, 7);

	ck_assert_str_eq(ls, "lockserver");
	ck_assert_str_eq(n3, "node3");
	ck_assert_uint_eq(ssi_plan_host(&default_net, 0), 101);
	ck_assert_uint_eq(ssi_plan_host(&default_net, 7), 7);
	ck_assert_str_eq(mac0, "fe:fd:c0:a8:32:65");
	ck_assert_str_eq(mac15, "fe:fd:c0:a8:32:0f");
	ck_assert_str_eq(mac_other, "fe:fd:0a:01:02:fa");
	ck_assert_str_eq(addr, "10.1.2.7");
	ck_assert(ssi_plan_is_kernel("node1"));
	ck_assert(ssi_plan_is_kernel("lockserver"));
	ck_assert(!ssi_plan_is_kernel("switch"));
}
END_TEST

static const struct {
	guint node;
	SsiNetworkKind network;
	const char *line;
} argvs[] = {
	{ 2, SSI_NETWORK_UML_SWITCH,
	  "/run/st/linux-ssi umid=node2 uml_dir=/run/st mem=128M con=null ssl=null "
	  "con0=fd:0,fd:1 ssl1=fd:9 ubd0=/run/st/node2.cow,/img/root.img root=/dev/ubda "
	  "initrd=/img/initrd-ssi.img ubd1r=/img/cidev.img "
	  "eth0=daemon,fe:fd:c0:a8:32:02,unix,/run/st/switch.ctl "
	  "mconsole=notify:/run/st/notify.sock ssiuml.role=node ssiuml.node=2" },
	{ 0, SSI_NETWORK_VDE,
	  "/run/st/linux-ssi umid=lockserver uml_dir=/run/st mem=256M con=null "
	  "ssl=null con0=fd:0,fd:1 initrd=/img/initrd-memexp.img "
	  "ubd0r=/img/root.img ubd1r=/img/cidev.img "
	  "eth0=vde,/run/st/switch.ctl[255],fe:fd:c0:a8:32:65,,,,ssiuml-lockserver "
	  "mconsole=notify:/run/st/notify.sock ssiuml.role=lockserver" },
};

START_TEST(test_kernel_argv)
{
	g_autoptr(SsiConfig) cfg = plain_config();
	SsiState *state = fake_state("/run/st", argvs[_i].network);
	g_autoptr(GPtrArray) argv = ssi_plan_kernel_argv(cfg, state, &default_net, NULL, NULL, argvs[_i].node);
	g_autofree char *line = joined(argv);

	ck_assert_ptr_null(g_ptr_array_index(argv, argv->len - 1));
	ck_assert_str_eq(line, argvs[_i].line);
	fake_state_free(state);
}
END_TEST

/* Plugged into another host's switch, a node's network is the cable
 * its kernel's vde_plug runs. */
START_TEST(test_cable_argv)
{
	g_autoptr(SsiConfig) cfg = plain_config();
	SsiState *state = fake_state("/run/st", SSI_NETWORK_VDE);
	g_autoptr(GPtrArray) argv = ssi_plan_kernel_argv(cfg, state, &default_net,
							 "/run/st/cable", NULL, 4);
	g_autofree char *line = joined(argv);

	ck_assert_msg(strstr(line, " eth0=vde,cmd:///run/st/cable,fe:fd:c0:a8:32:04,,,,"
			     "ssiuml-node4 ") != NULL, "%s", line);
	fake_state_free(state);
}
END_TEST

/* A node of the shared root boots from the one image (not locked on the
 * host), with ROOT beside it and the heartbeat's place; the lock server
 * as ever. */
START_TEST(test_shared_root_argv)
{
	g_autoptr(SsiConfig) cfg = plain_config();
	SsiState *state = fake_state("/run/st", SSI_NETWORK_VDE);
	SsiSharedRoot shared = { .block_bytes = 512, .start_block = 2200, .blocks = 255,
				 .slots = 15, .whole = TRUE };
	g_autoptr(GPtrArray) argv = NULL;
	g_autofree char *line = NULL;
	g_autofree char *ls = NULL;

	g_strlcpy(shared.uuid, "B27D04C6D87C4F85B0EBAE6CE0A4D2B9", sizeof(shared.uuid));
	g_free(cfg->shared_root);
	cfg->shared_root = g_strdup("/home/u/.ssiuml/shared-root.img");
	argv = ssi_plan_kernel_argv(cfg, state, &default_net, NULL, &shared, 2);
	line = joined(argv);
	ck_assert_msg(strstr(line, " ubd0c=/home/u/.ssiuml/shared-root.img root=/dev/ubda "
			     "ubd2r=/img/root.img ") != NULL, "%s", line);
	ck_assert_msg(strstr(line, ".cow") == NULL, "%s", line);
	ck_assert_msg(g_str_has_suffix(line, " ssiuml.node=2 ssiuml.root=shared "
				       "ssiuml.hb=B27D04C6D87C4F85B0EBAE6CE0A4D2B9:512:2200:255"),
		      "%s", line);
	g_ptr_array_unref(argv);
	/* A new image: its first node fills it. */
	shared.whole = FALSE;
	shared.fill = 1;
	argv = ssi_plan_kernel_argv(cfg, state, &default_net, NULL, &shared, 2);
	g_free(line);
	line = joined(argv);
	ck_assert_msg(g_str_has_suffix(line, ":255 ssiuml.fill=1"), "%s", line);
	g_ptr_array_unref(argv);
	argv = ssi_plan_kernel_argv(cfg, state, &default_net, NULL, &shared, 0);
	ls = joined(argv);
	ck_assert_msg(strstr(ls, " ubd0r=/img/root.img ") && !strstr(ls, "ubd0c=") &&
		      !strstr(ls, "ssiuml.root"), "%s", ls);
	fake_state_free(state);
}
END_TEST

/* Paths with a blank or a comma reach the kernel as links and names
 * relative to the state directory, its working directory. */
START_TEST(test_unsafe_paths_become_relative)
{
	g_autoptr(SsiConfig) cfg = plain_config();
	SsiState *state = fake_state("/my dir/st", SSI_NETWORK_UML_SWITCH);
	g_autoptr(GPtrArray) argv = NULL;
	g_autofree char *line = NULL;
	SsiPlanFile files[SSI_PLAN_N_FILES];

	g_free(cfg->root);
	cfg->root = g_strdup("/img/a,b.img");
	g_free(cfg->initrd);
	cfg->initrd = NULL;
	argv = ssi_plan_kernel_argv(cfg, state, &default_net, NULL, NULL, 1);
	line = joined(argv);
	ck_assert_msg(strstr(line, " uml_dir=. ") != NULL, "%s", line);
	ck_assert_msg(strstr(line, " ubd0=node1.cow,root.link ") != NULL, "%s", line);
	ck_assert_msg(strstr(line, " ubd1r=/img/cidev.img ") != NULL, "%s", line);
	ck_assert_msg(strstr(line, "initrd=") == NULL, "%s", line);
	ck_assert_msg(strstr(line, ",unix,switch.ctl ") != NULL, "%s", line);
	ck_assert_msg(strstr(line, " mconsole=notify:notify.sock ") != NULL, "%s", line);
	ck_assert(ssi_plan_unsafe_path("a b"));
	ck_assert(ssi_plan_unsafe_path("a\"b"));
	ck_assert(!ssi_plan_unsafe_path("/a/b-c_d.img"));
	ssi_plan_kernel_files(cfg, files);
	ck_assert_str_eq(files[0].key, "ROOT");
	ck_assert_str_eq(files[0].link, "root.link");
	ck_assert_ptr_null(files[2].path);
	fake_state_free(state);
}
END_TEST

START_TEST(test_switch_argv)
{
	SsiState *uml = fake_state("/run/st", SSI_NETWORK_UML_SWITCH);
	SsiState *vde = fake_state("/run/st", SSI_NETWORK_VDE);
	g_autoptr(GPtrArray) a = ssi_plan_switch_argv(uml, "/usr/bin/uml_switch", "/usr/bin/stdbuf");
	g_autoptr(GPtrArray) b = ssi_plan_switch_argv(vde, "vde_switch", NULL);
	g_autofree char *la = joined(a);
	g_autofree char *lb = joined(b);

	ck_assert_str_eq(la, "/usr/bin/stdbuf -oL /usr/bin/uml_switch -unix /run/st/switch.ctl");
	ck_assert_str_eq(lb, "vde_switch -s /run/st/switch.ctl -M /run/st/switch.mgmt -n 1024");
	fake_state_free(uml);
	fake_state_free(vde);
}
END_TEST

START_TEST(test_boot_order)
{
	SsiNodeSet nodes;
	g_autoptr(GArray) first = NULL;
	g_autoptr(GArray) last = NULL;
	g_autoptr(GArray) none = NULL;

	ssi_nodeset_clear(&nodes);
	ssi_nodeset_add(&nodes, 5);
	ssi_nodeset_add(&nodes, 2);
	first = ssi_plan_boot_order(SSI_PLAN_LOCKSERVER_FIRST, &nodes);
	last = ssi_plan_boot_order(SSI_PLAN_LOCKSERVER_LAST, &nodes);
	none = ssi_plan_boot_order(SSI_PLAN_NO_LOCKSERVER, &nodes);
	ck_assert_uint_eq(first->len, 3);
	ck_assert_uint_eq(g_array_index(first, guint, 0), 0);
	ck_assert_uint_eq(g_array_index(first, guint, 1), 2);
	ck_assert_uint_eq(g_array_index(first, guint, 2), 5);
	ck_assert_uint_eq(last->len, 3);
	ck_assert_uint_eq(g_array_index(last, guint, 0), 2);
	ck_assert_uint_eq(g_array_index(last, guint, 2), 0);
	ck_assert_uint_eq(none->len, 2);
	ck_assert_uint_eq(g_array_index(none, guint, 0), 2);
}
END_TEST

START_TEST(test_net_parse)
{
	g_autoptr(GError) error = NULL;
	SsiNet net;

	ck_assert(ssi_plan_net_parse("# a comment\nCLUSTER_NAME=x\n NET = '10.0.7'\n"
				     "LOCKSERVER=\"10.0.7.200\"\nLOCKPORT=2379\nMAXNODES=64\n"
				     "LEASE=2\n", "c", &net, &error));
	ck_assert_uint_eq(net.net[0], 10);
	ck_assert_uint_eq(net.net[2], 7);
	ck_assert_uint_eq(net.lockserver_host, 200);
	ck_assert_uint_eq(net.lockport, 2379);
	ck_assert_uint_eq(net.max_nodes, 64);
}
END_TEST

static const struct {
	const char *text;
	const char *error;
} bad_nets[] = {
	{ "LOCKSERVER=1.2.3.4\nLOCKPORT=1\nMAXNODES=1\n", "c: NET='' (want three numbers" },
	{ "NET=1.2.300\n", "c: NET='1.2.300' (want three" },
	{ "NET=1.2.3\nLOCKSERVER=1.2.4.5\n", "c: LOCKSERVER='1.2.4.5' (want an IPv4 address on NET)" },
	{ "NET=1.2.3\nLOCKSERVER=1.2.3.0\n", "c: LOCKSERVER='1.2.3.0'" },
	{ "NET=1.2.3\nLOCKSERVER=1.2.3.4\nLOCKPORT=99999\n", "c: LOCKPORT='99999' (want 1..65535)" },
	{ "NET=1.2.3\nLOCKSERVER=1.2.3.4\nLOCKPORT=1\nMAXNODES=255\n",
	  "c: MAXNODES='255' (want 1..254)" },
};

START_TEST(test_net_parse_bad)
{
	g_autoptr(GError) error = NULL;
	SsiNet net;

	ck_assert(!ssi_plan_net_parse(bad_nets[_i].text, "c", &net, &error));
	ck_assert_msg(g_str_has_prefix(error->message, bad_nets[_i].error), "%s", error->message);
}
END_TEST

/* The node limit: the CIDEV's MAXNODES, lowered (never raised) by the
 * configuration's; a node above it is named with where the limit is. */
START_TEST(test_node_limit)
{
	g_autoptr(SsiConfig) cfg = ssi_config_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *source = NULL;
	SsiNet net = { { 10, 1, 2 }, 250, 2379, 20 };
	SsiNodeSet nodes;

	g_free(cfg->cidev);
	cfg->cidev = g_strdup("/x/cidev.img");
	ck_assert_uint_eq(ssi_plan_node_limit(cfg, &net, &source), 20);
	ck_assert_str_eq(source, "MAXNODES of CIDEV /x/cidev.img");
	ssi_nodeset_clear(&nodes);
	ssi_nodeset_add(&nodes, 3);
	ssi_nodeset_add(&nodes, 20);
	ck_assert(ssi_plan_check_nodes(cfg, &net, &nodes, &error));
	ssi_nodeset_add(&nodes, 21);
	ssi_nodeset_add(&nodes, 30);
	ck_assert(!ssi_plan_check_nodes(cfg, &net, &nodes, &error));
	ck_assert(g_error_matches(error, SSI_ERROR, SSI_ERROR_RANGE));
	ck_assert_str_eq(error->message, "node 21: out of range (1-20); the node limit is "
			 "MAXNODES of CIDEV /x/cidev.img");
	g_clear_error(&error);
	cfg->max_nodes = 5;
	cfg->path = g_strdup("/h/ssiuml.conf");
	ck_assert_uint_eq(ssi_plan_node_limit(cfg, &net, NULL), 5);
	ssi_nodeset_remove(&nodes, 21);
	ssi_nodeset_remove(&nodes, 30);
	ck_assert(!ssi_plan_check_nodes(cfg, &net, &nodes, &error));
	ck_assert_str_eq(error->message, "node 20: out of range (1-5); the node limit is "
			 "MAXNODES of /h/ssiuml.conf");
	/* Equal is the CIDEV's. */
	cfg->max_nodes = 20;
	g_clear_pointer(&source, g_free);
	ck_assert_uint_eq(ssi_plan_node_limit(cfg, &net, &source), 20);
	ck_assert(g_str_has_prefix(source, "MAXNODES of CIDEV "));
}
END_TEST

Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("argv");

	tcase_add_test(tc, test_names_hosts_macs);
	tcase_add_loop_test(tc, test_kernel_argv, 0, G_N_ELEMENTS(argvs));
	tcase_add_test(tc, test_unsafe_paths_become_relative);
	tcase_add_test(tc, test_cable_argv);
	tcase_add_test(tc, test_shared_root_argv);
	tcase_add_test(tc, test_switch_argv);
	tcase_add_test(tc, test_boot_order);
	tcase_add_test(tc, test_net_parse);
	tcase_add_loop_test(tc, test_net_parse_bad, 0, G_N_ELEMENTS(bad_nets));
	tcase_add_test(tc, test_node_limit);
	suite_add_tcase(s, tc);
	return s;
}
