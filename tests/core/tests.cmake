lsmss_add_test(test_core
  SOURCES core/test_lattice.cpp core/test_configuration.cpp core/test_deck.cpp
          core/test_registry.cpp core/test_hdf5.cpp core/test_progress.cpp
          core/test_blas_runtime.cpp core/test_symmetry.cpp core/test_results_tsv.cpp
          core/test_rng.cpp
  LABELS core)
# core/blas_runtime finds OpenBLAS at run time (dlsym): the test program loads it through LAPACK,
# as the programs that use the tb engine do (kept although no symbol of it is referenced here).
find_package(LAPACK REQUIRED)
target_link_options(test_core PRIVATE "LINKER:--no-as-needed")
target_link_libraries(test_core PRIVATE LAPACK::LAPACK)
