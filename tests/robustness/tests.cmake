# Robustness: hostile input and faults (docs/reliability.md). The CLI tests preload a shim that
# makes writes fail like a full disk (failwrite.c); it is built without sanitizers, so it can be
# preloaded into the ASan build too.
add_library(lsmss_failwrite SHARED ${CMAKE_CURRENT_LIST_DIR}/failwrite.c)
target_link_libraries(lsmss_failwrite PRIVATE ${CMAKE_DL_LIBS})
target_compile_options(lsmss_failwrite PRIVATE -fno-sanitize=all)
target_link_options(lsmss_failwrite PRIVATE -fno-sanitize=all)
# It must export its write/statvfs wrappers, whatever the project-wide visibility default.
set_target_properties(lsmss_failwrite PROPERTIES C_VISIBILITY_PRESET default)
lsmss_add_test(test_robustness
  SOURCES robustness/test_robustness_unit.cpp robustness/test_robustness_cli.cpp
  LIBS lsmss_montecarlo lsmss_dataset_builder lsmss_drivers
  LABELS robustness)
target_compile_definitions(test_robustness PRIVATE
  LSMSS_FAILWRITE_SHIM="$<TARGET_FILE:lsmss_failwrite>")
add_dependencies(test_robustness lsmss_failwrite)
