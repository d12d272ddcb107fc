lsmss_add_test(test_tb
  SOURCES tb/test_tb_parameters.cpp tb/test_tb_slater_koster.cpp tb/test_tb_physics.cpp
          tb/test_blas_runtime.cpp
  LIBS lsmss_drivers lsmss_lsms
  LABELS tb)
# Armadillo: only the Slater-Koster test uses it, as an independent eigen-solver.
find_package(Armadillo REQUIRED)
target_include_directories(test_tb PRIVATE ${ARMADILLO_INCLUDE_DIRS})
target_link_libraries(test_tb PRIVATE ${ARMADILLO_LIBRARIES})
