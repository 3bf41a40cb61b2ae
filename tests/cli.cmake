# Command line of every executable: unknown flag, bad value, missing required -> usage on
# stderr and exit 2; --help / --version -> exit 0.
add_test(NAME cli_all COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cli/cli.sh ${CMAKE_BINARY_DIR} ${CMAKE_BINARY_DIR}/clirun)
set_tests_properties(cli_all PROPERTIES LABELS unit TIMEOUT 60)
