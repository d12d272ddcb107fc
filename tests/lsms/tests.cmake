lsmss_add_test(test_lsms
  SOURCES lsms/test_lsms.cpp
  LIBS lsmss_lsms lsmss_drivers
  LABELS lsms)
target_compile_definitions(test_lsms PRIVATE LSMSS_FAKE_LSMS="${CMAKE_CURRENT_SOURCE_DIR}/lsms/fake_lsms.py")

# Against the real LSMS in ${LSMSS_SHARED_DIR}/lsms/bin (about a minute on 2 cores); `ctest -L lsms`
# selects these too (labels are regular expressions).
lsmss_add_test(test_lsms_integration
  SOURCES lsms/test_lsms_integration.cpp
  LIBS lsmss_lsms lsmss_drivers lsmss_dataset
  LABELS lsms_integration)
