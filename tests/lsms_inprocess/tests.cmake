# The lsms driver's mode switch (always built: in a build without the in-process engine it checks
# the "not compiled" error, with it that the mode is accepted and checked).
lsmss_add_test(test_lsms_mode
  SOURCES lsms_inprocess/test_lsms_mode.cpp
  LIBS lsmss_lsms lsmss_drivers
  LABELS lsms_inprocess)
if(LSMSS_LSMS_BUILD_DIR)
  target_compile_definitions(test_lsms_mode PRIVATE LSMSS_HAVE_LSMS_INPROCESS=1)
  # LSMS in-process against the real LSMS (../shared/lsms/bin/lsms_asa for the launched runs).
  lsmss_add_test(test_lsms_inprocess
    SOURCES lsms_inprocess/test_lsms_inprocess.cpp
    LIBS lsmss_lsms lsmss_drivers lsmss_dataset
    LABELS lsms_inprocess)
endif()
