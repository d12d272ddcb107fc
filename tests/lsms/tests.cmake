lsmss_add_test(test_lsms
  SOURCES lsms/test_lsms.cpp
  LIBS lsmss_lsms lsmss_drivers
  LABELS lsms)
target_compile_definitions(test_lsms PRIVATE LSMSS_FAKE_LSMS="${CMAKE_CURRENT_SOURCE_DIR}/lsms/fake_lsms.py")
