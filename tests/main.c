/* One runner for every suite; CK_RUN_SUITE / CK_RUN_CASE select. */
#include <stdlib.h>

#include "testlib.h"

int main(void)
{
	SRunner *sr = srunner_create(nodes_suite());
	int failed;

	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, state_suite());
	srunner_add_suite(sr, proc_suite());
	srunner_add_suite(sr, cli_suite());
	srunner_add_suite(sr, cluster_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
