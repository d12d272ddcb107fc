# Drivers (drivers/<name>/ -> tests/drivers/<name>/).
lsmss_add_test(test_tb
  SOURCES drivers/tb/test_tb_parameters.cpp drivers/tb/test_tb_slater_koster.cpp
          drivers/tb/test_tb_physics.cpp drivers/tb/test_lapack_eigen.cpp
  LIBS lsmss_drivers lsmss_lsms_plugin
  LABELS drivers)
# Armadillo: only the Slater-Koster test uses it, as an independent eigen-solver.
find_package(Armadillo REQUIRED)
target_include_directories(test_tb PRIVATE ${ARMADILLO_INCLUDE_DIRS})
target_link_libraries(test_tb PRIVATE ${ARMADILLO_LIBRARIES})

# The lsms driver against a stand-in executable (fake_lsms.py).
lsmss_add_test(test_lsms_driver
  SOURCES drivers/lsms/test_lsms_driver.cpp
  LIBS lsmss_lsms_plugin lsmss_drivers
  LABELS drivers)
target_compile_definitions(test_lsms_driver PRIVATE
  LSMSS_FAKE_LSMS="${CMAKE_CURRENT_SOURCE_DIR}/drivers/lsms/fake_lsms.py")

# Against the real LSMS in ${LSMSS_SHARED_DIR}/lsms/bin (about a minute on 2 cores).
lsmss_add_test(test_lsms_integration
  SOURCES drivers/lsms/test_lsms_integration.cpp
  LIBS lsmss_lsms_plugin lsmss_drivers lsmss_dataset_builder
  LABELS lsms_integration)

# The lsms driver's mode switch (always built: in a build without the in-process engine it checks
# the "not compiled" error, with it that the mode is accepted and checked).
lsmss_add_test(test_lsms_mode
  SOURCES drivers/lsms/test_lsms_mode.cpp
  LIBS lsmss_lsms_plugin lsmss_drivers
  LABELS lsms_inprocess)
if(LSMSS_LSMS_BUILD_DIR)
  target_compile_definitions(test_lsms_mode PRIVATE LSMSS_HAVE_LSMS_INPROCESS=1)
  # LSMS in-process against the real LSMS (../shared/lsms/bin/lsms_asa for the launched runs).
  lsmss_add_test(test_lsms_inprocess
    SOURCES drivers/lsms/test_lsms_inprocess.cpp
    LIBS lsmss_lsms_plugin lsmss_drivers lsmss_dataset_builder
    LABELS lsms_inprocess)
endif()
