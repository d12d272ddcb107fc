lsmss_add_test(test_tb
  SOURCES tb/test_tb_parameters.cpp tb/test_tb_slater_koster.cpp tb/test_tb_physics.cpp
          tb/test_blas_runtime.cpp
  LIBS lsmss_drivers lsmss_lsms
  LABELS tb)
