# The LSMS side's files (lsms_plugin/): k.out and info_evec parsers, the deck writer.
lsmss_add_test(test_lsms_plugin
  SOURCES lsms_plugin/test_lsms_files.cpp lsms_plugin/test_info_evec.cpp
  LIBS lsmss_lsms_plugin
  LABELS lsms_plugin)

# The C API (lsms_plugin/capi/) as outside programs use it.
include(${CMAKE_CURRENT_LIST_DIR}/capi/tests.cmake)
